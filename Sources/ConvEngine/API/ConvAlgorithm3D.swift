/// How a 3-D convolution (``ConvGeometry3D``) is lowered to GEMMs: the forward pass and all three gradients
/// (<doc:ThreeDimensionalConvolution> describes both and the rule that picks one).
///
/// Force one with ``ConvolutionEngine/init(workers:algorithm:numerics:planning:inputGradientAlgorithm:workspaceLimit:tileBudgetBytes:tileRows:managesBLASThreads:volumeAlgorithm:filterGradientAlgorithm:)``'s
/// `volumeAlgorithm`; `nil` lets `plan(for:scalar:)` choose. Both sum
/// the exact products (their results are within the `Σ|terms|` bound of ``ErrorBound``) and both run every
/// geometry.
public enum ConvAlgorithm3D: String, Sendable, CaseIterable, CustomStringConvertible {
    /// vol2col: the whole lowering (rows `(c, t, r, s)`, columns `(e, p, q)`) of a tile of output planes, then
    /// one GEMM per group: `O = F·col + B`, `dF += dO·colᵀ`, `dcol = Fᵀ·dO` added back by col2vol. The
    /// canonical lowering (one tile of every output plane) is what the benchmark's GEMM ceiling measures.
    case vol2col
    /// The kernel-depth GEMMs: each input plane a tile needs is lowered once in 2-D (rows `(c, r, s)`), and
    /// every kernel-depth tap `t` is one GEMM reading those columns at its own plane offset, accumulating with
    /// `beta = 1` (the kernel-row idea of ``ConvAlgorithm/kernelRowGEMM`` along depth): about `1/T` of vol2col's
    /// lowering, for `T` thinner GEMMs.
    case kernelDepthGEMM

    /// The algorithm's name, its raw value (for example `vol2col`).
    public var description: String { rawValue }
}

/// The way one 3-D call is carried out, chosen by `plan(for:scalar:)`
/// or forced through the engine's `volumeAlgorithm`.
public struct ConvPlan3D: Hashable, Sendable, CustomStringConvertible {
    /// The algorithm of every pass.
    public var algorithm: ConvAlgorithm3D
    /// Worker threads (each calls single-threaded BLAS when more than one). Work items are (volume, tile) pairs
    /// in the forward pass and the filter gradient, and (volume, group, share of its channels) in the input
    /// gradient (<doc:ThreeDimensionalConvolution>).
    public var workers: Int
    /// Output planes (of depth E) per tile: each work item lowers and multiplies this many planes of one volume.
    public var planesPerTile: Int
    /// How the operands are converted when the geometry is not NCDHW with a `K×C/G×T×R×S` filter (the 3-D
    /// algorithms' layout; <doc:Layouts>), or `nil` when it is.
    public var layoutConversion: LayoutConversion?

    /// A plan with these parts.
    public init(algorithm: ConvAlgorithm3D, workers: Int, planesPerTile: Int) {
        self.algorithm = algorithm
        self.workers = workers
        self.planesPerTile = planesPerTile
        layoutConversion = nil
    }

    /// The plan in one line, for example `kernelDepthGEMM(tile 8 planes)×2`, followed by the layout conversion
    /// when there is one (`vol2col(tile 4 planes)×2 via NCDHW copies (2 images at a time)`).
    public var description: String {
        "\(algorithm)(tile \(planesPerTile) plane\(planesPerTile == 1 ? "" : "s"))×\(workers)"
            + (layoutConversion.map { " \($0)" } ?? "")
    }
}
