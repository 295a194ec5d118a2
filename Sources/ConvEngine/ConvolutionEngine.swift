import Foundation

/// The fast convolution engine: forward pass and gradients lowered to OpenBLAS GEMMs (MATH.md).
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
/// different worker count may change its last bits (within MATH.md's bound); the other results do not
/// depend on the worker count, but can differ in the last bits when the BLAS thread count changes.
///
/// **Non-finite values.** Every plan follows the definition literally: padding positions read as zero and
/// are multiplied like any other tap, so an infinite filter value gives NaN (0·∞) in outputs whose window
/// covers padding, and NaN or ∞ anywhere in X, F, B or dO propagates to every result that sums it.
/// ``ReferenceConvolution`` follows the same rule. The ``InputGradientAlgorithm/fullConvolution`` route is
/// the exception (it multiplies further inserted zeros) and is meant for finite data.
public struct ConvolutionEngine: ConvolutionBackend, Sendable {
    /// Worker threads per call.
    public let workers: Int
    /// The forced forward/filter-gradient algorithm, or `nil` to let ``plan(for:)`` choose.
    public let algorithm: ConvAlgorithm?
    /// The forced input-gradient route, or `nil` to let ``plan(for:)`` choose (``InputGradientAlgorithm/col2im``).
    public let inputGradientAlgorithm: InputGradientAlgorithm?
    /// Whether this engine pins OpenBLAS to one thread when `workers > 1` (see the type's documentation).
    public let managesBLASThreads: Bool

    /// The largest worker count accepted.
    public static let maximumWorkers = 256

    /// Makes an engine.
    ///
    /// - Parameters:
    ///   - workers: threads per call, 1…``maximumWorkers``; by default the number of active processors.
    ///   - algorithm: force a forward/filter-gradient algorithm (`nil`: automatic).
    ///   - inputGradientAlgorithm: force an input-gradient route (`nil`: automatic).
    ///   - managesBLASThreads: when `true` (default) and `workers > 1`, sets OpenBLAS to one thread once per process.
    /// - Throws: ``ConvError/invalidArgument(name:reason:)`` for a worker count out of range.
    public init(
        workers: Int = ProcessInfo.processInfo.activeProcessorCount,
        algorithm: ConvAlgorithm? = nil,
        inputGradientAlgorithm: InputGradientAlgorithm? = nil,
        managesBLASThreads: Bool = true
    ) throws {
        guard (1...Self.maximumWorkers).contains(workers) else {
            throw ConvError.invalidArgument(name: "workers", reason: "\(workers) is outside 1...\(Self.maximumWorkers)")
        }
        self.workers = workers
        self.algorithm = algorithm
        self.inputGradientAlgorithm = inputGradientAlgorithm
        self.managesBLASThreads = managesBLASThreads
        if workers > 1 && managesBLASThreads { BLAS.pinToOneThreadOnce() }
    }

    /// The plan a call on `geometry` will use: the one place where the algorithm and the work split are chosen.
    ///
    /// - Throws: ``ConvError/algorithmNotApplicable(algorithm:reason:)`` if a forced algorithm cannot run `geometry`.
    public func plan(for geometry: ConvGeometry) throws -> ConvPlan {
        let chosen: ConvAlgorithm
        if let forced = algorithm {
            guard forced.supports(geometry) else {
                throw ConvError.algorithmNotApplicable(
                    algorithm: forced.rawValue, reason: "needs a 1×1 kernel, stride 1 and no padding; got \(geometry)")
            }
            chosen = forced
        } else {
            chosen = geometry.isPointwise ? .pointwise : .im2col
        }
        return ConvPlan(algorithm: chosen, inputGradientAlgorithm: inputGradientAlgorithm ?? .col2im, workers: workers)
    }

    /// Workspace elements a forward or backward call on `geometry` needs with this engine (the largest over
    /// the forward pass and a backward pass computing all three gradients).
    ///
    /// With W workers, `C/G·R·S·P·Q` the column matrix of one image and group and `|F|` the filter size, it is
    /// `W·C/G·R·S·P·Q` (none for the pointwise algorithm) plus `(W-1)·|F|` for the per-worker filter-gradient
    /// partial sums, plus, for the full-convolution route, `|F| + W·(K/G·(H+dh(R-1))·(W+dw(S-1)) + K/G·R·S·H·W)`.
    /// It does not depend on the batch size.
    public func workspaceElementCount<T: ConvScalar>(for geometry: ConvGeometry, scalar: T.Type = T.self) throws -> Int {
        try layout(for: geometry, plan: plan(for: geometry), gradients: .all).total
    }

    /// ``workspaceElementCount(for:scalar:)`` in bytes.
    public func workspaceBytes<T: ConvScalar>(for geometry: ConvGeometry, scalar: T.Type) throws -> Int {
        try checkedProduct(workspaceElementCount(for: geometry, scalar: scalar), MemoryLayout<T>.stride,
                           quantity: "workspace bytes")
    }

    /// Where each part of the workspace lives, in elements from its start.
    struct Layout {
        var columnsPerWorker = 0          // im2col buffer of each worker
        var filterPartials = 0            // (W-1) filter-gradient partial sums, at `filterPartialsOffset`
        var rotatedFilter = 0             // full-convolution route: the rotated filter
        var fullArrayPerWorker = 0        // full-convolution route: the zero array Z of each worker
        var fullColumnsPerWorker = 0      // full-convolution route: im2col of Z of each worker
        var workers = 1

        var filterPartialsOffset: Int { workers * columnsPerWorker }
        var rotatedFilterOffset: Int { filterPartialsOffset + filterPartials }
        var fullScratchOffset: Int { rotatedFilterOffset + rotatedFilter }
        var fullScratchPerWorker: Int { fullArrayPerWorker + fullColumnsPerWorker }
        var total: Int { fullScratchOffset + workers * fullScratchPerWorker }
    }

    /// `gradients == nil` means the forward pass.
    func layout(for g: ConvGeometry, plan: ConvPlan, gradients: GradientSet?) throws -> Layout {
        var l = Layout()
        l.workers = plan.workers
        let w = plan.workers
        let forward = gradients == nil
        let wantsDF = gradients?.contains(.filter) ?? false
        let wantsDX = gradients?.contains(.input) ?? false
        let needsColumns = forward || wantsDF || (wantsDX && plan.inputGradientAlgorithm == .col2im)
        if needsColumns && plan.algorithm != .pointwise {
            l.columnsPerWorker = try checkedProduct(g.columnRows, g.columnColumns, quantity: "column buffer")
        }
        if wantsDF {
            l.filterPartials = try checkedProduct(w - 1, g.filterCount, quantity: "filter-gradient partials")
        }
        if wantsDX && plan.inputGradientAlgorithm == .fullConvolution {
            let fc = FullConvolution(g)
            l.rotatedFilter = g.filterCount
            l.fullArrayPerWorker = try checkedProduct(fc.arrayCount, 1, quantity: "full-convolution array")
            l.fullColumnsPerWorker = try checkedProduct(fc.lowering.rows, fc.lowering.columns,
                                                        quantity: "full-convolution columns")
        }
        // Every offset below the total is then free of overflow as well.
        _ = try checkedSum(
            checkedProduct(w, l.columnsPerWorker, quantity: "workspace"), l.filterPartials, l.rotatedFilter,
            checkedProduct(w, checkedSum(l.fullArrayPerWorker, l.fullColumnsPerWorker, quantity: "workspace"),
                           quantity: "workspace"),
            quantity: "workspace")
        return l
    }
}
