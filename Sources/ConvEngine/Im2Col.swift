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
                    for j in 0..<count { dst[j] = src[j * sw] }
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
        var dst = col
        for c in 0..<channels {
            let plane = image + c * (phased ? sw * H * Wp : H * W)
            for r in 0..<kernelHeight {
                let rowOffset = r * dilationHeight - padTop
                let valid = Lowering.validRange(offset: rowOffset, stride: strideHeight, extent: H, count: P)
                let pLo = min(max(valid.lowerBound, rows.lowerBound), rows.upperBound)
                let pHi = max(min(valid.upperBound, rows.upperBound), pLo)
                for s in 0..<kernelWidth {
                    let colOffset = s * dilationWidth - padLeft
                    let qRange = Lowering.validRange(offset: colOffset, stride: strideWidth, extent: W, count: Q)
                    // Rows of this tap that fall in the top/bottom padding are all zeros.
                    zeroRow(dst, (pLo - rows.lowerBound) * Q)
                    for p in pLo..<pHi {
                        let out = dst + (p - rows.lowerBound) * Q
                        // Safe: qRange keeps q*sw + colOffset inside 0..<W, pLo..<pHi keeps the row inside 0..<H.
                        zeroRow(out, qRange.lowerBound)
                        if phased {
                            // Column q*sw + colOffset is element q + jOffset of phase `phase`.
                            let phase = ((colOffset % sw) + sw) % sw, jOffset = (colOffset - phase) / sw
                            let src = plane + (phase * H + p * strideHeight + rowOffset) * Wp + jOffset
                            copyRow(out + qRange.lowerBound, src + qRange.lowerBound, qRange.count)
                            zeroRow(out + qRange.upperBound, Q - qRange.upperBound)
                            continue
                        }
                        let src = plane + (p * strideHeight + rowOffset) * W
                        if strideWidth == 1 {
                            copyRow(out + qRange.lowerBound, src + (qRange.lowerBound + colOffset), qRange.count)
                        } else {
                            for q in qRange { out[q] = src[q * strideWidth + colOffset] }
                        }
                        zeroRow(out + qRange.upperBound, Q - qRange.upperBound)
                    }
                    zeroRow(dst + (pHi - rows.lowerBound) * Q, (rows.upperBound - pHi) * Q)
                    dst += ld
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
                        if strideWidth == 1 {
                            addRow(to + colOffset + qRange.lowerBound, from + qRange.lowerBound, qRange.count)
                        } else {
                            for q in qRange { to[q * strideWidth + colOffset] += from[q] }
                        }
                    }
                    src += ld
                }
            }
        }
    }
}
