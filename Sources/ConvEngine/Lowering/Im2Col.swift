// im2col: the column matrix of an image (or of a tile of images), read from the image or its stride phases.

extension Lowering {
    /// Fills `col` from the `channels × height × width` image at `image`: the columns of output rows
    /// `rows` (all output rows by default), `(rows.count·Q)` columns per col row, col rows `ld` elements
    /// apart. Positions in the padding read as zero.
    ///
    /// With `phased`, `image` is in the layout of ``splitPhases(_:channels:into:)``, and every row copy is
    /// contiguous even at stride > 1.
    func im2col<T: ConvScalar>(_ image: UnsafePointer<T>, rows: Range<Int>? = nil, into col: UnsafeMutablePointer<T>,
                               ld: Int? = nil, phased: Bool = false) {
        let P = outputHeight, Q = outputWidth, H = height, W = width
        let rows = rows ?? 0..<P
        let ld = ld ?? rows.count * Q
        let Wp = phaseWidth, sw = strideWidth
        // At stride 2 and dilation 1, neighbouring taps are read in pairs (see gatherTapPair).
        let pairsTaps = !phased && sw == 2 && dilationWidth == 1
        var dst = col
        for c in 0..<channels {
            let plane = image + c * (phased ? sw * H * Wp : H * W)
            for r in 0..<kernelHeight {
                // Output rows pLo..<pHi of this kernel row read input rows p·sh + rowOffset inside 0..<H.
                let (rowOffset, valid) = tapRows(r, among: rows)
                let pLo = valid.lowerBound, pHi = valid.upperBound
                var s = 0
                while s < kernelWidth {
                    let (colOffset, qRange) = tapColumns(s)
                    // Rows of this tap that fall in the top/bottom padding are all zeros.
                    zeroRow(dst, (pLo - rows.lowerBound) * Q)
                    if pairsTaps && s + 1 < kernelWidth {
                        // Taps s and s+1 read the even and odd columns of the same input span: one de-interleaving
                        // pass fills both col rows (dst and dst + ld).
                        // (Tap s + 1's column offset is colOffset + 1, as gatherTapPair expects: dilation 1.)
                        let nextRange = tapColumns(s + 1).columns
                        zeroRow(dst + ld, (pLo - rows.lowerBound) * Q)
                        for p in pLo..<pHi {
                            let out = dst + (p - rows.lowerBound) * Q
                            gatherTapPair(out, out + ld, row: plane + (p * strideHeight + rowOffset) * W,
                                          offset: colOffset, qRange, nextRange)
                        }
                        zeroRow(dst + (pHi - rows.lowerBound) * Q, (rows.upperBound - pHi) * Q)
                        zeroRow(dst + ld + (pHi - rows.lowerBound) * Q, (rows.upperBound - pHi) * Q)
                        dst += 2 * ld
                        s += 2
                        continue
                    }
                    if !phased && strideWidth == 1 && qRange == 0..<Q {
                        // A tap with no horizontal padding at stride 1 (every tap of an unpadded layer such as
                        // MNIST's): whole-row copies in a tight loop, which is most of the lowering on small layers.
                        // Safe: q + colOffset stays inside 0..<W for every q, and pLo..<pHi keeps rows inside 0..<H.
                        // (Row addresses are computed per valid row: a hostile stride would overflow a running step.)
                        for p in pLo..<pHi {
                            copyRow(dst + (p - rows.lowerBound) * Q,
                                    plane + (p * strideHeight + rowOffset) * W + colOffset, Q)
                        }
                        zeroRow(dst + (pHi - rows.lowerBound) * Q, (rows.upperBound - pHi) * Q)
                        dst += ld
                        s += 1
                        continue
                    }
                    if phased {
                        // Column q*sw + colOffset is element q + jOffset of phase `phase`. (Computed once per tap: two
                        // integer divisions per row cost as much as the 100-element copy of a conv1 row.)
                        let (phase, jOffset) = columnAxis.phase(of: colOffset)
                        let phasePlane = plane + phase * H * Wp + jOffset + qRange.lowerBound
                        let head = qRange.lowerBound, tail = Q - qRange.upperBound, count = qRange.count
                        // Safe: qRange keeps q*sw + colOffset inside 0..<W, pLo..<pHi keeps the row inside 0..<H.
                        for p in pLo..<pHi {
                            let out = dst + (p - rows.lowerBound) * Q
                            zeroRow(out, head)
                            copyRow(out + head, phasePlane + (p * strideHeight + rowOffset) * Wp, count)
                            zeroRow(out + qRange.upperBound, tail)
                        }
                        zeroRow(dst + (pHi - rows.lowerBound) * Q, (rows.upperBound - pHi) * Q)
                        dst += ld
                        s += 1
                        continue
                    }
                    for p in pLo..<pHi {
                        let out = dst + (p - rows.lowerBound) * Q
                        // Safe: qRange keeps q*sw + colOffset inside 0..<W, pLo..<pHi keeps the row inside 0..<H.
                        zeroRow(out, qRange.lowerBound)
                        let src = plane + (p * strideHeight + rowOffset) * W
                        if !qRange.isEmpty {
                            gatherRow(out + qRange.lowerBound, src + (qRange.lowerBound * strideWidth + colOffset),
                                      count: qRange.count, stride: strideWidth)
                        }
                        zeroRow(out + qRange.upperBound, Q - qRange.upperBound)
                    }
                    zeroRow(dst + (pHi - rows.lowerBound) * Q, (rows.upperBound - pHi) * Q)
                    dst += ld
                    s += 1
                }
            }
        }
    }

    /// im2col of output rows `rows` of each image in `images`, side by side in `col` (`rows.count·Q` columns
    /// per image): the tile layout of the tiled algorithms. `group` points at this group's first channel of
    /// image 0 and images are `imageStride` elements apart. With `phases` (scratch of ``phaseCount(channels:)``)
    /// each image's input rows are first split into stride phases, so every row copy is contiguous.
    func im2col<T: ConvScalar>(tileOf group: UnsafePointer<T>, imageStride: Int, images: Range<Int>, rows: Range<Int>,
                               into col: UnsafeMutablePointer<T>, phases: UnsafeMutablePointer<T>?) {
        let columnsPerImage = rows.count * outputWidth
        let ld = images.count * columnsPerImage
        for (i, n) in images.enumerated() {
            let image = group + n * imageStride
            if let phases {
                splitPhases(image, channels: channels, inputRows: inputRows(for: rows), into: phases)
                im2col(phases, rows: rows, into: col + i * columnsPerImage, ld: ld, phased: true)
            } else {
                im2col(image, rows: rows, into: col + i * columnsPerImage, ld: ld)
            }
        }
    }

    /// One input row of two neighbouring taps at stride 2 and dilation 1 (column offsets `offset` and
    /// `offset + 1`, valid output columns `first` and `second`): `out0[q] = row[2q + offset]`,
    /// `out1[q] = row[2q + offset + 1]`, zeros outside the valid columns. Where both taps are valid (all but at most
    /// one column at each end) this is a de-interleave of one contiguous span, read once.
    @inline(__always)
    private func gatherTapPair<T: ConvScalar>(_ out0: UnsafeMutablePointer<T>, _ out1: UnsafeMutablePointer<T>,
                                              row: UnsafePointer<T>, offset: Int, _ first: Range<Int>,
                                              _ second: Range<Int>) {
        let Q = outputWidth
        let lo = max(first.lowerBound, second.lowerBound), hi = min(first.upperBound, second.upperBound)
        zeroRow(out0, first.lowerBound)
        zeroRow(out1, second.lowerBound)
        // Safe: every index below is a valid column of its tap, 2q + offset (+1) inside 0..<W.
        if lo < hi {
            for q in first.lowerBound..<lo { out0[q] = row[2 * q + offset] }
            for q in second.lowerBound..<lo { out1[q] = row[2 * q + offset + 1] }
            deinterleaveRow(out0 + lo, out1 + lo, row + (2 * lo + offset), count: hi - lo)
            for q in hi..<first.upperBound { out0[q] = row[2 * q + offset] }
            for q in hi..<second.upperBound { out1[q] = row[2 * q + offset + 1] }
        } else {
            if !first.isEmpty {
                gatherRow(out0 + first.lowerBound, row + (2 * first.lowerBound + offset), count: first.count, stride: 2)
            }
            if !second.isEmpty {
                gatherRow(out1 + second.lowerBound, row + (2 * second.lowerBound + offset + 1), count: second.count,
                          stride: 2)
            }
        }
        zeroRow(out0 + first.upperBound, Q - first.upperBound)
        zeroRow(out1 + second.upperBound, Q - second.upperBound)
    }
}
