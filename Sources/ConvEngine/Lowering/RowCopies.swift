// Row copies and fills for the lowering kernels. Their rows are often short (7–56 elements at ResNet's
// deeper layers), where a call into memmove/memset costs more than the copy itself; these are inlined SIMD
// loops for short runs and fall back to the library calls for long ones.

internal let libraryCallThreshold = 64

/// `dst[0..<count] = src[0..<count]` (the ranges must not overlap).
@inline(__always)
internal func copyRow<T: ConvScalar>(_ dst: UnsafeMutablePointer<T>, _ src: UnsafePointer<T>, _ count: Int) {
    if count >= libraryCallThreshold {
        dst.update(from: src, count: count)
        return
    }
    var i = 0
    while i + 8 <= count {
        UnsafeMutableRawPointer(dst + i).storeBytes(of: UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<T>.self),
                                                    as: SIMD8<T>.self)
        i += 8
    }
    if i + 4 <= count {
        UnsafeMutableRawPointer(dst + i).storeBytes(of: UnsafeRawPointer(src + i).loadUnaligned(as: SIMD4<T>.self),
                                                    as: SIMD4<T>.self)
        i += 4
    }
    if i < count { dst[i] = src[i] }
    if i + 1 < count { dst[i + 1] = src[i + 1] }
    if i + 2 < count { dst[i + 2] = src[i + 2] }
}

/// `dst[0..<count] = 0`.
@inline(__always)
internal func zeroRow<T: ConvScalar>(_ dst: UnsafeMutablePointer<T>, _ count: Int) {
    if count <= 0 { return }
    if count >= libraryCallThreshold {
        dst.update(repeating: 0, count: count)
        return
    }
    var i = 0
    while i + 8 <= count {
        UnsafeMutableRawPointer(dst + i).storeBytes(of: SIMD8<T>(), as: SIMD8<T>.self)
        i += 8
    }
    if i + 4 <= count {
        UnsafeMutableRawPointer(dst + i).storeBytes(of: SIMD4<T>(), as: SIMD4<T>.self)
        i += 4
    }
    if i < count { dst[i] = 0 }
    if i + 1 < count { dst[i + 1] = 0 }
    if i + 2 < count { dst[i + 2] = 0 }
}

/// `dst[0..<count] += src[0..<count]`.
@inline(__always)
internal func addRow<T: ConvScalar>(_ dst: UnsafeMutablePointer<T>, _ src: UnsafePointer<T>, _ count: Int) {
    var i = 0
    while i + 8 <= count {
        let sum = UnsafeRawPointer(dst + i).loadUnaligned(as: SIMD8<T>.self)
            + UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<T>.self)
        UnsafeMutableRawPointer(dst + i).storeBytes(of: sum, as: SIMD8<T>.self)
        i += 8
    }
    while i < count {
        dst[i] += src[i]
        i += 1
    }
}

/// Fills `count` elements of each of `channels` output channels (`channelStride` apart, starting at `out`) with
/// that channel's bias, so that the tile's GEMMs accumulate onto it with `beta = 1`. Returns the `beta` for the
/// tile's first GEMM: 1 after a fill, 0 without a bias (the GEMM then overwrites).
///
/// OpenBLAS runs a `beta = 0` GEMM as two passes over C (it zeroes C first, then accumulates), and adding the bias
/// afterwards would be a third; the fill replaces the first and the third, which matters on layers whose output
/// does not stay in cache. The bias becomes the first term of each sum, which the error bound of
/// <doc:TheMathAndTheLowering> already counts (|B| is one of its terms).
@inline(__always)
internal func prefillBias<T: ConvScalar>(_ out: UnsafeMutablePointer<T>, channels: Int, channelStride: Int, count: Int,
                                         bias: UnsafePointer<T>?) -> T {
    guard let bias else { return 0 }
    for k in 0..<channels { (out + k * channelStride).update(repeating: bias[k], count: count) }
    return 1
}

/// Copies `rows` rows of `width` elements from rows `srcStride` apart to rows `dstStride` apart (one run when
/// both are contiguous): the copy-out of a tile result into NCHW and the gather of a tile's output gradient.
@inline(__always)
internal func copyRows<T: ConvScalar>(_ dst: UnsafeMutablePointer<T>, dstStride: Int, _ src: UnsafePointer<T>,
                                      srcStride: Int, rows: Int, width: Int) {
    if dstStride == width && srcStride == width {
        copyRow(dst, src, rows * width)
        return
    }
    for p in 0..<rows { copyRow(dst + p * dstStride, src + p * srcStride, width) }
}
