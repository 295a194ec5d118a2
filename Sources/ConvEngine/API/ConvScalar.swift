/// The element types ConvEngine computes in: `Float` (sgemm) and `Double` (dgemm).
///
/// Only `Float` and `Double` conform; the engine dispatches on the concrete type so that its loops are
/// specialised inside the library even when called from generic code in another module.
public protocol ConvScalar: BinaryFloatingPoint, SIMDScalar, Codable, Sendable where Self.RawSignificand: FixedWidthInteger {}

extension Float: ConvScalar {}
extension Double: ConvScalar {}

/// Which of the two supported precisions a `ConvScalar` is.
internal enum ScalarKind {
    case float, double

    static func of<T: ConvScalar>(_: T.Type) -> ScalarKind {
        if T.self == Float.self { return .float }
        if T.self == Double.self { return .double }
        // Safe: ConvScalar documents that only Float and Double conform; anything else is a programmer error.
        preconditionFailure("ConvScalar is only implemented for Float and Double, not \(T.self)")
    }
}

// Pointer re-typing used after `ScalarKind` has established T == U: a no-op that lets generic public entry
// points call concretely typed (and therefore specialised) internal code.
@inline(__always)
internal func retype<T, U>(_ p: UnsafeBufferPointer<T>, _: U.Type) -> UnsafeBufferPointer<U> {
    unsafeBitCast(p, to: UnsafeBufferPointer<U>.self)
}
@inline(__always)
internal func retype<T, U>(_ p: UnsafeMutableBufferPointer<T>, _: U.Type) -> UnsafeMutableBufferPointer<U> {
    unsafeBitCast(p, to: UnsafeMutableBufferPointer<U>.self)
}
@inline(__always)
internal func retype<T, U>(_ p: UnsafeBufferPointer<T>?, _: U.Type) -> UnsafeBufferPointer<U>? {
    p.map { unsafeBitCast($0, to: UnsafeBufferPointer<U>.self) }
}
@inline(__always)
internal func retype<T, U>(_ p: UnsafeMutableBufferPointer<T>?, _: U.Type) -> UnsafeMutableBufferPointer<U>? {
    p.map { unsafeBitCast($0, to: UnsafeMutableBufferPointer<U>.self) }
}
