/// The shape of one 1-D transposed convolution (PyTorch's `conv_transpose1d`). All tensors are row-major,
/// channels-first (below) by default or channels-last (`N×L×C`, `Cin×S×Cout/G`; ``layout``, <doc:Layouts>):
///
/// | tensor | shape |
/// | --- | --- |
/// | input Xt | `batch × inputChannels × inputLength` |
/// | filter (weight) Wt | `inputChannels × (outputChannels/groups) × kernelLength` |
/// | bias Bt | `outputChannels` |
/// | output Ot | `batch × outputChannels × outputLength` |
///
/// with `outputLength = (L − 1)·stride − left − right + dilation·(S − 1) + outputPadding + 1`.
///
/// It is a ``TransposedConvGeometry`` with one input row and a one-row kernel (``planar``), which
/// ``ConvolutionEngine`` runs without copying anything (<doc:OneDimensionalConvolution>).
///
/// A `TransposedConvGeometry1D` is valid by construction: its initializer throws ``ConvError`` naming this
/// type's own fields (`inputLength`, `kernelLength`, `padding.left`, `outputPadding`, …).
public struct TransposedConvGeometry1D: ConvolutionShape {
    /// Sequences in the batch (N).
    public let batch: Int
    /// Input channels (Cin).
    public let inputChannels: Int
    /// Input length (L).
    public let inputLength: Int
    /// Output channels (Cout).
    public let outputChannels: Int
    /// Kernel length (S).
    public let kernelLength: Int
    /// Stride.
    public let stride: Int
    /// The padding removed from the output's two ends (PyTorch's `padding`).
    public let padding: Padding1D
    /// Elements added at the end of the output (PyTorch's `output_padding`), below `max(stride, dilation)`.
    public let outputPadding: Int
    /// Dilation: kernel taps are this many output elements apart.
    public let dilation: Int
    /// Groups (G). Input and output channels are both divisible by it.
    public let groups: Int
    /// Output length, `(L − 1)·stride − left − right + dilation·(S − 1) + outputPadding + 1`.
    public let outputLength: Int
    /// Elements of the input Xt (`N·Cin·L`).
    public let inputCount: Int
    /// Elements of the weight Wt (`Cin·(Cout/G)·S`).
    public let filterCount: Int
    /// Elements of the output Ot (`N·Cout·Lo`).
    public let outputCount: Int
    /// Elements of the bias Bt and of its gradient (`Cout`).
    public let biasCount: Int
    /// The same operation as a 2-D transposed convolution with `inputHeight` 1 and `kernelHeight` 1: every
    /// buffer of this geometry is a buffer of that one, element for element.
    public private(set) var planar: TransposedConvGeometry
    /// The memory layout of Xt, Ot, dXt, dOt (N×C×L or N×L×C) and of Wt, dWt (Cin×Cout/G×S or Cin×S×Cout/G)
    /// (<doc:Layouts>). The ``planar`` geometry has the same one.
    public private(set) var layout: ConvLayout

    /// Makes and validates a 1-D transposed-convolution geometry.
    ///
    /// - Parameters:
    ///   - batch: sequences in the batch (N), at least 1.
    ///   - inputChannels: input channels (Cin), at least 1 and divisible by `groups`.
    ///   - inputLength: input length (L), at least 1.
    ///   - outputChannels: output channels (Cout), at least 1 and divisible by `groups`.
    ///   - kernelLength: kernel length (S), at least 1.
    ///   - stride: stride, at least 1.
    ///   - padding: elements removed from each end of the output, at least 0.
    ///   - outputPadding: elements added at the end of the output, `0 ≤ value < max(stride, dilation)`.
    ///   - dilation: dilation, at least 1.
    ///   - groups: groups (G), at least 1.
    ///   - layout: the memory layout of the tensors (``ConvLayout``, N×C×L and a channels-first weight by
    ///     default; <doc:Layouts>).
    /// - Throws: ``ConvError/nonPositive(field:value:)`` (also `outputLength` for an output with no element),
    ///   ``ConvError/negativePadding(field:value:)`` (`padding.left`, `padding.right`, `outputPadding`),
    ///   ``ConvError/notDivisibleByGroups(field:value:groups:)``, ``ConvError/invalidArgument(name:reason:)``
    ///   naming `outputPadding` when it is not below `max(stride, dilation)`, ``ConvError/sizeOverflow(quantity:)``
    ///   and ``ConvError/blasDimensionTooLarge(quantity:value:)``.
    public init(
        batch: Int, inputChannels: Int, inputLength: Int, outputChannels: Int, kernelLength: Int,
        stride: Int = 1, padding: Padding1D = .zero, outputPadding: Int = 0, dilation: Int = 1,
        groups: Int = 1, layout: ConvLayout = .nchw
    ) throws(ConvError) {
        for (field, value) in [
            ("batch", batch), ("inputChannels", inputChannels), ("inputLength", inputLength),
            ("outputChannels", outputChannels), ("kernelLength", kernelLength), ("stride", stride),
            ("dilation", dilation), ("groups", groups),
        ] where value < 1 {
            throw .nonPositive(field: field, value: value)
        }
        for (field, value) in [("padding.left", padding.left), ("padding.right", padding.right),
                               ("outputPadding", outputPadding)] where value < 0 {
            throw .negativePadding(field: field, value: value)
        }
        if inputChannels % groups != 0 {
            throw .notDivisibleByGroups(field: "inputChannels", value: inputChannels, groups: groups)
        }
        if outputChannels % groups != 0 {
            throw .notDivisibleByGroups(field: "outputChannels", value: outputChannels, groups: groups)
        }
        if outputPadding >= max(stride, dilation) {
            throw .invalidArgument(
                name: "outputPadding",
                reason: "\(outputPadding) must be below max(stride \(stride), dilation \(dilation)) = \(max(stride, dilation))")
        }
        let lo = try transposedOutputExtent(input: inputLength, kernel: kernelLength, stride: stride,
                                            before: padding.left, after: padding.right, outputPadding: outputPadding,
                                            dilation: dilation, axis: "length")
        if lo < 1 { throw .nonPositive(field: "outputLength", value: lo) }
        self.batch = batch
        self.inputChannels = inputChannels
        self.inputLength = inputLength
        self.outputChannels = outputChannels
        self.kernelLength = kernelLength
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
        self.dilation = dilation
        self.groups = groups
        self.layout = layout
        self.outputLength = lo
        self.inputCount = try checkedProduct(batch, inputChannels, inputLength, quantity: "input element count")
        self.filterCount = try checkedProduct(inputChannels, outputChannels / groups, kernelLength,
                                              quantity: "filter element count")
        self.outputCount = try checkedProduct(batch, outputChannels, lo, quantity: "output element count")
        self.biasCount = outputChannels
        self.planar = try TransposedConvGeometry(
            batch: batch, inputChannels: inputChannels, inputHeight: 1, inputWidth: inputLength,
            outputChannels: outputChannels, kernelHeight: 1, kernelWidth: kernelLength,
            strideHeight: 1, strideWidth: stride,
            padding: Padding(top: 0, bottom: 0, left: padding.left, right: padding.right),
            outputPaddingHeight: 0, outputPaddingWidth: outputPadding,
            dilationHeight: 1, dilationWidth: dilation, groups: groups, layout: layout)
    }

    /// The same operation with its tensors in another memory layout (<doc:Layouts>); nothing else changes, so this
    /// cannot fail.
    public func withLayout(_ layout: ConvLayout) -> Self {
        var copy = self
        copy.layout = layout
        copy.planar = planar.withLayout(layout)
        return copy
    }

    /// Input channels per group (`Cin/G`).
    public var inputChannelsPerGroup: Int { inputChannels / groups }
    /// Output channels per group (`Cout/G`).
    public var outputChannelsPerGroup: Int { outputChannels / groups }

    /// A one-line summary (with the layout at the end unless it is ``ConvLayout/nchw``), for example `1-D transposed N4 Cin8→Cout4 100 k4 s2 p(1,1) op1 d1 g1 → 201`.
    public var description: String {
        "1-D transposed N\(batch) Cin\(inputChannels)→Cout\(outputChannels) \(inputLength) k\(kernelLength)"
            + " s\(stride) p(\(padding.left),\(padding.right)) op\(outputPadding) d\(dilation) g\(groups)"
            + " → \(outputLength)" + layout.descriptionSuffix(rank: 1)
    }
}
