/// The direct kernel for depthwise convolution (`groups == inputChannels`; output channel `k` reads input
/// channel `k / m`, m = K/C the channel multiplier): no lowering and no GEMM, since each output is a short
/// dot product over one channel. Rows are processed tap by tap over the valid range of each tap, so the
/// inner loops run without bounds tests.
///
/// It skips padding taps, so to keep the library's non-finite rule (padding reads as zero and is multiplied,
/// as in the lowered algorithms and the reference) it adds `value·0` at the skipped positions whenever the
/// value multiplied there (a filter tap forward, an output-gradient element for the filter gradient) is not finite.
struct DepthwiseKernel {
    let g: ConvGeometry
    init(_ g: ConvGeometry) { self.g = g }

    /// One tap's geometry: the output rows/columns whose input position is inside the image, and the
    /// input offset of output (0, 0).
    struct Tap {
        let rows: Range<Int>, columns: Range<Int>
        let rowOffset: Int, columnOffset: Int
    }

    @inline(__always)
    func tap(_ r: Int, _ s: Int) -> Tap {
        let rowOffset = r * g.dilationHeight - g.padding.top
        let columnOffset = s * g.dilationWidth - g.padding.left
        return Tap(rows: Lowering.validRange(offset: rowOffset, stride: g.strideHeight, extent: g.inputHeight,
                                             count: g.outputHeight),
                   columns: Lowering.validRange(offset: columnOffset, stride: g.strideWidth, extent: g.inputWidth,
                                                count: g.outputWidth),
                   rowOffset: rowOffset, columnOffset: columnOffset)
    }

    /// Adds `value·0` to every output position of `plane` (P×Q) outside `tap`'s valid rectangle.
    func addOutsideProducts<T: ConvScalar>(_ value: T, _ tap: Tap, _ plane: UnsafeMutablePointer<T>) {
        let P = g.outputHeight, Q = g.outputWidth
        let zeroProduct = value * 0
        for p in 0..<P {
            for q in 0..<Q where !(tap.rows.contains(p) && tap.columns.contains(q)) {
                plane[p * Q + q] += zeroProduct
            }
        }
    }

    func forward<T: ConvScalar>(_ x: UnsafePointer<T>, _ f: UnsafePointer<T>, _ b: UnsafePointer<T>?,
                                _ o: UnsafeMutablePointer<T>, workers: Int) {
        let K = g.outputChannels, m = g.outputChannelsPerGroup, C = g.inputChannels
        let H = g.inputHeight, W = g.inputWidth, P = g.outputHeight, Q = g.outputWidth
        let R = g.kernelHeight, S = g.kernelWidth, sh = g.strideHeight, sw = g.strideWidth
        let items = g.batch * K
        let split = min(workers, items)
        parallelFor(split) { w in
            for item in share(of: items, worker: w, of: split) {
                let n = item / K, k = item % K
                let plane = x + (n * C + k / m) * H * W
                let out = o + item * P * Q
                out.update(repeating: b?[k] ?? 0, count: P * Q)
                for r in 0..<R {
                    for s in 0..<S {
                        let value = f[(k * R + r) * S + s]
                        let t = tap(r, s)
                        for p in t.rows {
                            let dst = out + p * Q
                            // Safe: t.rows and t.columns keep the input position inside the image.
                            let src = plane + (p * sh + t.rowOffset) * W + t.columnOffset
                            if sw == 1 {
                                for q in t.columns { dst[q] += value * src[q] }
                            } else {
                                for q in t.columns { dst[q] += value * src[q * sw] }
                            }
                        }
                        if !value.isFinite { addOutsideProducts(value, t, out) }
                    }
                }
            }
        }
    }

    /// Input gradient (overwritten) and filter gradient (worker 0 into `dF`, worker w > 0 into partial
    /// `w-1`, each over its contiguous share of the batch; the caller adds the partials in order).
    func backward<T: ConvScalar>(_ x: UnsafePointer<T>?, _ f: UnsafePointer<T>?, _ dO: UnsafePointer<T>,
                                 _ dX: UnsafeMutablePointer<T>?, _ dF: UnsafeMutablePointer<T>?,
                                 partials: UnsafeMutablePointer<T>?, workers: Int) {
        let K = g.outputChannels, m = g.outputChannelsPerGroup, C = g.inputChannels
        let H = g.inputHeight, W = g.inputWidth, P = g.outputHeight, Q = g.outputWidth
        let R = g.kernelHeight, S = g.kernelWidth, sh = g.strideHeight, sw = g.strideWidth
        parallelFor(workers) { w in
            let dFSum = dF.map { w == 0 ? $0 : partials! + (w - 1) * g.filterCount }
            dFSum?.update(repeating: 0, count: g.filterCount)
            for n in share(of: g.batch, worker: w, of: workers) {
                for c in 0..<C {
                    let dXPlane = dX.map { $0 + (n * C + c) * H * W }
                    dXPlane?.update(repeating: 0, count: H * W)
                    let xPlane = x.map { $0 + (n * C + c) * H * W }
                    for k in c * m..<(c + 1) * m {
                        let dOPlane = dO + (n * K + k) * P * Q
                        var finite = true
                        if dFSum != nil {
                            for i in 0..<P * Q where !dOPlane[i].isFinite { finite = false; break }
                        }
                        for r in 0..<R {
                            for s in 0..<S {
                                let t = tap(r, s)
                                if let dFSum, let xPlane {
                                    var sum: T = 0
                                    for p in t.rows {
                                        let grad = dOPlane + p * Q
                                        let src = xPlane + (p * sh + t.rowOffset) * W + t.columnOffset
                                        if sw == 1 {
                                            for q in t.columns { sum += grad[q] * src[q] }
                                        } else {
                                            for q in t.columns { sum += grad[q] * src[q * sw] }
                                        }
                                    }
                                    if !finite {
                                        for p in 0..<P {
                                            for q in 0..<Q where !(t.rows.contains(p) && t.columns.contains(q)) {
                                                sum += dOPlane[p * Q + q] * 0
                                            }
                                        }
                                    }
                                    dFSum[(k * R + r) * S + s] += sum
                                }
                                if let dXPlane, let f {
                                    let value = f[(k * R + r) * S + s]
                                    for p in t.rows {
                                        let grad = dOPlane + p * Q
                                        let dst = dXPlane + (p * sh + t.rowOffset) * W + t.columnOffset
                                        if sw == 1 {
                                            for q in t.columns { dst[q] += value * grad[q] }
                                        } else {
                                            for q in t.columns { dst[q * sw] += value * grad[q] }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
