/// The lowering of ``ConvAlgorithm/kernelRowGEMM``: the forward pass lowered along the kernel's width only: one GEMM per kernel row `r`,
/// `O += F(r) · L(r)`, where `F(r)[k][(c, s)] = F[k][c][r][s]` and `L(r)` is a shifted view of one lowered
/// buffer `L` shared by all kernel rows.
///
/// `L` holds, for every input channel `c` and kernel column `s`, the input rows the tile needs, each already
/// gathered at the output's horizontal positions: `L[c][s][row][q] = X[c][h(row)][q·sw + s·dw - left]`
/// (zero in the padding). Output row `p` of kernel row `r` reads input row `p·sh + r·dh - top`; with the rows
/// of `L` stored per vertical stride phase (`φ = (r·dh) mod sh`, then `row = p + ⌊r·dh / sh⌋`), kernel row
/// `r`'s operand is `L` read from a constant offset, a plain GEMM operand with no copy and no wasted column.
/// So `L` is about `1/R` of an im2col (it shares the rows the kernel's `R` rows have in common) and each
/// GEMM's inner dimension is `C/G·S`, not `C/G`: the lowering costs a third of im2col's on a 3×3 kernel
/// while the GEMMs stay large, where the per-tap ``ShiftedGEMM`` pays `R·S` passes over its result and
/// extra columns for the padding.
///
/// Tiles follow ``TileSchedule``: bands of output rows of one image, whose GEMMs write straight into the
/// output, or several whole images interleaved row by row (`L[c][s][row][image][q]`, so a shift by one row
/// still moves every image's columns together) whose result is then copied out to NCHW.
/// Each output element sums the same products as the definition (padding zeros included), kernel row by
/// kernel row.
struct KernelRowLowering {
    let g: ConvGeometry
    /// Kernel rows `r` and `r + phasePeriod` read the same vertical stride phase, `(r·dh) mod sh`; the first
    /// `phasePeriod` rows all read different ones (`phasePeriod = sh / gcd(dh, sh)`).
    let phasePeriod: Int
    /// Distinct vertical stride phases the kernel rows read: `min(R, phasePeriod)`. `L` stores one block of rows
    /// per phase, in the order of the kernel rows that first read them, so kernel row `r` reads block `r mod phasePeriod`.
    let phaseCount: Int
    /// Rows of `L` per phase beyond the tile's output rows: the largest `⌊r·dh / sh⌋`.
    let extraRows: Int

    /// Tiles get at least this many columns: each GEMM has R times fewer inner terms than im2col's, so it needs
    /// more columns to amortise packing its filter block.
    static let minimumTileColumns = 512

    init(_ g: ConvGeometry) {
        self.g = g
        phasePeriod = g.heightAxis.tapPhasePeriod
        phaseCount = min(g.kernelHeight, phasePeriod)
        extraRows = (g.kernelHeight - 1) * g.dilationHeight / g.strideHeight
    }

    /// The vertical stride phase of block `slot` of `L` (that of kernel row `slot`; `slot < phaseCount`).
    @inline(__always)
    func phase(ofSlot slot: Int) -> Int { slot * g.dilationHeight % g.strideHeight }

    /// Rows of the lowered matrix (the GEMMs' inner dimension): `C/G · S`.
    var loweredRows: Int { g.inputChannelsPerGroup * g.kernelWidth }

    /// Whether `L` for whole images is smaller than their im2col (`φ·(P + extra) < R·P` lowered rows per
    /// `C/G·S`): true when the kernel's rows read shared input rows (3×3 at stride 1 or 2), false when they read
    /// disjoint ones (2×2 at stride 2) or the dilated kernel spans far more rows than the output has.
    var isSmallerThanIm2col: Bool {
        let P = g.outputHeight
        guard extraRows <= P else { return false }
        // Hostile geometries can make these products overflow; they then get the tiled im2col.
        let (lowered, o1) = phaseCount.multipliedReportingOverflow(by: P + extraRows)
        let (im2col, o2) = g.kernelHeight.multipliedReportingOverflow(by: P)
        return !o1 && !o2 && lowered < im2col
    }

    /// Lowered elements per output column, for sizing tiles: `C/G · S` per stride phase the kernel reads.
    var loweredRowsPerColumn: Int { loweredRows * phaseCount }

    /// Elements of `L` for a tile of `rows` output rows of each of `images` images, overflow-checked.
    /// Also checks that the GEMMs' leading dimension (one lowered row, `φ·(rows + extra)·images·Q`) fits BLAS.
    func loweredCount(rows: Int, images: Int) throws(ConvError) -> Int {
        let stored = try checkedSum(rows, extraRows, quantity: "lowered rows")
        let ld = try checkedProduct(phaseCount, stored, images, g.outputWidth, quantity: "kernel-row lowering")
        if ld > Int(Int32.max) { throw .blasDimensionTooLarge(quantity: "kernel-row leading dimension", value: ld) }
        return try checkedProduct(loweredRows, ld, quantity: "kernel-row lowering")
    }

    /// Reorders F (`K × C/G × R × S`) into one `K × (C/G·S)` matrix per kernel row, `[r][k][c][s]`, split
    /// over `workers` threads by output channel.
    func repackFilter<T: ConvScalar>(_ f: UnsafePointer<T>, into packed: UnsafeMutablePointer<T>, workers: Int) {
        let K = g.outputChannels, Cg = g.inputChannelsPerGroup, R = g.kernelHeight, S = g.kernelWidth
        let split = min(workers, K)
        parallelFor(split) { w in
            for k in share(of: K, worker: w, of: split) {
                for c in 0..<Cg {
                    for r in 0..<R {
                        copyRow(packed + ((r * K + k) * Cg + c) * S, f + ((k * Cg + c) * R + r) * S, S)
                    }
                }
            }
        }
    }

    /// Fills `L` for group `grp` of `images` (consecutive images of `x`), output rows `rows`.
    func lower<T: ConvScalar>(_ x: UnsafePointer<T>, group grp: Int, images: Range<Int>, rows: Range<Int>,
                              into l: UnsafeMutablePointer<T>) {
        let C = g.inputChannels, Cg = g.inputChannelsPerGroup, H = g.inputHeight, W = g.inputWidth
        let S = g.kernelWidth, Q = g.outputWidth, sh = g.strideHeight, sw = g.strideWidth, width = g.widthAxis
        let b = Blocks(self, images: images, rows: rows), nb = b.images, stored = b.stored, rowBlock = b.rowBlock
        for c in 0..<Cg {
            for s in 0..<S {
                let colOffset = width.tapOffset(s), qRange = width.validOutputs(tap: s)
                let lo = qRange.lowerBound, hi = qRange.upperBound
                for slot in 0..<phaseCount {
                    let base = l + b.offset(channel: c, column: s, slot: slot)
                    let (firstRow, valid) = b.inputRows(slot: slot)
                    zeroRow(base, valid.lowerBound * rowBlock)
                    zeroRow(base + valid.upperBound * rowBlock, (stored - valid.upperBound) * rowBlock)
                    if valid.isEmpty { continue }
                    // The contiguous case: a run of valid rows is one copy, then the few columns that wrapped in
                    // from the neighbouring row are zeroed.
                    if b.contiguous && !qRange.isEmpty {
                        // Safe: the copy starts at column lo + colOffset ≥ 0 of the first valid row and ends at
                        // column hi - 1 + colOffset < W of the last.
                        let src = x + ((images.lowerBound * C + grp * Cg + c) * H + firstRow + valid.lowerBound) * W
                        let dst = base + valid.lowerBound * Q
                        (dst + lo).update(from: src + lo + colOffset, count: (valid.count - 1) * Q + hi - lo)
                        for j in 0..<valid.count {
                            zeroRow(dst + j * Q, lo)
                            zeroRow(dst + j * Q + hi, Q - hi)
                        }
                        continue
                    }
                    for j in valid {
                        let h = firstRow + j * sh
                        for i in 0..<nb {
                            let out = base + j * rowBlock + i * Q
                            // Safe: h is inside 0..<H and qRange keeps q·sw + colOffset inside 0..<W.
                            let src = x + (((images.lowerBound + i) * C + grp * Cg + c) * H + h) * W
                            zeroRow(out, lo)
                            if !qRange.isEmpty {
                                gatherRow(out + lo, src + lo * sw + colOffset, count: qRange.count, stride: sw)
                            }
                            zeroRow(out + hi, Q - hi)
                        }
                    }
                }
            }
        }
    }

    /// Adds `L` (the layout ``lower(_:group:images:rows:into:)`` fills) back into the input positions it was read
    /// from: the adjoint of the lowering, for the input gradient. Elements read from padding are dropped.
    /// With one same-padded stride-1 image, the padding columns of `L` are zeroed and each run of rows is
    /// added as one contiguous range (the zeros land on the neighbouring row's edge and change nothing).
    func unlower<T: ConvScalar>(_ l: UnsafeMutablePointer<T>, group grp: Int, images: Range<Int>, rows: Range<Int>,
                                into dX: UnsafeMutablePointer<T>) {
        let C = g.inputChannels, Cg = g.inputChannelsPerGroup, H = g.inputHeight, W = g.inputWidth
        let S = g.kernelWidth, Q = g.outputWidth, sh = g.strideHeight, sw = g.strideWidth, width = g.widthAxis
        let b = Blocks(self, images: images, rows: rows), nb = b.images, rowBlock = b.rowBlock
        for c in 0..<Cg {
            for s in 0..<S {
                let colOffset = width.tapOffset(s), qRange = width.validOutputs(tap: s)
                let lo = qRange.lowerBound, hi = qRange.upperBound
                if qRange.isEmpty { continue }
                for slot in 0..<phaseCount {
                    let base = l + b.offset(channel: c, column: s, slot: slot)
                    let (firstRow, valid) = b.inputRows(slot: slot)
                    if valid.isEmpty { continue }
                    if b.contiguous {
                        let src = base + valid.lowerBound * Q
                        for j in 0..<valid.count {
                            zeroRow(src + j * Q, lo)
                            zeroRow(src + j * Q + hi, Q - hi)
                        }
                        // Safe: the range starts at column lo + colOffset ≥ 0 of the first valid row and ends
                        // at column hi - 1 + colOffset < W of the last.
                        let dst = dX + ((images.lowerBound * C + grp * Cg + c) * H + firstRow + valid.lowerBound) * W
                        addRow(dst + lo + colOffset, src + lo, (valid.count - 1) * Q + hi - lo)
                        continue
                    }
                    for j in valid {
                        let h = firstRow + j * sh
                        for i in 0..<nb {
                            // Safe: h is inside 0..<H and qRange keeps q·sw + colOffset inside 0..<W.
                            let dst = dX + (((images.lowerBound + i) * C + grp * Cg + c) * H + h) * W
                            let row = base + j * rowBlock + i * Q
                            scatterAddRow(dst + lo * sw + colOffset, row + lo, count: qRange.count, stride: sw)
                        }
                    }
                }
            }
        }
    }

    /// Where a tile's rows sit in `L`, and which input rows they read: the index arithmetic shared by
    /// ``lower(_:group:images:rows:into:)`` and its adjoint ``unlower(_:group:images:rows:into:)``.
    private struct Blocks {
        let lowering: KernelRowLowering
        /// Output rows of the tile.
        let rows: Range<Int>
        /// Images side by side in one lowered row.
        let images: Int
        /// Lowered rows stored per phase block: the tile's rows plus ``KernelRowLowering/extraRows``.
        let stored: Int
        /// One lowered row: `Q` columns of each image.
        let rowBlock: Int
        /// Same-padded stride 1, one image: lowered rows and input rows are both `W` long, so a run of valid
        /// rows is one contiguous range of the input plane.
        let contiguous: Bool

        init(_ lowering: KernelRowLowering, images: Range<Int>, rows: Range<Int>) {
            let g = lowering.g
            self.lowering = lowering
            self.rows = rows
            self.images = images.count
            stored = rows.count + lowering.extraRows
            rowBlock = images.count * g.outputWidth
            contiguous = images.count == 1 && g.strideHeight == 1 && g.strideWidth == 1 && g.outputWidth == g.inputWidth
        }

        /// The start of phase block `slot` of channel `c`, kernel column `s` in `L`.
        @inline(__always)
        func offset(channel c: Int, column s: Int, slot: Int) -> Int {
            ((c * lowering.g.kernelWidth + s) * lowering.phaseCount + slot) * stored * rowBlock
        }

        /// Lowered row `j` of block `slot` reads input row `firstRow + j·sh` (`(p0 + j)·sh + phase - top`);
        /// `valid` are the rows `j` inside the image, the others are padding.
        @inline(__always)
        func inputRows(slot: Int) -> (firstRow: Int, valid: Range<Int>) {
            let g = lowering.g
            let firstRow = rows.lowerBound * g.strideHeight + lowering.phase(ofSlot: slot) - g.padding.top
            return (firstRow, Axis.validRange(offset: firstRow, stride: g.strideHeight, extent: g.inputHeight,
                                              count: stored))
        }
    }
}
