// im2col and col2im of channels-last (NHWC) activations: the column matrix has one row per output position and
// its entries in (r, s, c) order, so each kernel tap reads one contiguous run of channels, and with one group and
// no horizontal dilation each kernel row reads one contiguous run of S·C elements.

/// The window pattern of the channels-last lowering of one group of a ``ConvGeometry`` whose activations are
/// `N×H×W×C`.
///
/// Column matrix (of output positions `positions`, flattened over the batch: `pos = (n·P + p)·Q + q`): row
/// `pos − positions.lowerBound`, entry `(r·S + s)·C/G + c`, holds
/// `X[n, p·sh − top + r·dh, q·sw − left + s·dw, g·C/G + c]`, 0 where that index lies in the padding. So the GEMMs
/// read it as a `positions × R·S·C/G` matrix: `O_tile = col · F_gᵀ` with F in `K×R×S×C/G` (its rows in the same
/// `(r, s, c)` order), written straight into the `N·P·Q × K` output; col2im is its adjoint.
///
/// The copies are the contiguous forms of that layout: one run of `C/G` channels per tap and position, or, with
/// one group and horizontal dilation 1, one run of `S·C` elements per kernel row and position (the kernel row's S
/// neighbouring pixels are adjacent in X and in the column row alike). Padding is zero runs. The index rules are
/// those of ``Axis``: each position's valid taps come from ``Axis/validTaps(output:)``, once per output column at
/// the borders and not at all inside ``Axis/interiorOutputs``.
internal struct ChannelsLastLowering: Sendable {
    /// The vertical and horizontal index rules (H, R, P, sh, dh, top/bottom; W, S, Q, sw, dw, left/right).
    let rows: Axis, columns: Axis
    /// Input channels C: the elements between neighbouring pixels of X.
    let channels: Int
    /// Channels of one group, C/G: the run each tap copies.
    let groupChannels: Int
    /// Whether the S taps of a kernel row read S adjacent pixels with all their channels (one group, horizontal
    /// dilation 1), so the row is one run of `S·C` elements in X and in the column row.
    let kernelRowIsRun: Bool
    /// Output columns whose taps are all inside the image.
    let interiorColumns: Range<Int>

    init(_ g: ConvGeometry) {
        rows = g.heightAxis
        columns = g.widthAxis
        channels = g.inputChannels
        groupChannels = g.inputChannelsPerGroup
        kernelRowIsRun = g.groups == 1 && (g.dilationWidth == 1 || g.kernelWidth == 1)
        interiorColumns = columns.interiorOutputs
    }

    /// Entries of one column row: `R·S·C/G`.
    var rowLength: Int { rows.kernel * columns.kernel * groupChannels }
    /// Elements of one input image: `H·W·C`.
    var imageSize: Int { rows.extent * columns.extent * channels }

    /// Calls `body(n, p, q, first)` for each run of `positions` within one output row: image n, output row p,
    /// output columns q, and the index of the run's first position in `positions`.
    @inline(__always)
    func forEachOutputRow(_ positions: Range<Int>, _ body: (_ n: Int, _ p: Int, _ q: Range<Int>, _ first: Int) -> Void) {
        let P = rows.outputs, Q = columns.outputs
        var pos = positions.lowerBound
        while pos < positions.upperBound {
            let row = pos / Q
            let q0 = pos - row * Q
            let q1 = min(Q, q0 + (positions.upperBound - pos))
            body(row / P, row % P, q0..<q1, pos - positions.lowerBound)
            pos += q1 - q0
        }
    }

    /// The taps of output column `q` that read the image.
    @inline(__always)
    func columnTaps(_ q: Int) -> Range<Int> {
        interiorColumns.contains(q) ? 0..<columns.kernel : columns.validTaps(output: q)
    }

    /// The output columns of `qs` whose taps all read the image, clamped to `qs` (empty at its end when none).
    @inline(__always)
    func interior(of qs: Range<Int>) -> Range<Int> {
        let lo = min(max(interiorColumns.lowerBound, qs.lowerBound), qs.upperBound)
        return lo..<max(min(interiorColumns.upperBound, qs.upperBound), lo)
    }

    /// Fills the column rows of `positions` (rows `ld ≥ R·S·C/G` apart, from `col`), reading the group whose
    /// first channel is at `group` (`X + g·C/G`; pixels C apart, images `H·W·C` apart). Overwrites every entry.
    ///
    /// Per output row and kernel row, the interior positions run as one tight loop of equal copies (the kernel
    /// row's `S·C` run, or its S runs of C/G), so that small channel counts, where a copy is a few elements, are not
    /// swamped by per-position bookkeeping; the border positions work out their valid taps one by one.
    func im2col<T: ConvScalar>(_ group: UnsafePointer<T>, positions: Range<Int>, into col: UnsafeMutablePointer<T>,
                               ld: Int) {
        let R = rows.kernel, S = columns.kernel, W = columns.extent, C = channels, Cg = groupChannels
        let sw = columns.stride, dw = columns.dilation, sh = rows.stride, dh = rows.dilation
        let rowRun = S * Cg
        forEachOutputRow(positions) { n, p, qs, first in
            let image = group + n * imageSize
            // Kernel rows outside `taps` read the top or bottom padding: their S·C/G entries are zeros.
            let taps = rows.validTaps(output: p)
            let inside = interior(of: qs)
            // Column row of position q, kernel row r.
            @inline(__always) func dst(_ q: Int, _ r: Int) -> UnsafeMutablePointer<T> {
                col + (first + q - qs.lowerBound) * ld + r * rowRun
            }
            for r in 0..<R {
                guard taps.contains(r) else {
                    for q in qs { zeroRow(dst(q, r), rowRun) }
                    continue
                }
                // Safe: h is inside the image for r in taps; w = q·sw − left + s·dw for the valid s of q.
                let src = image + (p * sh - rows.padBefore + r * dh) * W * C
                @inline(__always) func border(_ q: Int) {
                    let d = dst(q, r), sTaps = columns.validTaps(output: q), left = q * sw - columns.padBefore
                    if kernelRowIsRun {
                        zeroRow(d, sTaps.lowerBound * Cg)
                        if !sTaps.isEmpty {
                            copyRow(d + sTaps.lowerBound * Cg, src + (left + sTaps.lowerBound) * C, sTaps.count * C)
                        }
                        zeroRow(d + sTaps.upperBound * Cg, (S - sTaps.upperBound) * Cg)
                        return
                    }
                    for s in 0..<S {
                        if sTaps.contains(s) {
                            copyRow(d + s * Cg, src + (left + s * dw) * C, Cg)
                        } else {
                            zeroRow(d + s * Cg, Cg)
                        }
                    }
                }
                for q in qs.lowerBound..<inside.lowerBound { border(q) }
                // Safe: every tap of an interior position reads the image, so (q·sw − left + s·dw)·C < W·C.
                if kernelRowIsRun {
                    for q in inside { copyRow(dst(q, r), src + (q * sw - columns.padBefore) * C, rowRun) }
                } else {
                    for q in inside {
                        let d = dst(q, r), from = src + (q * sw - columns.padBefore) * C
                        for s in 0..<S { copyRow(d + s * Cg, from + s * dw * C, Cg) }
                    }
                }
                for q in inside.upperBound..<qs.upperBound { border(q) }
            }
        }
    }

    /// The adjoint of ``im2col(_:positions:into:ld:)``: adds every entry of the column rows of `positions` into the
    /// input element it was read from (overlapping windows add up, entries read from padding are dropped). Nothing
    /// is zeroed first. Walked as im2col walks.
    func col2im<T: ConvScalar>(_ col: UnsafePointer<T>, positions: Range<Int>, ld: Int,
                               into group: UnsafeMutablePointer<T>) {
        let S = columns.kernel, W = columns.extent, C = channels, Cg = groupChannels
        let sw = columns.stride, dw = columns.dilation, sh = rows.stride, dh = rows.dilation
        let rowRun = S * Cg
        forEachOutputRow(positions) { n, p, qs, first in
            let image = group + n * imageSize
            let taps = rows.validTaps(output: p)
            let inside = interior(of: qs)
            @inline(__always) func from(_ q: Int, _ r: Int) -> UnsafePointer<T> {
                col + (first + q - qs.lowerBound) * ld + r * rowRun
            }
            for r in taps {
                // Safe: as in im2col.
                let dst = image + (p * sh - rows.padBefore + r * dh) * W * C
                @inline(__always) func border(_ q: Int) {
                    let f = from(q, r), sTaps = columns.validTaps(output: q), left = q * sw - columns.padBefore
                    if sTaps.isEmpty { return }
                    if kernelRowIsRun {
                        addRow(dst + (left + sTaps.lowerBound) * C, f + sTaps.lowerBound * Cg, sTaps.count * C)
                        return
                    }
                    for s in sTaps { addRow(dst + (left + s * dw) * C, f + s * Cg, Cg) }
                }
                for q in qs.lowerBound..<inside.lowerBound { border(q) }
                if kernelRowIsRun {
                    for q in inside { addRow(dst + (q * sw - columns.padBefore) * C, from(q, r), rowRun) }
                } else {
                    for q in inside {
                        let f = from(q, r), to = dst + (q * sw - columns.padBefore) * C
                        for s in 0..<S { addRow(to + s * dw * C, f + s * Cg, Cg) }
                    }
                }
                for q in inside.upperBound..<qs.upperBound { border(q) }
            }
        }
    }

    /// The end (exclusive) of the input rows, flattened over the batch as `n·H + h`, that the positions up to
    /// the last of `positions` may read: `p·sh − top + (R−1)·dh + 1` for its output row p, clamped to the image,
    /// which grows with the position. So a caller that adds positions in order may zero the input gradient lazily
    /// up to here just before adding them: no row at or past the previous end has been added into.
    func inputRowsEnd(through positions: Range<Int>) -> Int {
        let P = rows.outputs, Q = columns.outputs, H = rows.extent
        let row = (positions.upperBound - 1) / Q
        let n = row / P, p = row % P
        // Safe: p·sh and (R−1)·dh both lie within the padded height.
        let below = p * rows.stride - rows.padBefore + (rows.kernel - 1) * rows.dilation + 1
        return n * H + min(H, max(0, below))
    }

    /// Zeroes the input-gradient rows (flattened `n·H + h`, each `W·C` elements) from `zeroed` up to
    /// ``inputRowsEnd(through:)`` of `positions`, just before their adds: lazily, so each row is still in cache
    /// when the adds come (a whole image zeroed up front would go to memory and back). Advances `zeroed`.
    func zeroInputRows<T: ConvScalar>(_ dX: UnsafeMutablePointer<T>, through positions: Range<Int>, zeroed: inout Int) {
        let end = inputRowsEnd(through: positions)
        zeroInputRows(dX, from: zeroed, to: end)
        zeroed = max(zeroed, end)
    }

    /// Zeroes the input-gradient rows `from ..< to` (flattened `n·H + h`); nothing when `to ≤ from`.
    func zeroInputRows<T: ConvScalar>(_ dX: UnsafeMutablePointer<T>, from: Int, to: Int) {
        if to <= from { return }
        let row = columns.extent * channels
        (dX + from * row).update(repeating: 0, count: (to - from) * row)
    }
}
