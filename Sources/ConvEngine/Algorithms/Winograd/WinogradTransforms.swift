/// The three transforms of Winograd's F(m×m, 3×3) (<doc:TheAlgorithms>), on 8 lanes at once: 8 tiles of one
/// channel for the input and output transforms, 8 channels of one filter for the filter transform.
///
/// Each 2-D transform is two passes of its 1-D transform: along the tile's rows, then along its columns.
/// Matrices are row-major arrays of lanes: an α×α input tile `d[y·α + x]`, a 3×3 filter `g[r·3 + s]`, an
/// m×m output tile `y[i·m + j]`, with α = m + 2. The lanes are `SIMD8` so that the compiler vectorises them
/// for the baseline target (no unsafe flags).
protocol WinogradTransform {
    /// The algorithm these transforms implement.
    static var algorithm: ConvAlgorithm { get }
    /// Output tile size m.
    static var m: Int { get }
    /// The fewest input channels per group for which the automatic rule picks these transforms (their α²
    /// GEMMs have C/G as inner dimension, and a short one runs well below BLAS's rate).
    static var automaticMinimumInputChannels: Int { get }

    /// One column or row of `Bᵀ·d·B`, in place: the α lanes at `p[0], p[stride], …`.
    static func input1D<T: ConvScalar>(_ p: UnsafeMutablePointer<SIMD8<T>>, stride: Int)
    /// One column or row of `G·g·Gᵀ`: 3 lanes at `src[0], src[srcStride], …` to α at `dst[0], dst[dstStride], …`.
    static func filter1D<T: ConvScalar>(_ src: UnsafePointer<SIMD8<T>>, _ srcStride: Int,
                                        _ dst: UnsafeMutablePointer<SIMD8<T>>, _ dstStride: Int)
    /// `row[x + m·l]` for the 8 lanes l: element x of 8 consecutive tiles of one tile row, by one wide load and
    /// a deinterleave. Reads `row[(x rounded down to a multiple of m) …+ 8m − 1]`.
    static func rowLanes<T: ConvScalar>(_ row: UnsafePointer<T>, _ x: Int) -> SIMD8<T>
    /// Row i of 8 consecutive result tiles of one tile row, from the m lanes `y[i·m …]`: `out[l·m + j] = y[i·m + j][l]`
    /// for the 8m consecutive results at `out`, by interleaving the lanes and one wide store.
    static func storeRow<T: ConvScalar>(_ y: UnsafePointer<SIMD8<T>>, _ out: UnsafeMutablePointer<T>)
    /// One column or row of `Aᵀ·M·A`: α lanes at `src[0], src[srcStride], …` to m at `dst[0], dst[dstStride], …`.
    static func output1D<T: ConvScalar>(_ src: UnsafePointer<SIMD8<T>>, _ srcStride: Int,
                                        _ dst: UnsafeMutablePointer<SIMD8<T>>, _ dstStride: Int)
    /// One column or row of `A·dY·Aᵀ` (the output transform's adjoint, for the filter gradient): m lanes at
    /// `src[0], src[srcStride], …` to α at `dst[0], dst[dstStride], …`.
    static func outputGradient1D<T: ConvScalar>(_ src: UnsafePointer<SIMD8<T>>, _ srcStride: Int,
                                                _ dst: UnsafeMutablePointer<SIMD8<T>>, _ dstStride: Int)
    /// One column or row of `Gᵀ·dU·G` (the filter transform's adjoint): α lanes at `src[0], src[srcStride], …`
    /// to 3 at `dst[0], dst[dstStride], …`.
    static func filterGradient1D<T: ConvScalar>(_ src: UnsafePointer<SIMD8<T>>, _ srcStride: Int,
                                                _ dst: UnsafeMutablePointer<SIMD8<T>>, _ dstStride: Int)
}

extension WinogradTransform {
    /// α = m + 2, the input tile size.
    static var alpha: Int { m + 2 }

    /// `V = Bᵀ·d·B` in place on the α×α tile at `d`.
    @inline(__always)
    static func input<T: ConvScalar>(_ d: UnsafeMutablePointer<SIMD8<T>>) {
        let a = alpha
        for x in 0..<a { input1D(d + x, stride: a) }
        for xi in 0..<a { input1D(d + xi * a, stride: 1) }
    }

    /// `U = G·g·Gᵀ` from the 3×3 filter at `g` into the α×α tile at `u`; `scratch` holds α·3 lanes.
    @inline(__always)
    static func filter<T: ConvScalar>(_ g: UnsafePointer<SIMD8<T>>, into u: UnsafeMutablePointer<SIMD8<T>>,
                                      scratch: UnsafeMutablePointer<SIMD8<T>>) {
        for s in 0..<3 { filter1D(g + s, 3, scratch + s, 3) }
        for xi in 0..<alpha { filter1D(UnsafePointer(scratch + xi * 3), 1, u + xi * alpha, 1) }
    }

    /// `Y = Aᵀ·M·A` from the α×α tile at `mm` into the m×m tile at `y`; `scratch` holds m·α lanes.
    @inline(__always)
    static func output<T: ConvScalar>(_ mm: UnsafePointer<SIMD8<T>>, into y: UnsafeMutablePointer<SIMD8<T>>,
                                      scratch: UnsafeMutablePointer<SIMD8<T>>) {
        let a = alpha
        for nu in 0..<a { output1D(mm + nu, a, scratch + nu, a) }
        for i in 0..<m { output1D(UnsafePointer(scratch + i * a), 1, y + i * m, 1) }
    }

    /// `A·dY·Aᵀ` from the m×m tile at `dy` into the α×α tile at `w`; `scratch` holds α·m lanes.
    @inline(__always)
    static func outputGradient<T: ConvScalar>(_ dy: UnsafePointer<SIMD8<T>>, into w: UnsafeMutablePointer<SIMD8<T>>,
                                              scratch: UnsafeMutablePointer<SIMD8<T>>) {
        let a = alpha
        for j in 0..<m { outputGradient1D(dy + j, m, scratch + j, m) }
        for xi in 0..<a { outputGradient1D(UnsafePointer(scratch + xi * m), 1, w + xi * a, 1) }
    }

    /// `Gᵀ·dU·G` from the α×α tile at `du` into the 3×3 tile at `g`; `scratch` holds 3·α lanes.
    @inline(__always)
    static func filterGradient<T: ConvScalar>(_ du: UnsafePointer<SIMD8<T>>, into g: UnsafeMutablePointer<SIMD8<T>>,
                                              scratch: UnsafeMutablePointer<SIMD8<T>>) {
        let a = alpha
        for nu in 0..<a { filterGradient1D(du + nu, a, scratch + nu, a) }
        for r in 0..<3 { filterGradient1D(UnsafePointer(scratch + r * a), 1, g + r * 3, 1) }
    }
}

/// F(2×2, 3×3), interpolation points 0, 1, −1, ∞.
enum WinogradF2: WinogradTransform {
    static var algorithm: ConvAlgorithm { .winograd2x2 }
    static var m: Int { 2 }
    /// 64: at C/G = 32 (Fashion-MNIST's second layer, 32→64 on 14×14, batch 64) F(2×2) measured slower than
    /// kernel-row GEMM (6.45 against 5.91 ms, one thread, CHANGELOG 0.2.0); F(4×4) still won there.
    static var automaticMinimumInputChannels: Int { 64 }

    // Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]
    @inline(__always)
    static func input1D<T: ConvScalar>(_ p: UnsafeMutablePointer<SIMD8<T>>, stride: Int) {
        let d0 = p[0], d1 = p[stride], d2 = p[2 * stride], d3 = p[3 * stride]
        p[0] = d0 - d2
        p[stride] = d1 + d2
        p[2 * stride] = d2 - d1
        p[3 * stride] = d1 - d3
    }

    @inline(__always)
    static func rowLanes<T: ConvScalar>(_ row: UnsafePointer<T>, _ x: Int) -> SIMD8<T> {
        let v = UnsafeRawPointer(row + (x & ~1)).loadUnaligned(as: SIMD16<T>.self)
        return x & 1 == 0 ? v.evenHalf : v.oddHalf
    }

    @inline(__always)
    static func storeRow<T: ConvScalar>(_ y: UnsafePointer<SIMD8<T>>, _ out: UnsafeMutablePointer<T>) {
        let a = y[0], b = y[1]
        var v = SIMD16<T>()
        for l in 0..<8 {
            v[2 &* l] = a[l]
            v[2 &* l &+ 1] = b[l]
        }
        UnsafeMutableRawPointer(out).storeBytes(of: v, as: SIMD16<T>.self)
    }

    // G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]
    @inline(__always)
    static func filter1D<T: ConvScalar>(_ src: UnsafePointer<SIMD8<T>>, _ ss: Int,
                                        _ dst: UnsafeMutablePointer<SIMD8<T>>, _ ds: Int) {
        let g0 = src[0], g1 = src[ss], g2 = src[2 * ss]
        let half: T = 0.5
        let even = g0 + g2
        dst[0] = g0
        dst[ds] = (even + g1) * half
        dst[2 * ds] = (even - g1) * half
        dst[3 * ds] = g2
    }

    // Aᵀ = [1 1 1 0; 0 1 −1 −1]
    @inline(__always)
    static func output1D<T: ConvScalar>(_ src: UnsafePointer<SIMD8<T>>, _ ss: Int,
                                        _ dst: UnsafeMutablePointer<SIMD8<T>>, _ ds: Int) {
        let m0 = src[0], m1 = src[ss], m2 = src[2 * ss], m3 = src[3 * ss]
        dst[0] = m0 + m1 + m2
        dst[ds] = m1 - m2 - m3
    }

    // A = (Aᵀ)ᵀ = [1 0; 1 1; 1 −1; 0 −1]
    @inline(__always)
    static func outputGradient1D<T: ConvScalar>(_ src: UnsafePointer<SIMD8<T>>, _ ss: Int,
                                                _ dst: UnsafeMutablePointer<SIMD8<T>>, _ ds: Int) {
        let y0 = src[0], y1 = src[ss]
        dst[0] = y0
        dst[ds] = y0 + y1
        dst[2 * ds] = y0 - y1
        dst[3 * ds] = SIMD8<T>() - y1
    }

    // Gᵀ = [1 ½ ½ 0; 0 ½ −½ 0; 0 ½ ½ 1]
    @inline(__always)
    static func filterGradient1D<T: ConvScalar>(_ src: UnsafePointer<SIMD8<T>>, _ ss: Int,
                                                _ dst: UnsafeMutablePointer<SIMD8<T>>, _ ds: Int) {
        let u0 = src[0], u1 = src[ss], u2 = src[2 * ss], u3 = src[3 * ss]
        let half: T = 0.5
        let sum = (u1 + u2) * half
        dst[0] = u0 + sum
        dst[ds] = (u1 - u2) * half
        dst[2 * ds] = sum + u3
    }
}

/// F(4×4, 3×3), interpolation points 0, 1, −1, 2, −2, ∞.
enum WinogradF4: WinogradTransform {
    static var algorithm: ConvAlgorithm { .winograd4x4 }
    static var m: Int { 4 }
    static var automaticMinimumInputChannels: Int { 32 }

    // Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1]
    @inline(__always)
    static func input1D<T: ConvScalar>(_ p: UnsafeMutablePointer<SIMD8<T>>, stride s: Int) {
        let d0 = p[0], d1 = p[s], d2 = p[2 * s], d3 = p[3 * s], d4 = p[4 * s], d5 = p[5 * s]
        let four: T = 4, five: T = 5, two: T = 2
        // Shared partial sums: rows 1/2 and 3/4 differ only in the sign of their odd part.
        let a = d4 - four * d2, b = d3 - four * d1
        let c = d4 - d2, e = two * (d3 - d1)
        p[0] = four * d0 - five * d2 + d4
        p[s] = a + b
        p[2 * s] = a - b
        p[3 * s] = c + e
        p[4 * s] = c - e
        p[5 * s] = four * d1 - five * d3 + d5
    }

    @inline(__always)
    static func rowLanes<T: ConvScalar>(_ row: UnsafePointer<T>, _ x: Int) -> SIMD8<T> {
        let v = UnsafeRawPointer(row + (x & ~3)).loadUnaligned(as: SIMD32<T>.self)
        switch x & 3 {
        case 0: return v.evenHalf.evenHalf
        case 1: return v.oddHalf.evenHalf
        case 2: return v.evenHalf.oddHalf
        default: return v.oddHalf.oddHalf
        }
    }

    @inline(__always)
    static func storeRow<T: ConvScalar>(_ y: UnsafePointer<SIMD8<T>>, _ out: UnsafeMutablePointer<T>) {
        let a = y[0], b = y[1], c = y[2], d = y[3]
        var v = SIMD32<T>()
        for l in 0..<8 {
            v[4 &* l] = a[l]
            v[4 &* l &+ 1] = b[l]
            v[4 &* l &+ 2] = c[l]
            v[4 &* l &+ 3] = d[l]
        }
        UnsafeMutableRawPointer(out).storeBytes(of: v, as: SIMD32<T>.self)
    }

    // G = [¼ 0 0; −⅙ −⅙ −⅙; −⅙ ⅙ −⅙; 1/24 1/12 ⅙; 1/24 −1/12 ⅙; 0 0 1]
    @inline(__always)
    static func filter1D<T: ConvScalar>(_ src: UnsafePointer<SIMD8<T>>, _ ss: Int,
                                        _ dst: UnsafeMutablePointer<SIMD8<T>>, _ ds: Int) {
        let g0 = src[0], g1 = src[ss], g2 = src[2 * ss]
        let quarter: T = 0.25, sixth: T = T(1) / 6, twelfth: T = T(1) / 12, twentyFourth: T = T(1) / 24
        let even = g0 + g2
        dst[0] = g0 * quarter
        dst[ds] = (even + g1) * -sixth
        dst[2 * ds] = (even - g1) * -sixth
        let e2 = g0 * twentyFourth + g2 * sixth, o2 = g1 * twelfth
        dst[3 * ds] = e2 + o2
        dst[4 * ds] = e2 - o2
        dst[5 * ds] = g2
    }

    // Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1]
    @inline(__always)
    static func output1D<T: ConvScalar>(_ src: UnsafePointer<SIMD8<T>>, _ ss: Int,
                                        _ dst: UnsafeMutablePointer<SIMD8<T>>, _ ds: Int) {
        let m0 = src[0], m1 = src[ss], m2 = src[2 * ss], m3 = src[3 * ss], m4 = src[4 * ss], m5 = src[5 * ss]
        let two: T = 2, four: T = 4, eight: T = 8
        let s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4
        dst[0] = m0 + s12 + s34
        dst[ds] = d12 + two * d34
        dst[2 * ds] = s12 + four * s34
        dst[3 * ds] = d12 + eight * d34 + m5
    }

    // A = (Aᵀ)ᵀ = [1 0 0 0; 1 1 1 1; 1 −1 1 −1; 1 2 4 8; 1 −2 4 −8; 0 0 0 1]
    @inline(__always)
    static func outputGradient1D<T: ConvScalar>(_ src: UnsafePointer<SIMD8<T>>, _ ss: Int,
                                                _ dst: UnsafeMutablePointer<SIMD8<T>>, _ ds: Int) {
        let y0 = src[0], y1 = src[ss], y2 = src[2 * ss], y3 = src[3 * ss]
        let two: T = 2, four: T = 4, eight: T = 8
        let even = y0 + y2, odd = y1 + y3
        let even2 = y0 + four * y2, odd2 = two * y1 + eight * y3
        dst[0] = y0
        dst[ds] = even + odd
        dst[2 * ds] = even - odd
        dst[3 * ds] = even2 + odd2
        dst[4 * ds] = even2 - odd2
        dst[5 * ds] = y3
    }

    // Gᵀ = [¼ −⅙ −⅙ 1/24 1/24 0; 0 −⅙ ⅙ 1/12 −1/12 0; 0 −⅙ −⅙ ⅙ ⅙ 1]
    @inline(__always)
    static func filterGradient1D<T: ConvScalar>(_ src: UnsafePointer<SIMD8<T>>, _ ss: Int,
                                                _ dst: UnsafeMutablePointer<SIMD8<T>>, _ ds: Int) {
        let u0 = src[0], u1 = src[ss], u2 = src[2 * ss], u3 = src[3 * ss], u4 = src[4 * ss], u5 = src[5 * ss]
        let quarter: T = 0.25, sixth: T = T(1) / 6, twelfth: T = T(1) / 12, twentyFourth: T = T(1) / 24
        let s12 = u1 + u2, s34 = u3 + u4
        dst[0] = u0 * quarter - s12 * sixth + s34 * twentyFourth
        dst[ds] = (u2 - u1) * sixth + (u3 - u4) * twelfth
        dst[2 * ds] = (s34 - s12) * sixth + u5
    }
}
