/// The direct kernel for depthwise convolution (`groups == inputChannels`; output channel `k` reads input
/// channel `k / m`, m = K/C the channel multiplier): no lowering and no GEMM, since each output is a short
/// dot product over one channel.
///
/// Forward and filter gradient read each input plane from a zero-bordered copy of the padded size, so every
/// tap reads in bounds without a test and padding is multiplied literally, which is the library's
/// non-finite rule (as in the lowered algorithms and the reference). The input gradient skips padding, as
/// col2im and the reference do: at horizontal stride 1 it is gathered straight from the output gradient
/// (each element of dX one register sum over the taps that reach it), otherwise scattered into a padded plane.
///
/// Work is split so that every sum has an order fixed by the geometry alone: the forward pass by
/// (image, channel) plane, the backward pass by channel (each worker owns whole channels over the whole
/// batch, so its filter- and bias-gradient sums need no partial sums, no reduction, and are the same at
/// any worker count).
struct DepthwiseKernel {
    let g: ConvGeometry
    let paddedHeight: Int, paddedWidth: Int
    init(_ g: ConvGeometry) {
        self.g = g
        paddedHeight = g.inputHeight + g.padding.top + g.padding.bottom
        paddedWidth = g.inputWidth + g.padding.left + g.padding.right
    }

    /// Scratch elements per worker: a padded input plane and a padded input-gradient plane (the latter only
    /// used by the input gradient at horizontal stride above 1).
    static func scratchPerWorker(_ g: ConvGeometry) throws -> Int {
        let k = DepthwiseKernel(g)
        return try checkedProduct(2, k.paddedHeight, k.paddedWidth, quantity: "depthwise padded planes")
    }

    /// Copies one `H × W` plane into the middle of a padded plane whose border is already zero (see
    /// ``zeroPadded(_:)``): each worker zeroes its plane once per call, and since the copies only ever write
    /// the middle, the border stays zero for every plane after.
    @inline(__always)
    func pad<T: ConvScalar>(_ plane: UnsafePointer<T>, into padded: UnsafeMutablePointer<T>) {
        let H = g.inputHeight, W = g.inputWidth, PW = paddedWidth
        var row = padded + g.padding.top * PW + g.padding.left
        for h in 0..<H {
            copyRow(row, plane + h * W, W)
            row += PW
        }
    }

    /// Zeroes one padded plane (the border that ``pad(_:into:)`` relies on).
    @inline(__always)
    func zeroPadded<T: ConvScalar>(_ padded: UnsafeMutablePointer<T>) {
        padded.update(repeating: 0, count: paddedHeight * paddedWidth)
    }

    /// Elements per phase row of ``padPhases(_:into:)``: `ceil(PW / sw)`.
    var phaseWidth: Int { (paddedWidth - 1) / g.strideWidth + 1 }

    /// Elements of the column phases of one padded plane, `sw · PH · ceil(PW / sw)`, when the forward pass uses
    /// them: at horizontal stride above 1, when they fit in the padded plane pair the scratch holds
    /// (`2 · PH · PW`; not for a stride far wider than the plane, whose rows have one or two outputs).
    var forwardPhaseCount: Int? {
        guard g.strideWidth > 1 else { return nil }
        let (a, o1) = g.strideWidth.multipliedReportingOverflow(by: paddedHeight)
        let (count, o2) = a.multipliedReportingOverflow(by: phaseWidth)
        guard !o1, !o2, count <= 2 * paddedHeight * paddedWidth else { return nil }
        return count
    }

    /// Copies one `H × W` plane into the column phases of its padded plane, layout `[φ][padded row][j]`:
    /// element `j` of phase `φ` is padded column `j·sw + φ`. A strided tap then reads a contiguous run of one
    /// phase row (tap `s` of output `q` is element `q + (s·dw)/sw` of phase `(s·dw) % sw`), so the forward pass
    /// at stride 2 runs in vector chunks as at stride 1, instead of one element (and one latency-bound chain of
    /// adds) at a time: 8×256×56×56 3×3/2 took 31 ms that way against PyTorch's 11. As with ``pad(_:into:)``,
    /// only the positions of input elements are written, so a border zeroed once per call stays zero.
    func padPhases<T: ConvScalar>(_ plane: UnsafePointer<T>, into phases: UnsafeMutablePointer<T>) {
        let H = g.inputHeight, W = g.inputWidth, sw = g.strideWidth, PWp = phaseWidth, PH = paddedHeight
        let left = g.padding.left
        for phase in 0..<sw {
            // Elements j whose padded column j·sw + phase is an input column, left ..< left + W.
            let lo = phase >= left ? 0 : (left - phase - 1) / sw + 1
            let top = left + W - 1 - phase
            let hi = top < 0 ? 0 : min(PWp, top / sw + 1)
            guard lo < hi else { continue }
            // Safe: lo·sw + phase - left is in 0 ..< W, and so is the last element's column.
            let first = lo * sw + phase - left
            var dst = phases + (phase * PH + g.padding.top) * PWp + lo
            for h in 0..<H {
                gatherRow(dst, plane + h * W + first, count: hi - lo, stride: sw)
                dst += PWp
            }
        }
    }

    // MARK: - Forward

    /// `O[n,k] = B[k] + Σ_{r,s} F[k,r,s] · Xpadded[n, k/m]`, split by (image, channel) plane: runs of
    /// planes go to whichever worker is free. A run zeroes its worker's padded plane, then per plane copies the
    /// input into its middle and computes the m output planes row by row in vector runs (``sweepRow(_:_:)``): at
    /// horizontal stride 1 from the padded plane, at a larger stride from its column phases
    /// (``padPhases(_:into:)``; one element at a time only for a stride so wide that the phases would not fit
    /// the scratch). Every element sums the bias, then the taps in `(r, s)` order, at any worker count.
    func forward<T: ConvScalar>(_ x: UnsafePointer<T>, _ f: UnsafePointer<T>, _ b: UnsafePointer<T>?,
                                _ o: UnsafeMutablePointer<T>, scratch: UnsafeMutablePointer<T>, scratchPerWorker: Int,
                                workers: Int) {
        let K = g.outputChannels, m = g.outputChannelsPerGroup, C = g.inputChannels
        let H = g.inputHeight, W = g.inputWidth, P = g.outputHeight, Q = g.outputWidth
        let R = g.kernelHeight, S = g.kernelWidth, sh = g.strideHeight, sw = g.strideWidth
        let dh = g.dilationHeight, dw = g.dilationWidth, PW = paddedWidth
        let planes = g.batch * C
        let split = min(workers, planes)
        let rowPlan = RowPlan(T.self, from: 0, to: Q)
        // Output rows p and p + 1 share input rows when the vertical stride equals the dilation (row p + 1's
        // kernel row r reads row p's kernel row r + 1): the usual stride 1, dilation 1.
        let pairs = sw == 1 && sh == dh
        let pairPlan = RowPlan(T.self, from: 0, to: Q, maxRun: pairMaxRun)
        let phaseCount = forwardPhaseCount, PWp = phaseWidth
        // Runs of planes go to whichever worker is free (see parallelItems); each run starts by zeroing the border
        // its copies rely on, a small fraction of a run of several planes.
        let run = max(1, planes / (split * 16))
        parallelItems(split, count: (planes - 1) / run + 1) { w, item in
            let padded = scratch + w * scratchPerWorker
            if let phaseCount { padded.update(repeating: 0, count: phaseCount) } else { zeroPadded(padded) }
            for plane in item * run..<min(planes, (item + 1) * run) {
                let n = plane / C, c = plane % C
                if phaseCount != nil { padPhases(x + plane * H * W, into: padded) } else { pad(x + plane * H * W, into: padded) }
                for k in c * m..<(c + 1) * m {
                    let out = o + (n * K + k) * P * Q
                    let taps = f + k * R * S
                    let bias: T = b?[k] ?? 0
                    if phaseCount != nil {
                        for p in 0..<P {
                            sweepRow(PhasedForwardRow(base: UnsafePointer(padded) + p * sh * PWp, taps: taps, bias: bias,
                                                      dst: out + p * Q, R: R, S: S, rowStep: dh * PWp, dw: dw, sw: sw,
                                                      phaseStride: paddedHeight * PWp),
                                     rowPlan)
                        }
                        continue
                    }
                    if pairs {
                        // Two output rows per pass: each input row between them is loaded once for both.
                        var p = 0
                        while p + 1 < P {
                            let pair = ForwardRowPair(base: UnsafePointer(padded) + p * sh * PW, taps: taps,
                                                      bias: bias, dst: out + p * Q, R: R, S: S,
                                                      rowStep: dh * PW, dw: dw, Q: Q)
                            sweepRow(pair, pairPlan)
                            p += 2
                        }
                        if p < P {
                            sweepRow(ForwardRow(base: UnsafePointer(padded) + p * sh * PW, taps: taps, bias: bias,
                                                dst: out + p * Q, R: R, S: S, rowStep: dh * PW, dw: dw, sw: sw),
                                     rowPlan)
                        }
                        continue
                    }
                    for p in 0..<P {
                        let row = ForwardRow(base: UnsafePointer(padded) + p * sh * PW, taps: taps, bias: bias,
                                             dst: out + p * Q, R: R, S: S, rowStep: dh * PW, dw: dw, sw: sw)
                        if sw == 1 {
                            sweepRow(row, rowPlan)
                        } else {
                            for q in 0..<Q { row.one(q) }
                        }
                    }
                }
            }
        }
    }

    // MARK: - Backward

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

    // MARK: Filter gradient

    /// `dF[r,s] += Σ_{p,q} dO[p,q] · Xpadded[p·sh + r·dh, q + s·dw]` for one plane at horizontal stride 1,
    /// taps taken in blocks of up to 3 × 3 whose sums stay in registers over one pass of the plane (every
    /// dO vector is loaded once per block, not once per tap). Returns the plane's sum of dO (the bias
    /// gradient's term), computed on the way.
    func filterGradientBlocks<T: ConvScalar>(_ grad: UnsafePointer<T>, _ x: UnsafePointer<T>,
                                             _ sums: UnsafeMutablePointer<T>) -> T {
        if T.self == Float.self {
            return filterGradientBlocks(SIMD4<T>.self, grad, x, sums)
        } else {
            return filterGradientBlocks(SIMD2<T>.self, grad, x, sums)
        }
    }

    /// ``filterGradientBlocks(_:_:_:)`` with one 16-byte register per tap sum (9 of them plus the bias sum and
    /// the dO vector fit in SSE's 16 registers).
    @inline(__always)
    func filterGradientBlocks<V: SIMD>(_: V.Type, _ grad: UnsafePointer<V.Scalar>, _ x: UnsafePointer<V.Scalar>,
                                       _ sums: UnsafeMutablePointer<V.Scalar>) -> V.Scalar
        where V.Scalar: ConvScalar {
        let R = g.kernelHeight, S = g.kernelWidth, dh = g.dilationHeight, dw = g.dilationWidth, PW = paddedWidth
        var bias: V.Scalar = 0
        var r0 = 0
        while r0 < R {
            let nr = min(3, R - r0)
            var s0 = 0
            while s0 < S {
                let ns = min(3, S - s0)
                let block = x + r0 * dh * PW + s0 * dw
                let out = sums + r0 * S + s0
                if r0 == 0 && s0 == 0 {
                    bias = filterGradientBlock(V.self, nr, ns, FlagOn.self, grad, block, out, bias)
                } else {
                    bias = filterGradientBlock(V.self, nr, ns, FlagOff.self, grad, block, out, bias)
                }
                s0 += 3
            }
            r0 += 3
        }
        return bias
    }

    /// ``filterGradientBlock(_:_:_:_:_:_:_:_:)`` for a block of `nr × ns` taps (each 1 to 3), dispatched to its
    /// compile-time specialisation.
    @inline(__always)
    func filterGradientBlock<V: SIMD, Bias: StaticFlag>(
        _: V.Type, _ nr: Int, _ ns: Int, _: Bias.Type, _ grad: UnsafePointer<V.Scalar>,
        _ x: UnsafePointer<V.Scalar>, _ out: UnsafeMutablePointer<V.Scalar>, _ bias: V.Scalar
    ) -> V.Scalar where V.Scalar: ConvScalar {
        switch (nr, ns) {
        case (3, 3): return filterGradientBlock(V.self, Extent3.self, Extent3.self, Bias.self, grad, x, out, bias)
        case (3, 2): return filterGradientBlock(V.self, Extent3.self, Extent2.self, Bias.self, grad, x, out, bias)
        case (3, _): return filterGradientBlock(V.self, Extent3.self, Extent1.self, Bias.self, grad, x, out, bias)
        case (2, 3): return filterGradientBlock(V.self, Extent2.self, Extent3.self, Bias.self, grad, x, out, bias)
        case (2, 2): return filterGradientBlock(V.self, Extent2.self, Extent2.self, Bias.self, grad, x, out, bias)
        case (2, _): return filterGradientBlock(V.self, Extent2.self, Extent1.self, Bias.self, grad, x, out, bias)
        case (_, 3): return filterGradientBlock(V.self, Extent1.self, Extent3.self, Bias.self, grad, x, out, bias)
        case (_, 2): return filterGradientBlock(V.self, Extent1.self, Extent2.self, Bias.self, grad, x, out, bias)
        default: return filterGradientBlock(V.self, Extent1.self, Extent1.self, Bias.self, grad, x, out, bias)
        }
    }

    /// One block of `NR × NS` taps (each at most 3, fixed at compile time so the sums are named registers):
    /// adds each tap's plane sum to `out[i·S + j]`, and returns the plane's dO sum when `Bias.on` (else
    /// `bias` unchanged). Per tap, lane `l` sums the elements `q ≡ l` (mod the vector width) of the rows'
    /// vector parts; the lane total is added to `out`, then the row tails: a fixed order. The tails run as a
    /// second pass so that their scalar sums do not compete with the vector sums for registers.
    func filterGradientBlock<V: SIMD, NR: BlockExtent, NS: BlockExtent, Bias: StaticFlag>(
        _: V.Type, _: NR.Type, _: NS.Type, _: Bias.Type, _ grad: UnsafePointer<V.Scalar>,
        _ x: UnsafePointer<V.Scalar>, _ out: UnsafeMutablePointer<V.Scalar>, _ bias: V.Scalar
    ) -> V.Scalar where V.Scalar: ConvScalar {
        typealias T = V.Scalar
        let P = g.outputHeight, Q = g.outputWidth, S = g.kernelWidth
        let rowStride = g.strideHeight * paddedWidth, tapRow = g.dilationHeight * paddedWidth
        let dw = g.dilationWidth, dw2 = 2 * g.dilationWidth
        let L = V.scalarCount, vectorEnd = Q - Q % L
        let two = NS.count > 1, three = NS.count > 2
        var a00 = V(), a01 = V(), a02 = V(), a10 = V(), a11 = V(), a12 = V(), a20 = V(), a21 = V(), a22 = V()
        var b = V()
        for p in 0..<P {
            let gRow = grad + p * Q
            let x0 = x + p * rowStride
            var q = 0
            while q < vectorEnd {
                let gv = Self.load(V.self, gRow + q)
                if Bias.on { b += gv }
                let p0 = x0 + q
                a00 += gv * Self.load(V.self, p0)
                if two { a01 += gv * Self.load(V.self, p0 + dw) }
                if three { a02 += gv * Self.load(V.self, p0 + dw2) }
                if NR.count > 1 {
                    let p1 = p0 + tapRow
                    a10 += gv * Self.load(V.self, p1)
                    if two { a11 += gv * Self.load(V.self, p1 + dw) }
                    if three { a12 += gv * Self.load(V.self, p1 + dw2) }
                }
                if NR.count > 2 {
                    let p2 = p0 + 2 * tapRow
                    a20 += gv * Self.load(V.self, p2)
                    if two { a21 += gv * Self.load(V.self, p2 + dw) }
                    if three { a22 += gv * Self.load(V.self, p2 + dw2) }
                }
                q += L
            }
        }
        out[0] += a00.sum()
        if two { out[1] += a01.sum() }
        if three { out[2] += a02.sum() }
        if NR.count > 1 {
            out[S] += a10.sum()
            if two { out[S + 1] += a11.sum() }
            if three { out[S + 2] += a12.sum() }
        }
        if NR.count > 2 {
            out[2 * S] += a20.sum()
            if two { out[2 * S + 1] += a21.sum() }
            if three { out[2 * S + 2] += a22.sum() }
        }
        var biasSum = b.sum()
        if vectorEnd < Q {
            var t00: T = 0, t01: T = 0, t02: T = 0, t10: T = 0, t11: T = 0, t12: T = 0, t20: T = 0, t21: T = 0
            var t22: T = 0, tb: T = 0
            for p in 0..<P {
                let gRow = grad + p * Q
                let x0 = x + p * rowStride
                for q in vectorEnd..<Q {
                    let gq = gRow[q]
                    if Bias.on { tb += gq }
                    let p0 = x0 + q
                    t00 += gq * p0[0]
                    if two { t01 += gq * p0[dw] }
                    if three { t02 += gq * p0[dw2] }
                    if NR.count > 1 {
                        let p1 = p0 + tapRow
                        t10 += gq * p1[0]
                        if two { t11 += gq * p1[dw] }
                        if three { t12 += gq * p1[dw2] }
                    }
                    if NR.count > 2 {
                        let p2 = p0 + 2 * tapRow
                        t20 += gq * p2[0]
                        if two { t21 += gq * p2[dw] }
                        if three { t22 += gq * p2[dw2] }
                    }
                }
            }
            out[0] += t00
            if two { out[1] += t01 }
            if three { out[2] += t02 }
            if NR.count > 1 {
                out[S] += t10
                if two { out[S + 1] += t11 }
                if three { out[S + 2] += t12 }
            }
            if NR.count > 2 {
                out[2 * S] += t20
                if two { out[2 * S + 1] += t21 }
                if three { out[2 * S + 2] += t22 }
            }
            biasSum += tb
        }
        return Bias.on ? biasSum : bias
    }

    /// The filter gradient of one plane at horizontal stride above 1, one tap at a time.
    func stridedFilterGradient<T: ConvScalar>(_ grad: UnsafePointer<T>, _ x: UnsafePointer<T>,
                                              _ sums: UnsafeMutablePointer<T>) {
        let P = g.outputHeight, Q = g.outputWidth, R = g.kernelHeight, S = g.kernelWidth
        let sh = g.strideHeight, sw = g.strideWidth, dh = g.dilationHeight, dw = g.dilationWidth, PW = paddedWidth
        for r in 0..<R {
            for s in 0..<S {
                // Four running sums break the add latency chain; element q goes to sum q mod 4 (a fixed order).
                var a0: T = 0, a1: T = 0, a2: T = 0, a3: T = 0
                for p in 0..<P {
                    let row = x + (p * sh + r * dh) * PW + s * dw
                    let gradRow = grad + p * Q
                    var q = 0
                    while q + 4 <= Q {
                        a0 += gradRow[q] * row[q * sw]
                        a1 += gradRow[q + 1] * row[(q + 1) * sw]
                        a2 += gradRow[q + 2] * row[(q + 2) * sw]
                        a3 += gradRow[q + 3] * row[(q + 3) * sw]
                        q += 4
                    }
                    while q < Q { a0 += gradRow[q] * row[q * sw]; q += 1 }
                }
                sums[r * S + s] += (a0 + a1) + (a2 + a3)
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

    // MARK: Input gradient

    /// dX of one input plane at horizontal stride 1, as a gather:
    /// `dX[h,w] = Σ_{k} Σ_{r,s valid} F[k,r,s] · dO_k[(h + pt - r·dh)/sh, w + pl - s·dw]`, summed over the m
    /// output channels k of the plane, then r, then s. A tap is valid where it maps to an output (the row
    /// divisible by the stride and in range, the column in range); the rest fall on padding and are dropped,
    /// as in col2im and the reference. The valid rows depend on h only. Each element is written once, so the
    /// plane needs no zeroing.
    ///
    /// Columns: with one output channel per plane and finite taps, dO is first copied into `scratch` (zeroed
    /// once per call) between zero columns on both sides, so that every dX row is a plain vector sweep; the extra terms are
    /// `finite · 0 = ±0`, and adding ±0 to a sum that starts at +0 changes no bit (such a sum is never -0).
    /// Otherwise (an infinite tap must not meet padding, or several channels) the columns where every tap
    /// is valid are swept in vectors and the few border columns summed one by one, testing each tap.
    func gatherInputGradient<T: ConvScalar>(_ grads: UnsafePointer<T>, _ taps: UnsafePointer<T>,
                                            _ dst: UnsafeMutablePointer<T>, tapsFinite: Bool,
                                            scratch: UnsafeMutablePointer<T>) {
        let H = g.inputHeight, W = g.inputWidth, P = g.outputHeight, Q = g.outputWidth
        let R = g.kernelHeight, S = g.kernelWidth, sh = g.strideHeight, dh = g.dilationHeight, dw = g.dilationWidth
        let pt = g.padding.top, pl = g.padding.left, m = g.outputChannelsPerGroup
        // Columns w + pl - s·dw that dX reads left of dO's first column and right of its last.
        let leftMargin = max(0, (S - 1) * dw - pl), rightMargin = max(0, W + pl - Q)
        let paddedRow = Q + leftMargin + rightMargin
        let padded = m == 1 && tapsFinite && P * paddedRow <= paddedHeight * paddedWidth
        let source: UnsafePointer<T>, rowStride: Int, colOffset: Int, lo: Int, hi: Int
        if padded {
            // The margins are zero already (the backward pass zeroes `scratch` once per call).
            for p in 0..<P { copyRow(scratch + p * paddedRow + leftMargin, grads + p * Q, Q) }
            source = UnsafePointer(scratch)
            (rowStride, colOffset, lo, hi) = (paddedRow, pl + leftMargin, 0, W)
        } else {
            // Interior columns: w + pl - s·dw in [0, Q) for every s.
            source = grads
            rowStride = Q
            colOffset = pl
            lo = min(W, max(0, (S - 1) * dw - pl))
            hi = max(lo, min(W, Q - pl))
        }
        let rowPlan = RowPlan(T.self, from: lo, to: hi)
        // Kernel rows r hitting output rows are those with r·dh ≡ h + pt (mod sh): every `rStep`-th one.
        let rStep = sh == 1 ? 1 : sh / gcd(dh, sh)
        for h in 0..<H {
            var rFirst = 0, pFirst = h + pt
            if sh > 1 {
                // The first kernel row whose tap lands on a multiple of the stride (rStep ≤ sh: a short scan).
                rFirst = R
                for r in 0..<min(R, rStep) where (h + pt - r * dh) % sh == 0 {
                    rFirst = r
                    break
                }
                pFirst = rFirst < R ? (h + pt - rFirst * dh) / sh : 0
            }
            let row = GatherRow(grads: source, taps: taps, dst: dst + h * W, m: m, planeSize: P * rowStride,
                                R: R, S: S, P: P, rowStride: rowStride, colOffset: colOffset,
                                colLimit: padded ? paddedRow : Q, rFirst: rFirst, rStep: rStep,
                                pFirst: pFirst, pStep: rStep * dh / sh, dw: dw)
            for w in 0..<lo { row.one(w) }
            sweepRow(row, rowPlan)
            for w in hi..<W { row.one(w) }
        }
    }

    /// dX of one input plane at horizontal stride above 1: each output-gradient element scattered into a
    /// zeroed padded plane, tap by tap, then the padding dropped.
    func scatterInputGradient<T: ConvScalar>(_ grads: UnsafePointer<T>, _ taps: UnsafePointer<T>,
                                             _ dst: UnsafeMutablePointer<T>, _ padded: UnsafeMutablePointer<T>) {
        let H = g.inputHeight, W = g.inputWidth, P = g.outputHeight, Q = g.outputWidth
        let R = g.kernelHeight, S = g.kernelWidth, sh = g.strideHeight, sw = g.strideWidth
        let dh = g.dilationHeight, dw = g.dilationWidth, PW = paddedWidth
        padded.update(repeating: 0, count: paddedHeight * PW)
        for j in 0..<g.outputChannelsPerGroup {
            let grad = grads + j * P * Q
            for r in 0..<R {
                for s in 0..<S {
                    let value = taps[(j * R + r) * S + s]
                    for p in 0..<P {
                        let row = padded + (p * sh + r * dh) * PW + s * dw
                        let gradRow = grad + p * Q
                        for q in 0..<Q { row[q * sw] += value * gradRow[q] }
                    }
                }
            }
        }
        for h in 0..<H {
            copyRow(dst + h * W, padded + (g.padding.top + h) * PW + g.padding.left, W)
        }
    }

    // MARK: - Row sweeps

    @inline(__always)
    static func load<V: SIMD>(_: V.Type, _ p: UnsafePointer<V.Scalar>) -> V {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }

    @inline(__always)
    static func store<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<V.Scalar>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }

    /// Computes outputs `plan.lo ..< plan.hi` of one row with `row`'s vector code (see ``RowPlan``).
    @inline(__always)
    func sweepRow<Row: RowChunks>(_ row: Row, _ plan: RowPlan) {
        if Row.Scalar.self == Float.self {
            sweepRow(row, SIMD4<Row.Scalar>.self, plan)
        } else {
            sweepRow(row, SIMD2<Row.Scalar>.self, plan)
        }
    }

    @inline(__always)
    func sweepRow<Row: RowChunks, V: SIMD>(_ row: Row, _: V.Type, _ plan: RowPlan) where V.Scalar == Row.Scalar {
        let L = V.scalarCount
        if plan.runs == 0 {
            for q in plan.lo..<plan.hi { row.one(q) }
            return
        }
        var q0 = plan.lo
        for run in 0..<plan.runs {
            let size = plan.runSize + (run < plan.longerRuns ? 1 : 0)
            // The row's last chunk ends at `hi` exactly (overlapping its neighbour when the length is not a
            // multiple of L).
            let last = run == plan.runs - 1 ? plan.hi - L : q0 + (size - 1) * L
            switch size {
            case 8: row.run(V.self, Chunks8.self, q0, last)
            case 7: row.run(V.self, Chunks7.self, q0, last)
            case 6: row.run(V.self, Chunks6.self, q0, last)
            case 5: row.run(V.self, Chunks5.self, q0, last)
            case 4: row.run(V.self, Chunks4.self, q0, last)
            case 3: row.run(V.self, Chunks3.self, q0, last)
            case 2: row.run(V.self, Chunks2.self, q0, last)
            default: row.run(V.self, Chunks1.self, q0, last)
            }
            q0 += size * L
        }
    }
}

/// How ``DepthwiseKernel/sweepRow(_:_:)`` covers outputs `lo ..< hi` of a row, worked out once per plane:
/// 16-byte chunks (one SSE register each) in runs of up to eight, whose independent sums hide the add
/// latency. A length that is not a multiple of the chunk ends with a chunk overlapping the one before it
/// (recomputing those outputs bit for bit, since every element's sum order is fixed); a row shorter than one
/// chunk goes one element at a time (`runs == 0`). The runs are evened out (9 chunks as 5 + 4, not 8 + 1)
/// so that none is latency-bound alone.
struct RowPlan {
    let lo: Int, hi: Int
    /// Number of runs, chunks in the shorter runs, and how many runs (the first ones) have one more.
    let runs: Int, runSize: Int, longerRuns: Int

    init<T: ConvScalar>(_: T.Type, from lo: Int, to hi: Int, maxRun: Int = 8) {
        self.lo = lo
        self.hi = hi
        let L = 16 / MemoryLayout<T>.stride
        let count = hi - lo
        if count < L {
            (runs, runSize, longerRuns) = (0, 0, 0)
        } else {
            let chunks = (count + L - 1) / L
            runs = (chunks + maxRun - 1) / maxRun
            runSize = chunks / runs
            longerRuns = chunks % runs
        }
    }
}


/// A compile-time count of 1, 2 or 3 taps along one axis of a filter-gradient block.
protocol BlockExtent { static var count: Int { get } }
enum Extent1: BlockExtent { static var count: Int { 1 } }
enum Extent2: BlockExtent { static var count: Int { 2 } }
enum Extent3: BlockExtent { static var count: Int { 3 } }

/// A compile-time switch (whether a filter-gradient block also sums the bias gradient).
protocol StaticFlag { static var on: Bool { get } }
enum FlagOn: StaticFlag { static var on: Bool { true } }
enum FlagOff: StaticFlag { static var on: Bool { false } }

/// A compile-time number of vector chunks (1 to 8) computed together by a row kernel.
protocol ChunkCount { static var count: Int { get } }
enum Chunks1: ChunkCount { static var count: Int { 1 } }
enum Chunks2: ChunkCount { static var count: Int { 2 } }
enum Chunks3: ChunkCount { static var count: Int { 3 } }
enum Chunks4: ChunkCount { static var count: Int { 4 } }
enum Chunks5: ChunkCount { static var count: Int { 5 } }
enum Chunks6: ChunkCount { static var count: Int { 6 } }
enum Chunks7: ChunkCount { static var count: Int { 7 } }
enum Chunks8: ChunkCount { static var count: Int { 8 } }

/// Eight vector sums, of which a run of `N.count` chunks uses the first ones: named so that they live in
/// registers, and each chunk a fixed assignment of outputs.
struct ChunkSums<V: SIMD, N: ChunkCount> where V.Scalar: ConvScalar {
    var a0: V, a1: V, a2: V, a3: V, a4: V, a5: V, a6: V, a7: V
    /// Chunk i starts at `q0 + i·L`, except the last, which starts at `last`.
    let q0: Int, last: Int

    @inline(__always)
    init(_ initial: V, _ q0: Int, _ last: Int) {
        (a0, a1, a2, a3, a4, a5, a6, a7) = (initial, initial, initial, initial, initial, initial, initial, initial)
        self.q0 = q0
        self.last = last
    }

    @inline(__always)
    func offset(_ i: Int) -> Int { i == N.count - 1 ? last : q0 + i * V.scalarCount }

    /// Adds `tap · src[offset(i) ..< offset(i) + L]` to every chunk's sum.
    @inline(__always)
    mutating func add(_ tap: V.Scalar, _ src: UnsafePointer<V.Scalar>) {
        let v = V(repeating: tap)
        a0 += v * DepthwiseKernel.load(V.self, src + offset(0))
        if N.count > 1 { a1 += v * DepthwiseKernel.load(V.self, src + offset(1)) }
        if N.count > 2 { a2 += v * DepthwiseKernel.load(V.self, src + offset(2)) }
        if N.count > 3 { a3 += v * DepthwiseKernel.load(V.self, src + offset(3)) }
        if N.count > 4 { a4 += v * DepthwiseKernel.load(V.self, src + offset(4)) }
        if N.count > 5 { a5 += v * DepthwiseKernel.load(V.self, src + offset(5)) }
        if N.count > 6 { a6 += v * DepthwiseKernel.load(V.self, src + offset(6)) }
        if N.count > 7 { a7 += v * DepthwiseKernel.load(V.self, src + offset(7)) }
    }

    /// Adds `tap · src[offset(i) ..< offset(i) + L]` to every chunk's sum and `otherTap` times the same
    /// vectors to `other`'s (loading each vector once).
    @inline(__always)
    mutating func add(_ tap: V.Scalar, _ src: UnsafePointer<V.Scalar>, and otherTap: V.Scalar,
                      into other: inout ChunkSums) {
        let v = V(repeating: tap), u = V(repeating: otherTap)
        @inline(__always) func at(_ i: Int) -> V { DepthwiseKernel.load(V.self, src + offset(i)) }
        var x = at(0)
        a0 += v * x; other.a0 += u * x
        if N.count > 1 { x = at(1); a1 += v * x; other.a1 += u * x }
        if N.count > 2 { x = at(2); a2 += v * x; other.a2 += u * x }
        if N.count > 3 { x = at(3); a3 += v * x; other.a3 += u * x }
        if N.count > 4 { x = at(4); a4 += v * x; other.a4 += u * x }
        if N.count > 5 { x = at(5); a5 += v * x; other.a5 += u * x }
        if N.count > 6 { x = at(6); a6 += v * x; other.a6 += u * x }
        if N.count > 7 { x = at(7); a7 += v * x; other.a7 += u * x }
    }

    /// Stores every chunk's sum at `dst + offset(i)`.
    @inline(__always)
    func store(_ dst: UnsafeMutablePointer<V.Scalar>) {
        DepthwiseKernel.store(a0, dst + offset(0))
        if N.count > 1 { DepthwiseKernel.store(a1, dst + offset(1)) }
        if N.count > 2 { DepthwiseKernel.store(a2, dst + offset(2)) }
        if N.count > 3 { DepthwiseKernel.store(a3, dst + offset(3)) }
        if N.count > 4 { DepthwiseKernel.store(a4, dst + offset(4)) }
        if N.count > 5 { DepthwiseKernel.store(a5, dst + offset(5)) }
        if N.count > 6 { DepthwiseKernel.store(a6, dst + offset(6)) }
        if N.count > 7 { DepthwiseKernel.store(a7, dst + offset(7)) }
    }
}

/// One row of outputs that ``DepthwiseKernel/sweepRow(_:_:)`` can drive: a run of `N.count` vector
/// chunks (see ``ChunkSums``), or one element alone.
protocol RowChunks {
    associatedtype Scalar: ConvScalar
    func run<V: SIMD, N: ChunkCount>(_: V.Type, _: N.Type, _ q0: Int, _ last: Int) where V.Scalar == Scalar
    func one(_ q: Int)
}

/// One forward output row: `bias + Σ_{r,s} taps[r,s] · base[r·rowStep + s·dw + q·sw]`, in `(r, s)` order.
struct ForwardRow<Scalar: ConvScalar>: RowChunks {
    let base: UnsafePointer<Scalar>, taps: UnsafePointer<Scalar>, bias: Scalar
    let dst: UnsafeMutablePointer<Scalar>
    let R: Int, S: Int, rowStep: Int, dw: Int, sw: Int

    /// Chunks at stride 1 (`sw` must be 1).
    @inline(__always)
    func run<V: SIMD, N: ChunkCount>(_: V.Type, _: N.Type, _ q0: Int, _ last: Int) where V.Scalar == Scalar {
        var sums = ChunkSums<V, N>(V(repeating: bias), q0, last)
        var row = base
        for r in 0..<R {
            let t = taps + r * S
            var tap = row
            for s in 0..<S {
                sums.add(t[s], tap)
                tap += dw
            }
            row += rowStep
        }
        sums.store(dst)
    }

    @inline(__always)
    func one(_ q: Int) {
        var acc = bias
        var row = base + q * sw
        for r in 0..<R {
            let t = taps + r * S
            for s in 0..<S { acc += t[s] * row[s * dw] }
            row += rowStep
        }
        dst[q] = acc
    }
}

/// One forward output row at horizontal stride `sw > 1`, read from column phases (see
/// ``DepthwiseKernel/padPhases(_:into:)``; `base` is the row's first input row in phase 0, phases
/// `phaseStride` apart): `bias + Σ_{r,s} taps[r,s] · phase[(s·dw) % sw][r·rowStep + (s·dw)/sw + q]`, in `(r, s)`
/// order, the same sums as ``ForwardRow`` on the padded plane.
struct PhasedForwardRow<Scalar: ConvScalar>: RowChunks {
    let base: UnsafePointer<Scalar>, taps: UnsafePointer<Scalar>, bias: Scalar
    let dst: UnsafeMutablePointer<Scalar>
    let R: Int, S: Int, rowStep: Int, dw: Int, sw: Int, phaseStride: Int

    /// The offset of tap `s` from its row's start, stepped without a division per tap: the phase advances by
    /// `dw % sw` and the element by `dw / sw`, carrying one element when the phase wraps.
    @inline(__always)
    func forEachTap(_ body: (_ s: Int, _ offset: Int) -> Void) {
        let step = dw / sw, turn = dw % sw
        var phase = 0, element = 0
        for s in 0..<S {
            body(s, phase * phaseStride + element)
            phase += turn
            element += step
            if phase >= sw { phase -= sw; element += 1 }
        }
    }

    @inline(__always)
    func run<V: SIMD, N: ChunkCount>(_: V.Type, _: N.Type, _ q0: Int, _ last: Int) where V.Scalar == Scalar {
        var sums = ChunkSums<V, N>(V(repeating: bias), q0, last)
        var row = base
        for r in 0..<R {
            let t = taps + r * S
            forEachTap { s, offset in sums.add(t[s], row + offset) }
            row += rowStep
        }
        sums.store(dst)
    }

    @inline(__always)
    func one(_ q: Int) {
        var acc = bias
        var row = base + q
        for r in 0..<R {
            let t = taps + r * S
            forEachTap { s, offset in acc += t[s] * row[offset] }
            row += rowStep
        }
        dst[q] = acc
    }
}

/// Chunks per run of the paired forward rows (``ForwardRowPair``): two sums per chunk, so up to 14 sums plus
/// the input vector and a broadcast tap in SSE's 16 registers (measured faster than runs of 4, which reload
/// every tap twice as often).
let pairMaxRun = 7

/// Two forward output rows at horizontal stride 1, `dst[0 ..< Q]` and `dst[Q ..< 2Q]`, the second's kernel
/// row r reading the first's input row r + 1 (`rowStep` apart): input rows `0 ... R` are walked once, each
/// vector loaded once and multiplied into both rows' sums. Each element still sums the bias, then the taps in
/// `(r, s)` order, exactly as ``ForwardRow`` does.
struct ForwardRowPair<Scalar: ConvScalar>: RowChunks {
    let base: UnsafePointer<Scalar>, taps: UnsafePointer<Scalar>, bias: Scalar
    let dst: UnsafeMutablePointer<Scalar>
    let R: Int, S: Int, rowStep: Int, dw: Int, Q: Int

    @inline(__always)
    func run<V: SIMD, N: ChunkCount>(_: V.Type, _: N.Type, _ q0: Int, _ last: Int) where V.Scalar == Scalar {
        var first = ChunkSums<V, N>(V(repeating: bias), q0, last)
        var second = ChunkSums<V, N>(V(repeating: bias), q0, last)
        var row = base
        // Input row 0: kernel row 0 of the first output row only.
        var src = row
        for s in 0..<S {
            first.add(taps[s], src)
            src += dw
        }
        // Input rows 1 ..< R: kernel row j of the first, j - 1 of the second.
        for j in 1..<R {
            row += rowStep
            let t1 = taps + j * S, t2 = t1 - S
            src = row
            for s in 0..<S {
                first.add(t1[s], src, and: t2[s], into: &second)
                src += dw
            }
        }
        // Input row R: kernel row R - 1 of the second only.
        row += rowStep
        let t2 = taps + (R - 1) * S
        src = row
        for s in 0..<S {
            second.add(t2[s], src)
            src += dw
        }
        first.store(dst)
        second.store(dst + Q)
    }

    @inline(__always)
    func one(_ q: Int) {
        var a = bias, b = bias
        var row = base + q
        for r in 0..<R {
            let t = taps + r * S
            for s in 0..<S {
                a += t[s] * row[s * dw]
                b += t[s] * row[rowStep + s * dw]
            }
            row += rowStep
        }
        dst[q] = a
        dst[Q + q] = b
    }
}

/// One input-gradient row `h` at horizontal stride 1 (see ``DepthwiseKernel/gatherInputGradient(_:_:_:tapsFinite:scratch:)``):
/// kernel rows `rFirst, rFirst + rStep, … < R` map to output-gradient rows `pFirst, pFirst - pStep, …`, used
/// where in `[0, P)`; column w reads column `w + colOffset - s·dw` of a source row (`rowStride` apart, planes
/// `planeSize` apart), which exists in `[0, colLimit)`. Chunks must lie where every tap's column exists;
/// `one` tests each tap.
struct GatherRow<Scalar: ConvScalar>: RowChunks {
    let grads: UnsafePointer<Scalar>, taps: UnsafePointer<Scalar>, dst: UnsafeMutablePointer<Scalar>
    let m: Int, planeSize: Int, R: Int, S: Int, P: Int, rowStride: Int, colOffset: Int, colLimit: Int
    let rFirst: Int, rStep: Int, pFirst: Int, pStep: Int, dw: Int

    @inline(__always)
    func run<V: SIMD, N: ChunkCount>(_: V.Type, _: N.Type, _ q0: Int, _ last: Int) where V.Scalar == Scalar {
        var sums = ChunkSums<V, N>(V(), q0, last)
        for j in 0..<m {
            let grad = grads + j * planeSize + colOffset
            let t = taps + j * R * S
            var r = rFirst, p = pFirst
            while r < R {
                if p >= 0 && p < P {
                    // Column w reads source column w + colOffset - s·dw: walk leftwards by dw per tap.
                    var src = grad + p * rowStride
                    let tr = t + r * S
                    for s in 0..<S {
                        sums.add(tr[s], src)
                        src -= dw
                    }
                }
                r += rStep
                p -= pStep
            }
        }
        sums.store(dst)
    }

    @inline(__always)
    func one(_ w: Int) {
        var acc: Scalar = 0
        for j in 0..<m {
            let grad = grads + j * planeSize
            let t = taps + j * R * S
            var r = rFirst, p = pFirst
            while r < R {
                if p >= 0 && p < P {
                    let src = grad + p * rowStride
                    let tr = t + r * S
                    for s in 0..<S {
                        let col = w + colOffset - s * dw
                        if col >= 0 && col < colLimit { acc += tr[s] * src[col] }
                    }
                }
                r += rStep
                p -= pStep
            }
        }
        dst[w] = acc
    }
}
