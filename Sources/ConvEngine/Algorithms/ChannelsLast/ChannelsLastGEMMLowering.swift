// The GEMM driver of the channels-last lowerings: with NHWC activations the output of a run of positions is a
// `positions × K` block of O itself (rows K apart), so every GEMM writes its result in place and reads the output
// gradient in place; there is no copy-out and no gather, whatever the tile holds.

/// A GEMM lowering of channels-last activations (`N×H×W×C` in, `N×P×Q×K` out), computed over tiles of output
/// positions flattened over the batch (`pos = (n·P + p)·Q + q`).
///
/// Per tile and group g, with `col` the tile's `positions × R·S·C/G` column matrix (the input itself for a
/// pointwise kernel) and `F_g` the group's `K/G × R·S·C/G` filter rows in `K×R×S×C/G` order:
/// - forward: `O[positions, g·K/G ..< (g+1)·K/G] = B + col · F_gᵀ` (rows K apart), then the epilogue on the tile;
/// - filter gradient: `dF_g += dO_tileᵀ · col`, per worker, the workers' sums then added in worker order;
/// - input gradient: `dX_tile = dO_tile · F_g`, written or scattered back by the lowering.
///
/// The driver owns the schedule, the threads, the bias, the filter's order and the reductions; a conforming type
/// supplies its column matrix and its input-gradient step.
protocol ChannelsLastLowered: ConvolutionAlgorithm where Layout == ChannelsLastLayout {
    /// The call's geometry.
    var geometry: ConvGeometry { get }
    /// The plan's worker count (the workspace has a block per worker slot).
    var workers: Int { get }
    /// Output positions per tile (rows of the tile's GEMMs), from the plan's tile: fixed by the geometry and the
    /// plan, never by the batch.
    var tilePositions: Int { get }
    /// Whether the backward workers must own whole images: the input gradient of neighbouring positions
    /// overlaps (col2im), so two workers must never add into the same image.
    static var backwardSplitsImages: Bool { get }
    /// Whether the forward pass may cut its tiles smaller so that every worker gets one (a batch of a few
    /// tiles); false where the forward result must not depend on the worker count.
    static var forwardTilesFollowWorkers: Bool { get }

    /// Elements of one worker's column buffer for `pass` (0: none).
    func columnBuffer(for pass: ConvPass) throws(ConvError) -> Int

    /// The column matrix of `positions` for group `group`: a pointer to its first row and its leading dimension,
    /// lowered into `buffer` if need be. `positions` starts and ends on output rows.
    func columns<T: ConvScalar>(_ positions: Range<Int>, group: Int, input: UnsafePointer<T>,
                                buffer: UnsafeMutablePointer<T>) -> (UnsafePointer<T>, Int)

    /// Whether ``columns(_:group:input:buffer:)`` gives the column matrix transposed, `R·S·C/G × positions` (rows
    /// `ld` apart): the tap-major form, which the GEMMs read with a transpose flag.
    var columnsAreTapMajor: Bool { get }

    /// The input gradient of `positions` for group `group`, from the tile's output gradient `dO` (its first row
    /// at group g's first channel, rows K apart) and the `K×R×S×C/G` filter. For backward-splitting-images
    /// lowerings `zeroed` is the flattened input row (`n·H + h`) below which dX is already zeroed.
    func inputGradient<T: ConvScalar>(_ positions: Range<Int>, group: Int, filter: UnsafePointer<T>,
                                      outputGradient dO: UnsafePointer<T>, into dX: UnsafeMutablePointer<T>,
                                      buffer: UnsafeMutablePointer<T>)

    /// Before the input gradient of `positions` is added (all groups): zeroes what it adds into that is not yet
    /// zeroed, advancing `zeroed` (a flattened input row). Nothing for lowerings whose GEMM overwrites dX.
    func zeroInputGradient<T: ConvScalar>(through positions: Range<Int>, _ dX: UnsafeMutablePointer<T>,
                                          zeroed: inout Int)

    /// After a worker's last tile: zeroes its images' input-gradient rows from `zeroed` to `end` (flattened input
    /// rows) that no position read.
    func finishInputGradient<T: ConvScalar>(_ dX: UnsafeMutablePointer<T>, zeroed: Int, end: Int)
}

/// The workspace of a channels-last lowered pass.
struct ChannelsLastLayout: WorkspaceLayout {
    /// Per worker: the tile's column matrix (or input-gradient columns).
    var columns = WorkspaceRegion()
    /// The filter-gradient sums of the workers that do not sum into dF.
    var filterSums = WorkspaceRegion()
    /// The filter in `K×R×S×C/G` order, when it is given otherwise (and not prepared).
    var packedFilter = WorkspaceRegion()
    var total = 0
}

extension ChannelsLastLowered {
    /// Position-major columns (one row per position) by default.
    var columnsAreTapMajor: Bool { false }

    /// The tile's GEMMs read and write O, dO and dX in place, and need no zeroing by default.
    func zeroInputGradient<T: ConvScalar>(through positions: Range<Int>, _ dX: UnsafeMutablePointer<T>,
                                          zeroed: inout Int) {}
    func finishInputGradient<T: ConvScalar>(_ dX: UnsafeMutablePointer<T>, zeroed: Int, end: Int) {}

    /// Channels-last activations, with either filter order (a `K×C/G×R×S` filter is repacked per call or
    /// prepared once).
    static func runsNatively(_ layout: ConvLayout) -> Bool { layout.activations == .channelsLast }

    /// The filter orders of the geometry.
    var filterOrder: ChannelsLastFilter { ChannelsLastFilter(geometry) }
    /// Whether the filter as given is already `K×R×S×C/G` in memory.
    var filterIsTapMajor: Bool { filterOrder.isTapMajor(geometry.layout.filter) }
    /// Output positions of the whole batch, `N·P·Q`.
    var positionCount: Int { geometry.batch * geometry.columnColumns }

    /// The tile's output positions from a plan's tile (its output rows times Q).
    static func tilePositions(_ tile: ConvTile, _ g: ConvGeometry) -> Int {
        max(1, tile.outputRows(imageHeight: g.outputHeight) * g.outputWidth)
    }

    /// The tile whose column matrix (`columnLength` per position) and result (`K/G` per position) fill the budget,
    /// with at least ``TileSizing/minimumColumns`` positions, as whole output rows (a forced row count is kept).
    /// Not clamped to the batch, so the workspace does not depend on it.
    static func initialTile(for g: ConvGeometry, policy: TilePolicy, columnLength: Int) -> ConvTile {
        let perPosition = max(1, (columnLength + g.outputChannelsPerGroup) * policy.scalarBytes)
        let positions = max(TileSizing.minimumColumns, policy.budgetBytes / perPosition)
        let rows = policy.forcedRows ?? max(1, (positions + g.outputWidth - 1) / g.outputWidth)
        return rows < g.outputHeight ? .rows(rows) : .images(rows / g.outputHeight)
    }

    /// A filter in the `K×R×S×C/G` order as a ``PreparedFilter`` when the given one is not.
    func preparedFilterCount() throws(ConvError) -> Int? { filterIsTapMajor ? nil : geometry.filterCount }

    func prepareFilter<T: ConvScalar>(_ filter: UnsafePointer<T>, into prepared: UnsafeMutablePointer<T>, workers: Int) {
        filterOrder.tapMajor(filter, into: prepared)
    }

    func layout(for pass: ConvPass) throws(ConvError) -> ChannelsLastLayout {
        let g = geometry
        let gradients = pass.gradients
        var b = WorkspaceLayoutBuilder(workers: workers)
        var l = ChannelsLastLayout()
        l.columns = try b.perWorker(columnBuffer(for: pass), "column tile")
        if gradients.contains(.filter) {
            let parts = filterIsTapMajor ? workers - 1 : workers
            l.filterSums = try b.shared(checkedProduct(parts, g.filterCount, quantity: "filter-gradient sums"),
                                        "filter-gradient sums")
        }
        if !filterIsTapMajor && (pass == .forward || gradients.contains(.input)) {
            l.packedFilter = try b.shared(g.filterCount, "packed filter")
        }
        l.total = b.total
        return l
    }

    /// F in `K×R×S×C/G` order: `prepared`, F itself, or F repacked into the workspace.
    private func tapMajorFilter<T: ConvScalar>(_ f: UnsafePointer<T>, prepared: UnsafePointer<T>?,
                                               _ workspace: UnsafeMutablePointer<T>, _ layout: ChannelsLastLayout)
        -> UnsafePointer<T> {
        if let prepared { return prepared }
        if filterIsTapMajor { return f }
        let packed = layout.packedFilter.at(workspace)
        filterOrder.tapMajor(f, into: packed)
        return UnsafePointer(packed)
    }

    /// The forward pass: the tiles of the batch go to whichever worker is free (each tile's result does not
    /// depend on the worker). Each tile's rows are prefilled with the bias and every group's GEMM accumulates
    /// onto them in place (rows K apart), then the tile, final and still in cache, gets the epilogue.
    func forward<T: ConvScalar>(_ call: ForwardCall<T>, _ layout: ChannelsLastLayout) {
        let g = geometry
        let G = g.groups, K = g.outputChannels, Kg = g.outputChannelsPerGroup, width = g.columnRows
        let f = tapMajorFilter(call.filter, prepared: call.preparedFilter, call.workspace, layout)
        let total = positionCount
        // Tiles start and end on output rows.
        let Q = g.outputWidth
        let tile = Self.forwardTilesFollowWorkers
            ? min(tilePositions, ((total - 1) / max(1, call.workers) / Q + 1) * Q) : tilePositions
        let tapMajor = columnsAreTapMajor
        parallelItems(call.workers, count: (total + tile - 1) / tile) { w, t in
            let positions = t * tile..<min(total, (t + 1) * tile)
            let out = call.output + positions.lowerBound * K
            let buffer = layout.columns.at(call.workspace, worker: w)
            var beta: T = 0
            if let bias = call.bias {
                fillRows(out, rows: positions.count, with: bias, count: K)
                beta = 1
            }
            for grp in 0..<G {
                let (a, lda) = columns(positions, group: grp, input: call.input, buffer: buffer)
                BLAS.uncheckedGEMM(transposeA: tapMajor ? .transpose : .none, transposeB: .transpose,
                                   m: positions.count, n: Kg, k: width,
                                   alpha: 1, a: a, lda: lda, b: f + grp * Kg * width, ldb: width,
                                   beta: beta, c: out + grp * Kg, ldc: K)
            }
            call.epilogue.apply(out, count: positions.count * K)
        }
    }

    /// The positions worker `w` of `split` takes in the backward pass: a contiguous, ordered share of the images
    /// (``backwardSplitsImages``) or of the tiles.
    private func backwardShare(_ w: Int, of split: Int) -> Range<Int> {
        let g = geometry, PQ = g.columnColumns, total = positionCount, tile = tilePositions
        if Self.backwardSplitsImages {
            let images = share(of: g.batch, worker: w, of: split)
            return images.lowerBound * PQ..<images.upperBound * PQ
        }
        let tiles = share(of: (total + tile - 1) / tile, worker: w, of: split)
        return min(total, tiles.lowerBound * tile)..<min(total, tiles.upperBound * tile)
    }

    /// The backward pass. Workers take contiguous, ordered shares (whole images when the input gradient's windows
    /// overlap, else whole tiles); each sums its filter gradient over its tiles in order (worker 0 into dF when F
    /// is tap-major), and the sums are then added in worker order, so a fixed worker count gives fixed bits. The
    /// bias gradient is summed separately, in an order independent of the worker count.
    func backward<T: ConvScalar>(_ call: BackwardCall<T>, _ layout: ChannelsLastLayout) {
        let g = geometry
        let G = g.groups, K = g.outputChannels, Kg = g.outputChannelsPerGroup, width = g.columnRows
        let H = g.inputHeight
        let wantsDF = call.filterGradient != nil && call.input != nil
        let wantsDX = call.inputGradient != nil && call.filter != nil
        let total = positionCount, tile = tilePositions
        let units = Self.backwardSplitsImages ? g.batch : (total + tile - 1) / tile
        let split = wantsDF || wantsDX ? min(call.workers, units) : 0
        let f = call.filter.map { tapMajorFilter($0, prepared: nil, call.workspace, layout) }
        let sums = layout.filterSums.at(call.workspace)
        let inPlace = filterIsTapMajor
        parallelFor(split) { w in
            let buffer = layout.columns.at(call.workspace, worker: w)
            let workerSums = call.filterGradient.map { dF in
                inPlace ? (w == 0 ? dF : sums + (w - 1) * g.filterCount) : sums + w * g.filterCount
            }
            let range = backwardShare(w, of: split)
            var zeroed = range.lowerBound / g.columnColumns * H
            var start = range.lowerBound
            while start < range.upperBound {
                let positions = start..<min(range.upperBound, start + tile)
                if wantsDX, let dX = call.inputGradient { zeroInputGradient(through: positions, dX, zeroed: &zeroed) }
                for grp in 0..<G {
                    let dOTile = call.outputGradient + positions.lowerBound * K + grp * Kg
                    if wantsDF, let x = call.input, let workerSums {
                        let (a, lda) = columns(positions, group: grp, input: x, buffer: buffer)
                        BLAS.uncheckedGEMM(transposeA: .transpose, transposeB: columnsAreTapMajor ? .transpose : .none,
                                           m: Kg, n: width,
                                           k: positions.count, alpha: 1, a: dOTile, lda: K, b: a, ldb: lda,
                                           beta: start == range.lowerBound ? 0 : 1,
                                           c: workerSums + grp * Kg * width, ldc: width)
                    }
                    if wantsDX, let dX = call.inputGradient, let f {
                        inputGradient(positions, group: grp, filter: f, outputGradient: dOTile, into: dX,
                                      buffer: buffer)
                    }
                }
                start = positions.upperBound
            }
            if wantsDX, let dX = call.inputGradient {
                finishInputGradient(dX, zeroed: zeroed, end: range.upperBound / g.columnColumns * H)
            }
        }
        if wantsDF, let dF = call.filterGradient {
            if inPlace {
                if split > 1 { addFilterSums(sums, parts: split - 1, into: dF, workers: call.workers) }
            } else {
                filterOrder.channelMajorSum(sums, parts: split, into: dF, workers: call.workers)
            }
        }
        if let dB = call.biasGradient {
            sumChannelColumns(call.outputGradient, rows: total, channels: K, into: dB, workers: call.workers)
        }
    }

    /// Adds `parts` blocks of `|F|` into dF, in order, split over threads by element ranges (which keeps that
    /// order for every element).
    private func addFilterSums<T: ConvScalar>(_ sums: UnsafePointer<T>, parts: Int, into dF: UnsafeMutablePointer<T>,
                                              workers: Int) {
        let count = geometry.filterCount
        let split = min(workers, count)
        parallelFor(split) { w in
            let range = share(of: count, worker: w, of: split)
            for part in 0..<parts {
                addRow(dF + range.lowerBound, sums + part * count + range.lowerBound, range.count)
            }
        }
    }
}

/// `rows` consecutive copies of `row[0..<count]` from `dst` on: the bias prefill of a channels-last tile. In vector
/// stores rather than a library copy per row, whose call costs as much as the copy at a few dozen channels.
@inline(__always)
func fillRows<T: ConvScalar>(_ dst: UnsafeMutablePointer<T>, rows: Int, with row: UnsafePointer<T>, count: Int) {
    let vectors = count / 8
    var to = dst
    for _ in 0..<rows {
        for v in 0..<vectors {
            UnsafeMutableRawPointer(to + 8 * v).storeBytes(of: UnsafeRawPointer(row + 8 * v).loadUnaligned(as: SIMD8<T>.self),
                                                           as: SIMD8<T>.self)
        }
        for i in 8 * vectors..<count { to[i] = row[i] }
        to += count
    }
}
