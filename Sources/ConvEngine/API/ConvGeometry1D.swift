/// The shape of one 1-D convolution (PyTorch's `conv1d`): batch, channels, sequence and kernel lengths,
/// stride, padding, dilation and groups. All tensors are row-major, channels-first (below) by default or
/// channels-last (`N×L×C`, `K×S×C/G`; ``layout``, <doc:Layouts>):
///
/// | tensor | shape |
/// | --- | --- |
/// | input X | `batch × inputChannels × inputLength` |
/// | filter F | `outputChannels × (inputChannels/groups) × kernelLength` |
/// | bias B | `outputChannels` |
/// | output O | `batch × outputChannels × outputLength` |
///
/// with `outputLength = ⌊(L + left + right − d·(S − 1) − 1)/stride⌋ + 1`.
///
/// A 1-D convolution is a 2-D one with one input row and a one-row kernel: N×C×L is N×C×1×L in memory, so
/// ``ConvolutionEngine`` runs it as ``planar`` without copying anything (<doc:OneDimensionalConvolution>).
///
/// A `ConvGeometry1D` is valid by construction: its initializer throws ``ConvError`` naming this type's own
/// fields (`inputLength`, `kernelLength`, `padding.left`, …) for non-positive sizes, negative padding,
/// channels not divisible by groups, a dilated kernel longer than the padded input, and sizes that overflow.
public struct ConvGeometry1D: ConvolutionShape {
    /// Sequences in the batch (N).
    public let batch: Int
    /// Input channels (C).
    public let inputChannels: Int
    /// Input length (L).
    public let inputLength: Int
    /// Output channels, the number of filters (K).
    public let outputChannels: Int
    /// Kernel length (S).
    public let kernelLength: Int
    /// Stride, as given.
    public let stride: Int
    /// The zero padding before and after the input.
    public let padding: Padding1D
    /// Dilation, as given: kernel taps are this many input elements apart.
    public let dilation: Int
    /// Groups (G). Input and output channels are both divisible by it; `groups == inputChannels` is depthwise.
    public let groups: Int
    /// Output length, `⌊(L + left + right − d·(S − 1) − 1)/stride⌋ + 1`.
    public let outputLength: Int
    /// Elements of the input X (`N·C·L`).
    public let inputCount: Int
    /// Elements of the filter F (`K·(C/G)·S`).
    public let filterCount: Int
    /// Elements of the output O (`N·K·Q`).
    public let outputCount: Int
    /// Elements of the bias B and of its gradient (`K`).
    public let biasCount: Int
    /// The same convolution as a 2-D one with `inputHeight` 1 and `kernelHeight` 1 (no vertical padding): every
    /// buffer of this geometry is a buffer of that one, element for element.
    public private(set) var planar: ConvGeometry
    /// The memory layout of X, O, dX, dO (N×C×L or N×L×C) and of F, dF (K×C/G×S or K×S×C/G) (<doc:Layouts>).
    /// The ``planar`` geometry has the same one: N×L×C is N×1×L×C, and K×S×C/G is K×1×S×C/G.
    public private(set) var layout: ConvLayout

    /// Makes and validates a 1-D convolution geometry.
    ///
    /// - Parameters:
    ///   - batch: sequences in the batch (N), at least 1.
    ///   - inputChannels: input channels (C), at least 1 and divisible by `groups`.
    ///   - inputLength: input length (L), at least 1.
    ///   - outputChannels: output channels (K), at least 1 and divisible by `groups`.
    ///   - kernelLength: kernel length (S), at least 1.
    ///   - stride: stride, at least 1.
    ///   - padding: zeros before and after the input (an integer literal pads both sides), at least 0.
    ///   - dilation: dilation, at least 1.
    ///   - groups: groups (G), at least 1.
    ///   - layout: the memory layout of the tensors (``ConvLayout``, N×C×L and a channels-first weight by
    ///     default; <doc:Layouts>).
    /// - Throws: ``ConvError/nonPositive(field:value:)``, ``ConvError/negativePadding(field:value:)`` (naming
    ///   `padding.left` or `padding.right`), ``ConvError/notDivisibleByGroups(field:value:groups:)``,
    ///   ``ConvError/kernelLargerThanPaddedInput(axis:paddedInput:dilatedKernel:)`` (axis `length`),
    ///   ``ConvError/sizeOverflow(quantity:)`` and ``ConvError/blasDimensionTooLarge(quantity:value:)``.
    public init(
        batch: Int, inputChannels: Int, inputLength: Int, outputChannels: Int, kernelLength: Int,
        stride: Int = 1, padding: Padding1D = .zero, dilation: Int = 1, groups: Int = 1,
        layout: ConvLayout = .nchw
    ) throws(ConvError) {
        for (field, value) in [
            ("batch", batch), ("inputChannels", inputChannels), ("inputLength", inputLength),
            ("outputChannels", outputChannels), ("kernelLength", kernelLength), ("stride", stride),
            ("dilation", dilation), ("groups", groups),
        ] where value < 1 {
            throw .nonPositive(field: field, value: value)
        }
        for (field, value) in [("padding.left", padding.left), ("padding.right", padding.right)] where value < 0 {
            throw .negativePadding(field: field, value: value)
        }
        if inputChannels % groups != 0 {
            throw .notDivisibleByGroups(field: "inputChannels", value: inputChannels, groups: groups)
        }
        if outputChannels % groups != 0 {
            throw .notDivisibleByGroups(field: "outputChannels", value: outputChannels, groups: groups)
        }
        let reach = try checkedSum(checkedProduct(dilation, kernelLength - 1, quantity: "dilated kernel length"), 1,
                                   quantity: "dilated kernel length")
        let padded = try checkedSum(inputLength, padding.left, padding.right, quantity: "padded input length")
        // Checked before dividing: `/` truncates toward zero, which is not floor for a negative numerator.
        if padded < reach {
            throw .kernelLargerThanPaddedInput(axis: "length", paddedInput: padded, dilatedKernel: reach)
        }
        let q = (padded - reach) / stride + 1
        self.batch = batch
        self.inputChannels = inputChannels
        self.inputLength = inputLength
        self.outputChannels = outputChannels
        self.kernelLength = kernelLength
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        self.layout = layout
        self.outputLength = q
        self.inputCount = try checkedProduct(batch, inputChannels, inputLength, quantity: "input element count")
        self.filterCount = try checkedProduct(outputChannels, inputChannels / groups, kernelLength,
                                              quantity: "filter element count")
        self.outputCount = try checkedProduct(batch, outputChannels, q, quantity: "output element count")
        self.biasCount = outputChannels
        // The remaining checks (GEMM dimensions of the lowerings, buffer bytes) are the 2-D geometry's.
        self.planar = try ConvGeometry(
            batch: batch, inputChannels: inputChannels, inputHeight: 1, inputWidth: inputLength,
            outputChannels: outputChannels, kernelHeight: 1, kernelWidth: kernelLength,
            strideHeight: 1, strideWidth: stride,
            padding: .explicit(Padding(top: 0, bottom: 0, left: padding.left, right: padding.right)),
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

    /// Input channels per group (`C/G`).
    public var inputChannelsPerGroup: Int { inputChannels / groups }
    /// Output channels per group (`K/G`).
    public var outputChannelsPerGroup: Int { outputChannels / groups }

    /// A one-line summary (with the layout at the end unless it is ``ConvLayout/nchw``), for example `1-D N8 C1→K512 16000 k10 s5 p(0,0) d1 g1 → 3199`.
    public var description: String {
        "1-D N\(batch) C\(inputChannels)→K\(outputChannels) \(inputLength) k\(kernelLength) s\(stride)"
            + " p(\(padding.left),\(padding.right)) d\(dilation) g\(groups) → \(outputLength)"
            + layout.descriptionSuffix(rank: 1)
    }
}
