/// The index rules of one spatial axis of a convolution, written once for every lowering and kernel.
///
/// Output position `o` of kernel tap `t` reads input index `o·stride + t·dilation − padBefore`; the indices
/// outside `0..<extent` are padding. Every lowering walks its taps through ``validOutputs(tap:)`` (the
/// Caffe/PyTorch rule: a tap's output positions that read the image, computed once per tap, so the copy loops
/// need no per-element bounds test) and splits strided reads into ``phase(of:)``.
///
/// All arithmetic here is safe for any valid ``ConvGeometry``: products of a stride or dilation with a
/// position stay within the padded extent, which the geometry has checked fits in `Int`.
internal struct Axis: Hashable, Sendable {
    /// Input elements along the axis (H or W).
    var extent: Int
    /// Kernel taps along the axis (R or S).
    var kernel: Int
    /// Output positions along the axis (P or Q).
    var outputs: Int
    /// Step between output positions (sh or sw).
    var stride: Int
    /// Step between kernel taps (dh or dw).
    var dilation: Int
    /// Zero padding before the first and after the last input element.
    var padBefore: Int, padAfter: Int

    /// The input index output position 0 of tap `t` reads: `t·dilation − padBefore`.
    @inline(__always)
    func tapOffset(_ t: Int) -> Int { t * dilation - padBefore }

    /// The output positions of tap `t` that read the image (not padding): see
    /// ``validRange(offset:stride:extent:count:)``.
    @inline(__always)
    func validOutputs(tap t: Int) -> Range<Int> {
        Axis.validRange(offset: tapOffset(t), stride: stride, extent: extent, count: outputs)
    }

    /// The half-open range of positions `o` in `0..<count` whose index `o·stride + offset` lies in `0..<extent`.
    @inline(__always)
    static func validRange(offset: Int, stride: Int, extent: Int, count: Int) -> Range<Int> {
        // lo = ceil(-offset / stride) when offset < 0; hi = floor((extent - 1 - offset) / stride) + 1.
        // Written as (-offset - 1)/stride + 1, not (-offset + stride - 1)/stride, which overflows `Int` for
        // padding and stride near Int.max/2 (valid geometries whose output is a few positions).
        let lo = offset >= 0 ? 0 : min(count, (-offset - 1) / stride + 1)
        let top = extent - 1 - offset
        let hi = top < 0 ? 0 : min(count, top / stride + 1)
        return lo < hi ? lo..<hi : lo..<lo
    }

    /// The taps of output position `o` that read the image (not padding), `t` with
    /// `0 ≤ o·stride + t·dilation − padBefore < extent`: the same rule as ``validOutputs(tap:)`` seen from the
    /// output, for the channels-last kernels that walk positions and read all taps of each.
    @inline(__always)
    func validTaps(output o: Int) -> Range<Int> {
        Axis.validRange(offset: o * stride - padBefore, stride: dilation, extent: extent, count: kernel)
    }

    /// The output positions whose taps all read the image: the intersection of every tap's
    /// ``validOutputs(tap:)``, which is that of the first and the last tap (the valid ranges move down as the tap
    /// moves right).
    var interiorOutputs: Range<Int> {
        let first = validOutputs(tap: 0), last = validOutputs(tap: kernel - 1)
        let lo = max(first.lowerBound, last.lowerBound), hi = min(first.upperBound, last.upperBound)
        return lo < hi ? lo..<hi : lo..<lo
    }

    /// At stride 1: the taps `t` through which input index `i` is read, those whose output position
    /// `i + padBefore − t·dilation` exists (lies in `0..<outputs`). The same rule as ``validTaps(output:)`` over
    /// the reversed taps `t′ = kernel − 1 − t`, for the kernels that gather an input gradient.
    @inline(__always)
    func tapsReaching(input i: Int) -> Range<Int> {
        let reversed = Axis.validRange(offset: i + padBefore - (kernel - 1) * dilation, stride: dilation,
                                       extent: outputs, count: kernel)
        return (kernel - reversed.upperBound)..<(kernel - reversed.lowerBound)
    }

    /// At stride 1: the input indices read through every tap (``tapsReaching(input:)`` is all of `0..<kernel`):
    /// `(kernel − 1)·dilation − padBefore ≤ i < outputs − padBefore`, clamped to the input.
    var inputsReachedByAllTaps: Range<Int> {
        let lo = max(0, (kernel - 1) * dilation - padBefore), hi = min(extent, outputs - padBefore)
        return lo < hi ? lo..<hi : 0..<0
    }

    /// `extent + padBefore + padAfter`.
    var paddedExtent: Int { extent + padBefore + padAfter }

    /// The input indices output positions `range` read, over all taps, clamped to the image.
    func inputSpan(of range: Range<Int>) -> Range<Int> {
        guard !range.isEmpty else { return 0..<0 }
        let lo = max(0, range.lowerBound * stride - padBefore)
        let hi = min(extent, (range.upperBound - 1) * stride - padBefore + (kernel - 1) * dilation + 1)
        return lo < hi ? lo..<hi : lo..<lo
    }

    /// Elements per stride phase of `count` elements: `ceil(count / stride)` (written so it cannot overflow).
    @inline(__always)
    func phaseLength(of count: Int) -> Int { count <= 0 ? 0 : (count - 1) / stride + 1 }

    /// Index `index` as (phase, element): `index = element·stride + phase` with `0 ≤ phase < stride`
    /// (floor division, so a negative index lands in the right phase).
    @inline(__always)
    func phase(of index: Int) -> (phase: Int, element: Int) {
        let phase = floorMod(index, stride)
        return (phase, (index - phase) / stride)
    }

    /// Elements of phase `phase` among the first `count` indices (`phase, phase + stride, … < count`).
    @inline(__always)
    func phaseCount(_ phase: Int, of count: Int) -> Int { phase >= count ? 0 : (count - phase - 1) / stride + 1 }

    /// The period of the taps' stride phases: taps `t` and `t + tapPhasePeriod` read the same phase
    /// (`stride / gcd(dilation, stride)`).
    var tapPhasePeriod: Int { stride / gcd(dilation, stride) }

    /// Whether no input index is read by two (tap, output) pairs: the taps span less than the stride,
    /// `(kernel − 1)·dilation < stride`.
    var windowsAreDisjoint: Bool { (kernel - 1) * dilation < stride }
}

/// Greatest common divisor of two positive integers.
@inline(__always)
internal func gcd(_ a: Int, _ b: Int) -> Int {
    var a = a, b = b
    while b != 0 { (a, b) = (b, a % b) }
    return a
}

/// `a mod m` in `0..<m` for a positive `m` (Swift's `%` keeps the sign of `a`).
@inline(__always)
internal func floorMod(_ a: Int, _ m: Int) -> Int {
    let r = a % m
    return r < 0 ? r + m : r
}

extension ConvGeometry {
    /// The vertical axis: H, R, P, sh, dh, top/bottom padding.
    var heightAxis: Axis {
        Axis(extent: inputHeight, kernel: kernelHeight, outputs: outputHeight, stride: strideHeight,
             dilation: dilationHeight, padBefore: padding.top, padAfter: padding.bottom)
    }
    /// The horizontal axis: W, S, Q, sw, dw, left/right padding.
    var widthAxis: Axis {
        Axis(extent: inputWidth, kernel: kernelWidth, outputs: outputWidth, stride: strideWidth,
             dilation: dilationWidth, padBefore: padding.left, padAfter: padding.right)
    }
}
