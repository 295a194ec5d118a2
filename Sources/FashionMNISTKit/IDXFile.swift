import ConvEngineNPY
import Foundation

/// An IDX file of unsigned bytes (the MNIST / Fashion-MNIST format, LeCun et al.): its dimensions and its data.
///
/// Layout: two zero bytes, the type code `0x08` (unsigned byte), the number of dimensions `d`, then `d`
/// big-endian `UInt32` sizes, then `∏ sizes` bytes in row-major order. Nothing may follow the data.
public struct IDXFile: Sendable, Equatable {
    /// The sizes, outermost first (for images `[count, rows, columns]`, for labels `[count]`).
    public let dimensions: [Int]
    /// The data, row-major; `bytes.count == dimensions.product`.
    public let bytes: [UInt8]

    /// Parses an uncompressed IDX file.
    ///
    /// - Parameters:
    ///   - idx: the file's bytes.
    ///   - name: the file's name, for the errors.
    ///   - dimensionCount: the number of dimensions the caller needs (3 for images, 1 for labels).
    /// - Throws: ``FashionMNISTError/truncated(file:expected:actual:)``, ``FashionMNISTError/badMagic(file:found:)``,
    ///   ``FashionMNISTError/unsupportedDataType(file:code:)``, ``FashionMNISTError/dimensionCount(file:expected:actual:)``,
    ///   ``FashionMNISTError/sizeOverflow(file:)`` or ``FashionMNISTError/trailingBytes(file:extra:)``.
    public init(idx: [UInt8], name: String, dimensionCount: Int) throws(FashionMNISTError) {
        guard idx.count >= 4 else { throw .truncated(file: name, expected: 4, actual: idx.count) }
        guard idx[0] == 0, idx[1] == 0 else { throw .badMagic(file: name, found: Array(idx[0..<4])) }
        guard idx[2] == 0x08 else { throw .unsupportedDataType(file: name, code: idx[2]) }
        let d = Int(idx[3])
        guard d == dimensionCount else { throw .dimensionCount(file: name, expected: dimensionCount, actual: d) }
        let headerSize = 4 + 4 * d
        guard idx.count >= headerSize else { throw .truncated(file: name, expected: headerSize, actual: idx.count) }
        var dimensions: [Int] = []
        var size = 1
        for i in 0..<d {
            let o = 4 + 4 * i
            let value = Int(idx[o]) << 24 | Int(idx[o + 1]) << 16 | Int(idx[o + 2]) << 8 | Int(idx[o + 3])
            dimensions.append(value)
            let (product, overflow) = size.multipliedReportingOverflow(by: value)
            guard !overflow else { throw .sizeOverflow(file: name) }
            size = product
        }
        let (total, overflow) = headerSize.addingReportingOverflow(size)
        guard !overflow else { throw .sizeOverflow(file: name) }
        guard idx.count >= total else { throw .truncated(file: name, expected: total, actual: idx.count) }
        guard idx.count == total else { throw .trailingBytes(file: name, extra: idx.count - total) }
        self.dimensions = dimensions
        self.bytes = Array(idx[headerSize...])
    }

    /// Reads a gzip-compressed IDX file (the `.gz` files of the `dataset-fashion-mnist` package), inflating it
    /// through the system zlib (``Gzip``).
    ///
    /// - Throws: ``FashionMNISTError/io(path:reason:)`` when the file is missing, ``FashionMNISTError/archive(_:)``
    ///   when it is not valid gzip, and the errors of ``init(idx:name:dimensionCount:)``.
    public init(gzipContentsOf url: URL, dimensionCount: Int) throws(FashionMNISTError) {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw .io(path: url.path, reason: "no such file")
        }
        // Fashion-MNIST's largest file inflates to 47 MB; the cap stops a gzip bomb long before memory runs out.
        let idx = try npyCall { () throws(NPYError) in try Gzip.decompress(contentsOf: url, maximumSize: 1 << 28) }
        try self.init(idx: idx, name: url.lastPathComponent, dimensionCount: dimensionCount)
    }
}
