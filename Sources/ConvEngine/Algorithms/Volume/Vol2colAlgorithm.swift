/// ``ConvAlgorithm3D/vol2col``: per tile of output planes, the whole lowering (``VolumeLowering/vol2col(_:planes:into:ld:)``)
/// and one GEMM per group and step, as in the GEMM table of <doc:TheMathAndTheLowering> with rows `(c, t, r, s)`
/// and columns `(e, p, q)`: `O = F·col + B`, `dF += dO·colᵀ`, `dcol = Fᵀ·dO` then col2vol.
struct Vol2colAlgorithm: VolumeAlgorithm {
    static var algorithm: ConvAlgorithm3D { .vol2col }
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

    static func inapplicability(to geometry: ConvGeometry3D) -> String? { nil }

    /// The fallback of the automatic rule: every geometry the kernel-depth GEMMs do not take.
    static func isAutomaticChoice(for geometry: ConvGeometry3D) -> Bool { true }

    /// As many planes as fit the tile budget with their GEMM result (`C/G·T·R·S + K/G` elements per column), at
    /// least one.
    static func initialPlanes(for g: ConvGeometry3D, policy: TilePolicy) -> Int {
        let perPlane = (g.columnRows + g.outputChannelsPerGroup)
            .multipliedReportingOverflow(by: g.outputHeight * g.outputWidth * policy.scalarBytes)
        guard !perPlane.overflow, perPlane.partialValue > 0 else { return 1 }
        return max(1, min(g.outputDepth, policy.budgetBytes / perPlane.partialValue))
    }

    func loweredCount() throws(ConvError) -> Int {
        try checkedProduct(geometry.columnRows, planesPerTile, geometry.outputHeight, geometry.outputWidth,
                           quantity: "vol2col tile")
    }

    func forwardTile<T: ConvScalar>(planes: Range<Int>, group grp: Int, input x: UnsafePointer<T>,
                                    filter f: UnsafePointer<T>, into c: UnsafeMutablePointer<T>, ldc: Int, beta: T,
                                    lowered: UnsafeMutablePointer<T>) {
        let g = geometry, Kg = g.outputChannelsPerGroup, rows = g.columnRows
        let columns = planes.count * lowering.planeColumns
        lowering.vol2col(x, planes: planes, into: lowered, ld: columns)
        BLAS.uncheckedGEMM(transposeA: .none, transposeB: .none, m: Kg, n: columns, k: rows, alpha: 1,
                           a: f + grp * Kg * rows, lda: rows, b: lowered, ldb: columns, beta: beta, c: c, ldc: ldc)
    }

    func weightTile<T: ConvScalar>(planes: Range<Int>, group grp: Int, input x: UnsafePointer<T>,
                                   outputGradient dO: UnsafePointer<T>, ldo: Int, into sums: UnsafeMutablePointer<T>,
                                   lowered: UnsafeMutablePointer<T>) {
        let g = geometry, Kg = g.outputChannelsPerGroup, rows = g.columnRows
        let columns = planes.count * lowering.planeColumns
        lowering.vol2col(x, planes: planes, into: lowered, ld: columns)
        BLAS.uncheckedGEMM(transposeA: .none, transposeB: .transpose, m: Kg, n: rows, k: columns, alpha: 1,
                           a: dO, lda: ldo, b: lowered, ldb: columns, beta: 1, c: sums + grp * Kg * rows, ldc: rows)
    }

    func inputTile<T: ConvScalar>(planes: Range<Int>, group grp: Int, channels: Range<Int>, filter f: UnsafePointer<T>,
                                  outputGradient dO: UnsafePointer<T>, ldo: Int,
                                  into dX: UnsafeMutablePointer<T>, lowered: UnsafeMutablePointer<T>) {
        let g = geometry, Kg = g.outputChannelsPerGroup, rows = g.columnRows
        let columns = planes.count * lowering.planeColumns
        // Channel c owns rows c·T·R·S ..< (c + 1)·T·R·S of dcol (and of F_g's columns).
        let rowsPerChannel = g.kernelDepth * lowering.tapsPerPlane
        let DHW = g.inputDepth * lowering.planeSize
        BLAS.uncheckedGEMM(transposeA: .transpose, transposeB: .none, m: channels.count * rowsPerChannel, n: columns,
                           k: Kg, alpha: 1, a: f + grp * Kg * rows + channels.lowerBound * rowsPerChannel, lda: rows,
                           b: dO, ldb: ldo, beta: 0, c: lowered, ldc: columns)
        lowering.channels(channels.count).col2vol(lowered, planes: planes, ld: columns,
                                                  into: dX + channels.lowerBound * DHW)
    }
}
