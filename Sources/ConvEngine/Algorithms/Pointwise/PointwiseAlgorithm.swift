/// ``ConvAlgorithm/pointwise``: a 1×1 kernel at stride 1 without padding reads every input pixel once, so the
/// image (`C/G × H·W`, `H·W = P·Q`) already is its column matrix and each step is one GEMM per image and group,
/// with no im2col and no col2im.
struct PointwiseAlgorithm: LoweredAlgorithm {
    static var algorithm: ConvAlgorithm { .pointwise }
    static var columnOrder: TileColumnOrder { .imageMajor }
    let geometry: ConvGeometry
    let workers: Int
    /// Tiles are whole single images: only one image's columns are adjacent in X.
    var tile: ConvTile { .images(1) }

    init(_ geometry: ConvGeometry, plan: ConvPlan) {
        self.geometry = geometry
        workers = plan.workers
    }

    static func inapplicability(to g: ConvGeometry) -> String? {
        g.isPointwise ? nil : "needs a 1×1 kernel, stride 1 and no padding; got \(g)"
    }

    static func isAutomaticChoice(for g: ConvGeometry) -> Bool { g.isPointwise }

    /// Over a workspace limit (the filter-gradient sums of many workers), the automatic plan takes the tiled
    /// im2col, which can shrink.
    static var workspaceFallback: ConvAlgorithm? { .tiledIm2col }

    func needs(for pass: ConvPass) -> LoweringNeeds { LoweringNeeds() }

    /// Group `grp` of the tile's (single) image, as a `C/G × P·Q` matrix with rows `P·Q` apart.
    @inline(__always)
    private func columns<T>(_ x: UnsafePointer<T>, _ tile: Tile, _ grp: Int) -> UnsafePointer<T> {
        let g = geometry
        return x + (tile.images.lowerBound * g.inputChannels + grp * g.inputChannelsPerGroup) * g.columnColumns
    }

    func forwardGEMM<T: ConvScalar>(_ tile: Tile, group grp: Int, input x: UnsafePointer<T>, filter f: UnsafePointer<T>,
                                    into c: UnsafeMutablePointer<T>, ldc: Int, beta: T, _ scratch: TileScratch<T>) {
        let g = geometry
        let Kg = g.outputChannelsPerGroup, Cg = g.inputChannelsPerGroup
        BLAS.uncheckedGEMM(transposeA: .none, transposeB: .none, m: Kg, n: tile.columns, k: Cg, alpha: 1,
                           a: f + grp * Kg * Cg, lda: Cg, b: columns(x, tile, grp), ldb: g.columnColumns,
                           beta: beta, c: c, ldc: ldc)
    }

    func weightGEMM<T: ConvScalar>(_ tile: Tile, group grp: Int, input x: UnsafePointer<T>,
                                   outputGradient dO: UnsafePointer<T>, ldo: Int,
                                   into sums: UnsafeMutablePointer<T>, beta: T, _ scratch: TileScratch<T>) {
        let g = geometry
        let Kg = g.outputChannelsPerGroup, Cg = g.inputChannelsPerGroup
        BLAS.uncheckedGEMM(transposeA: .none, transposeB: .transpose, m: Kg, n: Cg, k: tile.columns, alpha: 1,
                           a: dO, lda: ldo, b: columns(x, tile, grp), ldb: g.columnColumns,
                           beta: beta, c: sums + grp * Kg * Cg, ldc: Cg)
    }

    func inputGEMM<T: ConvScalar>(_ tile: Tile, group grp: Int, filter f: UnsafePointer<T>,
                                  outputGradient dO: UnsafePointer<T>, ldo: Int,
                                  into dX: UnsafeMutablePointer<T>, _ scratch: TileScratch<T>) {
        let g = geometry
        let Kg = g.outputChannelsPerGroup, Cg = g.inputChannelsPerGroup
        let dXg = dX + (tile.images.lowerBound * g.inputChannels + grp * Cg) * g.columnColumns
        BLAS.uncheckedGEMM(transposeA: .transpose, transposeB: .none, m: Cg, n: tile.columns, k: Kg, alpha: 1,
                           a: f + grp * Kg * Cg, lda: Cg, b: dO, ldb: ldo, beta: 0, c: dXg, ldc: g.columnColumns)
    }
}
