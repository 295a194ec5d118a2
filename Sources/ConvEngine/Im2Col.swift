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
        let lo = offset >= 0 ? 0 : min(count, (-offset + stride - 1) / stride)
        let top = extent - 1 - offset
        let hi = top < 0 ? 0 : min(count, top / stride + 1)
        return lo < hi ? lo..<hi : lo..<lo
    }

    /// Fills `col` (`rows × columns`, row-major) from the `channels × height × width` image at `image`;
    /// positions in the padding read as zero.
    func im2col<T: ConvScalar>(_ image: UnsafePointer<T>, into col: UnsafeMutablePointer<T>) {
        let P = outputHeight, Q = outputWidth, H = height, W = width
        var dst = col
        for c in 0..<channels {
            let plane = image + c * H * W
            for r in 0..<kernelHeight {
                let rowOffset = r * dilationHeight - padTop
                let pRange = Lowering.validRange(offset: rowOffset, stride: strideHeight, extent: H, count: P)
                for s in 0..<kernelWidth {
                    let colOffset = s * dilationWidth - padLeft
                    let qRange = Lowering.validRange(offset: colOffset, stride: strideWidth, extent: W, count: Q)
                    // Rows of this tap that fall in the top/bottom padding are all zeros.
                    dst.update(repeating: 0, count: pRange.lowerBound * Q)
                    for p in pRange {
                        let out = dst + p * Q
                        // Safe: qRange keeps q*sw + colOffset inside 0..<W, pRange keeps the row inside 0..<H.
                        let src = plane + (p * strideHeight + rowOffset) * W + colOffset
                        out.update(repeating: 0, count: qRange.lowerBound)
                        if strideWidth == 1 {
                            (out + qRange.lowerBound).update(from: src + qRange.lowerBound, count: qRange.count)
                        } else {
                            for q in qRange { out[q] = src[q * strideWidth] }
                        }
                        (out + qRange.upperBound).update(repeating: 0, count: Q - qRange.upperBound)
                    }
                    (dst + pRange.upperBound * Q).update(repeating: 0, count: (P - pRange.upperBound) * Q)
                    dst += P * Q
                }
            }
        }
    }

    /// The adjoint of ``im2col(_:into:)``: overwrites the `channels × height × width` image at `image` with
    /// the sum of every element of `col` at the input position it was read from. Overlapping windows add up;
    /// elements that were read from padding are dropped.
    func col2im<T: ConvScalar>(_ col: UnsafePointer<T>, into image: UnsafeMutablePointer<T>) {
        let P = outputHeight, Q = outputWidth, H = height, W = width
        image.update(repeating: 0, count: channels * H * W)
        var src = col
        for c in 0..<channels {
            let plane = image + c * H * W
            for r in 0..<kernelHeight {
                let rowOffset = r * dilationHeight - padTop
                let pRange = Lowering.validRange(offset: rowOffset, stride: strideHeight, extent: H, count: P)
                for s in 0..<kernelWidth {
                    let colOffset = s * dilationWidth - padLeft
                    let qRange = Lowering.validRange(offset: colOffset, stride: strideWidth, extent: W, count: Q)
                    for p in pRange {
                        let from = src + p * Q
                        // Safe: same ranges as im2col.
                        let to = plane + (p * strideHeight + rowOffset) * W + colOffset
                        if strideWidth == 1 {
                            for q in qRange { to[q] += from[q] }
                        } else {
                            for q in qRange { to[q * strideWidth] += from[q] }
                        }
                    }
                    src += P * Q
                }
            }
        }
    }
}
