// Writing .npy version 1.0 (or 2.0 when the header needs it); see NPYArray+Reading.swift for the format.
import ConvEngine
import Foundation

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
        try FileBytes.write(try npyBytes(), to: url)
    }

    static func appendLittleEndian<T: BinaryFloatingPoint>(_ values: [T], to out: inout [UInt8]) {
        #if _endian(little)
        values.withUnsafeBytes { out.append(contentsOf: $0) }
        #else
        for v in values { withUnsafeBytes(of: swapBytes(v)) { out.append(contentsOf: $0) } }
        #endif
    }
}
