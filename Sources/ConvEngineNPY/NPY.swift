// NumPy's .npy format (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
//
//   magic "\x93NUMPY" | major, minor version bytes | header length (UInt16 LE for 1.0, UInt32 LE for 2.0/3.0)
//   | header: a Python dict literal {'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }, padded with
//     spaces and ended by '\n' (Latin-1 for 1.0/2.0, UTF-8 for 3.0) | the raw elements, C order.
//
// Every length taken from the input is checked before it is used, with overflow-checked arithmetic, and
// every problem is a thrown `NPYError`: malformed input never traps.
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

// MARK: - Reading

extension NPYArray {
    /// The largest header, in bytes, that reading accepts unless told otherwise: 10,000, NumPy's own default
    /// `max_header_size` (since NumPy 1.24).
    ///
    /// The header of an array `numpy.save` writes is a few hundred bytes at most (it grows only with the number
    /// of dimensions), so the cap rejects nothing NumPy itself would read by default, while a crafted header of
    /// megabytes is refused before it is decoded or parsed. Pass a larger `maximumHeaderSize` to a reading
    /// initialiser to read headers above it, as `numpy.load(..., max_header_size=...)` does.
    public static let defaultMaximumHeaderSize = 10_000

    /// Reads an array from the bytes of a `.npy` file.
    ///
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - maximumHeaderSize: the largest header, in bytes (its length field: the dictionary text, its padding
    ///     and the newline), that is read; longer headers throw. Reading is linear in the header's size either way.
    /// - Throws: an ``NPYError`` naming the problem: the magic string, the version, the header length,
    ///   ``NPYError/headerExceedsLimit(size:limit:)`` for a header longer than `maximumHeaderSize`, the
    ///   header's syntax, keys and values, the dtype, byte order and memory order, the shape, or a data
    ///   section whose length disagrees with the shape (truncated or with trailing bytes).
    public init(npyBytes bytes: [UInt8],
                maximumHeaderSize: Int = NPYArray.defaultMaximumHeaderSize) throws(NPYError) {
        let result: Result<NPYArray, NPYError> = bytes.withUnsafeBytes { raw in
            Result { () throws(NPYError) in try NPYArray.decode(raw, maximumHeaderSize: maximumHeaderSize) }
        }
        self = try result.get()
    }

    /// Reads an array from the contents of a `.npy` file.
    /// - Throws: as ``init(npyBytes:maximumHeaderSize:)``.
    public init(npyData data: Data,
                maximumHeaderSize: Int = NPYArray.defaultMaximumHeaderSize) throws(NPYError) {
        let result: Result<NPYArray, NPYError> = data.withUnsafeBytes { raw in
            Result { () throws(NPYError) in try NPYArray.decode(raw, maximumHeaderSize: maximumHeaderSize) }
        }
        self = try result.get()
    }

    /// Reads a `.npy` file.
    /// - Throws: ``NPYError/fileSystem(path:reason:)`` if the file cannot be read, otherwise as
    ///   ``init(npyBytes:maximumHeaderSize:)``.
    public init(contentsOf url: URL,
                maximumHeaderSize: Int = NPYArray.defaultMaximumHeaderSize) throws(NPYError) {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw .fileSystem(path: url.path, reason: NPYArray.describe(error))
        }
        try self.init(npyData: data, maximumHeaderSize: maximumHeaderSize)
    }

    /// The parsed preamble and header.
    struct Header {
        var major: UInt8
        var dataType: NPYDataType
        var shape: [Int]
        /// Where the elements start.
        var dataOffset: Int
    }

    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"

    static func decode(_ raw: UnsafeRawBufferPointer, maximumHeaderSize: Int) throws(NPYError) -> NPYArray {
        let header = try readHeader(raw, maximumHeaderSize: maximumHeaderSize)
        let count = try elementCount(of: header.shape)
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: header.dataType.byteCount)
        if overflow { throw .sizeOverflow(shape: header.shape) }
        let available = raw.count - header.dataOffset  // Safe: readHeader proved dataOffset ≤ raw.count.
        guard available == byteCount else { throw .dataLengthMismatch(expected: byteCount, actual: available) }
        // Safe: the range dataOffset ..< dataOffset + byteCount is exactly the rest of `raw`.
        let data = UnsafeRawBufferPointer(rebasing: raw[header.dataOffset...])
        switch header.dataType {
        case .float32:
            return NPYArray(checkedShape: header.shape, elements: .float32(loadLittleEndian(data, count: count)))
        case .float64:
            return NPYArray(checkedShape: header.shape, elements: .float64(loadLittleEndian(data, count: count)))
        }
    }

    /// For shapes already proved to match the element count.
    private init(checkedShape shape: [Int], elements: NPYElements) {
        self.shape = shape
        self.elements = elements
    }

    static func readHeader(_ raw: UnsafeRawBufferPointer, maximumHeaderSize: Int) throws(NPYError) -> Header {
        let total = raw.count
        if total < magic.count {
            if Array(raw) == Array(magic.prefix(total)) {
                throw .truncated(part: "magic string", needed: magic.count, available: total)
            }
            throw .badMagic(found: Array(raw))
        }
        guard Array(raw[0..<6]) == magic else { throw .badMagic(found: Array(raw[0..<6])) }
        guard total >= 8 else { throw .truncated(part: "format version", needed: 8, available: total) }
        let major = raw[6], minor = raw[7]
        guard minor == 0, (1...3).contains(major) else { throw .unsupportedVersion(major: major, minor: minor) }
        let lengthBytes = major == 1 ? 2 : 4
        let headerStart = 8 + lengthBytes
        guard total >= headerStart else {
            throw .truncated(part: "header length", needed: headerStart, available: total)
        }
        var headerLength = 0
        for i in 0..<lengthBytes { headerLength |= Int(raw[8 + i]) << (8 * i) }  // Safe: at most 2^32 - 1.
        guard headerLength > 0 else { throw .invalidHeaderLength(headerLength) }
        let (headerEnd, overflow) = headerStart.addingReportingOverflow(headerLength)
        if overflow { throw .invalidHeaderLength(headerLength) }
        guard total >= headerEnd else { throw .truncated(part: "header", needed: headerEnd, available: total) }
        // Before the header is decoded or parsed (NumPy also checks after reading the header's bytes).
        guard headerLength <= maximumHeaderSize else {
            throw .headerExceedsLimit(size: headerLength, limit: maximumHeaderSize)
        }
        guard raw[headerEnd - 1] == 0x0A else { throw .headerNotTerminated }
        let bytes = UnsafeRawBufferPointer(rebasing: raw[headerStart..<headerEnd])
        let text: [Unicode.Scalar]
        if major >= 3 {
            var scalars: [Unicode.Scalar] = []
            var decoder = UTF8()
            var iterator = bytes.makeIterator()
            decoding: while true {
                switch decoder.decode(&iterator) {
                case .scalarValue(let s): scalars.append(s)
                case .emptyInput: break decoding
                case .error: throw .invalidHeaderEncoding(version: major)
                }
            }
            text = scalars
        } else {
            text = bytes.map { Unicode.Scalar($0) }  // Latin-1: every byte is the scalar of its value.
        }
        var parser = HeaderParser(text)
        let dict = try parser.parseHeader()
        let (dataType, shape) = try interpret(dict)
        return Header(major: major, dataType: dataType, shape: shape, dataOffset: headerEnd)
    }

    /// Checks the dictionary's keys and values, in the order descr, fortran_order, shape.
    static func interpret(_ dict: [(key: String, value: HeaderParser.Value)]) throws(NPYError) -> (NPYDataType, [Int]) {
        let known = ["descr", "fortran_order", "shape"]
        for (key, _) in dict where !known.contains(key) { throw .unexpectedKey(key) }
        func value(_ key: String) throws(NPYError) -> HeaderParser.Value {
            guard let entry = dict.first(where: { $0.key == key }) else { throw .missingKey(key) }
            return entry.value
        }
        let descrValue = try value("descr"), fortranValue = try value("fortran_order"), shapeValue = try value("shape")

        guard case .string(let descr) = descrValue else {
            throw .invalidValue(key: "descr", reason: "expected a dtype string such as '<f8', got \(descrValue.kind)")
        }
        let dataType: NPYDataType
        if let known = NPYDataType(rawValue: descr) {
            dataType = known
        } else if ["f4", "f8"].contains(descr.first.map({ "<>|=".contains($0) }) == true ? String(descr.dropFirst()) : descr) {
            throw .unsupportedByteOrder(descr)  // '>f8' (big-endian), '|f8', '=f8' or 'f8' (no explicit order)
        } else {
            throw .unsupportedDataType(descr)
        }

        guard case .bool(let fortran) = fortranValue else {
            throw .invalidValue(key: "fortran_order", reason: "expected True or False, got \(fortranValue.kind)")
        }
        if fortran { throw .fortranOrderNotSupported }

        guard case .tuple(let dims) = shapeValue else {
            throw .invalidShape(reason: "expected a tuple of integers, got \(shapeValue.kind)")
        }
        var shape: [Int] = []
        for (i, d) in dims.enumerated() {
            switch d {
            case .int(let v?):
                if v < 0 { throw .invalidShape(reason: "dimension \(i) is \(v), which is negative") }
                shape.append(v)
            case .int(nil):
                throw .invalidShape(reason: "dimension \(i) does not fit in Int")
            default:
                throw .invalidShape(reason: "dimension \(i) is \(d.kind), not an integer")
            }
        }
        return (dataType, shape)
    }

    static func loadLittleEndian<T: BinaryFloatingPoint>(_ data: UnsafeRawBufferPointer, count: Int) -> [T] {
        [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            // Safe: the caller proved data.count == count * MemoryLayout<T>.size, and the copy is bytewise,
            // so the source needs no alignment.
            if count > 0 { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: data) }
            #if _endian(big)
            for i in 0..<count { buffer[i] = swapBytes(buffer[i]) }
            #endif
            initialized = count
        }
    }

    static func describe(_ error: any Error) -> String {
        if let e = error as? CocoaError, let underlying = e.userInfo[NSUnderlyingErrorKey] as? NSError {
            return underlying.localizedDescription
        }
        return error.localizedDescription
    }
}

#if _endian(big)
/// Reverses the bytes of a `Float` or `Double` (the file is little-endian).
@inline(__always)
func swapBytes<T: BinaryFloatingPoint>(_ value: T) -> T {
    var v = value
    withUnsafeMutableBytes(of: &v) { $0.reverse() }
    return v
}
#endif

// MARK: - Writing

extension NPYArray {
    /// Room left after the first dimension so that it can grow in place, as NumPy leaves it.
    static let growthAxisMaxDigits = 21

    /// The header text NumPy writes for this array (before alignment padding), for example
    /// `{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }`.
    var headerDictionary: String {
        let dims: String
        switch shape.count {
        case 0: dims = "()"
        case 1: dims = "(\(shape[0]),)"
        default: dims = "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
        var text = "{'descr': '\(dataType.rawValue)', 'fortran_order': False, 'shape': \(dims), }"
        if let first = shape.first {
            text += String(repeating: " ", count: max(0, NPYArray.growthAxisMaxDigits - String(first).count))
        }
        return text
    }

    /// The `.npy` file for this array, byte for byte as `numpy.save` writes it: format version 1.0 when the
    /// header fits its 16-bit length (always, unless the shape has thousands of dimensions), else 2.0; the
    /// header padded so the data starts at a multiple of 64 bytes.
    ///
    /// - Throws: ``NPYError/headerTooLarge(_:)`` or ``NPYError/sizeOverflow(shape:)`` for sizes no file can hold.
    public func npyBytes() throws(NPYError) -> [UInt8] {
        let dictionary = Array(headerDictionary.utf8)  // ASCII only.
        // NumPy: hlen = len(header) + 1 (the newline); pad = 64 - (magic + version + length field + hlen) % 64.
        func layout(lengthBytes: Int) -> (headerLength: Int, padding: Int) {
            let hlen = dictionary.count + 1
            let padding = 64 - (8 + lengthBytes + hlen) % 64
            return (hlen + padding, padding)
        }
        var version: UInt8 = 1, lengthBytes = 2
        var (headerLength, padding) = layout(lengthBytes: 2)
        if headerLength > Int(UInt16.max) {
            version = 2; lengthBytes = 4
            (headerLength, padding) = layout(lengthBytes: 4)
            if headerLength > Int(UInt32.max) { throw .headerTooLarge(headerLength) }
        }
        let (dataBytes, overflow) = count.multipliedReportingOverflow(by: dataType.byteCount)
        if overflow { throw .sizeOverflow(shape: shape) }
        var out: [UInt8] = []
        let (total, overflow2) = (8 + lengthBytes + headerLength).addingReportingOverflow(dataBytes)
        if overflow2 { throw .sizeOverflow(shape: shape) }
        out.reserveCapacity(total)
        out += NPYArray.magic
        out += [version, 0]
        for i in 0..<lengthBytes { out.append(UInt8(truncatingIfNeeded: headerLength >> (8 * i))) }
        out += dictionary
        out += [UInt8](repeating: 0x20, count: padding)
        out.append(0x0A)
        switch elements {
        case .float32(let a): NPYArray.appendLittleEndian(a, to: &out)
        case .float64(let a): NPYArray.appendLittleEndian(a, to: &out)
        }
        return out
    }

    /// ``npyBytes()`` as `Data`.
    /// - Throws: as ``npyBytes()``.
    public func npyData() throws(NPYError) -> Data {
        Data(try npyBytes())
    }

    /// Writes the array to a `.npy` file (replacing any file there, atomically).
    /// - Throws: as ``npyBytes()``, and ``NPYError/fileSystem(path:reason:)`` if the file cannot be written.
    public func write(to url: URL) throws(NPYError) {
        let data = try npyData()
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw .fileSystem(path: url.path, reason: NPYArray.describe(error))
        }
    }

    static func appendLittleEndian<T: BinaryFloatingPoint>(_ values: [T], to out: inout [UInt8]) {
        #if _endian(little)
        values.withUnsafeBytes { out.append(contentsOf: $0) }
        #else
        for v in values { withUnsafeBytes(of: swapBytes(v)) { out.append(contentsOf: $0) } }
        #endif
    }
}
