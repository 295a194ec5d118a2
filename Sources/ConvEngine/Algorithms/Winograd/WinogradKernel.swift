/// Winograd's F(m×m, 3×3) on one ``WinogradProblem``, as α² GEMMs over blocks of tiles (<doc:TheAlgorithms>):
///
///     U[ξν] (Co × Ci)  = G·F·Gᵀ at (ξ, ν), every filter, once per call
///     V[ξν] (Ci × n)   = Bᵀ·d·B at (ξ, ν), the n tiles of one block
///     M[ξν] (Co × n)   = U[ξν] · V[ξν]           (one GEMM per ξν)
///     Y                = Aᵀ·M·A (+ bias), the block's m×m result tiles, cropped to the result
///
/// Result tile `(i, j)` of an image covers rows `i·m … i·m + m − 1` and columns `j·m …`; the tiles of the
/// batch are numbered image by image, row by row, and cut into blocks of at most ``blockTiles`` consecutive
/// tiles (across images, so small images still give wide GEMMs). A block's V and M (`α²·(Ci + Co)` elements
/// per tile) are sized to stay in cache between the transforms and the GEMMs; blocks (of every group) go to
/// whichever worker is free. Every tile is computed the same way whichever worker runs it.
struct WinogradKernel<F: WinogradTransform> {
    let problem: WinogradProblem
    /// The largest block, a multiple of ``lanes`` (it sizes the workspace).
    let blockTiles: Int
    /// Result tiles per image row and column.
    let tileRows: Int, tileColumns: Int

    /// Tiles (or filter channels) a transform handles at once.
    static var lanes: Int { 8 }

    init(_ problem: WinogradProblem, blockTiles: Int) {
        self.problem = problem
        self.blockTiles = blockTiles
        tileRows = (problem.outputHeight + F.m - 1) / F.m
        tileColumns = (problem.outputWidth + F.m - 1) / F.m
    }

    /// α², the GEMMs per block.
    static var positions: Int { F.alpha * F.alpha }

    /// Elements of U: `α²·G·Co·Ci`.
    var transformedFilterCount: Int {
        Self.positions * problem.groups * problem.outputChannels * problem.inputChannels
    }

    /// Elements of one worker's V and M: `α²·((Ci + Co)·blockTiles + 2·planeSkew)`.
    var perWorker: Int {
        Self.positions * ((problem.inputChannels + problem.outputChannels) * blockTiles + 2 * Self.planeSkew)
    }

    /// Elements between the end of one ξν matrix of V (or M) and the start of the next. Without it the α²
    /// matrices of a block start a multiple of 4 KiB apart (`Ci·ld` elements), so the transforms' α² streams
    /// map to the same L1 sets and evict each other.
    static var planeSkew: Int { 16 }

    /// `(transformedFilterCount, perWorker)`, overflow-checked (and the GEMM dimensions within BLAS's `Int32`).
    static func checkedSizes(_ p: WinogradProblem, blockTiles: Int) throws(ConvError) -> (filter: Int, perWorker: Int) {
        let filter = try checkedProduct(positions, p.groups, p.outputChannels, p.inputChannels,
                                        quantity: "Winograd transformed filter")
        let channels = try checkedSum(p.inputChannels, p.outputChannels, quantity: "Winograd channels")
        let block = try checkedSum(checkedProduct(positions, channels, blockTiles, quantity: "Winograd block"),
                                   2 * positions * planeSkew, quantity: "Winograd block")
        for (q, v) in [("Winograd GEMM rows", p.outputChannels), ("Winograd GEMM depth", p.inputChannels)]
            where v > Int(Int32.max) {
            throw .blasDimensionTooLarge(quantity: q, value: v)
        }
        return (filter, block)
    }

    // MARK: Filter transform

    /// U from F read through `access`: `U[((grp·α² + ξν)·Co + k)·Ci + c]`, the filters split over threads.
    func transformFilter<T: ConvScalar>(_ f: UnsafePointer<T>, _ access: WinogradFilterAccess,
                                        into u: UnsafeMutablePointer<T>, workers: Int) {
        let p = problem, Co = p.outputChannels, Ci = p.inputChannels, a2 = Self.positions
        let L = Self.lanes, chunks = (Ci + L - 1) / L
        parallelItems(workers, count: p.groups * Co) { _, item in
            let grp = item / Co, k = item % Co
            withUnsafeTemporaryAllocation(of: SIMD8<T>.self, capacity: 9 + a2 + 3 * F.alpha) { lanes in
                let g = lanes.baseAddress!, t = g + 9, scratch = t + a2  // Safe: capacity > 0.
                let base = f + grp * access.groupStride + k * access.outputStride
                for chunk in 0..<chunks {
                    let c0 = chunk * L, count = min(L, Ci - c0)
                    for tap in 0..<9 {
                        var v = SIMD8<T>()
                        let src = base + c0 * access.inputStride + (access.rotated ? 8 - tap : tap) * access.tapStride
                        for l in 0..<count { v[l] = src[l * access.inputStride] }
                        g[tap] = v
                    }
                    F.filter(UnsafePointer(g), into: t, scratch: scratch)
                    for xi in 0..<a2 {
                        let dst = u + ((grp * a2 + xi) * Co + k) * Ci + c0
                        if count == L { storeLanes(t[xi], dst) } else { for l in 0..<count { dst[l] = t[xi][l] } }
                    }
                }
            }
        }
    }

    // MARK: The blocks

    /// The result of every image: `source` and `result` as in ``WinogradProblem``, U from ``transformFilter``,
    /// `bias` (Co per group, or `nil`) added to every result, then `epilogue` applied. `scratch` holds ``perWorker`` elements per worker.
    func run<T: ConvScalar>(source: UnsafePointer<T>, transformedFilter u: UnsafePointer<T>, bias: UnsafePointer<T>?,
                            epilogue: Epilogue<T>, result: UnsafeMutablePointer<T>, scratch: UnsafeMutablePointer<T>, workers: Int) {
        let p = problem
        let total = p.batch * tileRows * tileColumns
        guard total > 0 else { return }
        let (block, blocks) = blocking(tiles: total, workers: workers)
        let perWorker = self.perWorker
        parallelItems(workers, count: p.groups * blocks) { w, item in
            let grp = item / blocks, first = (item % blocks) * block
            let v = BlockMatrices(start: scratch + w * perWorker, rows: p.inputChannels, ld: block, count: Self.positions)
            let m = BlockMatrices(start: v.end, rows: p.outputChannels, ld: block, count: Self.positions)
            let count = min(block, total - first)
            transformInput(source, group: grp, tiles: first..<(first + count), into: v)
            multiply(u, group: grp, v, m, count: count)
            transformOutput(m, group: grp, tiles: first..<(first + count), bias: bias, epilogue: epilogue, into: result)
        }
    }

    /// How `tiles` tiles (of each group) are cut for `workers`: blocks of `block` tiles (the last may be shorter),
    /// `block` a multiple of ``lanes`` and at most ``blockTiles``.
    ///
    /// The blocks are as even as the lanes allow, and as many as keep every worker busy to the end: of the even
    /// cuts whose blocks hold at least half of ``blockTiles`` (or a worker's share of the tiles, if less: smaller
    /// blocks make the α² GEMMs less efficient), the first with the shortest ``makespan(_:tiles:workers:)``. Cut
    /// greedily at ``blockTiles``, res3's 392 tiles became 128 + 128 + 128 + 8, and one of two workers ran 256
    /// tiles while the other ran 136; now they are 104 + 104 + 104 + 80. With fewer tiles than a full block per
    /// worker (res5's 7×7 images) every worker gets a block.
    func blocking(tiles: Int, workers: Int) -> (block: Int, blocks: Int) {
        let L = Self.lanes, workers = max(1, workers)
        let share = ((tiles + workers - 1) / workers + L - 1) / L * L
        let smallest = min(blockTiles / 2, share)
        let fewest = (tiles + blockTiles - 1) / blockTiles, most = (tiles + L - 1) / L
        var best = evenBlocks(tiles: tiles, count: fewest)
        var bestSpan = makespan(best, tiles: tiles, workers: workers)
        for count in stride(from: fewest + 1, through: most, by: 1) {
            let c = evenBlocks(tiles: tiles, count: count)
            if c.block < smallest { break }
            let span = makespan(c, tiles: tiles, workers: workers)
            if span < bestSpan { (best, bestSpan) = (c, span) }
        }
        return best
    }

    /// `tiles` cut into `count` blocks evened out, each rounded up to whole lanes (which can leave fewer).
    func evenBlocks(tiles: Int, count: Int) -> (block: Int, blocks: Int) {
        let L = Self.lanes
        let block = min(blockTiles, ((tiles + count - 1) / count + L - 1) / L * L)
        return (block, (tiles + block - 1) / block)
    }

    /// The tiles the busiest worker runs when the blocks of every group are dealt out in turn: whole rounds of
    /// full blocks, except that a last round of one block (the last group's short one) is only that block.
    func makespan(_ cut: (block: Int, blocks: Int), tiles: Int, workers: Int) -> Int {
        let workers = max(1, workers), items = problem.groups * cut.blocks
        let rounds = (items + workers - 1) / workers, last = tiles - (cut.blocks - 1) * cut.block
        return (rounds - 1) * cut.block + (items - (rounds - 1) * workers == 1 ? last : cut.block)
    }

    /// The α² GEMMs of one block: `M[ξν] = U[ξν]·V[ξν]`.
    @inline(__always)
    func multiply<T: ConvScalar>(_ u: UnsafePointer<T>, group grp: Int,
                                 _ v: BlockMatrices<T>, _ m: BlockMatrices<T>, count: Int) {
        let Co = problem.outputChannels, Ci = problem.inputChannels, a2 = Self.positions
        for xi in 0..<a2 {
            BLAS.uncheckedGEMM(transposeA: .none, transposeB: .none, m: Co, n: count, k: Ci, alpha: 1,
                               a: u + (grp * a2 + xi) * Co * Ci, lda: Ci, b: v.matrix(xi), ldb: v.ld,
                               beta: 0, c: m.matrix(xi), ldc: m.ld)
        }
    }

    /// The image, first result row and first result column of tile `t` (numbered over the batch).
    @inline(__always)
    func origin(of t: Int) -> TileOrigin {
        let perImage = tileRows * tileColumns
        let n = t / perImage, r = t % perImage
        return TileOrigin(image: n, row: (r / tileColumns) * F.m, column: (r % tileColumns) * F.m)
    }
}

/// The α² matrices of one block (V: `Ci × ld`, or M: `Co × ld`), each ``WinogradKernel/planeSkew`` elements
/// after the end of the one before.
struct BlockMatrices<T> {
    let start: UnsafeMutablePointer<T>
    /// Rows of each matrix, its leading dimension, and the number of matrices (α²).
    let rows: Int, ld: Int, count: Int

    /// Elements from one matrix's start to the next's.
    var stride: Int { rows * ld + WinogradKernel<WinogradF2>.planeSkew }
    /// Matrix ξν.
    @inline(__always)
    func matrix(_ xi: Int) -> UnsafeMutablePointer<T> { start + xi * stride }
    /// Just past the last matrix, with its skew.
    var end: UnsafeMutablePointer<T> { start + count * stride }
}

/// Where a result tile is: its image and its first result row and column.
struct TileOrigin {
    var image: Int, row: Int, column: Int
}

/// Eight lanes to eight consecutive elements, which need not be aligned for `SIMD8`.
@inline(__always)
func storeLanes<T: ConvScalar>(_ v: SIMD8<T>, _ p: UnsafeMutablePointer<T>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<T>.self)
}

/// Eight consecutive elements as lanes, from an address that need not be aligned for `SIMD8`.
@inline(__always)
func loadLanes<T: ConvScalar>(_ p: UnsafePointer<T>) -> SIMD8<T> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<T>.self)
}
