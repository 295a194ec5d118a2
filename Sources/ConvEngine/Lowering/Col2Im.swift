// col2im: the adjoint of im2col, adding the column matrix back into the image (or its stride phases).

extension Lowering {
    /// The adjoint of ``im2col(_:rows:into:ld:)``: adds every element of `col` (the columns of output rows
    /// `rows`, col rows `ld` apart) into the input position it was read from. Overlapping windows add up;
    /// elements that were read from padding are dropped. With `overwrite`, the image is zeroed first.
    ///
    /// With `phased`, `image` is in the layout of ``splitPhases(_:channels:into:)`` (turn it back with
    /// ``mergePhases(_:channels:into:)``), and every row is added contiguously even at stride > 1.
    func col2im<T: ConvScalar>(_ col: UnsafePointer<T>, rows: Range<Int>? = nil, ld: Int? = nil,
                               into image: UnsafeMutablePointer<T>, overwrite: Bool = true, phased: Bool = false) {
        let P = outputHeight, Q = outputWidth, H = height, W = width
        let rows = rows ?? 0..<P
        let ld = ld ?? rows.count * Q
        let Wp = phaseWidth, sw = strideWidth
        if !phased && windowsAreDisjoint {
            col2imDisjoint(col, rows: rows, ld: ld, into: image, overwrite: overwrite)
            return
        }
        let planeSize = phased ? sw * H * Wp : H * W
        if overwrite { image.update(repeating: 0, count: channels * planeSize) }
        var src = col
        for c in 0..<channels {
            let plane = image + c * planeSize
            for r in 0..<kernelHeight {
                // Output rows pLo..<pHi of this kernel row read input rows p·sh + rowOffset inside 0..<H.
                let (rowOffset, valid) = tapRows(r, among: rows)
                let pLo = valid.lowerBound, pHi = valid.upperBound
                for s in 0..<kernelWidth {
                    let (colOffset, qRange) = tapColumns(s)
                    if !phased && strideWidth == 1 && qRange == 0..<Q {
                        // The adjoint of im2col's whole-row fast path: whole-row adds in a tight loop.
                        for p in pLo..<pHi {
                            addRow(plane + (p * strideHeight + rowOffset) * W + colOffset,
                                   src + (p - rows.lowerBound) * Q, Q)
                        }
                        src += ld
                        continue
                    }
                    // Column q*sw + colOffset is element q + jOffset of phase `phase` (with `phased`).
                    let (phase, jOffset) = phased ? columnAxis.phase(of: colOffset) : (0, 0)
                    for p in pLo..<pHi {
                        let from = src + (p - rows.lowerBound) * Q
                        // Safe: same ranges as im2col.
                        if phased {
                            let t = plane + (phase * H + p * strideHeight + rowOffset) * Wp + jOffset
                            addRow(t + qRange.lowerBound, from + qRange.lowerBound, qRange.count)
                            continue
                        }
                        let to = plane + (p * strideHeight + rowOffset) * W
                        if !qRange.isEmpty {
                            scatterAddRow(to + (qRange.lowerBound * strideWidth + colOffset), from + qRange.lowerBound,
                                          count: qRange.count, stride: strideWidth)
                        }
                    }
                    src += ld
                }
            }
        }
    }

    /// ``col2im(_:rows:ld:into:overwrite:phased:)`` for ``windowsAreDisjoint`` geometries, in one pass over the
    /// image in row order. The general path zeroes the whole image first and then adds into it tap by tap,
    /// which for an image larger than the cache writes it to memory, reads it back and writes it again; here
    /// each input row is zeroed (with `overwrite`) just before its taps are added into it, while it is in L1.
    ///
    /// The results are bit-identical to the general path: every element receives at most one addition
    /// (`0 + v`, or `old + v` without `overwrite`), so the changed order of the taps cannot change a rounding.
    private func col2imDisjoint<T: ConvScalar>(_ col: UnsafePointer<T>, rows: Range<Int>, ld: Int,
                                               into image: UnsafeMutablePointer<T>, overwrite: Bool) {
        let Q = outputWidth, H = height, W = width, R = kernelHeight, S = kernelWidth, sw = strideWidth
        // Disjoint windows at stride 2 and S = 2 mean dilation 1: the two taps add into the even and odd columns
        // of one span, in one interleaving pass (their valid columns worked out once).
        let tapPair: (offset: Int, first: Range<Int>, second: Range<Int>)? =
            S == 2 && sw == 2 ? (tapColumns(0).offset, tapColumns(0).columns, tapColumns(1).columns) : nil
        for c in 0..<channels {
            let plane = image + c * H * W
            // With `overwrite`, rows below `zeroed` are already zeroed (and possibly added into).
            var zeroed = 0
            for p in rows {
                for r in 0..<R {
                    // Disjoint windows: h grows strictly with (p, r), since ·dh < sh.
                    let h = p * strideHeight + rowAxis.tapOffset(r)
                    guard h >= 0 && h < H else { continue }
                    let to = plane + h * W
                    if overwrite {
                        zeroRow(plane + zeroed * W, (h + 1 - zeroed) * W)
                        zeroed = h + 1
                    }
                    if let pair = tapPair {
                        let from = col + (c * R + r) * S * ld + (p - rows.lowerBound) * Q
                        scatterAddTapPair(to, from, from + ld, offset: pair.offset, pair.first, pair.second)
                        continue
                    }
                    for s in 0..<S {
                        let (colOffset, qRange) = tapColumns(s)
                        if qRange.isEmpty { continue }
                        // Safe: qRange keeps q·sw + colOffset inside 0..<W; h is inside 0..<H.
                        let from = col + ((c * R + r) * S + s) * ld + (p - rows.lowerBound) * Q
                        scatterAddRow(to + (qRange.lowerBound * sw + colOffset), from + qRange.lowerBound,
                                      count: qRange.count, stride: sw)
                    }
                }
            }
            if overwrite { zeroRow(plane + zeroed * W, (H - zeroed) * W) }
        }
    }

    /// The adjoint of ``gatherTapPair(_:_:row:offset:_:_:)`` without the zeros: `row[2q + offset] += from0[q]`,
    /// `row[2q + offset + 1] += from1[q]` over each tap's valid columns (`first` and `second`). The two taps add
    /// into different elements, each with the one addition of the scalar loop.
    @inline(__always)
    private func scatterAddTapPair<T: ConvScalar>(_ row: UnsafeMutablePointer<T>, _ from0: UnsafePointer<T>,
                                                  _ from1: UnsafePointer<T>, offset: Int, _ first: Range<Int>,
                                                  _ second: Range<Int>) {
        let lo = max(first.lowerBound, second.lowerBound), hi = min(first.upperBound, second.upperBound)
        // Safe: as in gatherTapPair.
        if lo < hi {
            for q in first.lowerBound..<lo { row[2 * q + offset] += from0[q] }
            for q in second.lowerBound..<lo { row[2 * q + offset + 1] += from1[q] }
            interleaveAddRow(row + (2 * lo + offset), from0 + lo, from1 + lo, count: hi - lo)
            for q in hi..<first.upperBound { row[2 * q + offset] += from0[q] }
            for q in hi..<second.upperBound { row[2 * q + offset + 1] += from1[q] }
        } else {
            if !first.isEmpty {
                scatterAddRow(row + (2 * first.lowerBound + offset), from0 + first.lowerBound, count: first.count,
                              stride: 2)
            }
            if !second.isEmpty {
                scatterAddRow(row + (2 * second.lowerBound + offset + 1), from1 + second.lowerBound,
                              count: second.count, stride: 2)
            }
        }
    }
}
