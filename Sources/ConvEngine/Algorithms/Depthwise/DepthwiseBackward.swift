// The depthwise backward pass: work split by channel, and the per-plane driver of the three gradients.

extension DepthwiseKernel {
    /// Input gradient (overwritten), filter gradient and bias gradient (overwritten, summed over the batch).
    ///
    /// Work is split by channel: a worker owns channels `c` (and their output channels `c·m ..< (c+1)·m`)
    /// for every image, so the filter- and bias-gradient sums run image by image in order whatever the worker
    /// count, and no partial sums are needed. `dB` may be `nil`.
    func backward<T: ConvScalar>(_ x: UnsafePointer<T>?, _ f: UnsafePointer<T>?, _ dO: UnsafePointer<T>,
                                 _ dX: UnsafeMutablePointer<T>?, _ dF: UnsafeMutablePointer<T>?,
                                 _ dB: UnsafeMutablePointer<T>?, scratch: UnsafeMutablePointer<T>,
                                 scratchPerWorker: Int, workers: Int) {
        let C = g.inputChannels, m = g.outputChannelsPerGroup, RS = g.kernelHeight * g.kernelWidth
        let split = min(workers, C)
        parallelFor(split) { w in
            let paddedX = scratch + w * scratchPerWorker
            let paddedDX = paddedX + paddedHeight * paddedWidth
            if dF != nil { zeroPadded(paddedX) }
            // The input gradient's column-padded copies of dO (stride 1) rely on zero margins in the same way.
            if dX != nil && g.strideWidth == 1 { zeroPadded(paddedDX) }
            for c in share(of: C, worker: w, of: split) {
                dF?.advanced(by: c * m * RS).update(repeating: 0, count: m * RS)
                dB?.advanced(by: c * m).update(repeating: 0, count: m)
                // Whether the channel's taps may meet padding in the input gradient (see gatherInputGradient).
                var tapsFinite = true
                if let f, dX != nil {
                    for i in c * m * RS..<(c + 1) * m * RS where !f[i].isFinite { tapsFinite = false }
                }
                for n in 0..<g.batch {
                    backwardPlane(n: n, c: c, x, f, dO, dX, dF, dB, tapsFinite: tapsFinite,
                                  paddedX: paddedX, paddedDX: paddedDX)
                }
            }
        }
    }

    /// Everything input plane `(n, c)` contributes: its input gradient, and image n's terms of the filter and
    /// bias gradients of output channels `c·m ..< (c+1)·m`, added to `dF` and `dB` as one sum per plane.
    @inline(__always)
    func backwardPlane<T: ConvScalar>(n: Int, c: Int, _ x: UnsafePointer<T>?, _ f: UnsafePointer<T>?,
                                      _ dO: UnsafePointer<T>, _ dX: UnsafeMutablePointer<T>?,
                                      _ dF: UnsafeMutablePointer<T>?, _ dB: UnsafeMutablePointer<T>?,
                                      tapsFinite: Bool, paddedX: UnsafeMutablePointer<T>, paddedDX: UnsafeMutablePointer<T>) {
        let K = g.outputChannels, m = g.outputChannelsPerGroup, C = g.inputChannels
        let H = g.inputHeight, W = g.inputWidth, P = g.outputHeight, Q = g.outputWidth
        let R = g.kernelHeight, S = g.kernelWidth, sw = g.strideWidth
        let PQ = P * Q
        if let x, dF != nil { pad(x + (n * C + c) * H * W, into: paddedX) }
        for k in c * m..<(c + 1) * m {
            let grad = dO + (n * K + k) * PQ
            if let dF {
                if sw == 1 {
                    let bias = filterGradientBlocks(grad, UnsafePointer(paddedX), dF + k * R * S)
                    dB?[k] += bias
                } else {
                    stridedFilterGradient(grad, UnsafePointer(paddedX), dF + k * R * S)
                    if let dB { dB[k] += Self.planeSum(grad, PQ) }
                }
            } else if let dB {
                dB[k] += Self.planeSum(grad, PQ)
            }
        }
        if let dX, let f {
            let dXPlane = dX + (n * C + c) * H * W
            let grads = dO + (n * K + c * m) * PQ
            let taps = f + c * m * R * S
            if sw == 1 {
                gatherInputGradient(grads, taps, dXPlane, tapsFinite: tapsFinite, scratch: paddedDX)
            } else {
                scatterInputGradient(grads, taps, dXPlane, paddedDX)
            }
        }
    }

    /// The sum of one `count`-element output-gradient plane (its bias-gradient term), lane by lane, then the tail.
    @inline(__always)
    static func planeSum<T: ConvScalar>(_ p: UnsafePointer<T>, _ count: Int) -> T {
        var lanes = SIMD8<T>()
        var i = 0
        while i + 8 <= count {
            lanes += load(SIMD8<T>.self, p + i)
            i += 8
        }
        var tail: T = 0
        while i < count { tail += p[i]; i += 1 }
        return lanes.sum() + tail
    }
}
