// The direct depthwise kernel on channels-last activations: each output position's K channels are short dot
// products over the taps, computed with the channels in vector lanes (the contiguous axis of NHWC), so every load
// and store of X, O, dX and dO is a contiguous run of channels.

/// A depthwise convolution (`groups == C`, output channel `c·m + j` reading input channel c, m = K/C) on
/// `N×H×W×C` activations, with the filter in the order of ``ChannelsLastFilter/channelVectors(_:into:)``
/// (`m×R×S×C`: the taps of channel multiple j side by side over the channels).
///
/// Per output position and multiple j, each run of channels (32, 8 or 1 at a time, ``ChannelLanes``) sums the bias,
/// then the taps in `(r, s)` order, in registers, and is stored once. Inside the image (``Axis/interiorOutputs``)
/// every tap reads X; at the border a tap in the padding is multiplied by a zero vector, literally, so that an
/// infinite tap gives NaN there as in the reference and the lowered algorithms (the library's non-finite rule).
/// The backward pass walks the positions the same way and adds each tap's product into the filter-gradient sums
/// (padding again as literal zeros) and into dX, where a padding tap is dropped, as col2im drops it (a scatter: dX
/// is zeroed lazily, row by row, just before the positions that add into it).
struct ChannelsLastDepthwiseKernel {
    let g: ConvGeometry
    /// The tap rules of the two axes, per output position.
    let lowering: ChannelsLastLowering

    init(_ g: ConvGeometry) {
        self.g = g
        lowering = ChannelsLastLowering(g)
    }

    /// `O = f(conv(X, F) + B)` over output rows `(n, p)`: runs of rows go to whichever worker is free; every
    /// element's sum has the same order at any worker count.
    ///
    /// - Parameters:
    ///   - taps: F as `m×R×S×C`.
    ///   - bias: B as `m×C` (the bias of filter `c·m + j` at `j·C + c`; B itself when m = 1), or `nil`.
    func forward<T: ConvScalar>(_ x: UnsafePointer<T>, taps: UnsafePointer<T>, bias: UnsafePointer<T>?,
                                _ o: UnsafeMutablePointer<T>, epilogue: Epilogue<T>, workers: Int) {
        let P = g.outputHeight, Q = g.outputWidth, K = g.outputChannels
        let rowsTotal = g.batch * P
        let split = min(workers, rowsTotal)
        let run = max(1, rowsTotal / (max(1, split) * 16))
        parallelItems(split, count: (rowsTotal - 1) / run + 1) { _, item in
            for row in item * run..<min(rowsTotal, (item + 1) * run) {
                let n = row / P, p = row % P
                let rowTaps = lowering.rows.validTaps(output: p)
                for q in 0..<Q {
                    forwardPosition(x, taps, bias, o + (row * Q + q) * K,
                                    Window(lowering, image: n, p: p, q: q, rowTaps: rowTaps))
                }
                // The row is final and in cache.
                epilogue.apply(o + row * Q * K, count: Q * K)
            }
        }
    }

    /// The K outputs of the position whose window is `window`.
    @inline(__always)
    private func forwardPosition<T: ConvScalar>(_ x: UnsafePointer<T>, _ taps: UnsafePointer<T>,
                                                _ bias: UnsafePointer<T>?, _ out: UnsafeMutablePointer<T>,
                                                _ window: Window) {
        let C = g.inputChannels, m = g.outputChannelsPerGroup
        for j in 0..<m {
            sweepChannels(C, ChannelForwardSums(window: window, input: x, taps: taps + j * window.tapCount * C,
                                                bias: bias.map { $0 + j * C }, out: out + j, multiplier: m))
        }
    }

    /// The filter gradient (as `m×R×S` taps of C sums ``sumTapStride(channels:)`` apart, one block of
    /// ``sumsPerWorker(_:)`` per worker in `sums`) and the input gradient
    /// (overwritten). Workers take contiguous, ordered shares of the images, and per image compute its terms of the
    /// filter gradient, then its input gradient, while its output gradient is still in cache.
    ///
    /// - The filter gradient goes output row by output row: per run of channels and tap, one register sum over the
    ///   row's positions (a padding tap's products with zero included), added to the worker's sums. Each worker's
    ///   sums add its positions in order.
    /// - The input gradient, at stride 1, is gathered: each input pixel is one register sum over the output
    ///   positions that read it (the taps in reverse), stored once. At a larger stride it is scattered, position by
    ///   position, into rows zeroed just before.
    ///
    /// - Returns: the number of workers whose sums were written (the parts to add up), 0 when none ran.
    @discardableResult
    func backward<T: ConvScalar>(_ x: UnsafePointer<T>?, taps: UnsafePointer<T>?, _ dO: UnsafePointer<T>,
                                 inputGradient dX: UnsafeMutablePointer<T>?, filterSums sums: UnsafeMutablePointer<T>?,
                                 workers: Int) -> Int {
        let P = g.outputHeight, Q = g.outputWidth, H = g.inputHeight, K = g.outputChannels
        let C = g.inputChannels, m = g.outputChannelsPerGroup, RS = g.kernelHeight * g.kernelWidth
        let wantsDF = x != nil && sums != nil, wantsDX = taps != nil && dX != nil
        guard wantsDF || wantsDX else { return 0 }
        let gathers = g.strideHeight == 1 && g.strideWidth == 1
        let split = min(workers, g.batch)
        parallelFor(split) { w in
            let images = share(of: g.batch, worker: w, of: split)
            let perWorker = m * RS * Self.sumTapStride(channels: C)
            let workerSums = sums.map { $0 + w * perWorker }
            workerSums?.update(repeating: 0, count: perWorker)
            var zeroed = images.lowerBound * H
            for n in images {
                if gathers {
                    // Input row h gathers output rows up to h + top: it runs as soon as the filter gradient has
                    // walked those rows, while they are still in cache.
                    var gathered = 0
                    for p in 0..<P {
                        if let x, let workerSums { filterGradientRow(n: n, p: p, x, dO, workerSums) }
                        if let dX, let taps {
                            gatherRows(n: n, from: gathered, to: min(H, max(gathered, p - g.padding.top + 1)), dO, taps, dX)
                            gathered = min(H, max(gathered, p - g.padding.top + 1))
                        }
                    }
                    if let dX, let taps { gatherRows(n: n, from: gathered, to: H, dO, taps, dX) }
                    continue
                }
                if let x, let workerSums {
                    for p in 0..<P { filterGradientRow(n: n, p: p, x, dO, workerSums) }
                }
                guard let dX, let taps else { continue }
                for p in 0..<P {
                    let rowPositions = (n * P + p) * Q..<(n * P + p + 1) * Q
                    lowering.zeroInputRows(dX, through: rowPositions, zeroed: &zeroed)
                    for q in 0..<Q {
                        let window = Window(lowering, image: n, p: p, q: q)
                        let grad = dO + (rowPositions.lowerBound + q) * K
                        for j in 0..<m {
                            sweepChannels(C, ChannelInputScatter(window: window, outputGradient: grad + j,
                                                                 multiplier: m, taps: taps + j * RS * C,
                                                                 inputGradient: dX))
                        }
                    }
                }
            }
            if let dX, wantsDX, !gathers { lowering.zeroInputRows(dX, from: zeroed, to: images.upperBound * H) }
        }
        return wantsDF ? split : 0
    }

    /// The input gradient of image n's rows `from ..< to`, gathered (stride 1).
    @inline(__always)
    private func gatherRows<T: ConvScalar>(n: Int, from: Int, to: Int, _ dO: UnsafePointer<T>, _ taps: UnsafePointer<T>,
                                           _ dX: UnsafeMutablePointer<T>) {
        let H = g.inputHeight, W = g.inputWidth, C = g.inputChannels, K = g.outputChannels
        let m = g.outputChannelsPerGroup
        let columns = lowering.columns, reachAll = columns.inputsReachedByAllTaps
        for h in from..<max(from, to) {
            let rowTaps = lowering.rows.tapsReaching(input: h)
            for wi in 0..<W {
                let columnTaps = reachAll.contains(wi) ? 0..<columns.kernel : columns.tapsReaching(input: wi)
                sweepChannels(C, ChannelInputGather(lowering: lowering, image: n, h: h, w: wi,
                                                    rows: rowTaps, columns: columnTaps,
                                                    outputGradient: dO, taps: taps,
                                                    outputChannels: K, multiplier: m,
                                                    inputGradient: dX + ((n * H + h) * W + wi) * C))
            }
        }
    }

    /// Elements between the filter-gradient sums of neighbouring taps: C plus a cache line's worth, so that the
    /// sums of a kernel row's taps do not share cache sets with each other (at C a multiple of 256 floats they
    /// all would, and so would the pixels the taps read).
    static func sumTapStride(channels C: Int) -> Int { C + 16 }

    /// Elements of one worker's filter-gradient sums: `m×R×S` taps of ``sumTapStride(channels:)``.
    static func sumsPerWorker(_ g: ConvGeometry) throws(ConvError) -> Int {
        try checkedProduct(g.outputChannelsPerGroup, g.kernelHeight, g.kernelWidth,
                           checkedSum(g.inputChannels, 16, quantity: "depthwise sum stride"),
                           quantity: "depthwise filter-gradient sums")
    }

    /// Output row `(n, p)`'s terms of the filter gradient, added into `sums`: the taps in blocks of up to 3 × 3
    /// whose sums stay in registers over the row (``ChannelFilterGradientBlock``), one 16-byte register of channels
    /// per tap, as the channels-first kernel keeps one per tap over a plane.
    @inline(__always)
    private func filterGradientRow<T: ConvScalar>(n: Int, p: Int, _ x: UnsafePointer<T>, _ dO: UnsafePointer<T>,
                                                  _ sums: UnsafeMutablePointer<T>) {
        let P = g.outputHeight, Q = g.outputWidth, K = g.outputChannels
        let m = g.outputChannelsPerGroup, R = g.kernelHeight, S = g.kernelWidth
        let stride = Self.sumTapStride(channels: g.inputChannels)
        let grad = dO + (n * P + p) * Q * K
        for j in 0..<m {
            var r0 = 0
            while r0 < R {
                var s0 = 0
                while s0 < S {
                    let block = FilterGradientBlockPosition(lowering: lowering, image: n, p: p, r0: r0, s0: s0,
                                                            input: x, outputGradient: grad + j, outputChannels: K,
                                                            multiplier: m, sums: sums + j * R * S * stride,
                                                            tapStride: stride)
                    switch (min(3, R - r0), min(3, S - s0)) {
                    case (3, 3): filterGradientBlock(block, Extent3.self, Extent3.self)
                    case (3, 2): filterGradientBlock(block, Extent3.self, Extent2.self)
                    case (3, _): filterGradientBlock(block, Extent3.self, Extent1.self)
                    case (2, 3): filterGradientBlock(block, Extent2.self, Extent3.self)
                    case (2, 2): filterGradientBlock(block, Extent2.self, Extent2.self)
                    case (2, _): filterGradientBlock(block, Extent2.self, Extent1.self)
                    case (_, 3): filterGradientBlock(block, Extent1.self, Extent3.self)
                    case (_, 2): filterGradientBlock(block, Extent1.self, Extent2.self)
                    default: filterGradientBlock(block, Extent1.self, Extent1.self)
                    }
                    s0 += 3
                }
                r0 += 3
            }
        }
    }

    /// One block of taps over the channels: 4 channels per register for Float, 2 for Double (nine sums, the output
    /// gradient and a pixel fit SSE's 16 registers), then one by one.
    @inline(__always)
    private func filterGradientBlock<T: ConvScalar, NR: BlockExtent, NS: BlockExtent>(
        _ block: FilterGradientBlockPosition<T>, _: NR.Type, _: NS.Type
    ) {
        let C = g.inputChannels
        let run = ChannelFilterGradientBlock<T, NR, NS>(at: block)
        var c = 0
        if T.self == Float.self {
            while c + 4 <= C { run.run(SIMD4<T>.self, c); c += 4 }
        } else {
            while c + 2 <= C { run.run(SIMD2<T>.self, c); c += 2 }
        }
        while c < C { run.run(OneChannel<T>.self, c); c += 1 }
    }
}
