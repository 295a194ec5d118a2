// The array value of the .npy IO: its element types, shape and data.
import ConvEngine
import Foundation

/// The element types ``NPYArray`` reads and writes, named by their NumPy dtype strings.
public enum NPYDataType: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Little-endian IEEE 754 single precision, NumPy's `float32` (`'<f4'`), Swift's `Float`.
    case float32 = "<f4"
    /// Little-endian IEEE 754 double precision, NumPy's `float64` (`'<f8'`), Swift's `Double`.
    case float64 = "<f8"

    /// Bytes per element (4 or 8).
    public var byteCount: Int { self == .float32 ? 4 : 8 }

    /// The dtype string, for example `<f8`.
    public var description: String { rawValue }
}

/// The elements of an ``NPYArray`` in the precision they are stored in.
public enum NPYElements: Sendable {
    /// `float32` elements.
    case float32([Float])
    /// `float64` elements.
    case float64([Double])

    /// The number of elements.
    public var count: Int {
        switch self {
        case .float32(let a): return a.count
        case .float64(let a): return a.count
        }
    }

    /// The element type.
    public var dataType: NPYDataType {
        switch self {
        case .float32: return .float32
        case .float64: return .float64
        }
    }
}

/// A NumPy array read from or written to the `.npy` format: a shape and its elements in C (row-major) order.
///
/// Supported: format versions 1.0, 2.0 and 3.0, C order, little-endian `float32` (`'<f4'`) and `float64`
/// (`'<f8'`) — what `numpy.save` writes for `np.float32`/`np.float64` arrays and what
/// `tensor.numpy()` gives for PyTorch's `float`/`double` tensors. Everything else (other dtypes, big-endian
/// data, Fortran order, pickled objects) is rejected with an ``NPYError`` that names it.
///
/// The elements are kept exactly as stored: reading and then writing an array reproduces every bit,
/// NaN payloads, negative zero and subnormals included. A convolution tensor in NCHW layout maps onto
/// an `.npy` file of shape `(N, C, H, W)` with no reordering.
///
/// ```swift
/// import ConvEngineNPY
/// import Foundation   // URL
///
/// let x = try NPYArray(contentsOf: URL(fileURLWithPath: "x.npy"))   // shape [N, C, H, W]
/// let input: [Float] = x.scalars()                                  // converted if stored as float64
/// let y = try NPYArray(shape: [n, k, p, q], scalars: output)
/// try y.write(to: URL(fileURLWithPath: "y.npy"))
/// ```
public struct NPYArray: Sendable {
    /// The dimensions, outermost first; `[]` is a scalar (one element), and a zero dimension means no elements.
    public let shape: [Int]
    /// The elements, in C order, in their stored precision.
    public let elements: NPYElements

    /// The number of elements (the product of ``shape``, 1 for a scalar).
    public var count: Int { elements.count }

    /// The stored element type.
    public var dataType: NPYDataType { elements.dataType }

    /// An array with the given shape and elements.
    ///
    /// - Throws: ``NPYError/invalidShape(reason:)`` if a dimension is negative or the product of `shape`
    ///   (1 for `[]`) is not the number of elements, ``NPYError/sizeOverflow(shape:)`` if that product
    ///   overflows `Int`.
    public init(shape: [Int], elements: NPYElements) throws(NPYError) {
        let expected = try NPYArray.elementCount(of: shape)
        guard expected == elements.count else {
            throw .invalidShape(reason: "shape \(shape) has \(expected) elements, but \(elements.count) were given")
        }
        self.shape = shape
        self.elements = elements
    }

    /// A `float32` array.
    /// - Throws: as ``init(shape:elements:)``.
    public init(shape: [Int], floats: [Float]) throws(NPYError) {
        try self.init(shape: shape, elements: .float32(floats))
    }

    /// A `float64` array.
    /// - Throws: as ``init(shape:elements:)``.
    public init(shape: [Int], doubles: [Double]) throws(NPYError) {
        try self.init(shape: shape, elements: .float64(doubles))
    }

    /// An array of `Float` (stored as `float32`) or `Double` (stored as `float64`) elements.
    /// - Throws: as ``init(shape:elements:)``.
    public init<T: ConvScalar>(shape: [Int], scalars: [T]) throws(NPYError) {
        // Safe: each cast is taken only when T is exactly Float or Double, so it is an identity (no conversion
        // that could quiet a signalling NaN). ConvScalar has no other conformers.
        if T.self == Float.self {
            try self.init(shape: shape, elements: .float32(unsafeBitCast(scalars, to: [Float].self)))
        } else if T.self == Double.self {
            try self.init(shape: shape, elements: .float64(unsafeBitCast(scalars, to: [Double].self)))
        } else {
            preconditionFailure("ConvScalar is only implemented for Float and Double, not \(T.self)")
        }
    }

    /// The elements as `T`: exact when `T` is the stored type or wider, rounded to nearest when a
    /// `float64` array is read as `Float`.
    public func scalars<T: ConvScalar>(as type: T.Type = T.self) -> [T] {
        // Safe: each cast is taken only when T is exactly the stored type.
        switch elements {
        case .float32(let a): return T.self == Float.self ? unsafeBitCast(a, to: [T].self) : a.map { T($0) }
        case .float64(let a): return T.self == Double.self ? unsafeBitCast(a, to: [T].self) : a.map { T($0) }
        }
    }

    /// True when both arrays have the same shape, element type and bit patterns (so NaN payloads and the
    /// sign of zero count, unlike `==` on floating-point values).
    public func isBitwiseIdentical(to other: NPYArray) -> Bool {
        guard shape == other.shape else { return false }
        switch (elements, other.elements) {
        case let (.float32(a), .float32(b)): return a.map(\.bitPattern) == b.map(\.bitPattern)
        case let (.float64(a), .float64(b)): return a.map(\.bitPattern) == b.map(\.bitPattern)
        default: return false
        }
    }

    /// `shape`'s element count, with every dimension checked.
    static func elementCount(of shape: [Int]) throws(NPYError) -> Int {
        var count = 1
        for (i, d) in shape.enumerated() {
            if d < 0 { throw .invalidShape(reason: "dimension \(i) is \(d), which is negative") }
            let (p, overflow) = count.multipliedReportingOverflow(by: d)
            if overflow { throw .sizeOverflow(shape: shape) }
            count = p
        }
        return count
    }
}
