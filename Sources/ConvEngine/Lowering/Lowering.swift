/// The window pattern that im2col and col2im walk: `channels` images of `height × width`, read by a
/// `kernelHeight × kernelWidth` kernel with the given stride, padding and dilation, giving
/// `outputHeight × outputWidth` positions.
///
/// Column matrix layout (see <doc:TheMathAndTheLowering>): row `(c*R + r)*S + s`, column `p*Q + q`.
///
/// The index rules are those of ``Axis``, one for the rows (``rowAxis``) and one for the columns
/// (``columnAxis``); ``tapRows(_:among:)`` and ``tapColumns(_:)`` give each kernel tap's valid outputs and input
/// offset, once per tap, to im2col (Im2Col.swift), col2im (Col2Im.swift) and the stride phases
/// (StridePhases.swift).
internal struct Lowering: Sendable {
    var channels: Int, height: Int, width: Int
    var kernelHeight: Int, kernelWidth: Int
    var strideHeight: Int, strideWidth: Int
    var padTop: Int, padLeft: Int
    /// Bottom and right padding: they only show in the output size.
    var padBottom: Int, padRight: Int
    var dilationHeight: Int, dilationWidth: Int
    var outputHeight: Int, outputWidth: Int

    /// The lowering of one group of one image of `g`.
    init(_ g: ConvGeometry) {
        channels = g.inputChannelsPerGroup
        height = g.inputHeight; width = g.inputWidth
        kernelHeight = g.kernelHeight; kernelWidth = g.kernelWidth
        strideHeight = g.strideHeight; strideWidth = g.strideWidth
        padTop = g.padding.top; padLeft = g.padding.left
        padBottom = g.padding.bottom; padRight = g.padding.right
        dilationHeight = g.dilationHeight; dilationWidth = g.dilationWidth
        outputHeight = g.outputHeight; outputWidth = g.outputWidth
    }

    /// An unpadded lowering at stride 1 (the full-convolution route's).
    init(channels: Int, height: Int, width: Int, kernelHeight: Int, kernelWidth: Int,
         dilationHeight: Int, dilationWidth: Int) {
        self.channels = channels; self.height = height; self.width = width
        self.kernelHeight = kernelHeight; self.kernelWidth = kernelWidth
        strideHeight = 1; strideWidth = 1; padTop = 0; padLeft = 0; padBottom = 0; padRight = 0
        self.dilationHeight = dilationHeight; self.dilationWidth = dilationWidth
        outputHeight = height - dilationHeight * (kernelHeight - 1)
        outputWidth = width - dilationWidth * (kernelWidth - 1)
    }

    var rows: Int { channels * kernelHeight * kernelWidth }
    var columns: Int { outputHeight * outputWidth }

    /// The vertical index rules: H, R, P, sh, dh, top and bottom padding.
    @inline(__always)
    var rowAxis: Axis {
        Axis(extent: height, kernel: kernelHeight, outputs: outputHeight, stride: strideHeight,
             dilation: dilationHeight, padBefore: padTop, padAfter: padBottom)
    }

    /// The horizontal index rules: W, S, Q, sw, dw, left and right padding.
    @inline(__always)
    var columnAxis: Axis {
        Axis(extent: width, kernel: kernelWidth, outputs: outputWidth, stride: strideWidth,
             dilation: dilationWidth, padBefore: padLeft, padAfter: padRight)
    }

    /// Kernel row `r`: the input row offset of its output row 0 (output row `p` reads input row
    /// `p·sh + offset`), and its output rows that read the image rather than padding, among `rows` (clamped to
    /// them, so the range lies in `rows` even when empty).
    @inline(__always)
    func tapRows(_ r: Int, among rows: Range<Int>) -> (offset: Int, rows: Range<Int>) {
        let axis = rowAxis
        let valid = axis.validOutputs(tap: r)
        let lo = min(max(valid.lowerBound, rows.lowerBound), rows.upperBound)
        let hi = max(min(valid.upperBound, rows.upperBound), lo)
        return (axis.tapOffset(r), lo..<hi)
    }

    /// Kernel column `s`: the input column offset of its output column 0 (output column `q` reads input column
    /// `q·sw + offset`), and its output columns that read the image rather than padding.
    @inline(__always)
    func tapColumns(_ s: Int) -> (offset: Int, columns: Range<Int>) {
        let axis = columnAxis
        return (axis.tapOffset(s), axis.validOutputs(tap: s))
    }

    /// ``Axis/validRange(offset:stride:extent:count:)``, for the callers that still name it here.
    @inline(__always)
    static func validRange(offset: Int, stride: Int, extent: Int, count: Int) -> Range<Int> {
        Axis.validRange(offset: offset, stride: stride, extent: extent, count: count)
    }

    /// The input rows that output rows `rows` read (clamped to the image).
    func inputRows(for rows: Range<Int>) -> Range<Int> { rowAxis.inputSpan(of: rows) }

    /// Whether no input element lies in two windows, nor twice in one: the kernel's taps span less than the
    /// stride in both directions (`(S-1)·dw < sw`, `(R-1)·dh < sh`; for example 1×1/2, 2×2/2, 3×3/3). Then col2im
    /// adds at most one value into each input element.
    var windowsAreDisjoint: Bool { columnAxis.windowsAreDisjoint && rowAxis.windowsAreDisjoint }
}
