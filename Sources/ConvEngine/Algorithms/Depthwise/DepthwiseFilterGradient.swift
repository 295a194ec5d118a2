// The depthwise filter gradient of one plane: register-blocked taps at horizontal stride 1, one tap at a
// time otherwise.

extension DepthwiseKernel {
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
        // Safe: r0 < R and s0 < S, so r0·dh and s0·dw are within the dilated kernel's reach.
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
        let L = V.scalarCount, vectorEnd = Q - Q % L
        let two = NS.count > 1, three = NS.count > 2
        // Safe (see step(_:count:)): each step is 0 where it is never taken (one output row, a block one tap high
        // or narrower than three taps), else within the padded plane (a block of NR taps means R ≥ NR).
        let rowStride = Self.outputStep(rows) * paddedWidth
        let tapRow = NR.count > 1 ? g.dilationHeight * paddedWidth : 0
        let dw = two ? g.dilationWidth : 0, dw2 = three ? 2 * g.dilationWidth : 0
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
        // Safe: p < P, r < R, s < S and q < Q, so every product is a position of the padded plane.
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
