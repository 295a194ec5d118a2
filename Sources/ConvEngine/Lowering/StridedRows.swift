// Strided row copies. At a horizontal stride sw > 1 without stride phases (a kernel no wider than the stride: 1×1/2, 2×2/2, 3×3/3),
// every im2col row copy reads every sw-th element of an input row and every col2im row adds into every sw-th
// element. At sw = 2 these are a SIMD de-interleave and its adjoint: a 16-element load holds 8 wanted elements
// in its even lanes. Other strides use a scalar loop over a stepped pointer (no index multiply).

/// `dst[i] = src[i * stride]` for `i` in `0..<count` (`count >= 0`). Reads only `src[0...(count-1)·stride]`,
/// so it never leaves the input row the caller's valid range lies in.
@inline(__always)
internal func gatherRow<T: ConvScalar>(_ dst: UnsafeMutablePointer<T>, _ src: UnsafePointer<T>, count: Int,
                                       stride: Int) {
    switch stride {
    case 1: copyRow(dst, src, count)
    case 2: gatherRowStride2(dst, src, count: count)
    default:
        var s = src
        for i in 0..<count {
            dst[i] = s.pointee
            s += stride
        }
    }
}

/// ``gatherRow(_:_:count:stride:)`` at stride 2: loads of 16 (8) contiguous elements, stores of their even or
/// odd 8 (4) lanes.
@inline(__always)
internal func gatherRowStride2<T: ConvScalar>(_ dst: UnsafeMutablePointer<T>, _ src: UnsafePointer<T>, count: Int) {
    // The last element read must be src[2(count-1)]. A 16-lane load at src + 2i ends at src[2i + 15], inside
    // while i + 9 <= count.
    var i = 0
    while i + 9 <= count {
        let v = UnsafeRawPointer(src + 2 * i).loadUnaligned(as: SIMD16<T>.self)
        UnsafeMutableRawPointer(dst + i).storeBytes(of: v.evenHalf, as: SIMD8<T>.self)
        i += 8
    }
    if i == count { return }
    if count >= 9 {
        // The rest (1–8 outputs) from the 16 elements that end exactly at src[2(count-1)]: outputs count-8..<count
        // are their odd lanes. Up to 7 outputs already stored are stored again with the same values.
        let v = UnsafeRawPointer(src + (2 * count - 17)).loadUnaligned(as: SIMD16<T>.self)
        UnsafeMutableRawPointer(dst + (count - 8)).storeBytes(of: v.oddHalf, as: SIMD8<T>.self)
        return
    }
    // Short rows (count < 9, i == 0): the same with 8-lane loads, which need count >= 5.
    if count >= 5 {
        let head = UnsafeRawPointer(src).loadUnaligned(as: SIMD8<T>.self)
        UnsafeMutableRawPointer(dst).storeBytes(of: head.evenHalf, as: SIMD4<T>.self)
        let tail = UnsafeRawPointer(src + (2 * count - 9)).loadUnaligned(as: SIMD8<T>.self)
        UnsafeMutableRawPointer(dst + (count - 4)).storeBytes(of: tail.oddHalf, as: SIMD4<T>.self)
        return
    }
    for j in 0..<count { dst[j] = src[2 * j] }
}

/// `dst[i * stride] += src[i]` for `i` in `0..<count` (`count >= 0`): the adjoint of
/// ``gatherRow(_:_:count:stride:)``. Touches only `dst[0...(count-1)·stride]`, and every element it adds to gets
/// exactly the one rounded addition of the scalar loop, so results are bit-identical to it.
@inline(__always)
internal func scatterAddRow<T: ConvScalar>(_ dst: UnsafeMutablePointer<T>, _ src: UnsafePointer<T>, count: Int,
                                           stride: Int) {
    switch stride {
    case 1: addRow(dst, src, count)
    case 2: scatterAddRowStride2(dst, src, count: count)
    default:
        var d = dst
        for i in 0..<count {
            d.pointee += src[i]
            d += stride
        }
    }
}

/// ``scatterAddRow(_:_:count:stride:)`` at stride 2: load 16 (8) destination elements, add 8 (4) values into
/// the even lanes, store them all back (the odd lanes unchanged, bit for bit).
@inline(__always)
internal func scatterAddRowStride2<T: ConvScalar>(_ dst: UnsafeMutablePointer<T>, _ src: UnsafePointer<T>,
                                                  count: Int) {
    // As in gatherRowStride2, a 16-lane access at dst + 2i stays within dst[0...2(count-1)] while i + 9 <= count.
    // No overlapping tail here: adding twice would be wrong.
    var i = 0
    while i + 9 <= count {
        var v = UnsafeRawPointer(dst + 2 * i).loadUnaligned(as: SIMD16<T>.self)
        v.evenHalf += UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<T>.self)
        UnsafeMutableRawPointer(dst + 2 * i).storeBytes(of: v, as: SIMD16<T>.self)
        i += 8
    }
    if i + 5 <= count {
        var v = UnsafeRawPointer(dst + 2 * i).loadUnaligned(as: SIMD8<T>.self)
        v.evenHalf += UnsafeRawPointer(src + i).loadUnaligned(as: SIMD4<T>.self)
        UnsafeMutableRawPointer(dst + 2 * i).storeBytes(of: v, as: SIMD8<T>.self)
        i += 4
    }
    while i < count {
        dst[2 * i] += src[i]
        i += 1
    }
}

/// `even[i] = src[2i]`, `odd[i] = src[2i + 1]` for `i` in `0..<count`, reading only `src[0..<2·count]`.
@inline(__always)
internal func deinterleaveRow<T: ConvScalar>(_ even: UnsafeMutablePointer<T>, _ odd: UnsafeMutablePointer<T>,
                                             _ src: UnsafePointer<T>, count: Int) {
    var i = 0
    while i + 8 <= count {
        let v = UnsafeRawPointer(src + 2 * i).loadUnaligned(as: SIMD16<T>.self)
        UnsafeMutableRawPointer(even + i).storeBytes(of: v.evenHalf, as: SIMD8<T>.self)
        UnsafeMutableRawPointer(odd + i).storeBytes(of: v.oddHalf, as: SIMD8<T>.self)
        i += 8
    }
    if i == count { return }
    if count >= 8 {
        // The last 8 outputs again (overlapping ones get the same values), from the span's last 16 elements.
        let v = UnsafeRawPointer(src + (2 * count - 16)).loadUnaligned(as: SIMD16<T>.self)
        UnsafeMutableRawPointer(even + (count - 8)).storeBytes(of: v.evenHalf, as: SIMD8<T>.self)
        UnsafeMutableRawPointer(odd + (count - 8)).storeBytes(of: v.oddHalf, as: SIMD8<T>.self)
        return
    }
    if count >= 4 {
        let head = UnsafeRawPointer(src).loadUnaligned(as: SIMD8<T>.self)
        UnsafeMutableRawPointer(even).storeBytes(of: head.evenHalf, as: SIMD4<T>.self)
        UnsafeMutableRawPointer(odd).storeBytes(of: head.oddHalf, as: SIMD4<T>.self)
        let tail = UnsafeRawPointer(src + (2 * count - 8)).loadUnaligned(as: SIMD8<T>.self)
        UnsafeMutableRawPointer(even + (count - 4)).storeBytes(of: tail.evenHalf, as: SIMD4<T>.self)
        UnsafeMutableRawPointer(odd + (count - 4)).storeBytes(of: tail.oddHalf, as: SIMD4<T>.self)
        return
    }
    for j in 0..<count {
        even[j] = src[2 * j]
        odd[j] = src[2 * j + 1]
    }
}

/// `dst[2i] += even[i]`, `dst[2i + 1] += odd[i]` for `i` in `0..<count`: the adjoint of
/// ``deinterleaveRow(_:_:_:count:)``, touching only `dst[0..<2·count]`, one rounded addition per element.
@inline(__always)
internal func interleaveAddRow<T: ConvScalar>(_ dst: UnsafeMutablePointer<T>, _ even: UnsafePointer<T>,
                                              _ odd: UnsafePointer<T>, count: Int) {
    var i = 0
    while i + 8 <= count {
        var v = SIMD16<T>()
        v.evenHalf = UnsafeRawPointer(even + i).loadUnaligned(as: SIMD8<T>.self)
        v.oddHalf = UnsafeRawPointer(odd + i).loadUnaligned(as: SIMD8<T>.self)
        let sum = UnsafeRawPointer(dst + 2 * i).loadUnaligned(as: SIMD16<T>.self) + v
        UnsafeMutableRawPointer(dst + 2 * i).storeBytes(of: sum, as: SIMD16<T>.self)
        i += 8
    }
    if i + 4 <= count {
        var v = SIMD8<T>()
        v.evenHalf = UnsafeRawPointer(even + i).loadUnaligned(as: SIMD4<T>.self)
        v.oddHalf = UnsafeRawPointer(odd + i).loadUnaligned(as: SIMD4<T>.self)
        let sum = UnsafeRawPointer(dst + 2 * i).loadUnaligned(as: SIMD8<T>.self) + v
        UnsafeMutableRawPointer(dst + 2 * i).storeBytes(of: sum, as: SIMD8<T>.self)
        i += 4
    }
    while i < count {
        dst[2 * i] += even[i]
        dst[2 * i + 1] += odd[i]
        i += 1
    }
}
