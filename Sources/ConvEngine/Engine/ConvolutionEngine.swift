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
/// different worker count may change its last bits (within MATH.md's bound). The tiled algorithms
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
/// the exception (it multiplies further inserted zeros) and is meant for finite data.
public struct ConvolutionEngine: ConvolutionBackend, Sendable {
    /// Worker threads per call.
    public let workers: Int
    /// The forced forward/filter-gradient algorithm, or `nil` to let ``plan(for:scalar:)`` choose.
    public let algorithm: ConvAlgorithm?
    /// The forced input-gradient route, or `nil` to let ``plan(for:scalar:)`` choose (``InputGradientAlgorithm/col2im``).
    public let inputGradientAlgorithm: InputGradientAlgorithm?
    /// Whether this engine pins OpenBLAS to one thread when `workers > 1` (see the type's documentation).
    public let managesBLASThreads: Bool
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
    /// Tiles get at least this many columns (output pixels), so that each GEMM stays efficient.
    static let minimumTileColumns = 256
    /// Automatic ``ConvAlgorithm/tiledIm2col`` tiles read at least this many bytes of input rows per channel
    /// (about `tileRows·sh·W` elements). A tile reads one run of rows from each channel plane, and short runs defeat
    /// the hardware prefetcher: on a 2×2/2 layer with 76-wide rows (the benchmark's gen3), 7-row tiles read 4.2 KiB
    /// per 11.5 KiB plane and their gather took twice as long as with whole images (forward 2.1–2.4 → 1.8–1.9 of the
    /// GEMM ceiling); on 224-wide rows, 8-row tiles (14 KiB runs) were as fast as whole images.
    static let minimumInputRunBytes = 16 << 10
    /// The automatic plan uses ``ConvAlgorithm/kernelRowGEMM`` when its GEMMs' inner dimension, `C/G·S`, is at
    /// least this: below it (ResNet's conv1, 3·7; MNIST's, 1·5) the R accumulating GEMMs are too thin and the
    /// tiled im2col is faster.
    static let kernelRowMinimumInnerSize = 64

    /// Makes an engine.
    ///
    /// - Parameters:
    ///   - workers: threads per call, 1…``maximumWorkers``; by default the number of active processors.
    ///   - algorithm: force a forward/filter-gradient algorithm (`nil`: automatic).
    ///   - inputGradientAlgorithm: force an input-gradient route (`nil`: automatic).
    ///   - workspaceLimit: the most workspace bytes a call may use (`nil`: no limit).
    ///   - tileBudgetBytes: column-matrix bytes per tile for the tiled algorithm.
    ///   - tileRows: force the tiled algorithm's tile height in output rows (`nil`: automatic).
    ///   - managesBLASThreads: when `true` (default) and `workers > 1`, sets OpenBLAS to one thread once per process.
    /// - Throws: ``ConvError/invalidArgument(name:reason:)`` for a worker count, limit or budget out of range.
    public init(
        workers: Int = ProcessInfo.processInfo.activeProcessorCount,
        algorithm: ConvAlgorithm? = nil,
        inputGradientAlgorithm: InputGradientAlgorithm? = nil,
        workspaceLimit: Int? = nil,
        tileBudgetBytes: Int = ConvolutionEngine.defaultTileBudgetBytes,
        tileRows: Int? = nil,
        managesBLASThreads: Bool = true
    ) throws {
        guard (1...Self.maximumWorkers).contains(workers) else {
            throw ConvError.invalidArgument(name: "workers", reason: "\(workers) is outside 1...\(Self.maximumWorkers)")
        }
        if let workspaceLimit, workspaceLimit < 0 {
            throw ConvError.invalidArgument(name: "workspaceLimit", reason: "\(workspaceLimit) is negative")
        }
        guard tileBudgetBytes > 0 else {
            throw ConvError.invalidArgument(name: "tileBudgetBytes", reason: "\(tileBudgetBytes) is not positive")
        }
        self.workers = workers
        self.algorithm = algorithm
        self.inputGradientAlgorithm = inputGradientAlgorithm
        self.workspaceLimit = workspaceLimit
        self.tileBudgetBytes = tileBudgetBytes
        if let tileRows, tileRows < 1 {
            throw ConvError.invalidArgument(name: "tileRows", reason: "\(tileRows) is not positive")
        }
        self.tileRows = tileRows
        self.managesBLASThreads = managesBLASThreads
        if workers > 1 && managesBLASThreads { BLAS.pinToOneThreadOnce() }
    }

    /// The plan a call on `geometry` in `scalar` will use: the one place where the algorithm, the tile size
    /// and the work split are chosen.
    ///
    /// Automatic choice: ``ConvAlgorithm/depthwiseDirect`` for depthwise geometries with more than one group
    /// (unless the padding is far larger than the image),
    /// ``ConvAlgorithm/pointwise`` for 1×1 stride-1 unpadded ones, ``ConvAlgorithm/kernelRowGEMM`` for kernels
    /// of several rows with `C/G·S ≥ 64` whose kernel rows share input rows (its lowering is then smaller than
    /// im2col's: any 3×3 at stride 1 or 2, not 2×2 at stride 2), ``ConvAlgorithm/tiledIm2col`` otherwise;
    /// ``InputGradientAlgorithm/col2im``. (``ConvAlgorithm/shiftedGEMM`` and ``ConvAlgorithm/im2col`` run
    /// only when forced.) The plan respects ``workspaceLimit``.
    ///
    /// - Throws: ``ConvError/algorithmNotApplicable(algorithm:reason:)`` if a forced algorithm cannot run
    ///   `geometry`; ``ConvError/workspaceCapTooSmall(required:cap:)`` if no plan fits the workspace limit.
    public func plan<T: ConvScalar>(for geometry: ConvGeometry, scalar: T.Type = Float.self) throws -> ConvPlan {
        let g = geometry
        let chosen: ConvAlgorithm
        if let forced = algorithm {
            guard forced.supports(g) else {
                let need = forced == .pointwise ? "a 1×1 kernel, stride 1 and no padding"
                    : forced == .shiftedGEMM ? "stride 1" : "groups == input channels"
                throw ConvError.algorithmNotApplicable(algorithm: forced.rawValue, reason: "needs \(need); got \(g)")
            }
            chosen = forced
        } else if g.isDepthwise && g.groups > 1
                    // Its padded planes grow with the padding: not for padding far larger than the image (hostile
                    // geometries, valid with tiny buffers, whose planes would not fit in memory or in `Int`).
                    && (try? DepthwiseKernel.scratchPerWorker(g)).map({ $0 <= 8 * g.inputHeight * g.inputWidth + 4096 }) == true {
            chosen = .depthwiseDirect
        } else if g.isPointwise {
            chosen = .pointwise
        } else if g.kernelHeight > 1 && g.inputChannelsPerGroup * g.kernelWidth >= Self.kernelRowMinimumInnerSize
                    && KernelRowGEMM(g).isSmallerThanIm2col {
            chosen = .kernelRowGEMM
        } else {
            chosen = .tiledIm2col
        }
        var plan = ConvPlan(algorithm: chosen, inputGradientAlgorithm: inputGradientAlgorithm ?? .col2im,
                            workers: workers, tileRows: g.outputHeight)
        let size = MemoryLayout<T>.stride
        if chosen == .tiledIm2col || chosen == .shiftedGEMM || chosen == .kernelRowGEMM {
            // Column tile plus, for several images, their K/G output rows: both should sit in the budget. The
            // kernel-row lowering holds about 1/R of an im2col per column, so its tiles get R times the columns.
            let loweredRows = chosen == .kernelRowGEMM ? KernelRowGEMM(g).loweredRowsPerColumn : g.columnRows
            let minimumColumns = chosen == .kernelRowGEMM ? KernelRowGEMM.minimumTileColumns : Self.minimumTileColumns
            let budgetColumns = max(minimumColumns,
                                    tileBudgetBytes / max(1, (loweredRows + g.outputChannelsPerGroup) * size))
            var rows = tileRows ?? max(1, budgetColumns / g.outputWidth)
            if tileRows == nil && chosen == .tiledIm2col {
                // Safe: a product that overflows means rows far wider than any run, so no minimum applies.
                let (strideBytes, o1) = g.strideHeight.multipliedReportingOverflow(by: size)
                let (rowBytes, o2) = strideBytes.multipliedReportingOverflow(by: g.inputWidth)
                if !o1 && !o2 && rowBytes > 0 { rows = max(rows, (Self.minimumInputRunBytes - 1) / rowBytes + 1) }
            }
            if rows >= g.outputHeight {
                // Whole images side by side. Not clamped to the batch, so the workspace is the same at any batch
                // size (the tiles actually used are evened out over the images there are). Automatic tiles take
                // only as many images as the GEMM needs to reach its minimum width: beyond it, copying the result
                // out to NCHW and a larger column tile cost more than the wider GEMM saves (MNIST's layer, 576
                // columns per image: 1.57 of the canonical GEMM time with 11 images per tile, 1.44 with one).
                var images = rows / g.outputHeight
                if tileRows == nil { images = min(images, max(1, minimumColumns / max(1, g.columnColumns))) }
                plan.tileRows = images * g.outputHeight
            } else {
                plan.tileRows = rows
            }
        }
        guard let limit = workspaceLimit else { return plan }
        var bytes = try checkedProduct(largestWorkspace(g, plan), size, quantity: "workspace bytes")
        if bytes <= limit { return plan }
        if chosen == .tiledIm2col || chosen == .kernelRowGEMM || (algorithm == nil && chosen != .depthwiseDirect) {
            // Shrink the tile (whole images first, then bands of rows) until the workspace fits.
            if chosen != .kernelRowGEMM { plan.algorithm = .tiledIm2col }
            if algorithm == nil && chosen != .tiledIm2col && chosen != .kernelRowGEMM { plan.tileRows = g.outputHeight }
            while bytes > limit && plan.tileRows > 1 {
                let images = plan.tileRows / g.outputHeight
                plan.tileRows = images > 1 ? min(images / 2, g.batch) * g.outputHeight : plan.tileRows / 2
                bytes = try checkedProduct(largestWorkspace(g, plan), size, quantity: "workspace bytes")
            }
        }
        if bytes > limit { throw ConvError.workspaceCapTooSmall(required: bytes, cap: limit) }
        return plan
    }

    /// Workspace elements a forward or backward call on `geometry` needs with this engine's plan (the largest
    /// over the forward pass and a backward pass computing all three gradients).
    ///
    /// With W workers, T the plan's tile columns (`tileRows·Q`; `P·Q` for the canonical lowering) and `|F|`
    /// the filter size, it is `W·C/G·R·S·T` for the column tiles (none for the pointwise and depthwise
    /// algorithms; for the kernel-row lowering `W·C/G·S·φ·(t + ⌊(R-1)·dh/sh⌋)·n·Q` instead, with t the tile's
    /// rows per image, n its images and φ ≤ min(sh, R) the vertical stride phases the kernel reads, plus `|F|`
    /// for the filter repacked per kernel row and one more `|F|` of filter-gradient partial sums),
    /// plus `W·K/G·T` when a tile holds several images, plus, for the tiled algorithm at a
    /// horizontal stride sw > 1 below the kernel width, `W·(C/G + C)·sw·H·ceil(W/sw)` for the images split
    /// into stride phases,
    /// plus, for the depthwise kernel, `W·2·(H+top+bottom)·(W+left+right)` for its padded planes,
    /// plus, for the shifted-GEMM forward pass, `|F|` for the filter repacked per tap and, per worker, the
    /// padded images of one GEMM and its result,
    /// plus `(W-1)·|F|` for the per-worker
    /// filter-gradient partial sums (none for the depthwise kernel, which splits by channel), plus, for the full-convolution route, `|F| + W·(K/G·(H+dh(R-1))·(W+dw(S-1))
    /// + K/G·R·S·H·W)`. It does not grow with the batch size, and stays under ``workspaceLimit``.
    public func workspaceElementCount<T: ConvScalar>(for geometry: ConvGeometry, scalar: T.Type = T.self) throws -> Int {
        try largestWorkspace(geometry, plan(for: geometry, scalar: scalar))
    }

    /// ``workspaceElementCount(for:scalar:)`` in bytes.
    public func workspaceBytes<T: ConvScalar>(for geometry: ConvGeometry, scalar: T.Type) throws -> Int {
        try checkedProduct(workspaceElementCount(for: geometry, scalar: scalar), MemoryLayout<T>.stride,
                           quantity: "workspace bytes")
    }

    /// The larger of the forward pass's and the full backward pass's workspace.
    func largestWorkspace(_ g: ConvGeometry, _ plan: ConvPlan) throws -> Int {
        try max(layout(for: g, plan: plan, gradients: nil).total, layout(for: g, plan: plan, gradients: .all).total)
    }

    /// Where each part of the workspace lives, in elements from its start.
    struct Layout {
        var columnsPerWorker = 0          // im2col tile of each worker
        var scratchPerWorker = 0          // K/G × tile columns: output / output-gradient of a multi-image tile
        var filterPartials = 0            // (W-1) filter-gradient partial sums
        var rotatedFilter = 0             // full-convolution route: the rotated filter
        var fullArrayPerWorker = 0        // full-convolution route: the zero array Z of each worker
        var fullColumnsPerWorker = 0      // full-convolution route: im2col of Z of each worker
        var inputPhasesPerWorker = 0      // tiled, stride > 1: one group of one image split into phases
        var gradientPhasesPerWorker = 0   // tiled, stride > 1: the input gradient of one image, in phases
        var depthwisePerWorker = 0        // depthwise kernel: padded input and input-gradient planes
        var packedFilter = 0              // shifted and kernel-row GEMMs: the filter repacked per tap or kernel row
        var shiftedPerWorker = 0          // shifted GEMM: padded images and the GEMM result
        var workers = 1

        var scratchOffset: Int { workers * columnsPerWorker }
        var inputPhasesOffset: Int { scratchOffset + workers * scratchPerWorker }
        var gradientPhasesOffset: Int { inputPhasesOffset + workers * inputPhasesPerWorker }
        var filterPartialsOffset: Int { gradientPhasesOffset + workers * gradientPhasesPerWorker }
        var rotatedFilterOffset: Int { filterPartialsOffset + filterPartials }
        var fullScratchOffset: Int { rotatedFilterOffset + rotatedFilter }
        var fullScratchPerWorker: Int { fullArrayPerWorker + fullColumnsPerWorker }
        var depthwiseOffset: Int { fullScratchOffset + workers * fullScratchPerWorker }
        var packedFilterOffset: Int { depthwiseOffset + workers * depthwisePerWorker }
        var shiftedOffset: Int { packedFilterOffset + packedFilter }
        var total: Int { shiftedOffset + workers * shiftedPerWorker }
    }

    /// The workspace layout of `plan`; `gradients == nil` means the forward pass.
    func layout(for g: ConvGeometry, plan: ConvPlan, gradients: GradientSet?) throws -> Layout {
        var l = Layout()
        l.workers = plan.workers
        let w = plan.workers
        let forward = gradients == nil
        let wantsDF = gradients?.contains(.filter) ?? false
        let wantsDX = gradients?.contains(.input) ?? false
        // shiftedGEMM computes its gradients as tiledIm2col does.
        let tiled = plan.algorithm == .tiledIm2col || (plan.algorithm == .shiftedGEMM && !forward)
        let lowered = plan.algorithm == .im2col || tiled
        let needsColumns = forward || wantsDF || (wantsDX && plan.inputGradientAlgorithm == .col2im)
        let tileColumns = try checkedProduct(plan.tileRows, g.outputWidth, quantity: "tile columns")
        if needsColumns && lowered {
            l.columnsPerWorker = try checkedProduct(g.columnRows, tileColumns, quantity: "column buffer")
        }
        if needsColumns && plan.algorithm != .depthwiseDirect && plan.tileRows > g.outputHeight {
            l.scratchPerWorker = try checkedProduct(g.outputChannelsPerGroup, tileColumns, quantity: "tile scratch")
        }
        // Phases only when the stride is at most the width: beyond it they hold one column each and their
        // buffer (C/G·sw·H) grows with the stride, not the image (a huge stride would overflow it).
        if plan.algorithm == .shiftedGEMM && forward {
            let sizes = try ShiftedGEMM.checkedSizes(g)
            l.shiftedPerWorker = sizes.perWorker
            l.packedFilter = sizes.filter
            l.columnsPerWorker = 0
            l.scratchPerWorker = 0
        }
        if plan.algorithm == .kernelRowGEMM {
            // One lowered tile serves the forward pass, the filter gradient and (as dL) the input gradient.
            let wantsRowDX = wantsDX && plan.inputGradientAlgorithm == .col2im
            let schedule = TileSchedule(outputHeight: g.outputHeight, tileRows: plan.tileRows)
            l.columnsPerWorker = forward || wantsDF || wantsRowDX
                ? try KernelRowGEMM(g).loweredCount(rows: min(plan.tileRows, g.outputHeight),
                                                    images: schedule.maximumImagesPerTile) : 0
            l.packedFilter = forward || wantsRowDX ? g.filterCount : 0
        }
        // Splitting into phases costs a pass over the input rows; it pays when several taps read each phase
        // row (a kernel wider than the stride, like ResNet's 7×7/2), not for 1×1/2 or 2×2/2.
        if tiled && g.strideWidth > 1 && g.strideWidth <= g.inputWidth && g.kernelWidth > g.strideWidth {
            let lowering = Lowering(g)
            if forward || wantsDF {
                l.inputPhasesPerWorker = try checkedProduct(g.inputChannelsPerGroup, g.strideWidth, g.inputHeight,
                                                            lowering.phaseWidth, quantity: "phase buffer")
            }
            if wantsDX && plan.inputGradientAlgorithm == .col2im {
                l.gradientPhasesPerWorker = try checkedProduct(g.inputChannels, g.strideWidth, g.inputHeight,
                                                               lowering.phaseWidth, quantity: "phase buffer")
            }
        }
        if plan.algorithm == .depthwiseDirect {
            l.depthwisePerWorker = try DepthwiseKernel.scratchPerWorker(g)
        }
        if wantsDF && plan.algorithm != .depthwiseDirect {  // the depthwise kernel needs no partial sums
            // kernelRowGEMM sums every worker's share (worker 0's too) packed per kernel row.
            let shares = plan.algorithm == .kernelRowGEMM ? w : w - 1
            l.filterPartials = try checkedProduct(shares, g.filterCount, quantity: "filter-gradient partials")
        }
        if wantsDX && plan.inputGradientAlgorithm == .fullConvolution {
            let fc = FullConvolution(g)
            l.rotatedFilter = g.filterCount
            l.fullArrayPerWorker = fc.arrayCount
            l.fullColumnsPerWorker = try checkedProduct(fc.lowering.rows, fc.lowering.columns,
                                                        quantity: "full-convolution columns")
        }
        // Every offset below the total is then free of overflow as well.
        _ = try checkedSum(
            checkedProduct(w, l.columnsPerWorker, quantity: "workspace"),
            checkedProduct(w, l.scratchPerWorker, quantity: "workspace"),
            checkedProduct(w, checkedSum(l.inputPhasesPerWorker, l.gradientPhasesPerWorker, quantity: "workspace"),
                           quantity: "workspace"),
            l.filterPartials, l.rotatedFilter,
            checkedProduct(w, checkedSum(l.fullArrayPerWorker, l.fullColumnsPerWorker, quantity: "workspace"),
                           quantity: "workspace"),
            checkedProduct(w, l.depthwisePerWorker, quantity: "workspace"), l.packedFilter,
            checkedProduct(w, l.shiftedPerWorker, quantity: "workspace"),
            quantity: "workspace")
        return l
    }
}
