// Winograd's F(m×m, 3×3) on channels-last tensors: the transforms work on runs of 8 channels of one tile, which
// are contiguous in NHWC, and the α² GEMMs take one row per tile (`tiles × channels`), so every load and store of
// X, O and the block matrices is contiguous.

/// A ``WinogradKernel`` problem whose source and result are channels-last (`N×H×W×(G·Ci)`, `N×P×Q×(G·Co)`):
///
///     V[ξν] (n × Ci)  = Bᵀ·d·B at (ξ, ν), one row per tile of the block, 8 channels at a time
///     M[ξν] (n × Co)  = V[ξν] · U[ξν]ᵀ           (one GEMM per ξν; U as the channels-first kernel lays it out)
///     Y               = Aᵀ·M·A (+ bias), 8 result channels of one tile at a time, cropped to the result
///
/// Tiles, blocks, the schedule and U are those of ``WinogradKernel`` (`base`): only the layout of the block
/// matrices and the transforms' reads and writes differ.
struct ChannelsLastWinogradKernel<F: WinogradTransform> {
    let base: WinogradKernel<F>
    var problem: WinogradProblem { base.problem }

    /// The result of every image, as ``WinogradKernel/run(source:transformedFilter:bias:epilogue:result:scratch:workers:)``.
    func run<T: ConvScalar>(source: UnsafePointer<T>, transformedFilter u: UnsafePointer<T>, bias: UnsafePointer<T>?,
                            epilogue: Epilogue<T>, result: UnsafeMutablePointer<T>, scratch: UnsafeMutablePointer<T>,
                            workers: Int) {
        let p = problem, a2 = WinogradKernel<F>.positions
        let Ci = p.inputChannels, Co = p.outputChannels
        let total = p.batch * base.tileRows * base.tileColumns
        guard total > 0 else { return }
        let (block, blocks) = base.blocking(tiles: total, workers: workers)
        let perWorker = base.perWorker
        parallelItems(workers, count: p.groups * blocks) { w, item in
            let grp = item / blocks, first = (item % blocks) * block
            let count = min(block, total - first)
            let v = BlockMatrices(start: scratch + w * perWorker, rows: block, ld: Ci, count: a2)
            let mm = BlockMatrices(start: v.end, rows: block, ld: Co, count: a2)
            transformInput(source, group: grp, tiles: first..<(first + count), into: v)
            for xi in 0..<a2 {
                BLAS.uncheckedGEMM(transposeA: .none, transposeB: .transpose, m: count, n: Co, k: Ci, alpha: 1,
                                   a: v.matrix(xi), lda: Ci, b: u + (grp * a2 + xi) * Co * Ci, ldb: Ci,
                                   beta: 0, c: mm.matrix(xi), ldc: Co)
            }
            transformOutput(mm, group: grp, tiles: first..<(first + count), bias: bias, epilogue: epilogue,
                            into: result)
        }
    }

    /// V of the block's `tiles`: row t (the block's t-th tile), channels `c ..< c + 8` of matrix ξν from the
    /// tile's α×α pixels, 8 channels at a time (padding and pixels past the source read zero).
    func transformInput<T: ConvScalar>(_ source: UnsafePointer<T>, group grp: Int, tiles: Range<Int>,
                                       into v: BlockMatrices<T>) {
        let p = problem, a = F.alpha, a2 = WinogradKernel<F>.positions, Ci = p.inputChannels
        let H = p.inputHeight, W = p.inputWidth, pixel = p.groups * Ci
        withUnsafeTemporaryAllocation(of: SIMD8<T>.self, capacity: a2) { buffer in
            let d = buffer.baseAddress!  // Safe: capacity > 0.
            for (row, t) in tiles.enumerated() {
                let o = base.origin(of: t)
                let y0 = o.row - p.padTop, x0 = o.column - p.padLeft
                let image = source + o.image * H * W * pixel + grp * Ci
                let ys = Axis.validRange(offset: y0, stride: 1, extent: H, count: a)
                let xs = Axis.validRange(offset: x0, stride: 1, extent: W, count: a)
                let interior = ys.count == a && xs.count == a
                var c = 0
                while c < Ci {
                    let count = min(8, Ci - c)
                    if !interior { for i in 0..<a2 { d[i] = SIMD8() } }
                    // Safe: (y0 + y, x0 + x) is inside the source for y in ys, x in xs.
                    for y in ys {
                        let line = image + ((y0 + y) * W + x0) * pixel + c
                        for x in xs { d[y &* a &+ x] = Self.load(line + x * pixel, count) }
                    }
                    F.input(d)
                    for xi in 0..<a2 { Self.store(d[xi], v.matrix(xi) + row * Ci + c, count) }
                    c += 8
                }
            }
        }
    }

    /// The block's result tiles from M (row t, channels `k ..< k + 8` of matrix ξν), plus the bias, cropped to the
    /// result; each run of 8 result channels gets the epilogue as soon as it is stored.
    func transformOutput<T: ConvScalar>(_ mm: BlockMatrices<T>, group grp: Int, tiles: Range<Int>,
                                        bias: UnsafePointer<T>?, epilogue: Epilogue<T>,
                                        into result: UnsafeMutablePointer<T>) {
        let p = problem, a = F.alpha, a2 = WinogradKernel<F>.positions, m = F.m, Co = p.outputChannels
        let P = p.outputHeight, Q = p.outputWidth, pixel = p.groups * Co
        withUnsafeTemporaryAllocation(of: SIMD8<T>.self, capacity: a2 + m * m + m * a) { buffer in
            let t = buffer.baseAddress!, y = t + a2, scratch = y + m * m  // Safe: capacity > 0.
            for (row, tile) in tiles.enumerated() {
                let o = base.origin(of: tile)
                let rows = min(m, P - o.row), columns = min(m, Q - o.column)
                let out = result + ((o.image * P + o.row) * Q + o.column) * pixel + grp * Co
                var k = 0
                while k < Co {
                    let count = min(8, Co - k)
                    for xi in 0..<a2 { t[xi] = Self.load(mm.matrix(xi) + row * Co + k, count) }
                    F.output(UnsafePointer(t), into: y, scratch: scratch)
                    if let bias {
                        let b = Self.load(bias + grp * Co + k, count)
                        for i in 0..<(m * m) { y[i] += b }
                    }
                    for i in 0..<rows {
                        for j in 0..<columns {
                            let dst = out + (i * Q + j) * pixel + k
                            Self.store(y[i &* m &+ j], dst, count)
                            epilogue.apply(dst, count: count)
                        }
                    }
                    k += 8
                }
            }
        }
    }

    /// `count` (1 to 8) consecutive elements as lanes, the others zero.
    @inline(__always)
    static func load<T: ConvScalar>(_ p: UnsafePointer<T>, _ count: Int) -> SIMD8<T> {
        if count == 8 { return loadLanes(p) }
        var v = SIMD8<T>()
        for l in 0..<count { v[l] = p[l] }
        return v
    }

    /// The first `count` (1 to 8) lanes to consecutive elements.
    @inline(__always)
    static func store<T: ConvScalar>(_ v: SIMD8<T>, _ p: UnsafeMutablePointer<T>, _ count: Int) {
        if count == 8 { storeLanes(v, p); return }
        for l in 0..<count { p[l] = v[l] }
    }
}
