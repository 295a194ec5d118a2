import Foundation

/// The fast convolution engine: forward pass and gradients lowered to OpenBLAS GEMMs
/// (<doc:TheMathAndTheLowering>).
///
/// An engine is a small immutable configuration value (`Sendable`): how many worker threads to use and,
/// optionally, which algorithm to force. Any number of threads may use one engine at the same time, as
/// long as each call has its own ``ConvWorkspace`` and output buffers; inputs (filters, for example) may be
/// shared read-only between concurrent calls.
///
/// **Threads.** All parallelism is the engine's own: it splits images (and groups) over `workers` threads,
/// each calling single-threaded BLAS. Because OpenBLAS's thread count is process-wide, the first engine made
/// with `workers > 1` sets it to 1, once, for the whole process (``BLAS/setThreadCount(_:)``); it is never
/// changed per call, so concurrent calls never see it flip. Pass `managesBLASThreads: false` if you manage
/// BLAS threads yourself. An engine with one worker leaves BLAS's setting alone, so its GEMMs use however
/// many threads BLAS is set to.
///
/// **Determinism.** For a fixed worker count, results are bit-identical from call to call: every reduction
/// (the filter gradient's sum over the batch, the bias gradient) runs in a fixed order. The filter gradient
/// is summed per worker over a contiguous share of the batch and the shares are added in worker order, so a
/// different worker count may change its last bits (within the error bound of <doc:TheMathAndTheLowering>). The tiled algorithms
/// (``ConvAlgorithm/tiledIm2col``, ``ConvAlgorithm/shiftedGEMM``, ``ConvAlgorithm/kernelRowGEMM``) size their
/// multi-image tiles by the worker count (and, backward, even their tiles out over each worker's share of the
/// images), and OpenBLAS may round a GEMM of another shape differently, so with them the forward pass and the
/// input gradient may also change in their last bits (within the bound); with the per-image algorithms
/// (``ConvAlgorithm/im2col``, ``ConvAlgorithm/pointwise``, ``ConvAlgorithm/depthwiseDirect``) they do not
/// depend on the worker count, and the bias gradient never does. Any result can differ in the last bits when
/// the BLAS thread count changes.
///
/// **Non-finite values.** Every plan follows the definition literally: padding positions read as zero and
/// are multiplied like any other tap, so an infinite filter value gives NaN (0·∞) in outputs whose window
/// covers padding, and NaN or ∞ anywhere in X, F, B or dO propagates to every result that sums it.
/// ``ReferenceConvolution`` follows the same rule. The ``InputGradientAlgorithm/fullConvolution`` route is
/// an exception (it multiplies further inserted zeros) and is meant for finite data. The Winograd algorithms
/// (allowed automatically in the ``ConvNumerics/default`` and ``ConvNumerics/fast`` modes) are the other: their
/// transforms mix the inputs of a tile, so a NaN or ±∞ in X or dO reaches every output of the tiles that read
/// it, and ∞ − ∞ inside a transform gives NaN. Use ``ConvNumerics/strict`` for the literal rule.
public struct ConvolutionEngine: ConvolutionBackend, Sendable {
    /// Worker threads per call.
    public let workers: Int
    /// The forced forward/filter-gradient algorithm, or `nil` to let ``plan(for:scalar:)-(ConvGeometry,_)`` choose.
    public let algorithm: ConvAlgorithm?
    /// Which algorithms the automatic plan may choose (``ConvNumerics``): ``ConvNumerics/strict`` keeps to the
    /// algorithms that sum the exact products; the default also allows ``ConvAlgorithm/winograd2x2``, ``ConvNumerics/fast``
    /// also ``ConvAlgorithm/winograd4x4``. A forced ``algorithm`` runs whatever this says.
    public let numerics: ConvNumerics
    /// How the algorithm is chosen when none is forced: by the rule of ``plan(for:scalar:)-(ConvGeometry,_)`` or by measuring
    /// (``ConvPlanning``).
    public let planning: ConvPlanning
    /// Measured planning's winners, shared by the engine's copies.
    let planCache = PlanCache()
    /// The forced input-gradient route, or `nil` to let ``plan(for:scalar:)-(ConvGeometry,_)`` choose (``InputGradientAlgorithm/col2im``).
    public let inputGradientAlgorithm: InputGradientAlgorithm?
    /// The forced way of computing the filter gradient, or `nil` to let ``plan(for:scalar:)-(ConvGeometry,_)``
    /// choose (``FilterGradientAlgorithm/winograd`` for a Winograd plan where it measured faster, else
    /// ``FilterGradientAlgorithm/sumOfProducts``).
    public let filterGradientAlgorithm: FilterGradientAlgorithm?
    /// Whether this engine pins OpenBLAS to one thread when `workers > 1` (see the type's documentation).
    public let managesBLASThreads: Bool
    /// The forced algorithm of 3-D convolutions (``ConvGeometry3D``), or `nil` to let
    /// `plan(for:scalar:)` choose.
    public let volumeAlgorithm: ConvAlgorithm3D?
    /// The most workspace, in bytes, a call may use, or `nil` for no limit. The engine shrinks its tiles
    /// (``ConvAlgorithm/tiledIm2col``) to stay under it, and throws ``ConvError/workspaceCapTooSmall(required:cap:)``
    /// when even the smallest plan needs more.
    public let workspaceLimit: Int?
    /// Bytes of column matrix a tile aims for (the tiled algorithm's cache budget).
    public let tileBudgetBytes: Int
    /// A forced tile height for ``ConvAlgorithm/tiledIm2col`` in output rows (`nil`: from ``tileBudgetBytes``).
    /// Below P it is a band of one image; at or above P it is rounded down to whole images. For tests and tuning.
    public let tileRows: Int?

    /// The largest worker count accepted.
    public static let maximumWorkers = 256
    /// The default of ``tileBudgetBytes``: about the L2 cache of one core of current x86 server parts.
    public static let defaultTileBudgetBytes = 1 << 20

    /// Makes an engine.
    ///
    /// - Parameters:
    ///   - workers: threads per call, 1…``maximumWorkers``; by default the number of active processors.
    ///   - algorithm: force a forward/filter-gradient algorithm (`nil`: automatic).
    ///   - numerics: the algorithms the automatic plan may choose (``ConvNumerics``; a forced `algorithm` runs in any mode).
    ///   - planning: how the automatic plan chooses among them (``ConvPlanning``; the rule by default).
    ///   - inputGradientAlgorithm: force an input-gradient route (`nil`: automatic).
    ///   - workspaceLimit: the most workspace bytes a call may use (`nil`: no limit).
    ///   - tileBudgetBytes: column-matrix bytes per tile for the tiled algorithm.
    ///   - tileRows: force the tiled algorithm's tile height in output rows (`nil`: automatic).
    ///   - managesBLASThreads: when `true` (default) and `workers > 1`, sets OpenBLAS to one thread once per process.
    ///   - volumeAlgorithm: force the algorithm of 3-D convolutions (`nil`: automatic).
    ///   - filterGradientAlgorithm: force the way the filter gradient is computed (`nil`: automatic); a plan
    ///     whose algorithm does not offer it fails with ``ConvError/algorithmNotApplicable(algorithm:reason:)``.
    /// - Throws: ``ConvError/invalidArgument(name:reason:)`` for a worker count, limit or budget out of range.
    public init(
        workers: Int = ProcessInfo.processInfo.activeProcessorCount,
        algorithm: ConvAlgorithm? = nil,
        numerics: ConvNumerics = .default,
        planning: ConvPlanning = .rule,
        inputGradientAlgorithm: InputGradientAlgorithm? = nil,
        workspaceLimit: Int? = nil,
        tileBudgetBytes: Int = ConvolutionEngine.defaultTileBudgetBytes,
        tileRows: Int? = nil,
        managesBLASThreads: Bool = true,
        volumeAlgorithm: ConvAlgorithm3D? = nil,
        filterGradientAlgorithm: FilterGradientAlgorithm? = nil
    ) throws(ConvError) {
        guard (1...Self.maximumWorkers).contains(workers) else {
            throw .invalidArgument(name: "workers", reason: "\(workers) is outside 1...\(Self.maximumWorkers)")
        }
        if let workspaceLimit, workspaceLimit < 0 {
            throw .invalidArgument(name: "workspaceLimit", reason: "\(workspaceLimit) is negative")
        }
        guard tileBudgetBytes > 0 else {
            throw .invalidArgument(name: "tileBudgetBytes", reason: "\(tileBudgetBytes) is not positive")
        }
        self.workers = workers
        self.algorithm = algorithm
        self.numerics = numerics
        self.planning = planning
        self.inputGradientAlgorithm = inputGradientAlgorithm
        self.workspaceLimit = workspaceLimit
        self.tileBudgetBytes = tileBudgetBytes
        if let tileRows, tileRows < 1 {
            throw .invalidArgument(name: "tileRows", reason: "\(tileRows) is not positive")
        }
        self.tileRows = tileRows
        self.managesBLASThreads = managesBLASThreads
        self.volumeAlgorithm = volumeAlgorithm
        self.filterGradientAlgorithm = filterGradientAlgorithm
        if workers > 1 && managesBLASThreads { BLAS.pinToOneThreadOnce() }
    }
}
