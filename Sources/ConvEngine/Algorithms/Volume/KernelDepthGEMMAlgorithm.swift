/// ``ConvAlgorithm3D/kernelDepthGEMM``: per tile of output planes, the 2-D lowering of each input plane the tile
/// reads, once (``VolumeLowering/lowerPlanes(_:inputPlanes:into:ld:)``: rows `(c, r, s)`, columns `(d, p, q)`),
/// then one GEMM per kernel-depth tap `t` reading it at that tap's planes:
///
///     O[:, e]      += F_t · L[:, e·sd − front + t·dd]       (every t, onto the bias)
///     dF_t         += dO[:, e] · L[:, e·sd − front + t·dd]ᵀ
///     dL[:, d(e,t)] += F_tᵀ · dO[:, e]                       then dL added back plane by plane (col2im)
///
/// with `F_t` the `K/G × C/G·R·S` slice of the filter at depth tap `t` (the filter is repacked `[t][k][c][r][s]`
/// once per call, and the filter gradient is summed in that layout and unpacked at the end). At depth stride 1
/// a tap's output planes read consecutive input planes, so each tap is one GEMM over the whole tile; at a larger
/// depth stride it is one GEMM per output plane.
struct KernelDepthGEMMAlgorithm: VolumeAlgorithm {
    static var algorithm: ConvAlgorithm3D { .kernelDepthGEMM }
    let geometry: ConvGeometry3D
    let planesPerTile: Int
    let workers: Int
    let lowering: VolumeLowering

    init(_ geometry: ConvGeometry3D, plan: ConvPlan3D) {
        self.geometry = geometry
        planesPerTile = plan.planesPerTile
        workers = plan.workers
        lowering = VolumeLowering(geometry)
    }

    /// Input planes a tile of `planes` output planes reads at most: `min(D, (planes − 1)·sd + dd·(T − 1) + 1)`,
    /// or `nil` when that overflows `Int`.
    static func spanPlanes(_ g: ConvGeometry3D, planes: Int) -> Int? {
        let (a, o1) = (planes - 1).multipliedReportingOverflow(by: g.strideDepth)
        let (b, o2) = a.addingReportingOverflow(g.dilationDepth * (g.kernelDepth - 1) + 1)
        return o1 || o2 ? nil : min(g.inputDepth, b)
    }

    static func inapplicability(to g: ConvGeometry3D) -> String? {
        // A one-plane tile lowers every input plane its dilated kernel spans, against vol2col's T planes per
        // output plane (see ScratchBound): a depth dilation far larger than the kernel would lower planes no tap reads.
        let planeRows = g.inputChannelsPerGroup * g.kernelHeight * g.kernelWidth, PQ = g.outputHeight * g.outputWidth
        let span = spanPlanes(g, planes: 1) ?? Int.max
        let (size, o1) = span.multipliedReportingOverflow(by: planeRows * PQ)
        return ScratchBound.violation("lowered planes", size: o1 ? nil : size, canonical: g.columnRows * PQ)
            .map { "\($0); got \(g)" }
    }

    /// The automatic plan uses the kernel-depth GEMMs when their inner dimension, `C/G·R·S`, is at least this
    /// (as ``KernelRowGEMMAlgorithm/minimumInnerSize``: below it the T accumulating GEMMs are too thin).
    static let minimumInnerSize = 64

    /// Automatic for kernels of several planes at depth stride 1 (each tap is then one GEMM over the whole
    /// tile) whose GEMMs are not thin; see <doc:ThreeDimensionalConvolution> for the measurements.
    static func isAutomaticChoice(for g: ConvGeometry3D) -> Bool {
        g.kernelDepth > 1 && g.strideDepth == 1
            && g.inputChannelsPerGroup * g.kernelHeight * g.kernelWidth >= minimumInnerSize
    }

    /// As many planes as fit the tile budget (about `C/G·R·S·sd + K/G` elements per output column), but at least
    /// twice the planes of the depth halo, `⌈2·dd·(T − 1)/sd⌉`: a tile lowers the `dd·(T − 1)` input planes it
    /// shares with the next tile again, and below that the repeated lowering costs more than the smaller tile
    /// saves (benchmark shape, one worker, CPU time: 51 ms forward with 1-plane tiles, 34 ms with 4-plane tiles).
    static func initialPlanes(for g: ConvGeometry3D, policy: TilePolicy) -> Int {
        let planeRows = g.inputChannelsPerGroup * g.kernelHeight * g.kernelWidth, PQ = g.outputHeight * g.outputWidth
        let (perPlane, overflow) = (planeRows * g.strideDepth + g.outputChannelsPerGroup)
            .multipliedReportingOverflow(by: PQ * policy.scalarBytes)
        let budgetPlanes = overflow || perPlane <= 0 ? 1 : policy.budgetBytes / perPlane
        // Safe: dd·(T − 1) is below the padded depth, which fits `Int`; twice it may not, and then E bounds it.
        let (halo2, haloOverflow) = (g.dilationDepth * (g.kernelDepth - 1)).multipliedReportingOverflow(by: 2)
        let haloPlanes = haloOverflow || halo2 == 0 ? 1 : min(g.outputDepth, (halo2 - 1) / g.strideDepth + 1)
        return max(1, min(g.outputDepth, max(budgetPlanes, haloPlanes)))
    }

    func loweredCount() throws(ConvError) -> Int {
        let g = geometry
        guard let span = Self.spanPlanes(g, planes: planesPerTile) else { throw .sizeOverflow(quantity: "lowered planes") }
        return try checkedProduct(g.inputChannelsPerGroup, g.kernelHeight, g.kernelWidth, span, g.outputHeight,
                                  g.outputWidth, quantity: "lowered planes")
    }

    var packedFilterCount: Int { geometry.filterCount }

    /// `packed[t][k][c][r][s] = F[k][c][t][r][s]`: each tap's filter a contiguous `K × C/G·R·S` matrix.
    func packFilter<T: ConvScalar>(_ f: UnsafePointer<T>, into packed: UnsafeMutablePointer<T>) {
        let g = geometry, K = g.outputChannels, Cg = g.inputChannelsPerGroup, T_ = g.kernelDepth
        let RS = lowering.tapsPerPlane
        for k in 0..<K {
            for c in 0..<Cg {
                for t in 0..<T_ {
                    copyRow(packed + ((t * K + k) * Cg + c) * RS, f + ((k * Cg + c) * T_ + t) * RS, RS)
                }
            }
        }
    }

    /// Adds the blocks in order into the first, then unpacks it into dF (the inverse of ``packFilter(_:into:)``).
    func finishFilterGradient<T: ConvScalar>(sums: UnsafeMutablePointer<T>, parts: Int,
                                             into dF: UnsafeMutablePointer<T>, workers: Int) {
        addBlocks(sums, parts: parts, into: sums, workers: workers)
        let g = geometry, K = g.outputChannels, Cg = g.inputChannelsPerGroup, T_ = g.kernelDepth
        let RS = lowering.tapsPerPlane
        for k in 0..<K {
            for c in 0..<Cg {
                for t in 0..<T_ {
                    copyRow(dF + ((k * Cg + c) * T_ + t) * RS, sums + ((t * K + k) * Cg + c) * RS, RS)
                }
            }
        }
    }

    /// Calls `body(outputPlanes, firstInputPlane)` for each GEMM of tap `t` over the tile: the tap's valid
    /// output planes in one run at depth stride 1 (they read consecutive input planes), else one plane at a time.
    @inline(__always)
    private func forEachRun(_ t: Int, _ planes: Range<Int>, _ body: (Range<Int>, Int) -> Void) {
        let (offset, valid) = lowering.tapPlanes(t, among: planes)
        if valid.isEmpty { return }
        let sd = lowering.depth.stride
        if sd == 1 {
            body(valid, valid.lowerBound + offset)
            return
        }
        for e in valid { body(e..<e + 1, e * sd + offset) }
    }

    func forwardTile<T: ConvScalar>(planes: Range<Int>, group grp: Int, input x: UnsafePointer<T>,
                                    filter packed: UnsafePointer<T>, into c: UnsafeMutablePointer<T>, ldc: Int,
                                    beta: T, lowered: UnsafeMutablePointer<T>) {
        let g = geometry, K = g.outputChannels, Kg = g.outputChannelsPerGroup
        let rows = g.inputChannelsPerGroup * lowering.tapsPerPlane, PQ = lowering.planeColumns
        // Taps reach different planes of the tile, so every GEMM accumulates: without a bias, start from zero.
        if beta == 0 { for k in 0..<Kg { zeroRow(c + k * ldc, planes.count * PQ) } }
        let span = lowering.depth.inputSpan(of: planes)
        let ld = span.count * PQ
        lowering.lowerPlanes(x, inputPlanes: span, into: lowered, ld: ld)
        for t in 0..<g.kernelDepth {
            forEachRun(t, planes) { run, d in
                BLAS.uncheckedGEMM(transposeA: .none, transposeB: .none, m: Kg, n: run.count * PQ, k: rows,
                                   alpha: 1, a: packed + (t * K + grp * Kg) * rows, lda: rows,
                                   b: lowered + (d - span.lowerBound) * PQ, ldb: ld, beta: 1,
                                   c: c + (run.lowerBound - planes.lowerBound) * PQ, ldc: ldc)
            }
        }
    }

    func weightTile<T: ConvScalar>(planes: Range<Int>, group grp: Int, input x: UnsafePointer<T>,
                                   outputGradient dO: UnsafePointer<T>, ldo: Int, into sums: UnsafeMutablePointer<T>,
                                   lowered: UnsafeMutablePointer<T>) {
        let g = geometry, K = g.outputChannels, Kg = g.outputChannelsPerGroup
        let rows = g.inputChannelsPerGroup * lowering.tapsPerPlane, PQ = lowering.planeColumns
        let span = lowering.depth.inputSpan(of: planes)
        let ld = span.count * PQ
        lowering.lowerPlanes(x, inputPlanes: span, into: lowered, ld: ld)
        for t in 0..<g.kernelDepth {
            forEachRun(t, planes) { run, d in
                BLAS.uncheckedGEMM(transposeA: .none, transposeB: .transpose, m: Kg, n: rows, k: run.count * PQ,
                                   alpha: 1, a: dO + (run.lowerBound - planes.lowerBound) * PQ, lda: ldo,
                                   b: lowered + (d - span.lowerBound) * PQ, ldb: ld, beta: 1,
                                   c: sums + (t * K + grp * Kg) * rows, ldc: rows)
            }
        }
    }

    func inputTile<T: ConvScalar>(planes: Range<Int>, group grp: Int, channels: Range<Int>,
                                  filter packed: UnsafePointer<T>, outputGradient dO: UnsafePointer<T>, ldo: Int,
                                  into dX: UnsafeMutablePointer<T>, lowered: UnsafeMutablePointer<T>) {
        let g = geometry, K = g.outputChannels, Kg = g.outputChannelsPerGroup, RS = lowering.tapsPerPlane
        let rows = g.inputChannelsPerGroup * RS, PQ = lowering.planeColumns
        let span = lowering.depth.inputSpan(of: planes)
        let ld = span.count * PQ
        // Channel c owns rows c·R·S ..< (c + 1)·R·S of dL (and of each F_t's columns).
        let m = channels.count * RS
        // Several taps add into the same input plane's columns: start from zero and accumulate.
        zeroRow(lowered, m * ld)
        for t in 0..<g.kernelDepth {
            forEachRun(t, planes) { run, d in
                BLAS.uncheckedGEMM(transposeA: .transpose, transposeB: .none, m: m, n: run.count * PQ, k: Kg,
                                   alpha: 1, a: packed + (t * K + grp * Kg) * rows + channels.lowerBound * RS, lda: rows,
                                   b: dO + (run.lowerBound - planes.lowerBound) * PQ, ldb: ldo, beta: 1,
                                   c: lowered + (d - span.lowerBound) * PQ, ldc: ld)
            }
        }
        lowering.channels(channels.count).addPlanes(lowered, inputPlanes: span, ld: ld,
                                                    into: dX + channels.lowerBound * g.inputDepth * lowering.planeSize)
    }
}
