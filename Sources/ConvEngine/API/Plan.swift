/// How the forward pass and the filter gradient (and, with ``InputGradientAlgorithm/col2im``, the input
/// gradient) are computed.
public enum ConvAlgorithm: String, Sendable, CaseIterable, CustomStringConvertible {
    /// MATH.md's canonical lowering: im2col of one whole image and group, then one GEMM each. Runs every geometry.
    case im2col
    /// For 1×1 kernels at stride 1 without padding: the image is its own column matrix, so no im2col;
    /// one GEMM per image and group.
    case pointwise
    /// im2col over tiles of output rows sized to stay in cache: bands of rows of one image for large images,
    /// several whole images side by side (one wider GEMM) for small ones. Runs every geometry, and is what a
    /// workspace cap shrinks.
    case tiledIm2col
    /// At stride 1: the forward pass as one GEMM per kernel tap reading the zero-padded image at shifted
    /// offsets, with no im2col (see MATH.md's lowering; the sum per output is the same, in tap order); the
    /// gradients as ``tiledIm2col``.
    case shiftedGEMM
    /// The forward pass lowered along the kernel's width only (one lowered copy per kernel column, about
    /// `1/R` of an im2col) and one GEMM per kernel row reading it at a shifted offset; tiled like
    /// ``tiledIm2col``. The gradients as ``tiledIm2col``. Runs every geometry.
    case kernelRowGEMM
    /// A direct kernel for depthwise convolution (`groups == inputChannels`, any channel multiplier, stride,
    /// padding and dilation): no lowering and no GEMM.
    case depthwiseDirect

    /// Whether this algorithm can run `geometry`.
    public func supports(_ geometry: ConvGeometry) -> Bool {
        switch self {
        case .im2col, .tiledIm2col, .kernelRowGEMM: return true
        case .pointwise: return geometry.isPointwise
        case .shiftedGEMM: return geometry.strideHeight == 1 && geometry.strideWidth == 1
        case .depthwiseDirect: return geometry.isDepthwise
        }
    }

    /// The algorithm's name, its raw value (for example `im2col`).
    public var description: String { rawValue }
}

/// How the input gradient is computed.
public enum InputGradientAlgorithm: String, Sendable, CaseIterable, CustomStringConvertible {
    /// `dcol = Fᵀ·dO` by GEMM, then col2im scatters (and adds) it back into the input's shape
    /// (with ``ConvAlgorithm/depthwiseDirect``, that kernel's own direct scatter instead).
    case col2im
    /// MATH.md's full-convolution route: the stride-upsampled output gradient placed in a zero array,
    /// cross-correlated at stride 1 with the 180°-rotated filters (K and C/G swapped per group), one image
    /// and group at a time. Meant for finite data: the zeros it inserts can turn an infinite value into NaN
    /// where the definition does not. Not tiled: its workspace is not reduced by a workspace cap.
    case fullConvolution

    /// The route's name, its raw value (for example `col2im`).
    public var description: String { rawValue }
}

/// The way one call is carried out: chosen by ``ConvolutionEngine/plan(for:scalar:)`` in one place, or forced
/// through the engine's configuration (tests force every plan and compare it with the reference).
public struct ConvPlan: Hashable, Sendable, CustomStringConvertible {
    /// The forward / filter-gradient algorithm.
    public var algorithm: ConvAlgorithm
    /// The input-gradient route.
    public var inputGradientAlgorithm: InputGradientAlgorithm
    /// Worker threads the work is split over (each calls single-threaded BLAS when more than one).
    public var workers: Int
    /// Output rows per GEMM tile, counted over the whole batch (`n·P + p`): below `P` a band of one image,
    /// a multiple of `P` that many whole images. Always `P` for ``ConvAlgorithm/im2col`` and
    /// ``ConvAlgorithm/pointwise``; unused by ``ConvAlgorithm/depthwiseDirect``.
    public var tileRows: Int

    /// The plan in one line, for example `im2col(tile 28 rows)+col2im×2`: algorithm, tile rows, input-gradient
    /// route and worker count.
    public var description: String {
        "\(algorithm)(tile \(tileRows) rows)+\(inputGradientAlgorithm)×\(workers)"
    }
}
