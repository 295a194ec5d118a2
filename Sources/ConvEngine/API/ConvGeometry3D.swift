/// The shape of one 3-D convolution (PyTorch's `conv3d`): batch, channels, volume and kernel sizes, and stride,
/// padding and dilation per axis (depth, height, width), and groups. All tensors are row-major, NCDHW (below) by
/// default or channels-last (NDHWC, `K×T×R×S×C/G`; ``layout``, <doc:Layouts>):
///
/// | tensor | shape |
/// | --- | --- |
/// | input X | `batch × inputChannels × inputDepth × inputHeight × inputWidth` (N×C×D×H×W) |
/// | filter F | `outputChannels × (inputChannels/groups) × kernelDepth × kernelHeight × kernelWidth` (K×C/G×T×R×S) |
/// | bias B | `outputChannels` (K) |
/// | output O | `batch × outputChannels × outputDepth × outputHeight × outputWidth` (N×K×E×P×Q) |
///
/// Every formula of the 2-D convolution holds per axis (<doc:ThreeDimensionalConvolution>):
/// `E = floor((D + front + back − dd·(T−1) − 1) / sd) + 1`, and likewise P and Q.
///
/// A `ConvGeometry3D` is valid by construction: its initializer throws the same ``ConvError`` kinds as
/// ``ConvGeometry``'s, naming this type's fields (`inputDepth`, `kernelDepth`, `padding.front`, axis `"depth"`, …),
/// for every impossible combination and for element counts that overflow `Int` or GEMM dimensions of its
/// lowerings that overflow OpenBLAS's 32-bit integers. As in ``ConvGeometry``, the dilation of an axis with one
/// kernel tap and the stride of an axis with one output position are stored as 1 (the strides given stay in
/// ``requestedStrideDepth`` and its siblings).
public struct ConvGeometry3D: ConvolutionShape {
    /// Volumes in the batch (N).
    public let batch: Int
    /// Input channels (C).
    public let inputChannels: Int
    /// Input depth (D): planes per input volume.
    public let inputDepth: Int
    /// Input height (H).
    public let inputHeight: Int
    /// Input width (W).
    public let inputWidth: Int
    /// Output channels, the number of filters (K).
    public let outputChannels: Int
    /// Kernel depth (T).
    public let kernelDepth: Int
    /// Kernel height (R).
    public let kernelHeight: Int
    /// Kernel width (S).
    public let kernelWidth: Int
    /// Depth stride (sd) as the computation uses it: 1 when the output has one plane.
    public let strideDepth: Int
    /// Vertical stride (sh) as the computation uses it: 1 when the output has one row.
    public let strideHeight: Int
    /// Horizontal stride (sw) as the computation uses it: 1 when the output has one column.
    public let strideWidth: Int
    /// The depth stride given to the initializer, before normalisation.
    public let requestedStrideDepth: Int
    /// The vertical stride given to the initializer, before normalisation.
    public let requestedStrideHeight: Int
    /// The horizontal stride given to the initializer, before normalisation.
    public let requestedStrideWidth: Int
    /// The zero padding on each of the six faces.
    public let padding: Padding3D
    /// Depth dilation (dd): kernel taps are `dilationDepth` planes apart; 1 for a kernel of one plane.
    public let dilationDepth: Int
    /// Vertical dilation (dh); 1 for a kernel of one row.
    public let dilationHeight: Int
    /// Horizontal dilation (dw); 1 for a kernel of one column.
    public let dilationWidth: Int
    /// Groups (G). Input and output channels are both divisible by it; `groups == inputChannels` is depthwise.
    public let groups: Int
    /// Output depth E, `floor((D + front + back − dd·(T−1) − 1) / sd) + 1`.
    public let outputDepth: Int
    /// Output height P, `floor((H + top + bottom − dh·(R−1) − 1) / sh) + 1`.
    public let outputHeight: Int
    /// Output width Q, `floor((W + left + right − dw·(S−1) − 1) / sw) + 1`.
    public let outputWidth: Int

    /// Elements of the input X (`N·C·D·H·W`).
    public let inputCount: Int
    /// Elements of the filter F (`K·(C/G)·T·R·S`).
    public let filterCount: Int
    /// Elements of the output O (`N·K·E·P·Q`).
    public let outputCount: Int
    /// Nominal floating-point operations of one forward pass, `2·N·K·E·P·Q·(C/G)·T·R·S` (padding taps count).
    public let forwardFLOPs: Int
    /// Nominal floating-point operations of the input and filter gradients together (twice the forward).
    public let backwardFLOPs: Int
    /// The memory layout of X, O, dX, dO (N×C×D×H×W or N×D×H×W×C) and of F, dF (K×C/G×T×R×S or K×T×R×S×C/G)
    /// (<doc:Layouts>).
    public private(set) var layout: ConvLayout

    /// Makes and validates a 3-D geometry.
    ///
    /// - Parameters:
    ///   - batch: volumes in the batch (N), at least 1.
    ///   - inputChannels: input channels (C), at least 1 and divisible by `groups`.
    ///   - inputDepth: input depth (D), at least 1.
    ///   - inputHeight: input height (H), at least 1.
    ///   - inputWidth: input width (W), at least 1.
    ///   - outputChannels: output channels (K), at least 1 and divisible by `groups`.
    ///   - kernelDepth: kernel depth (T), at least 1.
    ///   - kernelHeight: kernel height (R), at least 1.
    ///   - kernelWidth: kernel width (S), at least 1.
    ///   - strideDepth: depth stride (sd), at least 1.
    ///   - strideHeight: vertical stride (sh), at least 1.
    ///   - strideWidth: horizontal stride (sw), at least 1.
    ///   - padding: zeros on each face, none negative (an integer literal pads every face).
    ///   - dilationDepth: depth dilation (dd), at least 1.
    ///   - dilationHeight: vertical dilation (dh), at least 1.
    ///   - dilationWidth: horizontal dilation (dw), at least 1.
    ///   - groups: groups (G), at least 1; `groups == inputChannels` is a depthwise convolution.
    ///   - layout: the memory layout of the tensors (``ConvLayout``, N×C×D×H×W and a channels-first weight by
    ///     default; <doc:Layouts>).
    /// - Throws: ``ConvError/nonPositive(field:value:)``, ``ConvError/notDivisibleByGroups(field:value:groups:)``,
    ///   ``ConvError/negativePadding(field:value:)``, ``ConvError/kernelLargerThanPaddedInput(axis:paddedInput:dilatedKernel:)``
    ///   (axis `"depth"`, `"height"` or `"width"`), ``ConvError/sizeOverflow(quantity:)`` and
    ///   ``ConvError/blasDimensionTooLarge(quantity:value:)``, each naming the offending field or quantity.
    public init(
        batch: Int, inputChannels: Int, inputDepth: Int, inputHeight: Int, inputWidth: Int,
        outputChannels: Int, kernelDepth: Int, kernelHeight: Int, kernelWidth: Int,
        strideDepth: Int = 1, strideHeight: Int = 1, strideWidth: Int = 1, padding: Padding3D = .zero,
        dilationDepth: Int = 1, dilationHeight: Int = 1, dilationWidth: Int = 1,
        groups: Int = 1, layout: ConvLayout = .nchw
    ) throws(ConvError) {
        for (field, value) in [
            ("batch", batch), ("inputChannels", inputChannels), ("inputDepth", inputDepth),
            ("inputHeight", inputHeight), ("inputWidth", inputWidth), ("outputChannels", outputChannels),
            ("kernelDepth", kernelDepth), ("kernelHeight", kernelHeight), ("kernelWidth", kernelWidth),
            ("strideDepth", strideDepth), ("strideHeight", strideHeight), ("strideWidth", strideWidth),
            ("dilationDepth", dilationDepth), ("dilationHeight", dilationHeight), ("dilationWidth", dilationWidth),
            ("groups", groups),
        ] where value < 1 {
            throw .nonPositive(field: field, value: value)
        }
        if inputChannels % groups != 0 {
            throw .notDivisibleByGroups(field: "inputChannels", value: inputChannels, groups: groups)
        }
        if outputChannels % groups != 0 {
            throw .notDivisibleByGroups(field: "outputChannels", value: outputChannels, groups: groups)
        }
        for (field, value) in [("padding.front", padding.front), ("padding.back", padding.back),
                               ("padding.top", padding.top), ("padding.bottom", padding.bottom),
                               ("padding.left", padding.left), ("padding.right", padding.right)] where value < 0 {
            throw .negativePadding(field: field, value: value)
        }
        // Per axis: the dilated kernel's reach, the padded extent, and the output extent (checked before dividing:
        // Swift's `/` truncates toward zero, which is not floor for a negative numerator).
        func outputExtent(_ axis: String, input: Int, kernel: Int, stride: Int, dilation: Int,
                          before: Int, after: Int) throws(ConvError) -> Int {
            let reach = try checkedSum(checkedProduct(dilation, kernel - 1, quantity: "dilated kernel \(axis)"), 1,
                                       quantity: "dilated kernel \(axis)")
            let padded = try checkedSum(input, before, after, quantity: "padded input \(axis)")
            if padded < reach {
                throw .kernelLargerThanPaddedInput(axis: axis, paddedInput: padded, dilatedKernel: reach)
            }
            return (padded - reach) / stride + 1
        }
        let e = try outputExtent("depth", input: inputDepth, kernel: kernelDepth, stride: strideDepth,
                                 dilation: dilationDepth, before: padding.front, after: padding.back)
        let p = try outputExtent("height", input: inputHeight, kernel: kernelHeight, stride: strideHeight,
                                 dilation: dilationHeight, before: padding.top, after: padding.bottom)
        let q = try outputExtent("width", input: inputWidth, kernel: kernelWidth, stride: strideWidth,
                                 dilation: dilationWidth, before: padding.left, after: padding.right)

        let cg = inputChannels / groups, kg = outputChannels / groups
        self.batch = batch
        self.inputChannels = inputChannels
        self.inputDepth = inputDepth
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.outputChannels = outputChannels
        self.kernelDepth = kernelDepth
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        // Normalised as in ConvGeometry: values that cannot change the result never reach an index computation.
        self.strideDepth = e == 1 ? 1 : strideDepth
        self.strideHeight = p == 1 ? 1 : strideHeight
        self.strideWidth = q == 1 ? 1 : strideWidth
        self.requestedStrideDepth = strideDepth
        self.requestedStrideHeight = strideHeight
        self.requestedStrideWidth = strideWidth
        self.padding = padding
        self.dilationDepth = kernelDepth == 1 ? 1 : dilationDepth
        self.dilationHeight = kernelHeight == 1 ? 1 : dilationHeight
        self.dilationWidth = kernelWidth == 1 ? 1 : dilationWidth
        self.groups = groups
        self.layout = layout
        self.outputDepth = e
        self.outputHeight = p
        self.outputWidth = q
        self.inputCount = try checkedProduct(batch, inputChannels, inputDepth, inputHeight, inputWidth,
                                             quantity: "input element count")
        self.filterCount = try checkedProduct(outputChannels, cg, kernelDepth, kernelHeight, kernelWidth,
                                              quantity: "filter element count")
        self.outputCount = try checkedProduct(batch, outputChannels, e, p, q, quantity: "output element count")
        self.forwardFLOPs = try checkedProduct(2, outputCount, cg, kernelDepth, kernelHeight, kernelWidth,
                                               quantity: "forward FLOPs")
        self.backwardFLOPs = try checkedProduct(2, forwardFLOPs, quantity: "backward FLOPs")

        // Every GEMM dimension and leading dimension of both lowerings (vol2col: C/G·T·R·S × E·P·Q; the
        // kernel-depth GEMMs: C/G·R·S × D·P·Q for the lowered planes, E·P·Q for the output), and every buffer
        // they lay out, checked now so no later conversion or size can trap.
        let columnRows = try checkedProduct(cg, kernelDepth, kernelHeight, kernelWidth,
                                            quantity: "column rows (C/G·T·R·S)")
        let columnColumns = try checkedProduct(e, p, q, quantity: "column columns (E·P·Q)")
        let planeRows = try checkedProduct(cg, kernelHeight, kernelWidth, quantity: "plane column rows (C/G·R·S)")
        let planeColumns = try checkedProduct(inputDepth, p, q, quantity: "plane column columns (D·P·Q)")
        let voxels = try checkedProduct(inputDepth, inputHeight, inputWidth, quantity: "input voxels (D·H·W)")
        for (quantity, value) in [
            ("input channels per group (C/G)", cg), ("output channels per group (K/G)", kg),
            ("column rows (C/G·T·R·S)", columnRows), ("column columns (E·P·Q)", columnColumns),
            ("plane column rows (C/G·R·S)", planeRows), ("plane column columns (D·P·Q)", planeColumns),
            ("input voxels (D·H·W)", voxels),
        ] where value > Int(Int32.max) {
            throw .blasDimensionTooLarge(quantity: quantity, value: value)
        }
        _ = try checkedProduct(columnRows, columnColumns, 8, quantity: "column buffer bytes")
        _ = try checkedProduct(planeRows, planeColumns, 8, quantity: "plane column buffer bytes")
        _ = try checkedProduct(inputCount, 8, quantity: "input bytes")
        _ = try checkedProduct(outputCount, 8, quantity: "output bytes")
        _ = try checkedProduct(filterCount, 8, 4, quantity: "filter bytes")
    }

    /// The same geometry with another batch size (for example to size a workspace for a larger batch).
    ///
    /// - Throws: as ``init(batch:inputChannels:inputDepth:inputHeight:inputWidth:outputChannels:kernelDepth:kernelHeight:kernelWidth:strideDepth:strideHeight:strideWidth:padding:dilationDepth:dilationHeight:dilationWidth:groups:layout:)``.
    public func withBatch(_ newBatch: Int) throws(ConvError) -> ConvGeometry3D {
        try ConvGeometry3D(
            batch: newBatch, inputChannels: inputChannels, inputDepth: inputDepth, inputHeight: inputHeight,
            inputWidth: inputWidth, outputChannels: outputChannels, kernelDepth: kernelDepth,
            kernelHeight: kernelHeight, kernelWidth: kernelWidth, strideDepth: requestedStrideDepth,
            strideHeight: requestedStrideHeight, strideWidth: requestedStrideWidth, padding: padding,
            dilationDepth: dilationDepth, dilationHeight: dilationHeight, dilationWidth: dilationWidth,
            groups: groups, layout: layout)
    }

    /// The same convolution with its tensors in another memory layout (<doc:Layouts>); nothing else changes, so
    /// this cannot fail.
    public func withLayout(_ layout: ConvLayout) -> ConvGeometry3D {
        var copy = self
        copy.layout = layout
        return copy
    }

    /// Elements of the bias B and of its gradient (`K`).
    public var biasCount: Int { outputChannels }
    /// Input channels per group (`C/G`).
    public var inputChannelsPerGroup: Int { inputChannels / groups }
    /// Output channels per group (`K/G`).
    public var outputChannelsPerGroup: Int { outputChannels / groups }
    /// Rows of the vol2col column matrix of one volume and group (`C/G·T·R·S`), the forward GEMM's inner dimension.
    public var columnRows: Int { inputChannelsPerGroup * kernelDepth * kernelHeight * kernelWidth }
    /// Columns of the vol2col column matrix (`E·P·Q`).
    public var columnColumns: Int { outputDepth * outputHeight * outputWidth }
    /// True when every group has exactly one input channel (`groups == inputChannels`).
    public var isDepthwise: Bool { groups == inputChannels }

    /// A one-line summary, for example
    /// `N2 C64→K64 8×28×28 k3×3×3 s(1,1,1) p(1,1,1,1,1,1) d(1,1,1) g1 → 8×28×28` (batch, channels, volume, kernel,
    /// stride, padding front/back/top/bottom/left/right, dilation, groups → output size), with the layout at the
    /// end unless it is ``ConvLayout/nchw``.
    public var description: String {
        let pad = padding
        return "N\(batch) C\(inputChannels)→K\(outputChannels) \(inputDepth)×\(inputHeight)×\(inputWidth)"
            + " k\(kernelDepth)×\(kernelHeight)×\(kernelWidth) s(\(strideDepth),\(strideHeight),\(strideWidth))"
            + " p(\(pad.front),\(pad.back),\(pad.top),\(pad.bottom),\(pad.left),\(pad.right))"
            + " d(\(dilationDepth),\(dilationHeight),\(dilationWidth)) g\(groups)"
            + " → \(outputDepth)×\(outputHeight)×\(outputWidth)" + layout.descriptionSuffix(rank: 3)
    }
}
