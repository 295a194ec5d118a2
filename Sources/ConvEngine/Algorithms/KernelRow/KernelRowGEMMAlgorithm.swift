/// ``ConvAlgorithm/kernelRowGEMM``: per tile, the lowering `L` of ``KernelRowLowering`` and one GEMM per kernel
/// row `r` reading it at a constant offset: `O += F(r)·L(r)`, `dF(r) += dO·L(r)ᵀ`, `dL(r) += F(r)ᵀ·dO`, then `dL`
/// added back into dX (a third of col2im's work on a 3×3 kernel). Multi-image tiles interleave the images row by
/// row so that a shift by one row moves every image's columns together.
struct KernelRowGEMMAlgorithm: LoweredAlgorithm {
    static var algorithm: ConvAlgorithm { .kernelRowGEMM }
    static var columnOrder: TileColumnOrder { .rowInterleaved }
    /// Every worker sums its share packed per kernel row (`[r][k][c][s]`), so dF is written by unpacking.
    static var filterSumsInPlace: Bool { false }

    /// The automatic plan uses the kernel-row lowering when its GEMMs' inner dimension, `C/G·S`, is at least
    /// this: below it (ResNet's conv1, 3·7; MNIST's, 1·5) the R accumulating GEMMs are too thin and the tiled
    /// im2col is faster.
    static let minimumInnerSize = 64

    let geometry: ConvGeometry
    let tile: ConvTile
    let workers: Int
    let rows: KernelRowLowering

    init(_ geometry: ConvGeometry, plan: ConvPlan) {
        self.geometry = geometry
        tile = plan.tile
        workers = plan.workers
        rows = KernelRowLowering(geometry)
    }

    static func inapplicability(to g: ConvGeometry) -> String? {
        // The lowering stores, per stride phase, the tile's rows plus the dilated kernel's extra rows, against
        // im2col's R rows per output row (see ScratchBound).
        let rows = KernelRowLowering(g), P = g.outputHeight, R = g.kernelHeight
        let (stored, o1) = P.addingReportingOverflow(rows.extraRows)
        let (lowered, o2) = rows.phaseCount.multipliedReportingOverflow(by: stored)
        let (im2col, o3) = R.multipliedReportingOverflow(by: P)
        return ScratchBound.violation("lowered rows", size: o1 || o2 ? nil : lowered, canonical: o3 ? Int.max : im2col)
            .map { "\($0); got \(g)" }
    }

    static func isAutomaticChoice(for g: ConvGeometry) -> Bool {
        g.kernelHeight > 1 && g.inputChannelsPerGroup * g.kernelWidth >= minimumInnerSize
            && KernelRowLowering(g).isSmallerThanIm2col
    }

    /// `L` holds about `1/R` of an im2col per column, so its tiles get R times the columns.
    static func initialTile(for g: ConvGeometry, policy: TilePolicy) -> ConvTile {
        TileSizing.tile(for: g, policy: policy, loweredRowsPerColumn: KernelRowLowering(g).loweredRowsPerColumn,
                        minimumColumns: KernelRowLowering.minimumTileColumns, readsInputRuns: false)
    }

    static func smallerTile(than tile: ConvTile, for g: ConvGeometry) -> ConvTile? { TileSizing.smaller(than: tile, for: g) }

    func needs(for pass: ConvPass) throws(ConvError) -> LoweringNeeds {
        // One lowered tile serves the forward pass, the filter gradient and (as dL) the input gradient.
        let gradients = pass.gradients
        var needs = LoweringNeeds()
        if pass == .forward || !gradients.intersection([.filter, .input]).isEmpty {
            let g = geometry
            let images = tileRows >= g.outputHeight ? tileRows / g.outputHeight : 1
            needs.lowered = try rows.loweredCount(rows: min(tileRows, g.outputHeight), images: images)
        }
        if pass == .forward || gradients.contains(.input) { needs.packedFilter = geometry.filterCount }
        return needs
    }

    func prepare<T: ConvScalar>(filter: UnsafePointer<T>, workspace: UnsafeMutablePointer<T>, _ layout: LoweredLayout,
                                workers: Int) {
        rows.repackFilter(filter, into: layout.packedFilter.at(workspace), workers: workers)
    }

    /// The filter repacked per kernel row (`|F|` elements).
    func preparedFilterCount() throws(ConvError) -> Int? { geometry.filterCount }

    func prepareFilter<T: ConvScalar>(_ filter: UnsafePointer<T>, into prepared: UnsafeMutablePointer<T>, workers: Int) {
        rows.repackFilter(filter, into: prepared, workers: workers)
    }

    /// Kernel row `r`'s view of the tile's `L`, and that view's leading dimension.
    @inline(__always)
    private func operand<T>(_ l: UnsafeMutablePointer<T>, _ tile: Tile, row r: Int) -> (UnsafeMutablePointer<T>, Int) {
        let g = geometry
        let nb = tile.images.count, stored = tile.rows.count + rows.extraRows
        let slot = r % rows.phasePeriod
        let shift = r * g.dilationHeight / g.strideHeight
        return (l + (slot * stored + shift) * nb * g.outputWidth, rows.phaseCount * stored * nb * g.outputWidth)
    }

    /// Kernel row `r`'s `K/G × C/G·S` filter block of group `grp`, in the packed filter.
    @inline(__always)
    private func filterBlock<T>(_ packed: UnsafeMutablePointer<T>, row r: Int, group grp: Int) -> UnsafePointer<T> {
        let g = geometry
        return UnsafePointer(packed + (r * g.outputChannels + grp * g.outputChannelsPerGroup) * rows.loweredRows)
    }

    func forwardGEMM<T: ConvScalar>(_ tile: Tile, group grp: Int, input x: UnsafePointer<T>, filter f: UnsafePointer<T>,
                                    into c: UnsafeMutablePointer<T>, ldc: Int, beta: T, _ scratch: TileScratch<T>) {
        let Kg = geometry.outputChannelsPerGroup, CgS = rows.loweredRows
        rows.lower(x, group: grp, images: tile.images, rows: tile.rows, into: scratch.lowered)
        for r in 0..<geometry.kernelHeight {
            let (b, ldb) = operand(scratch.lowered, tile, row: r)
            BLAS.uncheckedGEMM(transposeA: .none, transposeB: .none, m: Kg, n: tile.columns, k: CgS, alpha: 1,
                               a: filterBlock(scratch.packedFilter, row: r, group: grp), lda: CgS, b: b, ldb: ldb,
                               beta: r == 0 ? beta : 1, c: c, ldc: ldc)
        }
    }

    func weightGEMM<T: ConvScalar>(_ tile: Tile, group grp: Int, input x: UnsafePointer<T>,
                                   outputGradient dO: UnsafePointer<T>, ldo: Int,
                                   into sums: UnsafeMutablePointer<T>, beta: T, _ scratch: TileScratch<T>) {
        let g = geometry
        let Kg = g.outputChannelsPerGroup, CgS = rows.loweredRows
        rows.lower(x, group: grp, images: tile.images, rows: tile.rows, into: scratch.lowered)
        for r in 0..<g.kernelHeight {
            let (b, ldb) = operand(scratch.lowered, tile, row: r)
            BLAS.uncheckedGEMM(transposeA: .none, transposeB: .transpose, m: Kg, n: CgS, k: tile.columns, alpha: 1,
                               a: dO, lda: ldo, b: b, ldb: ldb,
                               beta: beta, c: sums + (r * g.outputChannels + grp * Kg) * CgS, ldc: CgS)
        }
    }

    func inputGEMM<T: ConvScalar>(_ tile: Tile, group grp: Int, filter f: UnsafePointer<T>,
                                  outputGradient dO: UnsafePointer<T>, ldo: Int,
                                  into dX: UnsafeMutablePointer<T>, _ scratch: TileScratch<T>) {
        let g = geometry
        let Kg = g.outputChannelsPerGroup, CgS = rows.loweredRows, Cg = g.inputChannelsPerGroup
        let HW = g.inputHeight * g.inputWidth
        let l = scratch.lowered
        // The kernel rows' contributions overlap (shifted by whole rows), so they add into a zeroed L.
        let (_, ldl) = operand(l, tile, row: 0)
        l.update(repeating: 0, count: ldl * CgS)
        for r in 0..<g.kernelHeight {
            let (c, ldc) = operand(l, tile, row: r)
            BLAS.uncheckedGEMM(transposeA: .transpose, transposeB: .none, m: CgS, n: tile.columns, k: Kg, alpha: 1,
                               a: filterBlock(scratch.packedFilter, row: r, group: grp), lda: CgS, b: dO, ldb: ldo,
                               beta: 1, c: c, ldc: ldc)
        }
        if tile.rows.lowerBound == 0 {
            // The first band of an image starts its gradient; later bands (and overlaps) add to it.
            for n in tile.images { (dX + (n * g.inputChannels + grp * Cg) * HW).update(repeating: 0, count: Cg * HW) }
        }
        rows.unlower(l, group: grp, images: tile.images, rows: tile.rows, into: dX)
    }

    /// `dF[k][c][r][s]` = the workers' packed sums added in worker order; split by output channel.
    func finishFilterGradient<T: ConvScalar>(sums: UnsafeMutablePointer<T>, parts: Int,
                                             into dF: UnsafeMutablePointer<T>, workers: Int) {
        let g = geometry
        let K = g.outputChannels, Cg = g.inputChannelsPerGroup, R = g.kernelHeight, S = g.kernelWidth
        let filterCount = g.filterCount
        let split = min(workers, K)
        parallelFor(split) { w in
            for k in share(of: K, worker: w, of: split) {
                for c in 0..<Cg {
                    for r in 0..<R {
                        let dst = dF + ((k * Cg + c) * R + r) * S
                        let offset = ((r * K + k) * Cg + c) * S
                        copyRow(dst, sums + offset, S)
                        for part in 1..<max(1, parts) { addRow(dst, sums + part * filterCount + offset, S) }
                    }
                }
            }
        }
    }
}
