/// The per-tile steps of the im2col lowerings (``Im2colAlgorithm`` and ``TiledIm2colAlgorithm``): im2col of the
/// tile, then one GEMM per group, as in the GEMM table of <doc:TheMathAndTheLowering>; col2im for the input
/// gradient.
protocol Im2colLowering: LoweredAlgorithm {
    /// The im2col of one group of one image.
    var lowering: Lowering { get }
    /// Whether images are first split into horizontal stride phases, so every row copy is contiguous.
    var usesStridePhases: Bool { get }
}

extension Im2colLowering {
    static var columnOrder: TileColumnOrder { .imageMajor }

    /// Splitting into phases costs a pass over the input rows; it pays when several taps read each phase row
    /// (a kernel wider than the stride, like ResNet's 7×7/2), not for 1×1/2 or 2×2/2. Only while the stride is
    /// at most the width: beyond it a phase holds one column and its buffer grows with the stride.
    static func stridePhasesPay(_ g: ConvGeometry) -> Bool {
        g.strideWidth > 1 && g.strideWidth <= g.inputWidth && g.kernelWidth > g.strideWidth
    }

    func needs(for pass: ConvPass) throws(ConvError) -> LoweringNeeds {
        let g = geometry
        let gradients = pass.gradients
        var needs = LoweringNeeds()
        let lowersInput = pass == .forward || gradients.contains(.filter)
        if lowersInput || gradients.contains(.input) {
            let columns = try checkedProduct(tileRows, g.outputWidth, quantity: "tile columns")
            needs.lowered = try checkedProduct(g.columnRows, columns, quantity: "column buffer")
        }
        if usesStridePhases {
            let phaseRow = g.widthAxis.phaseLength(of: g.inputWidth)
            if lowersInput {
                needs.inputStaging = try checkedProduct(g.inputChannelsPerGroup, g.strideWidth, g.inputHeight,
                                                        phaseRow, quantity: "phase buffer")
            }
            if gradients.contains(.input) {
                needs.gradientStaging = try checkedProduct(g.inputChannels, g.strideWidth, g.inputHeight, phaseRow,
                                                           quantity: "phase buffer")
            }
        }
        return needs
    }

    func forwardGEMM<T: ConvScalar>(_ tile: Tile, group grp: Int, input x: UnsafePointer<T>, filter f: UnsafePointer<T>,
                                    into c: UnsafeMutablePointer<T>, ldc: Int, beta: T, _ scratch: TileScratch<T>) {
        let g = geometry
        lower(tile, group: grp, x, scratch)
        BLAS.uncheckedGEMM(transposeA: .none, transposeB: .none, m: g.outputChannelsPerGroup, n: tile.columns,
                           k: g.columnRows, alpha: 1, a: f + grp * g.outputChannelsPerGroup * g.columnRows,
                           lda: g.columnRows, b: scratch.lowered, ldb: tile.columns, beta: beta, c: c, ldc: ldc)
    }

    func weightGEMM<T: ConvScalar>(_ tile: Tile, group grp: Int, input x: UnsafePointer<T>,
                                   outputGradient dO: UnsafePointer<T>, ldo: Int,
                                   into sums: UnsafeMutablePointer<T>, beta: T, _ scratch: TileScratch<T>) {
        let g = geometry
        let Kg = g.outputChannelsPerGroup, CgRS = g.columnRows
        lower(tile, group: grp, x, scratch)
        BLAS.uncheckedGEMM(transposeA: .none, transposeB: .transpose, m: Kg, n: CgRS, k: tile.columns,
                           alpha: 1, a: dO, lda: ldo, b: scratch.lowered, ldb: tile.columns,
                           beta: beta, c: sums + grp * Kg * CgRS, ldc: CgRS)
    }

    func inputGEMM<T: ConvScalar>(_ tile: Tile, group grp: Int, filter f: UnsafePointer<T>,
                                  outputGradient dO: UnsafePointer<T>, ldo: Int,
                                  into dX: UnsafeMutablePointer<T>, _ scratch: TileScratch<T>) {
        let g = geometry
        let Kg = g.outputChannelsPerGroup, CgRS = g.columnRows, Cg = g.inputChannelsPerGroup
        let HW = g.inputHeight * g.inputWidth
        let col = scratch.lowered, rows = tile.rows
        BLAS.uncheckedGEMM(transposeA: .transpose, transposeB: .none, m: CgRS, n: tile.columns, k: Kg,
                           alpha: 1, a: f + grp * Kg * CgRS, lda: CgRS, b: dO, ldb: ldo,
                           beta: 0, c: col, ldc: tile.columns)
        for (i, n) in tile.images.enumerated() {
            // The first band of an image overwrites its gradient; later bands add to it.
            let dXg = dX + (n * g.inputChannels + grp * Cg) * HW
            let from = UnsafePointer(col + tile.imageOffset(i))
            if let phases = scratch.gradientStaging {
                let groupPhases = phases + grp * lowering.phaseCount(channels: Cg)
                lowering.col2im(from, rows: rows, ld: tile.columns, into: groupPhases,
                                overwrite: rows.lowerBound == 0, phased: true)
                if rows.upperBound == g.outputHeight {
                    lowering.mergePhases(UnsafePointer(groupPhases), channels: Cg, into: dXg)
                }
            } else {
                lowering.col2im(from, rows: rows, ld: tile.columns, into: dXg, overwrite: rows.lowerBound == 0)
            }
        }
    }

    /// im2col of the tile's images, group `grp`, into the worker's column buffer.
    @inline(__always)
    private func lower<T: ConvScalar>(_ tile: Tile, group grp: Int, _ x: UnsafePointer<T>, _ scratch: TileScratch<T>) {
        let g = geometry
        let HW = g.inputHeight * g.inputWidth
        lowering.im2col(tileOf: x + grp * g.inputChannelsPerGroup * HW, imageStride: g.inputChannels * HW,
                        images: tile.images, rows: tile.rows, into: scratch.lowered, phases: scratch.inputStaging)
    }
}
