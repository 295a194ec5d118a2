/// How the forward pass and the filter gradient (and, with ``InputGradientAlgorithm/col2im``, the input
/// gradient) are computed. <doc:TheMathAndTheLowering> describes each one and the rule that picks it.
///
/// The cases are listed in the order the automatic plan tries them: it takes the first whose rule accepts
/// the geometry and that the engine's ``ConvNumerics`` allows (``im2col`` and ``shiftedGEMM`` run only when
/// forced; the Winograd cases only in ``ConvNumerics/default`` or ``ConvNumerics/fast`` mode, or forced).
public enum ConvAlgorithm: String, Sendable, CaseIterable, CustomStringConvertible {
    /// A direct kernel for depthwise convolution (`groups == inputChannels`, any channel multiplier, stride,
    /// padding and dilation): no lowering and no GEMM. Automatic for depthwise geometries with more than one
    /// group whose padded planes are not far larger than the image.
    case depthwiseDirect
    /// For 1×1 kernels at stride 1 without padding: the image is its own column matrix, so no im2col;
    /// one GEMM per image and group. Automatic for such geometries.
    case pointwise
    /// Winograd's minimal filtering F(4×4, 3×3) (<doc:TheAlgorithms>): 3×3 kernels at stride 1 and dilation 1,
    /// any padding, image size, groups and batch. The forward pass and the input gradient run as 36 GEMMs over
    /// blocks of transformed 6×6 input tiles (a quarter of the direct products); the filter gradient by the
    /// same transforms (``FilterGradientAlgorithm/winograd``, where the plan says so) or as ``tiledIm2col``. Not a sum of the exact products: its results are within the transform bound of
    /// ``ErrorBound/transformTermCount(channelsSummed:outputTileSize:)``, and a NaN or ±∞ spreads within a
    /// tile. Automatic only in ``ConvNumerics/fast`` mode.
    case winograd4x4
    /// Winograd's minimal filtering F(2×2, 3×3): as ``winograd4x4`` with 4×4 input tiles and 16 GEMMs
    /// (4/9 of the direct products), rounding closer to the exact result. Automatic in
    /// ``ConvNumerics/default`` and ``ConvNumerics/fast`` mode.
    case winograd2x2
    /// The forward pass lowered along the kernel's width only (one lowered copy per kernel column, about
    /// `1/R` of an im2col) and one GEMM per kernel row reading it at a shifted offset; tiled like
    /// ``tiledIm2col``. Runs every geometry; automatic for kernels of several rows with `C/G·S ≥ 64` whose
    /// lowering is smaller than im2col's (kernel rows that share input rows: any 3×3 at stride 1 or 2).
    case kernelRowGEMM
    /// im2col over tiles of output rows sized to stay in cache: bands of rows of one image for large images,
    /// several whole images side by side (one wider GEMM) for small ones. Runs every geometry, is the
    /// automatic choice when no rule above applies, and is what a workspace limit shrinks.
    case tiledIm2col
    /// The canonical lowering: im2col of one whole image and group, then one GEMM each. Runs every geometry.
    case im2col
    /// At stride 1: the forward pass as one GEMM per kernel tap reading the zero-padded image at shifted
    /// offsets, with no im2col (the sum per output is the same, in tap order); the gradients as
    /// ``tiledIm2col``. Needs stride 1 and a padded image not far larger than the output (it computes every
    /// padded column).
    case shiftedGEMM

    /// Whether this algorithm can run `geometry`.
    public func supports(_ geometry: ConvGeometry) -> Bool {
        AlgorithmRegistry.inapplicability(of: self, to: geometry) == nil
    }

    /// The output tile size m of a Winograd algorithm (2 or 4), `nil` for the algorithms that sum the exact
    /// products (their results are within the `Σ|terms|` bound of ``ErrorBound``).
    public var winogradTileSize: Int? {
        switch self {
        case .winograd2x2: return 2
        case .winograd4x4: return 4
        default: return nil
        }
    }

    /// The least ``ConvNumerics`` mode in which the automatic plan may choose this algorithm.
    public var numerics: ConvNumerics {
        switch self {
        case .winograd2x2: return .default
        case .winograd4x4: return .fast
        default: return .strict
        }
    }

    /// The algorithm's name, its raw value (for example `im2col`).
    public var description: String { rawValue }
}

/// How the input gradient is computed.
public enum InputGradientAlgorithm: String, Sendable, CaseIterable, CustomStringConvertible {
    /// `dcol = Fᵀ·dO` by GEMM, then col2im scatters (and adds) it back into the input's shape, inside the
    /// plan's ``ConvAlgorithm`` (with ``ConvAlgorithm/depthwiseDirect``, that kernel's own direct scatter).
    case col2im
    /// The full-convolution route of <doc:TheMathAndTheLowering>: the stride-upsampled output gradient placed
    /// in a zero array, cross-correlated at stride 1 with the 180°-rotated filters (K and C/G swapped per
    /// group), one image and group at a time. Meant for finite data: the zeros it inserts can turn an
    /// infinite value into NaN where the definition does not. Not tiled: a workspace limit does not shrink it.
    case fullConvolution

    /// The route's name, its raw value (for example `col2im`).
    public var description: String { rawValue }
}

/// How the filter gradient is computed.
public enum FilterGradientAlgorithm: String, Sendable, CaseIterable, CustomStringConvertible {
    /// The sum of the exact products `dF += dO·colᵀ`, by the plan's ``ConvAlgorithm`` (for the Winograd
    /// algorithms, by ``ConvAlgorithm/tiledIm2col``). Within the `Σ|terms|` bound of ``ErrorBound``.
    case sumOfProducts
    /// Winograd's transform, for ``ConvAlgorithm/winograd2x2`` and ``ConvAlgorithm/winograd4x4`` on a
    /// channels-first geometry: the adjoint of their forward pass, `dF = Gᵀ·(Σ_tiles (A·dY·Aᵀ) ⊙ (Bᵀ·d·B))·G`,
    /// as α² GEMMs over the same blocks of tiles (4/9 or 1/4 of the products). Within the transform bound
    /// (``ErrorBound/transformTermCount(channelsSummed:outputTileSize:)`` with the tiles of the batch as
    /// `Cs`), and a NaN or ±∞ in X or dO spreads to the whole filter gradient of its channel pair.
    case winograd

    /// The way's name, its raw value (for example `sumOfProducts`).
    public var description: String { rawValue }
}
