/// The window pattern that im2col and col2im walk: `channels` images of `height × width`, read by a
/// `kernelHeight × kernelWidth` kernel with the given stride, top/left padding and dilation, giving
/// `outputHeight × outputWidth` positions. (Bottom/right padding only shows in the output size.)
///
/// Column matrix layout, as in MATH.md: row `(c*R + r)*S + s`, column `p*Q + q`.
@usableFromInline
internal struct Lowering: Sendable {
    var channels: Int, height: Int, width: Int
    var kernelHeight: Int, kernelWidth: Int
    var strideHeight: Int, strideWidth: Int
    var padTop: Int, padLeft: Int
    var dilationHeight: Int, dilationWidth: Int
    var outputHeight: Int, outputWidth: Int

    /// The lowering of one group of one image of `g`.
    init(_ g: ConvGeometry) {
        channels = g.inputChannelsPerGroup
        height = g.inputHeight; width = g.inputWidth
        kernelHeight = g.kernelHeight; kernelWidth = g.kernelWidth
        strideHeight = g.strideHeight; strideWidth = g.strideWidth
        padTop = g.padding.top; padLeft = g.padding.left
        dilationHeight = g.dilationHeight; dilationWidth = g.dilationWidth
        outputHeight = g.outputHeight; outputWidth = g.outputWidth
    }

    init(channels: Int, height: Int, width: Int, kernelHeight: Int, kernelWidth: Int,
         dilationHeight: Int, dilationWidth: Int) {
        self.channels = channels; self.height = height; self.width = width
        self.kernelHeight = kernelHeight; self.kernelWidth = kernelWidth
        strideHeight = 1; strideWidth = 1; padTop = 0; padLeft = 0
        self.dilationHeight = dilationHeight; self.dilationWidth = dilationWidth
        outputHeight = height - dilationHeight * (kernelHeight - 1)
        outputWidth = width - dilationWidth * (kernelWidth - 1)
    }

    var rows: Int { channels * kernelHeight * kernelWidth }
    var columns: Int { outputHeight * outputWidth }

    /// The half-open range of output positions `o` in `0..<count` whose input index
    /// `o*stride + offset` lies in `0..<extent`. Computed once per kernel tap, so the copy loops
    /// need no per-element bounds test.
    @inline(__always)
    static func validRange(offset: Int, stride: Int, extent: Int, count: Int) -> Range<Int> {
        // lo = ceil(-offset / stride) when offset < 0; hi = floor((extent - 1 - offset) / stride) + 1.
        // Safe: written as (-offset - 1)/stride + 1, not (-offset + stride - 1)/stride, which overflows `Int`
        // for padding and stride near Int.max/2 (valid geometries whose output is a few positions).
        let lo = offset >= 0 ? 0 : min(count, (-offset - 1) / stride + 1)
        let top = extent - 1 - offset
        let hi = top < 0 ? 0 : min(count, top / stride + 1)
        return lo < hi ? lo..<hi : lo..<lo
    }

    /// The input rows that output rows `rows` read (clamped to the image).
    func inputRows(for rows: Range<Int>) -> Range<Int> {
        let lo = max(0, rows.lowerBound * strideHeight - padTop)
        let hi = min(height, (rows.upperBound - 1) * strideHeight - padTop + (kernelHeight - 1) * dilationHeight + 1)
        return lo < hi ? lo..<hi : lo..<lo
    }

    /// Columns per phase row: `ceil(W / sw)`.
    /// Safe: `(W-1)/sw + 1`, not `(W + sw - 1)/sw`, which overflows for a stride near Int.max.
    var phaseWidth: Int { width <= 0 ? 0 : (width - 1) / strideWidth + 1 }
    /// Elements of the phase layout of `channels` channels: `channels · sw · H · ceil(W/sw)`.
    func phaseCount(channels: Int) -> Int { channels * strideWidth * height * phaseWidth }

    /// Splits every image row into `sw` phases (phase φ holds columns φ, φ+sw, φ+2sw, …), layout
    /// `[channel][phase][row][column / sw]`, so that a strided tap reads a contiguous run of one phase row.
    /// Costs one pass over the image, against a strided gather per kernel tap without it.
    /// Only the input rows `inputRows` (default: all) are split.
    func splitPhases<T: ConvScalar>(_ image: UnsafePointer<T>, channels: Int, inputRows: Range<Int>? = nil,
                                    into phases: UnsafeMutablePointer<T>) {
        let H = height, W = width, sw = strideWidth, Wp = phaseWidth
        for c in 0..<channels {
            for phase in 0..<sw {
                let count = phase >= W ? 0 : (W - phase - 1) / sw + 1  // columns of this phase (0 when phase ≥ W)
                for h in inputRows ?? 0..<H {
                    let src = image + (c * H + h) * W + phase
                    let dst = phases + ((c * sw + phase) * H + h) * Wp
                    gatherRow(dst, src, count: count, stride: sw)
                }
            }
        }
    }

    /// The inverse of ``splitPhases(_:channels:into:)``: overwrites the image from its phases.
    func mergePhases<T: ConvScalar>(_ phases: UnsafePointer<T>, channels: Int, into image: UnsafeMutablePointer<T>) {
        let H = height, W = width, sw = strideWidth, Wp = phaseWidth
        for c in 0..<channels {
            for phase in 0..<sw {
                let count = phase >= W ? 0 : (W - phase - 1) / sw + 1
                for h in 0..<H {
                    let src = phases + ((c * sw + phase) * H + h) * Wp
                    let dst = image + (c * H + h) * W + phase
                    for j in 0..<count { dst[j * sw] = src[j] }
                }
            }
        }
    }

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
                let rowOffset = r * dilationHeight - padTop
                let valid = Lowering.validRange(offset: rowOffset, stride: strideHeight, extent: H, count: P)
                let pLo = min(max(valid.lowerBound, rows.lowerBound), rows.upperBound)
                let pHi = max(min(valid.upperBound, rows.upperBound), pLo)
                var s = 0
                while s < kernelWidth {
                    let colOffset = s * dilationWidth - padLeft
                    let qRange = Lowering.validRange(offset: colOffset, stride: strideWidth, extent: W, count: Q)
                    // Rows of this tap that fall in the top/bottom padding are all zeros.
                    zeroRow(dst, (pLo - rows.lowerBound) * Q)
                    if pairsTaps && s + 1 < kernelWidth {
                        // Taps s and s+1 read the even and odd columns of the same input span: one de-interleaving
                        // pass fills both col rows (dst and dst + ld).
                        let nextRange = Lowering.validRange(offset: colOffset + 1, stride: 2, extent: W, count: Q)
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
                        let phase = ((colOffset % sw) + sw) % sw, jOffset = (colOffset - phase) / sw
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
                let rowOffset = r * dilationHeight - padTop
                let valid = Lowering.validRange(offset: rowOffset, stride: strideHeight, extent: H, count: P)
                let pLo = min(max(valid.lowerBound, rows.lowerBound), rows.upperBound)
                let pHi = max(min(valid.upperBound, rows.upperBound), pLo)
                for s in 0..<kernelWidth {
                    let colOffset = s * dilationWidth - padLeft
                    let qRange = Lowering.validRange(offset: colOffset, stride: strideWidth, extent: W, count: Q)
                    if !phased && strideWidth == 1 && qRange == 0..<Q {
                        // The adjoint of im2col's whole-row fast path: whole-row adds in a tight loop.
                        for p in pLo..<pHi {
                            addRow(plane + (p * strideHeight + rowOffset) * W + colOffset,
                                   src + (p - rows.lowerBound) * Q, Q)
                        }
                        src += ld
                        continue
                    }
                    for p in pLo..<pHi {
                        let from = src + (p - rows.lowerBound) * Q
                        // Safe: same ranges as im2col.
                        if phased {
                            let phase = ((colOffset % sw) + sw) % sw, jOffset = (colOffset - phase) / sw
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

    /// Whether no input element lies in two windows, nor twice in one: the kernel's taps span less than the
    /// stride in both directions (`(S-1)·dw < sw`, `(R-1)·dh < sh`; for example 1×1/2, 2×2/2, 3×3/3). Then col2im
    /// adds at most one value into each input element.
    var windowsAreDisjoint: Bool {
        (kernelWidth - 1) * dilationWidth < strideWidth && (kernelHeight - 1) * dilationHeight < strideHeight
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
        for c in 0..<channels {
            let plane = image + c * H * W
            // With `overwrite`, rows below `zeroed` are already zeroed (and possibly added into).
            var zeroed = 0
            for p in rows {
                for r in 0..<R {
                    // Disjoint windows: h grows strictly with (p, r), since ·dh < sh.
                    let h = p * strideHeight + r * dilationHeight - padTop
                    guard h >= 0 && h < H else { continue }
                    let to = plane + h * W
                    if overwrite {
                        zeroRow(plane + zeroed * W, (h + 1 - zeroed) * W)
                        zeroed = h + 1
                    }
                    if S == 2 && sw == 2 {
                        // Disjoint windows at stride 2 and S = 2 mean dilation 1: the two taps add into the even and
                        // odd columns of one span, in one interleaving pass.
                        let from = col + (c * R + r) * S * ld + (p - rows.lowerBound) * Q
                        scatterAddTapPair(to, from, from + ld, offset: -padLeft)
                        continue
                    }
                    for s in 0..<S {
                        let colOffset = s * dilationWidth - padLeft
                        let qRange = Lowering.validRange(offset: colOffset, stride: sw, extent: W, count: Q)
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

    /// The adjoint of ``gatherTapPair(_:_:row:offset:_:_:)`` without the zeros: `row[2q + offset] += from0[q]`,
    /// `row[2q + offset + 1] += from1[q]` over each tap's valid columns. The two taps add into different
    /// elements, each with the one addition of the scalar loop.
    @inline(__always)
    private func scatterAddTapPair<T: ConvScalar>(_ row: UnsafeMutablePointer<T>, _ from0: UnsafePointer<T>,
                                                  _ from1: UnsafePointer<T>, offset: Int) {
        let Q = outputWidth, W = width
        let first = Lowering.validRange(offset: offset, stride: 2, extent: W, count: Q)
        let second = Lowering.validRange(offset: offset + 1, stride: 2, extent: W, count: Q)
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

// MARK: - Strided row copies
//
// At a horizontal stride sw > 1 without stride phases (a kernel no wider than the stride: 1×1/2, 2×2/2, 3×3/3),
// every im2col row copy reads every sw-th element of an input row and every col2im row adds into every sw-th
// element. At sw = 2 these are a SIMD de-interleave and its adjoint: a 16-element load holds 8 wanted elements
// in its even lanes. Other strides use a scalar loop over a stepped pointer (no index multiply).

/// `dst[i] = src[i * stride]` for `i` in `0..<count` (`count >= 0`). Reads only `src[0...(count-1)·stride]`,
/// so it never leaves the input row the caller's valid range lies in.
@inline(__always) @usableFromInline
internal func gatherRow<T: ConvScalar>(_ dst: UnsafeMutablePointer<T>, _ src: UnsafePointer<T>, count: Int,
                                       stride: Int) {
    switch stride {
    case 1: copyRow(dst, src, count)
    case 2: gatherRowStride2(dst, src, count: count)
    default:
        var s = src
        for i in 0..<count {
            dst[i] = s.pointee
            s += stride
        }
    }
}

/// ``gatherRow(_:_:count:stride:)`` at stride 2: loads of 16 (8) contiguous elements, stores of their even or
/// odd 8 (4) lanes.
@inline(__always) @usableFromInline
internal func gatherRowStride2<T: ConvScalar>(_ dst: UnsafeMutablePointer<T>, _ src: UnsafePointer<T>, count: Int) {
    // The last element read must be src[2(count-1)]. A 16-lane load at src + 2i ends at src[2i + 15], inside
    // while i + 9 <= count.
    var i = 0
    while i + 9 <= count {
        let v = UnsafeRawPointer(src + 2 * i).loadUnaligned(as: SIMD16<T>.self)
        UnsafeMutableRawPointer(dst + i).storeBytes(of: v.evenHalf, as: SIMD8<T>.self)
        i += 8
    }
    if i == count { return }
    if count >= 9 {
        // The rest (1–8 outputs) from the 16 elements that end exactly at src[2(count-1)]: outputs count-8..<count
        // are their odd lanes. Up to 7 outputs already stored are stored again with the same values.
        let v = UnsafeRawPointer(src + (2 * count - 17)).loadUnaligned(as: SIMD16<T>.self)
        UnsafeMutableRawPointer(dst + (count - 8)).storeBytes(of: v.oddHalf, as: SIMD8<T>.self)
        return
    }
    // Short rows (count < 9, i == 0): the same with 8-lane loads, which need count >= 5.
    if count >= 5 {
        let head = UnsafeRawPointer(src).loadUnaligned(as: SIMD8<T>.self)
        UnsafeMutableRawPointer(dst).storeBytes(of: head.evenHalf, as: SIMD4<T>.self)
        let tail = UnsafeRawPointer(src + (2 * count - 9)).loadUnaligned(as: SIMD8<T>.self)
        UnsafeMutableRawPointer(dst + (count - 4)).storeBytes(of: tail.oddHalf, as: SIMD4<T>.self)
        return
    }
    for j in 0..<count { dst[j] = src[2 * j] }
}

/// `dst[i * stride] += src[i]` for `i` in `0..<count` (`count >= 0`): the adjoint of
/// ``gatherRow(_:_:count:stride:)``. Touches only `dst[0...(count-1)·stride]`, and every element it adds to gets
/// exactly the one rounded addition of the scalar loop, so results are bit-identical to it.
@inline(__always) @usableFromInline
internal func scatterAddRow<T: ConvScalar>(_ dst: UnsafeMutablePointer<T>, _ src: UnsafePointer<T>, count: Int,
                                           stride: Int) {
    switch stride {
    case 1: addRow(dst, src, count)
    case 2: scatterAddRowStride2(dst, src, count: count)
    default:
        var d = dst
        for i in 0..<count {
            d.pointee += src[i]
            d += stride
        }
    }
}

/// ``scatterAddRow(_:_:count:stride:)`` at stride 2: load 16 (8) destination elements, add 8 (4) values into
/// the even lanes, store them all back (the odd lanes unchanged, bit for bit).
@inline(__always) @usableFromInline
internal func scatterAddRowStride2<T: ConvScalar>(_ dst: UnsafeMutablePointer<T>, _ src: UnsafePointer<T>,
                                                  count: Int) {
    // As in gatherRowStride2, a 16-lane access at dst + 2i stays within dst[0...2(count-1)] while i + 9 <= count.
    // No overlapping tail here: adding twice would be wrong.
    var i = 0
    while i + 9 <= count {
        var v = UnsafeRawPointer(dst + 2 * i).loadUnaligned(as: SIMD16<T>.self)
        v.evenHalf += UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<T>.self)
        UnsafeMutableRawPointer(dst + 2 * i).storeBytes(of: v, as: SIMD16<T>.self)
        i += 8
    }
    if i + 5 <= count {
        var v = UnsafeRawPointer(dst + 2 * i).loadUnaligned(as: SIMD8<T>.self)
        v.evenHalf += UnsafeRawPointer(src + i).loadUnaligned(as: SIMD4<T>.self)
        UnsafeMutableRawPointer(dst + 2 * i).storeBytes(of: v, as: SIMD8<T>.self)
        i += 4
    }
    while i < count {
        dst[2 * i] += src[i]
        i += 1
    }
}

/// `even[i] = src[2i]`, `odd[i] = src[2i + 1]` for `i` in `0..<count`, reading only `src[0..<2·count]`.
@inline(__always) @usableFromInline
internal func deinterleaveRow<T: ConvScalar>(_ even: UnsafeMutablePointer<T>, _ odd: UnsafeMutablePointer<T>,
                                             _ src: UnsafePointer<T>, count: Int) {
    var i = 0
    while i + 8 <= count {
        let v = UnsafeRawPointer(src + 2 * i).loadUnaligned(as: SIMD16<T>.self)
        UnsafeMutableRawPointer(even + i).storeBytes(of: v.evenHalf, as: SIMD8<T>.self)
        UnsafeMutableRawPointer(odd + i).storeBytes(of: v.oddHalf, as: SIMD8<T>.self)
        i += 8
    }
    if i == count { return }
    if count >= 8 {
        // The last 8 outputs again (overlapping ones get the same values), from the span's last 16 elements.
        let v = UnsafeRawPointer(src + (2 * count - 16)).loadUnaligned(as: SIMD16<T>.self)
        UnsafeMutableRawPointer(even + (count - 8)).storeBytes(of: v.evenHalf, as: SIMD8<T>.self)
        UnsafeMutableRawPointer(odd + (count - 8)).storeBytes(of: v.oddHalf, as: SIMD8<T>.self)
        return
    }
    if count >= 4 {
        let head = UnsafeRawPointer(src).loadUnaligned(as: SIMD8<T>.self)
        UnsafeMutableRawPointer(even).storeBytes(of: head.evenHalf, as: SIMD4<T>.self)
        UnsafeMutableRawPointer(odd).storeBytes(of: head.oddHalf, as: SIMD4<T>.self)
        let tail = UnsafeRawPointer(src + (2 * count - 8)).loadUnaligned(as: SIMD8<T>.self)
        UnsafeMutableRawPointer(even + (count - 4)).storeBytes(of: tail.evenHalf, as: SIMD4<T>.self)
        UnsafeMutableRawPointer(odd + (count - 4)).storeBytes(of: tail.oddHalf, as: SIMD4<T>.self)
        return
    }
    for j in 0..<count {
        even[j] = src[2 * j]
        odd[j] = src[2 * j + 1]
    }
}

/// `dst[2i] += even[i]`, `dst[2i + 1] += odd[i]` for `i` in `0..<count`: the adjoint of
/// ``deinterleaveRow(_:_:_:count:)``, touching only `dst[0..<2·count]`, one rounded addition per element.
@inline(__always) @usableFromInline
internal func interleaveAddRow<T: ConvScalar>(_ dst: UnsafeMutablePointer<T>, _ even: UnsafePointer<T>,
                                              _ odd: UnsafePointer<T>, count: Int) {
    var i = 0
    while i + 8 <= count {
        var v = SIMD16<T>()
        v.evenHalf = UnsafeRawPointer(even + i).loadUnaligned(as: SIMD8<T>.self)
        v.oddHalf = UnsafeRawPointer(odd + i).loadUnaligned(as: SIMD8<T>.self)
        let sum = UnsafeRawPointer(dst + 2 * i).loadUnaligned(as: SIMD16<T>.self) + v
        UnsafeMutableRawPointer(dst + 2 * i).storeBytes(of: sum, as: SIMD16<T>.self)
        i += 8
    }
    if i + 4 <= count {
        var v = SIMD8<T>()
        v.evenHalf = UnsafeRawPointer(even + i).loadUnaligned(as: SIMD4<T>.self)
        v.oddHalf = UnsafeRawPointer(odd + i).loadUnaligned(as: SIMD4<T>.self)
        let sum = UnsafeRawPointer(dst + 2 * i).loadUnaligned(as: SIMD8<T>.self) + v
        UnsafeMutableRawPointer(dst + 2 * i).storeBytes(of: sum, as: SIMD8<T>.self)
        i += 4
    }
    while i < count {
        dst[2 * i] += even[i]
        dst[2 * i + 1] += odd[i]
        i += 1
    }
}
