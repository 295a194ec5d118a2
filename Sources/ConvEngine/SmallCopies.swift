// Row copies and fills for the lowering kernels. Their rows are often short (7–56 elements at ResNet's
// deeper layers), where a call into memmove/memset costs more than the copy itself; these are inlined SIMD
// loops for short runs and fall back to the library calls for long ones.

@usableFromInline
internal let libraryCallThreshold = 128

/// `dst[0..<count] = src[0..<count]` (the ranges must not overlap).
@inline(__always) @usableFromInline
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
@inline(__always) @usableFromInline
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
@inline(__always) @usableFromInline
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

/// `dst[0..<count] += value`: the bias added along an output row, eight lanes at a time.
@inline(__always) @usableFromInline
internal func addScalar<T: ConvScalar>(_ dst: UnsafeMutablePointer<T>, _ count: Int, _ value: T) {
    let splat = SIMD8<T>(repeating: value)
    var i = 0
    while i + 8 <= count {
        let sum = UnsafeRawPointer(dst + i).loadUnaligned(as: SIMD8<T>.self) + splat
        UnsafeMutableRawPointer(dst + i).storeBytes(of: sum, as: SIMD8<T>.self)
        i += 8
    }
    while i < count {
        dst[i] += value
        i += 1
    }
}

/// `dst[0..<count] = src[0..<count] + value` (the ranges must not overlap): a tile's result row copied out with
/// its bias in one pass instead of two.
@inline(__always) @usableFromInline
internal func copyRowAdding<T: ConvScalar>(_ dst: UnsafeMutablePointer<T>, _ src: UnsafePointer<T>, _ count: Int,
                                           _ value: T) {
    let splat = SIMD8<T>(repeating: value)
    var i = 0
    while i + 8 <= count {
        let sum = UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<T>.self) + splat
        UnsafeMutableRawPointer(dst + i).storeBytes(of: sum, as: SIMD8<T>.self)
        i += 8
    }
    while i < count {
        dst[i] = src[i] + value
        i += 1
    }
}

/// Finishes `rows` output rows of `width` elements at `out` (contiguous) for one output channel: copies them
/// from a tile result whose rows are `sourceStride` apart, adding `bias` when there is one, or, with no `source`
/// (the GEMM wrote `out` directly), only adds the bias. One pass over the output either way.
@inline(__always) @usableFromInline
internal func storeTileRows<T: ConvScalar>(_ out: UnsafeMutablePointer<T>, from source: UnsafePointer<T>?,
                                           rows: Int, width: Int, sourceStride: Int, bias: T?) {
    guard let source else {
        if let bias { addScalar(out, rows * width, bias) }
        return
    }
    // Rows that are contiguous in the source too are one run.
    let (runs, length) = sourceStride == width ? (1, rows * width) : (rows, width)
    for p in 0..<runs {
        if let bias {
            copyRowAdding(out + p * length, source + p * sourceStride, length, bias)
        } else {
            copyRow(out + p * length, source + p * sourceStride, length)
        }
    }
}
