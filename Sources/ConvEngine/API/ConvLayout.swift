/// Where the channel axis of the activation tensors (X, O, dX, dO) is.
///
/// See <doc:Layouts> for every operation's shapes in both layouts.
public enum ActivationLayout: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// `N×C×H×W` (1-D `N×C×L`, 3-D `N×C×D×H×W`): PyTorch's default.
    case channelsFirst
    /// `N×H×W×C` (1-D `N×L×C`, 3-D `N×D×H×W×C`): PyTorch's `channels_last`, TensorFlow's default.
    case channelsLast

    /// `NCHW` or `NHWC`.
    public var description: String {
        switch self {
        case .channelsFirst: return "NCHW"
        case .channelsLast: return "NHWC"
        }
    }
}

/// How the filter's elements are ordered.
///
/// See <doc:Layouts> for every operation's shapes in both layouts.
public enum FilterLayout: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// `K×C/G×R×S` (PyTorch's OIHW; 1-D `K×C/G×S`, 3-D `K×C/G×T×R×S`).
    case channelsFirst
    /// `K×R×S×C/G` (OHWI: PyTorch's channels_last memory format for weights; 1-D `K×S×C/G`, 3-D `K×T×R×S×C/G`).
    case channelsLast

    /// `K×C/G×R×S` or `K×R×S×C/G`.
    public var description: String {
        switch self {
        case .channelsFirst: return "K×C/G×R×S"
        case .channelsLast: return "K×R×S×C/G"
        }
    }
}

/// The memory layout of one convolution's tensors: where the channel axis of the activations is, and how the
/// filter's elements are ordered. Bias is always `K`.
///
/// A geometry carries its layout (``ConvGeometry/layout``, and the same property on every geometry of the
/// family); element counts do not depend on it. See <doc:Layouts> for every operation's shapes in both layouts,
/// how to choose, and which plans run natively.
public struct ConvLayout: Hashable, Sendable, CustomStringConvertible {
    /// Where the activations' channel axis is (X, O, dX, dO).
    public var activations: ActivationLayout
    /// How the filter (and its gradient dF) is ordered.
    public var filter: FilterLayout

    /// A layout with these parts.
    ///
    /// - Parameters:
    ///   - activations: the layout of X, O, dX and dO.
    ///   - filter: the layout of F and dF.
    public init(activations: ActivationLayout, filter: FilterLayout) {
        self.activations = activations
        self.filter = filter
    }

    /// NCHW activations, K×C/G×R×S filter: the default everywhere.
    public static let nchw = ConvLayout(activations: .channelsFirst, filter: .channelsFirst)
    /// NHWC activations, K×R×S×C/G filter.
    public static let nhwc = ConvLayout(activations: .channelsLast, filter: .channelsLast)

    /// `NCHW` and `NHWC` for the two presets, else both parts, for example `NHWC activations, K×C/G×R×S filter`.
    public var description: String {
        switch self {
        case .nchw: return "NCHW"
        case .nhwc: return "NHWC"
        default: return "\(activations) activations, \(filter) filter"
        }
    }
}

// The index arithmetic of the layouts, in one place: the reference, the conversions and the tests address
// elements through these strides, so no other code spells out where the channel axis is.

/// Element strides of a tensor of `outer` blocks (images, or filters) of `channels × height × width`
/// elements in some layout: ``ActivationStrides`` (`outer` is the image) and ``FilterStrides`` (`outer` is the
/// filter, `channels` are C/G).
struct TensorStrides: Hashable {
    /// From one image (or filter) to the next.
    let outer: Int
    /// From one channel to the next.
    let channel: Int
    /// From one row to the next.
    let row: Int
    /// From one column to the next.
    let column: Int

    /// From one image to the next (an activation tensor's `outer`).
    var image: Int { outer }
    /// From one filter to the next (a filter's `outer`).
    var filter: Int { outer }

    /// The offset of element `[n, c, h, w]` (`[k, c, r, s]` of a filter): logical channels-first indices.
    @inline(__always)
    func offset(_ n: Int, _ c: Int, _ h: Int, _ w: Int) -> Int { n * outer + c * channel + h * row + w * column }

    /// The strides of `channels × height × width` blocks, channels-first or channels-last.
    init(channelsLast: Bool, channels: Int, height: Int, width: Int) {
        outer = channels * height * width
        if channelsLast {
            (channel, row, column) = (1, width * channels, channels)
        } else {
            (channel, row, column) = (height * width, width, 1)
        }
    }
}

/// Where the elements of an activation tensor (X, O, dX, dO) are.
typealias ActivationStrides = TensorStrides
/// Where the elements of a filter (F, dF) are.
typealias FilterStrides = TensorStrides

/// Element strides of a 3-D tensor: `outer` blocks (volumes, or filters) of `channels × depth × height × width`.
struct VolumeStrides: Hashable {
    let outer: Int, channel: Int, plane: Int, row: Int, column: Int

    /// The offset of element `[n, c, d, h, w]` (`[k, c, t, r, s]` of a filter): logical channels-first indices.
    @inline(__always)
    func offset(_ n: Int, _ c: Int, _ d: Int, _ h: Int, _ w: Int) -> Int {
        n * outer + c * channel + d * plane + h * row + w * column
    }

    /// The strides of `channels × depth × height × width` blocks, channels-first or channels-last.
    init(channelsLast: Bool, channels: Int, depth: Int, height: Int, width: Int) {
        outer = channels * depth * height * width
        if channelsLast {
            (channel, plane, row, column) = (1, height * width * channels, width * channels, channels)
        } else {
            (channel, plane, row, column) = (depth * height * width, height * width, width, 1)
        }
    }
}

extension ActivationLayout {
    /// The strides of `channels × height × width` images in this layout (NCHW or NHWC).
    func strides(channels: Int, height: Int, width: Int) -> ActivationStrides {
        TensorStrides(channelsLast: self == .channelsLast, channels: channels, height: height, width: width)
    }

    /// The strides of `channels × depth × height × width` volumes in this layout (NCDHW or NDHWC).
    func strides(channels: Int, depth: Int, height: Int, width: Int) -> VolumeStrides {
        VolumeStrides(channelsLast: self == .channelsLast, channels: channels, depth: depth, height: height, width: width)
    }
}

extension FilterLayout {
    /// The strides of a filter with `channels` (C/G) input channels per group and `height × width` taps
    /// (K×C/G×R×S or K×R×S×C/G).
    func strides(channels: Int, height: Int, width: Int) -> FilterStrides {
        TensorStrides(channelsLast: self == .channelsLast, channels: channels, height: height, width: width)
    }

    /// The strides of a 3-D filter with `channels` (C/G) input channels per group and `depth × height × width`
    /// taps (K×C/G×T×R×S or K×T×R×S×C/G).
    func strides(channels: Int, depth: Int, height: Int, width: Int) -> VolumeStrides {
        VolumeStrides(channelsLast: self == .channelsLast, channels: channels, depth: depth, height: height, width: width)
    }
}

extension ConvGeometry {
    /// The strides of X and dX in this geometry's layout.
    var inputStrides: ActivationStrides {
        layout.activations.strides(channels: inputChannels, height: inputHeight, width: inputWidth)
    }
    /// The strides of O and dO in this geometry's layout.
    var outputStrides: ActivationStrides {
        layout.activations.strides(channels: outputChannels, height: outputHeight, width: outputWidth)
    }
    /// The strides of F and dF in this geometry's layout.
    var filterStrides: FilterStrides {
        layout.filter.strides(channels: inputChannelsPerGroup, height: kernelHeight, width: kernelWidth)
    }
}

extension ConvLayout {
    /// What a 2-D geometry's one-line description appends: nothing for the default ``nchw``, else a space and
    /// the layout.
    var descriptionSuffix: String { descriptionSuffix(rank: 2) }

    /// The same for a geometry of `rank` spatial axes (1, 2 or 3), with that rank's names: `NLC` for 1-D,
    /// `NDHWC` for 3-D, and the filter as `K×S×C/G` or `K×T×R×S×C/G`.
    func descriptionSuffix(rank: Int) -> String {
        if self == .nchw { return "" }
        let (first, last, oihw, ohwi): (String, String, String, String)
        switch rank {
        case 1: (first, last, oihw, ohwi) = ("NCL", "NLC", "K×C/G×S", "K×S×C/G")
        case 3: (first, last, oihw, ohwi) = ("NCDHW", "NDHWC", "K×C/G×T×R×S", "K×T×R×S×C/G")
        default: return " \(self)"
        }
        if self == .nhwc { return " " + last }
        return " \(activations == .channelsFirst ? first : last) activations, "
            + "\(filter == .channelsFirst ? oihw : ohwi) filter"
    }
}
