/// The shape of one transposed 2-D convolution, with the semantics and layouts of PyTorch's
/// `conv_transpose2d`: batch, channels, image and kernel sizes, stride, padding, output padding, dilation and
/// groups. All tensors are row-major; channels-first (below) by default, or in the channels-last forms of
/// <doc:Layouts> (``layout``):
///
/// | tensor | shape |
/// | --- | --- |
/// | input Xt | `batch × inputChannels × inputHeight × inputWidth` |
/// | filter (weight) Wt | `inputChannels × (outputChannels/groups) × kernelHeight × kernelWidth` |
/// | bias Bt | `outputChannels` |
/// | output Ot | `batch × outputChannels × outputHeight × outputWidth` |
///
/// with `outputHeight = (H − 1)·sh − top − bottom + dh·(R − 1) + outputPaddingHeight + 1` (width likewise).
///
/// A transposed convolution is the input gradient of an ordinary convolution, the ``associated`` one
/// (<doc:TransposedConvolution>): `inputChannels` of this geometry are that convolution's output channels, its
/// input is `outputHeight × outputWidth`, and the weight tensor is its filter read as
/// `inputChannels × (outputChannels/groups) × R × S`. ``ConvolutionEngine`` runs every computation of this
/// geometry on the associated convolution's algorithms.
///
/// A `TransposedConvGeometry` is valid by construction: its initializer throws ``ConvError`` for non-positive
/// sizes, negative padding or output padding, channels not divisible by groups, an output padding of
/// `max(stride, dilation)` or more on an axis (PyTorch's rule), an output without rows or columns, element
/// counts that overflow `Int`, and GEMM dimensions of the associated convolution's lowerings that overflow
/// OpenBLAS's 32-bit integers.
public struct TransposedConvGeometry: ConvolutionShape {
    /// Images in the batch (N).
    public let batch: Int
    /// Input channels (Cin), the associated convolution's output channels.
    public let inputChannels: Int
    /// Input image height (H).
    public let inputHeight: Int
    /// Input image width (W).
    public let inputWidth: Int
    /// Output channels (Cout), the associated convolution's input channels.
    public let outputChannels: Int
    /// Kernel height (R).
    public let kernelHeight: Int
    /// Kernel width (S).
    public let kernelWidth: Int
    /// Vertical stride (sh), as given: the step between the output rows that consecutive input rows reach.
    public let strideHeight: Int
    /// Horizontal stride (sw), as given.
    public let strideWidth: Int
    /// The padding removed from the output's sides (PyTorch's `padding`), top/bottom/left/right.
    public let padding: Padding
    /// Rows added at the bottom of the output (PyTorch's `output_padding`), below `max(sh, dh)`.
    public let outputPaddingHeight: Int
    /// Columns added at the right of the output, below `max(sw, dw)`.
    public let outputPaddingWidth: Int
    /// Vertical dilation (dh), as given: kernel taps are this many output rows apart.
    public let dilationHeight: Int
    /// Horizontal dilation (dw), as given.
    public let dilationWidth: Int
    /// Groups (G). Input and output channels are both divisible by it.
    public let groups: Int
    /// Output height, `(H − 1)·sh − top − bottom + dh·(R − 1) + outputPaddingHeight + 1`.
    public let outputHeight: Int
    /// Output width, `(W − 1)·sw − left − right + dw·(S − 1) + outputPaddingWidth + 1`.
    public let outputWidth: Int
    /// Elements of the input Xt (`N·Cin·H·W`).
    public let inputCount: Int
    /// Elements of the weight Wt (`Cin·(Cout/G)·R·S`).
    public let filterCount: Int
    /// Elements of the output Ot (`N·Cout·Ho·Wo`).
    public let outputCount: Int
    /// Elements of the bias Bt and of its gradient (`Cout`).
    public let biasCount: Int
    /// The associated convolution (<doc:TransposedConvolution>): `C = Cout` input channels of
    /// `outputHeight × outputWidth`, `K = Cin` output channels, the same kernel, stride, padding, dilation and
    /// groups. Its output has `H + ⌊outputPaddingHeight/sh⌋` rows (and `W + ⌊outputPaddingWidth/sw⌋` columns):
    /// exactly this geometry's input size unless `sh ≤ outputPaddingHeight < dh` (or the same for the width).
    public private(set) var associated: ConvGeometry
    /// The memory layout of Xt, Ot, dXt, dOt and of the weight Wt, dWt (<doc:Layouts>); the ``associated``
    /// convolution has the same one (its filter is Wt).
    public private(set) var layout: ConvLayout

    /// Makes and validates a transposed-convolution geometry.
    ///
    /// - Parameters:
    ///   - batch: images in the batch (N), at least 1.
    ///   - inputChannels: input channels (Cin), at least 1 and divisible by `groups`.
    ///   - inputHeight: input image height (H), at least 1.
    ///   - inputWidth: input image width (W), at least 1.
    ///   - outputChannels: output channels (Cout), at least 1 and divisible by `groups`.
    ///   - kernelHeight: kernel height (R), at least 1.
    ///   - kernelWidth: kernel width (S), at least 1.
    ///   - strideHeight: vertical stride (sh), at least 1.
    ///   - strideWidth: horizontal stride (sw), at least 1.
    ///   - padding: rows and columns removed from each side of the output (PyTorch's `padding`), at least 0.
    ///   - outputPaddingHeight: rows added at the bottom of the output, `0 ≤ value < max(sh, dh)`.
    ///   - outputPaddingWidth: columns added at the right of the output, `0 ≤ value < max(sw, dw)`.
    ///   - dilationHeight: vertical dilation (dh), at least 1.
    ///   - dilationWidth: horizontal dilation (dw), at least 1.
    ///   - groups: groups (G), at least 1.
    ///   - layout: the memory layout of the tensors (``ConvLayout``, NCHW and a channels-first weight by
    ///     default; <doc:Layouts>).
    /// - Throws: ``ConvError/nonPositive(field:value:)`` for a size, stride, dilation or group count below 1,
    ///   and for an output without rows or columns (`outputHeight`, `outputWidth`: padding larger than the
    ///   output); ``ConvError/negativePadding(field:value:)`` for a negative padding or output padding;
    ///   ``ConvError/notDivisibleByGroups(field:value:groups:)``;
    ///   ``ConvError/invalidArgument(name:reason:)`` naming `outputPaddingHeight` or `outputPaddingWidth` when it
    ///   is not below `max(stride, dilation)`; ``ConvError/sizeOverflow(quantity:)`` and
    ///   ``ConvError/blasDimensionTooLarge(quantity:value:)`` for sizes that do not fit.
    public init(
        batch: Int, inputChannels: Int, inputHeight: Int, inputWidth: Int,
        outputChannels: Int, kernelHeight: Int, kernelWidth: Int,
        strideHeight: Int = 1, strideWidth: Int = 1, padding: Padding = .zero,
        outputPaddingHeight: Int = 0, outputPaddingWidth: Int = 0,
        dilationHeight: Int = 1, dilationWidth: Int = 1, groups: Int = 1,
        layout: ConvLayout = .nchw
    ) throws(ConvError) {
        for (field, value) in [
            ("batch", batch), ("inputChannels", inputChannels), ("inputHeight", inputHeight),
            ("inputWidth", inputWidth), ("outputChannels", outputChannels), ("kernelHeight", kernelHeight),
            ("kernelWidth", kernelWidth), ("strideHeight", strideHeight), ("strideWidth", strideWidth),
            ("dilationHeight", dilationHeight), ("dilationWidth", dilationWidth), ("groups", groups),
        ] where value < 1 {
            throw .nonPositive(field: field, value: value)
        }
        for (field, value) in [("padding.top", padding.top), ("padding.bottom", padding.bottom),
                               ("padding.left", padding.left), ("padding.right", padding.right),
                               ("outputPaddingHeight", outputPaddingHeight),
                               ("outputPaddingWidth", outputPaddingWidth)] where value < 0 {
            throw .negativePadding(field: field, value: value)
        }
        if inputChannels % groups != 0 {
            throw .notDivisibleByGroups(field: "inputChannels", value: inputChannels, groups: groups)
        }
        if outputChannels % groups != 0 {
            throw .notDivisibleByGroups(field: "outputChannels", value: outputChannels, groups: groups)
        }
        // PyTorch's rule: output padding only chooses among the output sizes the same input could come from.
        for (name, value, stride, dilation) in [
            ("outputPaddingHeight", outputPaddingHeight, strideHeight, dilationHeight),
            ("outputPaddingWidth", outputPaddingWidth, strideWidth, dilationWidth),
        ] where value >= max(stride, dilation) {
            throw .invalidArgument(
                name: name,
                reason: "\(value) must be below max(stride \(stride), dilation \(dilation)) = \(max(stride, dilation))")
        }
        let ho = try transposedOutputExtent(input: inputHeight, kernel: kernelHeight, stride: strideHeight,
                                            before: padding.top, after: padding.bottom,
                                            outputPadding: outputPaddingHeight, dilation: dilationHeight,
                                            axis: "height")
        let wo = try transposedOutputExtent(input: inputWidth, kernel: kernelWidth, stride: strideWidth,
                                            before: padding.left, after: padding.right,
                                            outputPadding: outputPaddingWidth, dilation: dilationWidth,
                                            axis: "width")
        if ho < 1 { throw .nonPositive(field: "outputHeight", value: ho) }
        if wo < 1 { throw .nonPositive(field: "outputWidth", value: wo) }
        self.batch = batch
        self.inputChannels = inputChannels
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.outputChannels = outputChannels
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.strideHeight = strideHeight
        self.strideWidth = strideWidth
        self.padding = padding
        self.outputPaddingHeight = outputPaddingHeight
        self.outputPaddingWidth = outputPaddingWidth
        self.dilationHeight = dilationHeight
        self.dilationWidth = dilationWidth
        self.groups = groups
        self.layout = layout
        self.outputHeight = ho
        self.outputWidth = wo
        self.inputCount = try checkedProduct(batch, inputChannels, inputHeight, inputWidth, quantity: "input element count")
        self.biasCount = outputChannels
        // Checked here first so that an overflow names this operation's tensors, not the associated convolution's.
        self.filterCount = try checkedProduct(inputChannels, outputChannels / groups, kernelHeight, kernelWidth,
                                              quantity: "filter element count")
        self.outputCount = try checkedProduct(batch, outputChannels, ho, wo, quantity: "output element count")
        // The associated convolution validates (and overflow-checks) every size of the lowerings it runs; its
        // padded input always holds the dilated kernel (`Ho + top + bottom = (H−1)·sh + dh·(R−1) + op + 1`), so
        // only size errors can come from it.
        self.associated = try ConvGeometry(
            batch: batch, inputChannels: outputChannels, inputHeight: ho, inputWidth: wo,
            outputChannels: inputChannels, kernelHeight: kernelHeight, kernelWidth: kernelWidth,
            strideHeight: strideHeight, strideWidth: strideWidth, padding: .explicit(padding),
            dilationHeight: dilationHeight, dilationWidth: dilationWidth, groups: groups, layout: layout)
    }

    /// The same operation with its tensors in another memory layout (<doc:Layouts>); nothing else changes, so this
    /// cannot fail.
    public func withLayout(_ layout: ConvLayout) -> Self {
        var copy = self
        copy.layout = layout
        copy.associated = associated.withLayout(layout)
        return copy
    }

    /// Input channels per group (`Cin/G`).
    public var inputChannelsPerGroup: Int { inputChannels / groups }
    /// Output channels per group (`Cout/G`).
    public var outputChannelsPerGroup: Int { outputChannels / groups }

    /// Whether the associated convolution has more output rows or columns than this geometry's input
    /// (`sh ≤ outputPaddingHeight < dh`, or the same for the width): the engine then zero-extends the input
    /// (and the input gradient) in a staging copy, one image at a time.
    var needsStaging: Bool {
        associated.outputHeight != inputHeight || associated.outputWidth != inputWidth
    }

    /// A one-line summary (with the layout at the end unless it is ``ConvLayout/nchw``), for example
    /// `transposed N2 Cin8→Cout4 5×5 k3×3 s(2,2) p(1,1,1,1) op(1,1) d(1,1) g1 → 10×10`.
    public var description: String {
        "transposed N\(batch) Cin\(inputChannels)→Cout\(outputChannels) \(inputHeight)×\(inputWidth)"
            + " k\(kernelHeight)×\(kernelWidth) s(\(strideHeight),\(strideWidth))"
            + " p(\(padding.top),\(padding.bottom),\(padding.left),\(padding.right))"
            + " op(\(outputPaddingHeight),\(outputPaddingWidth)) d(\(dilationHeight),\(dilationWidth)) g\(groups)"
            + " → \(outputHeight)×\(outputWidth)" + layout.descriptionSuffix
    }
}

/// `(input − 1)·stride − before − after + dilation·(kernel − 1) + outputPadding + 1`, overflow-checked (the
/// extent of a transposed convolution's output along one axis; it may be zero or negative, which the caller
/// reports). Every argument has been checked non-negative (sizes positive) before.
func transposedOutputExtent(input: Int, kernel: Int, stride: Int, before: Int, after: Int, outputPadding: Int,
                            dilation: Int, axis: String) throws(ConvError) -> Int {
    let quantity = "transposed output \(axis)"
    let reach = try checkedSum(checkedProduct(input - 1, stride, quantity: quantity),
                               checkedProduct(dilation, kernel - 1, quantity: quantity), outputPadding, 1,
                               quantity: quantity)
    // Safe: reach ≥ 1 and before ≥ 0, so the first subtraction cannot overflow; the second can only overflow
    // downwards, and any such result is an output without rows, reported by the caller as a non-positive size.
    let (extent, overflow) = (reach - before).subtractingReportingOverflow(after)
    return overflow ? Int.min : extent
}
