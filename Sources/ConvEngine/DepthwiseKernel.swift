/// The direct kernel for depthwise convolution (`groups == inputChannels`; output channel `k` reads input
/// channel `k / m`, m = K/C the channel multiplier): no lowering and no GEMM, since each output is a short
/// dot product over one channel.
///
/// Each input plane is first copied into a zero-bordered plane of the padded size, so every tap reads in
/// bounds without a test, and padding is multiplied literally, which is the library's non-finite rule
/// (as in the lowered algorithms and the reference). Rows are processed eight outputs at a time in SIMD
/// registers, which also keeps the per-element summation order fixed (bias, then taps in `(r, s)` order).
struct DepthwiseKernel {
    let g: ConvGeometry
    let paddedHeight: Int, paddedWidth: Int
    init(_ g: ConvGeometry) {
        self.g = g
        paddedHeight = g.inputHeight + g.padding.top + g.padding.bottom
        paddedWidth = g.inputWidth + g.padding.left + g.padding.right
    }

    /// Scratch elements per worker: a padded input plane and a padded input-gradient plane.
    static func scratchPerWorker(_ g: ConvGeometry) throws -> Int {
        let k = DepthwiseKernel(g)
        return try checkedProduct(2, k.paddedHeight, k.paddedWidth, quantity: "depthwise padded planes")
    }

    /// Copies one `H × W` plane into the middle of a zeroed padded plane.
    @inline(__always)
    func pad<T: ConvScalar>(_ plane: UnsafePointer<T>, into padded: UnsafeMutablePointer<T>) {
        let H = g.inputHeight, W = g.inputWidth, PW = paddedWidth
        padded.update(repeating: 0, count: g.padding.top * PW)
        for h in 0..<H {
            let row = padded + (g.padding.top + h) * PW
            row.update(repeating: 0, count: g.padding.left)
            (row + g.padding.left).update(from: plane + h * W, count: W)
            (row + g.padding.left + W).update(repeating: 0, count: g.padding.right)
        }
        (padded + (g.padding.top + H) * PW).update(repeating: 0, count: g.padding.bottom * PW)
    }

    @inline(__always)
    static func load<T: ConvScalar>(_ p: UnsafePointer<T>) -> SIMD8<T> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<T>.self)
    }

    @inline(__always)
    static func store<T: ConvScalar>(_ v: SIMD8<T>, _ p: UnsafeMutablePointer<T>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<T>.self)
    }

    /// Outputs `q ..< end` of one stride-1 row, `V.scalarCount` at a time while they fit; returns where it stopped.
    @inline(__always)
    func rowForward<V: SIMD>(_: V.Type, from start: Int, to end: Int, _ base: UnsafePointer<V.Scalar>,
                             _ taps: UnsafePointer<V.Scalar>, _ bias: V.Scalar, _ dst: UnsafeMutablePointer<V.Scalar>)
        -> Int where V.Scalar: ConvScalar {
        let R = g.kernelHeight, S = g.kernelWidth, dh = g.dilationHeight, dw = g.dilationWidth, PW = paddedWidth
        var q = start
        while q + V.scalarCount <= end {
            var acc = V(repeating: bias)
            for r in 0..<R {
                let row = base + r * dh * PW + q
                for s in 0..<S {
                    acc += taps[r * S + s] * UnsafeRawPointer(row + s * dw).loadUnaligned(as: V.self)
                }
            }
            UnsafeMutableRawPointer(dst + q).storeBytes(of: acc, as: V.self)
            q += V.scalarCount
        }
        return q
    }

    func forward<T: ConvScalar>(_ x: UnsafePointer<T>, _ f: UnsafePointer<T>, _ b: UnsafePointer<T>?,
                                _ o: UnsafeMutablePointer<T>, scratch: UnsafeMutablePointer<T>, scratchPerWorker: Int,
                                workers: Int) {
        let K = g.outputChannels, m = g.outputChannelsPerGroup, C = g.inputChannels
        let H = g.inputHeight, W = g.inputWidth, P = g.outputHeight, Q = g.outputWidth
        let R = g.kernelHeight, S = g.kernelWidth, sh = g.strideHeight, sw = g.strideWidth
        let dh = g.dilationHeight, dw = g.dilationWidth, PW = paddedWidth
        let planes = g.batch * C
        let split = min(workers, planes)
        parallelFor(split) { w in
            let padded = scratch + w * scratchPerWorker
            for plane in share(of: planes, worker: w, of: split) {
                let n = plane / C, c = plane % C
                pad(x + plane * H * W, into: padded)
                for k in c * m..<(c + 1) * m {
                    let out = o + (n * K + k) * P * Q
                    let taps = f + k * R * S
                    let bias: T = b?[k] ?? 0
                    for p in 0..<P {
                        let base = UnsafePointer(padded) + p * sh * PW
                        let dst = out + p * Q
                        var q = 0
                        if sw == 1 {
                            // Widest vectors first (independent lanes hide the add latency), then narrower ones;
                            // every element still sums bias, then taps in (r, s) order.
                            q = rowForward(SIMD16<T>.self, from: q, to: Q, base, taps, bias, dst)
                            q = rowForward(SIMD8<T>.self, from: q, to: Q, base, taps, bias, dst)
                            q = rowForward(SIMD4<T>.self, from: q, to: Q, base, taps, bias, dst)
                        }
                        while q < Q {
                            var acc = bias
                            for r in 0..<R {
                                let row = base + r * dh * PW + q * sw
                                for s in 0..<S { acc += taps[r * S + s] * row[s * dw] }
                            }
                            dst[q] = acc
                            q += 1
                        }
                    }
                }
            }
        }
    }

    /// Input gradient (overwritten) and filter gradient (worker 0 into `dF`, worker w > 0 into partial
    /// `w-1`, each over its contiguous share of the batch; the caller adds the partials in order).
    func backward<T: ConvScalar>(_ x: UnsafePointer<T>?, _ f: UnsafePointer<T>?, _ dO: UnsafePointer<T>,
                                 _ dX: UnsafeMutablePointer<T>?, _ dF: UnsafeMutablePointer<T>?,
                                 partials: UnsafeMutablePointer<T>?, scratch: UnsafeMutablePointer<T>,
                                 scratchPerWorker: Int, workers: Int) {
        let K = g.outputChannels, m = g.outputChannelsPerGroup, C = g.inputChannels
        let H = g.inputHeight, W = g.inputWidth, P = g.outputHeight, Q = g.outputWidth
        let R = g.kernelHeight, S = g.kernelWidth, sh = g.strideHeight, sw = g.strideWidth
        let dh = g.dilationHeight, dw = g.dilationWidth, PW = paddedWidth
        let planeSize = paddedHeight * paddedWidth
        parallelFor(workers) { w in
            let dFSum = dF.map { w == 0 ? $0 : partials! + (w - 1) * g.filterCount }
            dFSum?.update(repeating: 0, count: g.filterCount)
            let paddedX = scratch + w * scratchPerWorker
            let paddedDX = paddedX + planeSize
            for n in share(of: g.batch, worker: w, of: workers) {
                for c in 0..<C {
                    if let x, dFSum != nil { pad(x + (n * C + c) * H * W, into: paddedX) }
                    if dX != nil { paddedDX.update(repeating: 0, count: planeSize) }
                    for k in c * m..<(c + 1) * m {
                        let grad = dO + (n * K + k) * P * Q
                        // dF[k,r,s] += Σ_{p,q} dO[p,q] · Xpadded[p·sh + r·dh, q·sw + s·dw]
                        if let dFSum {
                            for r in 0..<R {
                                for s in 0..<S {
                                    var acc = SIMD8<T>(repeating: 0)
                                    var tail: T = 0
                                    for p in 0..<P {
                                        let row = UnsafePointer(paddedX) + (p * sh + r * dh) * PW + s * dw
                                        let gradRow = grad + p * Q
                                        var q = 0
                                        if sw == 1 {
                                            while q + 8 <= Q {
                                                acc += Self.load(gradRow + q) * Self.load(row + q)
                                                q += 8
                                            }
                                        }
                                        while q < Q { tail += gradRow[q] * row[q * sw]; q += 1 }
                                    }
                                    dFSum[(k * R + r) * S + s] += acc.sum() + tail
                                }
                            }
                        }
                        // dXpadded[p·sh + r·dh, q·sw + s·dw] += F[k,r,s] · dO[p,q]; the padding is dropped below.
                        if let f, dX != nil {
                            for r in 0..<R {
                                for s in 0..<S {
                                    let value = f[(k * R + r) * S + s]
                                    for p in 0..<P {
                                        let row = paddedDX + (p * sh + r * dh) * PW + s * dw
                                        let gradRow = grad + p * Q
                                        var q = 0
                                        if sw == 1 {
                                            while q + 8 <= Q {
                                                Self.store(Self.load(row + q) + value * Self.load(gradRow + q), row + q)
                                                q += 8
                                            }
                                        }
                                        while q < Q { row[q * sw] += value * gradRow[q]; q += 1 }
                                    }
                                }
                            }
                        }
                    }
                    if let dX {
                        let plane = dX + (n * C + c) * H * W
                        for h in 0..<H {
                            (plane + h * W).update(from: paddedDX + (g.padding.top + h) * PW + g.padding.left, count: W)
                        }
                    }
                }
            }
        }
    }
}
