import ConvEngine

/// The memory layout a row runs in (`--layout`): NCHW, or NHWC (channels-last activations and K×R×S×C/G filters,
/// ``ConvLayout/nhwc``; for the 1-D and 3-D rows NLC and NDHWC, with K×S×C/G and K×T×R×S×C/G filters).
enum BenchLayout: String, Codable, CaseIterable, Sendable {
    case nchw, nhwc

    /// The library's layout of this row's tensors.
    var convLayout: ConvLayout { self == .nchw ? .nchw : .nhwc }

    /// The row's layer name: an NCHW row keeps the layer's own name, an NHWC row is `<layer>/nhwc` (so that the
    /// table, the JSON and the chart tell the two apart and `compare.py` can pair them).
    func rowName(_ layer: String) -> String { self == .nchw ? layer : "\(layer)/\(rawValue)" }

    /// The layer an NHWC row's name `rowName` was made from (its NCHW row's name).
    func layerName(_ rowName: String) -> String {
        self == .nchw ? rowName : String(rowName.dropLast(rawValue.count + 1))
    }

    /// `--layout`'s comma-separated list (`nchw,nhwc`), duplicates dropped, in the order given.
    static func parse(_ text: String) -> [BenchLayout]? {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let values = parts.compactMap(BenchLayout.init(rawValue:))
        guard !values.isEmpty, values.count == parts.count else { return nil }
        var seen = Set<BenchLayout>()
        return values.filter { seen.insert($0).inserted }
    }
}

/// Where element (outer, channel, position) of a tensor is stored: `outer × channels × positions` (channels
/// first: NCHW activations, K×C/G×R×S filters) or `outer × positions × channels` (channels last: NHWC
/// activations, K×R×S×C/G filters). `outer` is the image of an activation tensor or the filter of a weight (K; a
/// transposed weight's Cin), `position` the flat spatial position (h·W + w; d·H·W + h·W + w) or kernel tap.
///
/// This is the benchmark's own index arithmetic, written from the layouts' definitions and not taken from the
/// library, so that the verification, which reads every tensor through it, would catch a layout mistake in the
/// engine instead of repeating it.
struct TensorOrder: Sendable {
    let channels: Int
    let positions: Int
    let channelsLast: Bool

    /// Where element (outer, channel, position) is stored.
    @inline(__always)
    func index(_ outer: Int, _ channel: Int, _ position: Int) -> Int {
        channelsLast ? (outer * positions + position) * channels + channel
            : (outer * channels + channel) * positions + position
    }

    /// The (outer, channel, position) of the element stored at `i`.
    @inline(__always)
    func coordinates(_ i: Int) -> (outer: Int, channel: Int, position: Int) {
        channelsLast ? (i / (positions * channels), i % channels, (i / channels) % positions)
            : (i / (channels * positions), (i / positions) % channels, i % positions)
    }

    /// Where the `i`-th element in channels-first order is stored: the data are drawn in that order, so that a
    /// layer's NHWC row holds the same values as its NCHW row and computes the same convolution.
    func stored(channelsFirst i: Int) -> Int {
        guard channelsLast else { return i }
        return index(i / (channels * positions), (i / positions) % channels, i % positions)
    }

    /// The inverse: where the element stored at `i` is in channels-first order.
    func channelsFirst(stored i: Int) -> Int {
        guard channelsLast else { return i }
        let (outer, channel, position) = coordinates(i)
        return (outer * channels + channel) * positions + position
    }

    /// `body` on `tensor` (stored in this order) in channels-first order: the tensor itself, or a copy.
    func withChannelsFirst<R>(_ tensor: UnsafeBufferPointer<Double>,
                              _ body: (UnsafeBufferPointer<Double>) throws -> R) rethrows -> R {
        guard channelsLast else { return try body(tensor) }
        let copy = (0..<tensor.count).map { tensor[stored(channelsFirst: $0)] }
        return try copy.withUnsafeBufferPointer(body)
    }
}

extension ConvGeometry {
    /// The orders of X (and dX), F (and dF), and O (and dO) in this geometry's layout.
    var orders: (input: TensorOrder, filter: TensorOrder, output: TensorOrder) {
        (TensorOrder(channels: inputChannels, positions: inputHeight * inputWidth,
                     channelsLast: layout.activations == .channelsLast),
         TensorOrder(channels: inputChannelsPerGroup, positions: kernelHeight * kernelWidth,
                     channelsLast: layout.filter == .channelsLast),
         TensorOrder(channels: outputChannels, positions: outputHeight * outputWidth,
                     channelsLast: layout.activations == .channelsLast))
    }
}
