/// The shape of one 2-D convolution: batch, channels, image and kernel sizes, stride, padding,
/// dilation and groups, and the memory layout of its tensors (``layout``). All tensors are row-major, in
/// the geometry's ``layout`` (NCHW with a `K×C/G×R×S` filter by default):
///
/// | tensor | ``ConvLayout/nchw`` (default) | ``ConvLayout/nhwc`` |
/// | --- | --- | --- |
/// | input X, dX | `batch × inputChannels × inputHeight × inputWidth` | `batch × inputHeight × inputWidth × inputChannels` |
/// | filter F, dF | `outputChannels × (inputChannels/groups) × kernelHeight × kernelWidth` | `outputChannels × kernelHeight × kernelWidth × (inputChannels/groups)` |
/// | bias B, dB | `outputChannels` | `outputChannels` |
/// | output O, dO | `batch × outputChannels × outputHeight × outputWidth` | `batch × outputHeight × outputWidth × outputChannels` |
///
/// The activations' and the filter's layouts are chosen separately (``ConvLayout/activations``,
/// ``ConvLayout/filter``); <doc:Layouts> shows every operation's shapes and which plans run natively in which
/// layout.
///
/// A `ConvGeometry` is valid by construction: its initializer throws ``ConvError`` for every impossible
/// combination (non-positive sizes, negative padding, channels not divisible by groups, a dilated kernel
/// larger than the padded input, element counts that overflow `Int`, and GEMM dimensions of the lowering
/// that overflow OpenBLAS's 32-bit integers), before any buffer exists. Every derived size below is
/// therefore safe to use without further checks.
///
/// Values that cannot change the result are normalised when the geometry is made: the dilation of an axis
/// whose kernel extent is 1, and the stride of an axis whose output extent is 1, are stored as 1 (the output
/// size is computed from the values given first). So every algorithm sees only values that matter, and a
/// valid but huge ineffective stride or dilation can never reach an index computation. The strides given stay
/// available as ``requestedStrideHeight`` and ``requestedStrideWidth`` (a normalised dilation needs no such
/// record: any dilation of a one-tap axis gives the same geometry).
public struct ConvGeometry: Hashable, Sendable, CustomStringConvertible {
    /// Images in the batch (N).
    public let batch: Int
    /// Input channels (C).
    public let inputChannels: Int
    /// Input image height (H).
    public let inputHeight: Int
    /// Input image width (W).
    public let inputWidth: Int
    /// Output channels, the number of filters (K).
    public let outputChannels: Int
    /// Kernel height (R).
    public let kernelHeight: Int
    /// Kernel width (S).
    public let kernelWidth: Int
    /// Vertical stride (sh) as the computation uses it: 1 when the output has one row (see the type's
    /// normalisation rule), else the stride given. To rebuild this geometry from its fields, pass
    /// ``requestedStrideHeight``: a stride of 1 would give more output rows.
    public let strideHeight: Int
    /// Horizontal stride (sw) as the computation uses it: 1 when the output has one column.
    public let strideWidth: Int
    /// The vertical stride given to the initializer, before normalisation. Geometries made with different
    /// requested strides that give the same output compute the same results, but do not compare equal.
    public let requestedStrideHeight: Int
    /// The horizontal stride given to the initializer, before normalisation.
    public let requestedStrideWidth: Int
    /// The resolved zero padding (explicit amounts even when made with `.same` or `.valid`).
    public let padding: Padding
    /// Vertical dilation (dh): kernel taps are `dilationHeight` rows apart; 1 for a kernel of one row.
    public let dilationHeight: Int
    /// Horizontal dilation (dw); 1 for a kernel of one column.
    public let dilationWidth: Int
    /// Groups (G). Input and output channels are both divisible by it; `groups == inputChannels` is depthwise.
    public let groups: Int
    /// Output height, `floor((H + top + bottom - dh*(R-1) - 1) / sh) + 1`.
    public let outputHeight: Int
    /// Output width, `floor((W + left + right - dw*(S-1) - 1) / sw) + 1`.
    public let outputWidth: Int

    /// Elements of the input X (`N·C·H·W`).
    public let inputCount: Int
    /// Elements of the filter F (`K·(C/G)·R·S`).
    public let filterCount: Int
    /// Elements of the output O (`N·K·P·Q`).
    public let outputCount: Int
    /// Nominal floating-point operations of one forward pass, `2·N·K·P·Q·(C/G)·R·S` (padding taps count).
    public let forwardFLOPs: Int
    /// Nominal floating-point operations of the input and filter gradients together (twice the forward).
    public let backwardFLOPs: Int
    /// The memory layout of X, O, dX, dO (``ConvLayout/activations``) and of F, dF (``ConvLayout/filter``).
    /// Element counts do not depend on it; equality and hashing do, so plans and caches are per layout.
    public private(set) var layout: ConvLayout

    /// Makes and validates a geometry.
    ///
    /// - Parameters:
    ///   - batch: images in the batch (N), at least 1.
    ///   - inputChannels: input channels (C), at least 1 and divisible by `groups`.
    ///   - inputHeight: input image height (H), at least 1.
    ///   - inputWidth: input image width (W), at least 1.
    ///   - outputChannels: output channels, the number of filters (K), at least 1 and divisible by `groups`.
    ///   - kernelHeight: kernel height (R), at least 1.
    ///   - kernelWidth: kernel width (S), at least 1.
    ///   - strideHeight: vertical stride (sh), at least 1.
    ///   - strideWidth: horizontal stride (sw), at least 1.
    ///   - padding: explicit amounts (an integer literal pads every side), `.valid` or `.same`.
    ///   - dilationHeight: vertical dilation (dh), at least 1: kernel taps are this many rows apart.
    ///   - dilationWidth: horizontal dilation (dw), at least 1.
    ///   - groups: groups (G), at least 1; `groups == inputChannels` is a depthwise convolution.
    ///   - layout: the memory layout of the tensors (``ConvLayout``): NCHW activations and a `K×C/G×R×S`
    ///     filter by default.
    /// - Throws: ``ConvError`` naming the offending field and its value.
    public init(
        batch: Int, inputChannels: Int, inputHeight: Int, inputWidth: Int,
        outputChannels: Int, kernelHeight: Int, kernelWidth: Int,
        strideHeight: Int = 1, strideWidth: Int = 1,
        padding: PaddingSpec = .valid,
        dilationHeight: Int = 1, dilationWidth: Int = 1,
        groups: Int = 1,
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
        if inputChannels % groups != 0 {
            throw .notDivisibleByGroups(field: "inputChannels", value: inputChannels, groups: groups)
        }
        if outputChannels % groups != 0 {
            throw .notDivisibleByGroups(field: "outputChannels", value: outputChannels, groups: groups)
        }
        // dilation*(kernel-1)+1, the extent the kernel covers in the padded input.
        let reachH = try checkedSum(checkedProduct(dilationHeight, kernelHeight - 1, quantity: "dilated kernel height"), 1,
                                    quantity: "dilated kernel height")
        let reachW = try checkedSum(checkedProduct(dilationWidth, kernelWidth - 1, quantity: "dilated kernel width"), 1,
                                    quantity: "dilated kernel width")
        let pad: Padding
        switch padding {
        case .explicit(let p):
            pad = p
        case .valid:
            pad = .zero
        case .same:
            guard strideHeight == 1, strideWidth == 1 else {
                throw .samePaddingRequiresUnitStride(strideHeight: strideHeight, strideWidth: strideWidth)
            }
            let totalH = reachH - 1, totalW = reachW - 1
            pad = Padding(top: totalH / 2, bottom: totalH - totalH / 2, left: totalW / 2, right: totalW - totalW / 2)
        }
        for (field, value) in [("padding.top", pad.top), ("padding.bottom", pad.bottom),
                               ("padding.left", pad.left), ("padding.right", pad.right)] where value < 0 {
            throw .negativePadding(field: field, value: value)
        }
        let paddedH = try checkedSum(inputHeight, pad.top, pad.bottom, quantity: "padded input height")
        let paddedW = try checkedSum(inputWidth, pad.left, pad.right, quantity: "padded input width")
        // Checked before dividing: Swift's `/` truncates toward zero, which is not floor for a negative numerator.
        if paddedH < reachH {
            throw .kernelLargerThanPaddedInput(axis: "height", paddedInput: paddedH, dilatedKernel: reachH)
        }
        if paddedW < reachW {
            throw .kernelLargerThanPaddedInput(axis: "width", paddedInput: paddedW, dilatedKernel: reachW)
        }
        let p = (paddedH - reachH) / strideHeight + 1
        let q = (paddedW - reachW) / strideWidth + 1

        let cg = inputChannels / groups, kg = outputChannels / groups
        self.batch = batch
        self.inputChannels = inputChannels
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.outputChannels = outputChannels
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        // Normalised: a dilation on an axis with one kernel tap, or a stride on an axis with one output position,
        // changes nothing, so it is stored as 1 and no kernel ever multiplies a huge ineffective value.
        self.strideHeight = p == 1 ? 1 : strideHeight
        self.strideWidth = q == 1 ? 1 : strideWidth
        self.requestedStrideHeight = strideHeight
        self.requestedStrideWidth = strideWidth
        self.padding = pad
        self.dilationHeight = kernelHeight == 1 ? 1 : dilationHeight
        self.dilationWidth = kernelWidth == 1 ? 1 : dilationWidth
        self.groups = groups
        self.layout = layout
        self.outputHeight = p
        self.outputWidth = q
        self.inputCount = try checkedProduct(batch, inputChannels, inputHeight, inputWidth, quantity: "input element count")
        self.filterCount = try checkedProduct(outputChannels, cg, kernelHeight, kernelWidth, quantity: "filter element count")
        self.outputCount = try checkedProduct(batch, outputChannels, p, q, quantity: "output element count")
        self.forwardFLOPs = try checkedProduct(2, outputCount, cg, kernelHeight, kernelWidth, quantity: "forward FLOPs")
        self.backwardFLOPs = try checkedProduct(2, forwardFLOPs, quantity: "backward FLOPs")

        // Every GEMM dimension and leading dimension of both lowerings (im2col and the full-convolution
        // route), and every buffer those lowerings allocate, checked now so no later conversion can trap.
        let columnRows = try checkedProduct(cg, kernelHeight, kernelWidth, quantity: "column rows (C/G·R·S)")
        let columnCols = try checkedProduct(p, q, quantity: "column columns (P·Q)")
        let imagePixels = try checkedProduct(inputHeight, inputWidth, quantity: "input pixels (H·W)")
        let fullRows = try checkedProduct(kg, kernelHeight, kernelWidth, quantity: "full-convolution column rows (K/G·R·S)")
        let zH = try checkedSum(inputHeight, reachH - 1, quantity: "full-convolution array height")
        let zW = try checkedSum(inputWidth, reachW - 1, quantity: "full-convolution array width")
        for (quantity, value) in [
            ("input channels per group (C/G)", cg), ("output channels per group (K/G)", kg),
            ("column rows (C/G·R·S)", columnRows), ("column columns (P·Q)", columnCols),
            ("input pixels (H·W)", imagePixels), ("full-convolution column rows (K/G·R·S)", fullRows),
        ] where value > Int(Int32.max) {
            throw .blasDimensionTooLarge(quantity: quantity, value: value)
        }
        _ = try checkedProduct(columnRows, columnCols, 8, quantity: "column buffer bytes")
        _ = try checkedProduct(fullRows, imagePixels, 8, quantity: "full-convolution column buffer bytes")
        _ = try checkedProduct(kg, zH, zW, 8, quantity: "full-convolution array bytes")
        _ = try checkedProduct(inputCount, 8, quantity: "input bytes")
        _ = try checkedProduct(outputCount, 8, quantity: "output bytes")
        _ = try checkedProduct(filterCount, 8, 4, quantity: "filter bytes")
    }

    /// The same geometry with another batch size (for example to size a workspace for a larger batch), in the
    /// same layout.
    public func withBatch(_ newBatch: Int) throws(ConvError) -> ConvGeometry {
        try ConvGeometry(
            batch: newBatch, inputChannels: inputChannels, inputHeight: inputHeight, inputWidth: inputWidth,
            outputChannels: outputChannels, kernelHeight: kernelHeight, kernelWidth: kernelWidth,
            strideHeight: requestedStrideHeight, strideWidth: requestedStrideWidth, padding: .explicit(padding),
            dilationHeight: dilationHeight, dilationWidth: dilationWidth, groups: groups, layout: layout)
    }

    /// The same convolution with its tensors in another memory layout. Nothing but the layout changes (the
    /// element counts and every size stay), so this cannot fail.
    public func withLayout(_ layout: ConvLayout) -> ConvGeometry {
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
    /// Rows of the im2col column matrix of one image and group (`C/G·R·S`), the GEMM inner dimension of the forward pass.
    public var columnRows: Int { inputChannelsPerGroup * kernelHeight * kernelWidth }
    /// Columns of the im2col column matrix (`P·Q`).
    public var columnColumns: Int { outputHeight * outputWidth }
    /// True for a 1×1 kernel at stride 1 without padding: the input image already is its column matrix.
    /// (Tested as "the output has the input's size", not "stride 1": a stride normalised to 1 on an axis with
    /// one output position still skips the other input rows.)
    public var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && padding == .zero
            && outputHeight == inputHeight && outputWidth == inputWidth
    }
    /// True when every group has exactly one input channel (`groups == inputChannels`), any channel multiplier.
    public var isDepthwise: Bool { groups == inputChannels }

    /// A one-line summary, for example `N2 C3→K16 32×32 k3×3 s(1,1) p(1,1,1,1) d(1,1) g1 → 32×32`
    /// (batch, channels, image, kernel, stride, padding top/bottom/left/right, dilation, groups → output size),
    /// followed by the layout when it is not ``ConvLayout/nchw``, for example `… → 32×32 NHWC`.
    public var description: String {
        "N\(batch) C\(inputChannels)→K\(outputChannels) \(inputHeight)×\(inputWidth) k\(kernelHeight)×\(kernelWidth)"
            + " s(\(strideHeight),\(strideWidth)) p(\(padding.top),\(padding.bottom),\(padding.left),\(padding.right))"
            + " d(\(dilationHeight),\(dilationWidth)) g\(groups) → \(outputHeight)×\(outputWidth)"
            + layout.descriptionSuffix
    }
}
