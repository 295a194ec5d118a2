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
    /// - Throws: an ``NPYError`` naming the problem: ``NPYError/zipArchive(kind:members:)`` for a zip archive
    ///   (an `.npz` or a `torch.save` file), the magic string, the version, the header length,
    ///   ``NPYError/headerExceedsLimit(size:limit:)`` for a header longer than `maximumHeaderSize`, the
    ///   header's syntax, keys and values, the dtype, byte order and memory order, the shape, or a data
    ///   section whose length disagrees with the shape (truncated or with trailing bytes).
    public init(npyBytes bytes: [UInt8],
                maximumHeaderSize: Int = NPYArray.defaultMaximumHeaderSize) throws(NPYError) {
        self = try FileBytes.with(bytes) { raw throws(NPYError) in
            try NPYArray.decode(raw, maximumHeaderSize: maximumHeaderSize)
        }
    }

    /// Reads an array from the contents of a `.npy` file.
    /// - Throws: as ``init(npyBytes:maximumHeaderSize:)``.
    public init(npyData data: Data,
                maximumHeaderSize: Int = NPYArray.defaultMaximumHeaderSize) throws(NPYError) {
        self = try FileBytes.with(data) { raw throws(NPYError) in
            try NPYArray.decode(raw, maximumHeaderSize: maximumHeaderSize)
        }
    }

    /// Reads a `.npy` file.
    /// - Throws: ``NPYError/fileSystem(path:reason:)`` if the file cannot be read, otherwise as
    ///   ``init(npyBytes:maximumHeaderSize:)``.
    public init(contentsOf url: URL,
                maximumHeaderSize: Int = NPYArray.defaultMaximumHeaderSize) throws(NPYError) {
        try self.init(npyData: try FileBytes.contents(of: url), maximumHeaderSize: maximumHeaderSize)
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
        // An .npz or torch.save file is the likeliest wrong file, and each has its own remedy.
        if ZipMembers.isZip(raw) {
            let members = ZipMembers.names(raw)
            throw .zipArchive(kind: NPYArchiveKind(members: members), members: members)
        }
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
