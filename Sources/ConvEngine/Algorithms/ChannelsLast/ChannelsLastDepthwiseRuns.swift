// The per-channel-run bodies of the channels-last depthwise kernel (ChannelsLastDepthwiseKernel): the window of one
// output position, the sweep over runs of channels, and the forward, filter-gradient and input-gradient runs.

/// The taps of one output position inside the image: kernel rows `rows`, kernel columns `columns`, and where
/// tap `(r, s)` reads: pixel `((n·H + top + r·dh)·W + left + s·dw)`.
struct Window {
    let rows: Range<Int>, columns: Range<Int>
    /// The pixel (flattened over the batch) tap (0, 0) would read, as a row and a column (they may be negative).
    let top: Int, left: Int
    /// Elements between kernel rows and between kernel columns in X: `dh·W·C`, `dw·C` (0 for one tap).
    let rowStep: Int, columnStep: Int
    /// Pixels between image rows (`W`), channels per pixel (C), taps per kernel (R·S), kernel height and width.
    let width: Int, channels: Int, tapCount: Int, kernelHeight: Int, kernelWidth: Int

    @inline(__always)
    init(_ l: ChannelsLastLowering, image n: Int, p: Int, q: Int) {
        self.init(l, image: n, p: p, q: q, rowTaps: l.rows.validTaps(output: p))
    }

    /// The window of `(n, p, q)` with output row p's valid kernel rows already worked out (once per row: they
    /// cost two divisions, a noticeable part of one position's work at a few dozen channels).
    @inline(__always)
    init(_ l: ChannelsLastLowering, image n: Int, p: Int, q: Int, rowTaps: Range<Int>) {
        rows = rowTaps
        columns = l.columnTaps(q)
        top = n * l.rows.extent + p * l.rows.stride - l.rows.padBefore
        left = q * l.columns.stride - l.columns.padBefore
        width = l.columns.extent
        channels = l.channels
        // Safe: a dilation is only multiplied when the kernel has more than one tap along its axis.
        rowStep = DepthwiseKernel.tapStep(l.rows) * width * channels
        columnStep = DepthwiseKernel.tapStep(l.columns) * channels
        tapCount = l.rows.kernel * l.columns.kernel
        kernelHeight = l.rows.kernel
        kernelWidth = l.columns.kernel
    }

    /// Whether every tap reads the image (no padding).
    var isInterior: Bool { rows.count == kernelHeight && columns.count == kernelWidth }

    /// Whether tap `(r, s)` reads the image.
    @inline(__always)
    func reads(_ r: Int, _ s: Int) -> Bool { rows.contains(r) && columns.contains(s) }

    /// The element of X tap `(r, s)` reads at channel 0. Safe only for r in `rows`, s in `columns`.
    @inline(__always)
    func pixel(_ r: Int, _ s: Int) -> Int { (top * width + left) * channels + r * rowStep + s * columnStep }
}

/// One run of channels of the kernel, for ``sweepChannels(_:_:)``.
protocol ChannelRun {
    associatedtype Element: ConvScalar
    /// Computes channels `c ..< c + L.width`.
    func run<L: ChannelLanes>(_: L.Type, _ c: Int) where L.Element == Element
}

/// Runs `body` over channels `0..<count`: 32 at a time (when `wide`), then 8, then one by one.
@inline(__always)
func sweepChannels<R: ChannelRun>(_ count: Int, _ body: R, wide: Bool = true) {
    var c = 0
    if wide { while c + 32 <= count { body.run(ThirtyTwoChannels<R.Element>.self, c); c += 32 } }
    while c + 8 <= count { body.run(SIMD8<R.Element>.self, c); c += 8 }
    while c < count { body.run(OneChannel<R.Element>.self, c); c += 1 }
}

/// The forward sums of one position and channel multiple.
struct ChannelForwardSums<T: ConvScalar>: ChannelRun {
    typealias Element = T
    let window: Window
    let input: UnsafePointer<T>
    /// Multiple j's `R×S×C` taps; its bias (`C`, or `nil`); the output of channel (0, j), channels m apart.
    let taps: UnsafePointer<T>, bias: UnsafePointer<T>?, out: UnsafeMutablePointer<T>
    let multiplier: Int

    @inline(__always)
    func run<L: ChannelLanes>(_: L.Type, _ c: Int) where L.Element == T {
        let C = window.channels, S = window.kernelWidth, m = multiplier
        var sum = bias.map { L.load($0 + c) } ?? L(broadcast: 0)
        if window.isInterior {
            let x = input + c
            for r in window.rows {
                for s in window.columns {
                    sum = sum.adding(L.load(taps + (r * S + s) * C + c), times: L.load(x + window.pixel(r, s)))
                }
            }
        } else {
            // Every tap in order, the padding's as a product with zero.
            let zero = L(broadcast: 0)
            for r in 0..<window.kernelHeight {
                for s in 0..<S {
                    let x = window.reads(r, s) ? L.load(input + window.pixel(r, s) + c) : zero
                    sum = sum.adding(L.load(taps + (r * S + s) * C + c), times: x)
                }
            }
        }
        if m == 1 { sum.store(out + c) } else { sum.store(out + c * m, stride: m) }
    }
}

/// Where a block of filter-gradient taps works: output row `(n, p)`, taps from `(r0, s0)`, one channel multiple.
struct FilterGradientBlockPosition<T: ConvScalar> {
    let lowering: ChannelsLastLowering
    let image: Int, p: Int, r0: Int, s0: Int
    let input: UnsafePointer<T>
    /// dO at (n, p, 0), channel (0, j): positions K apart, channels m apart.
    let outputGradient: UnsafePointer<T>
    let outputChannels: Int, multiplier: Int
    /// Multiple j's sums: tap t at `t·tapStride`.
    let sums: UnsafeMutablePointer<T>
    let tapStride: Int
}

/// One output row's terms of the filter-gradient sums of a block of `NR × NS` taps (each at most 3, fixed at
/// compile time so the sums are named registers), one channel multiple: per run of channels, one register sum per
/// tap over the row's positions in order, added to the tap's sums at the end. Each output gradient is loaded once
/// for all the block's taps. Positions whose taps all read the image run without tests; at the borders a tap in
/// the padding multiplies `dO` by zero, literally (the non-finite rule).
struct ChannelFilterGradientBlock<T: ConvScalar, NR: BlockExtent, NS: BlockExtent>: ChannelRun {
    typealias Element = T
    let at: FilterGradientBlockPosition<T>
    /// Worked out once per block, not per run of channels: the kernel rows that read the image, each tap
    /// column's valid output columns, the columns `lo..<hi` where every tap reads the image, the steps, and the
    /// offset of tap (r0, s0) at output column 0 (formed into a pointer only where it is read).
    let reads0: Bool, reads1: Bool, reads2: Bool
    let cols0: Range<Int>, cols1: Range<Int>, cols2: Range<Int>
    let lo: Int, hi: Int
    let positionStep: Int, tapStep: Int, rowStep: Int, origin: Int

    @inline(__always)
    init(at b: FilterGradientBlockPosition<T>) {
        at = b
        let rows = b.lowering.rows, columns = b.lowering.columns, W = columns.extent, C = b.lowering.channels
        // Safe (see DepthwiseKernel.step): steps are 0 along an axis of one position or one tap.
        positionStep = DepthwiseKernel.outputStep(columns) * C
        tapStep = DepthwiseKernel.tapStep(columns) * C
        rowStep = DepthwiseKernel.tapStep(rows) * W * C
        let rowTaps = rows.validTaps(output: b.p)
        reads0 = rowTaps.contains(b.r0)
        reads1 = NR.count > 1 && rowTaps.contains(b.r0 + 1)
        reads2 = NR.count > 2 && rowTaps.contains(b.r0 + 2)
        let allRows = reads0 && (NR.count < 2 || reads1) && (NR.count < 3 || reads2)
        cols0 = columns.validOutputs(tap: b.s0)
        cols1 = NS.count > 1 ? columns.validOutputs(tap: b.s0 + 1) : cols0
        cols2 = NS.count > 2 ? columns.validOutputs(tap: b.s0 + 2) : cols0
        let last = NS.count > 2 ? cols2 : cols1
        let l = max(cols0.lowerBound, last.lowerBound), h = min(cols0.upperBound, last.upperBound)
        let Q = columns.outputs
        (lo, hi) = allRows && l < h ? (l, h) : (Q, Q)
        let top = b.image * rows.extent + b.p * DepthwiseKernel.outputStep(rows) - rows.padBefore
            + b.r0 * DepthwiseKernel.tapStep(rows)
        origin = (top * W - columns.padBefore) * C + b.s0 * tapStep
    }

    @inline(__always)
    func run<L: ChannelLanes>(_: L.Type, _ c: Int) where L.Element == T {
        let b = at
        let Q = b.lowering.columns.outputs, S = b.lowering.columns.kernel, K = b.outputChannels, m = b.multiplier
        let dw = tapStep, rowStep = rowStep, sw = positionStep
        let zero = L(broadcast: 0)
        var a00 = zero, a01 = zero, a02 = zero, a10 = zero, a11 = zero, a12 = zero, a20 = zero, a21 = zero, a22 = zero
        @inline(__always) func border(_ q: Int) {
            let g = m == 1 ? L.load(b.outputGradient + q * K + c) : L.load(b.outputGradient + q * K + c * m, stride: m)
            let base = origin + q * sw + c
            @inline(__always) func x(_ i: Int, _ j: Int, _ reads: Bool, _ cols: Range<Int>) -> L {
                reads && cols.contains(q) ? L.load(b.input + base + i * rowStep + j * dw) : zero
            }
            a00 = a00.adding(g, times: x(0, 0, reads0, cols0))
            if NS.count > 1 { a01 = a01.adding(g, times: x(0, 1, reads0, cols1)) }
            if NS.count > 2 { a02 = a02.adding(g, times: x(0, 2, reads0, cols2)) }
            if NR.count > 1 {
                a10 = a10.adding(g, times: x(1, 0, reads1, cols0))
                if NS.count > 1 { a11 = a11.adding(g, times: x(1, 1, reads1, cols1)) }
                if NS.count > 2 { a12 = a12.adding(g, times: x(1, 2, reads1, cols2)) }
            }
            if NR.count > 2 {
                a20 = a20.adding(g, times: x(2, 0, reads2, cols0))
                if NS.count > 1 { a21 = a21.adding(g, times: x(2, 1, reads2, cols1)) }
                if NS.count > 2 { a22 = a22.adding(g, times: x(2, 2, reads2, cols2)) }
            }
        }
        for q in 0..<lo { border(q) }
        if lo < hi {
            // Safe: every tap of the block reads the image at these positions.
            var p0 = b.input + origin + lo * sw + c
            var gp = b.outputGradient + lo * K + (m == 1 ? c : c * m)
            for _ in lo..<hi {
                let g = m == 1 ? L.load(gp) : L.load(gp, stride: m)
                a00 = a00.adding(g, times: L.load(p0))
                if NS.count > 1 { a01 = a01.adding(g, times: L.load(p0 + dw)) }
                if NS.count > 2 { a02 = a02.adding(g, times: L.load(p0 + 2 * dw)) }
                if NR.count > 1 {
                    let p1 = p0 + rowStep
                    a10 = a10.adding(g, times: L.load(p1))
                    if NS.count > 1 { a11 = a11.adding(g, times: L.load(p1 + dw)) }
                    if NS.count > 2 { a12 = a12.adding(g, times: L.load(p1 + 2 * dw)) }
                }
                if NR.count > 2 {
                    let p2 = p0 + 2 * rowStep
                    a20 = a20.adding(g, times: L.load(p2))
                    if NS.count > 1 { a21 = a21.adding(g, times: L.load(p2 + dw)) }
                    if NS.count > 2 { a22 = a22.adding(g, times: L.load(p2 + 2 * dw)) }
                }
                p0 += sw
                gp += K
            }
        }
        for q in max(lo, hi)..<Q { border(q) }
        let one = L(broadcast: 1)
        @inline(__always) func add(_ a: L, _ i: Int, _ j: Int) {
            let sum = b.sums + ((b.r0 + i) * S + b.s0 + j) * b.tapStride + c
            L.load(sum).adding(a, times: one).store(sum)
        }
        add(a00, 0, 0)
        if NS.count > 1 { add(a01, 0, 1) }
        if NS.count > 2 { add(a02, 0, 2) }
        if NR.count > 1 {
            add(a10, 1, 0)
            if NS.count > 1 { add(a11, 1, 1) }
            if NS.count > 2 { add(a12, 1, 2) }
        }
        if NR.count > 2 {
            add(a20, 2, 0)
            if NS.count > 1 { add(a21, 2, 1) }
            if NS.count > 2 { add(a22, 2, 2) }
        }
    }
}

/// The input gradient of one input pixel at stride 1, gathered: `dX[h, w] = Σ_j Σ_(r,s) dO[h + top − r·dh,
/// w + left − s·dw, (c, j)]·F[j, r, s]` over the taps whose output position exists, one register sum, stored once.
struct ChannelInputGather<T: ConvScalar>: ChannelRun {
    typealias Element = T
    let lowering: ChannelsLastLowering
    let image: Int, h: Int, w: Int
    /// The kernel rows and columns through which pixel (h, w) is read (``Axis/tapsReaching(input:)``).
    let rows: Range<Int>, columns: Range<Int>
    let outputGradient: UnsafePointer<T>, taps: UnsafePointer<T>
    let outputChannels: Int, multiplier: Int
    /// dX at (n, h, w), channel 0.
    let inputGradient: UnsafeMutablePointer<T>

    @inline(__always)
    func run<L: ChannelLanes>(_: L.Type, _ c: Int) where L.Element == T {
        let ra = lowering.rows, ca = lowering.columns
        let R = ra.kernel, S = ca.kernel, P = ra.outputs, Q = ca.outputs, C = lowering.channels
        let K = outputChannels, m = multiplier
        let dh = DepthwiseKernel.tapStep(ra), dw = DepthwiseKernel.tapStep(ca)
        var sum = L(broadcast: 0)
        for j in 0..<m {
            let tapsJ = taps + j * R * S * C + c
            for r in rows {
                let p = h + ra.padBefore - r * dh
                let row = outputGradient + ((image * P + p) * Q) * K + j
                for s in columns {
                    let q = w + ca.padBefore - s * dw
                    let g = m == 1 ? L.load(row + q * K + c) : L.load(row + q * K + c * m, stride: m)
                    sum = sum.adding(g, times: L.load(tapsJ + (r * S + s) * C))
                }
            }
        }
        sum.store(inputGradient + c)
    }
}

/// The input gradient of one position and channel multiple, scattered: `dX[tap] += dO·F[r, s]` over the taps
/// inside the image (a padding tap is dropped, as col2im drops it).
struct ChannelInputScatter<T: ConvScalar>: ChannelRun {
    typealias Element = T
    let window: Window
    /// dO of channel (0, j), channels m apart.
    let outputGradient: UnsafePointer<T>
    let multiplier: Int
    /// Multiple j's `R×S×C` taps.
    let taps: UnsafePointer<T>
    let inputGradient: UnsafeMutablePointer<T>

    @inline(__always)
    func run<L: ChannelLanes>(_: L.Type, _ c: Int) where L.Element == T {
        let C = window.channels, S = window.kernelWidth, m = multiplier
        let grad = m == 1 ? L.load(outputGradient + c) : L.load(outputGradient + c * m, stride: m)
        for r in window.rows {
            for s in window.columns {
                let at = inputGradient + window.pixel(r, s) + c
                L.load(at).adding(grad, times: L.load(taps + (r * S + s) * C + c)).store(at)
            }
        }
    }
}
