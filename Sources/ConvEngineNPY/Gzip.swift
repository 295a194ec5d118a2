// gzip (RFC 1952) decompression through zlib, which parses the header and checks the CRC-32 and length of the
// trailer. Several members one after another (`cat a.gz b.gz`) give their bytes concatenated, as gzip -d
// does; zero bytes after the last member (padding some tape and block tools add) are ignored.
import Foundation

/// Decompression of gzip files, such as the gzip-compressed IDX files of MNIST and Fashion-MNIST.
public enum Gzip {
    /// The decompressed bytes of a gzip file (RFC 1952), e.g. the Fashion-MNIST IDX files.
    ///
    /// - Parameters:
    ///   - bytes: the whole file: one or more gzip members, optionally followed by zero bytes.
    ///   - maximumSize: the most bytes the result may have; decompression stops once it would exceed it (so a small
    ///     crafted file cannot make it allocate more than `maximumSize` plus 64 KiB).
    /// - Throws: ``NPYError/notGzip(found:)`` if the data does not start with the gzip magic bytes 1f 8b,
    ///   ``NPYError/truncatedGzip`` if it ends inside a member, ``NPYError/corruptGzip(reason:)`` with zlib's
    ///   message for damaged data (a wrong CRC-32 is "incorrect data check"),
    ///   ``NPYError/gzipTrailingData(offset:)`` for bytes after the last member that are neither another member
    ///   nor zero padding, ``NPYError/decompressedSizeExceedsLimit(size:limit:)`` past `maximumSize`.
    public static func decompress(_ bytes: [UInt8], maximumSize: Int = 1 << 30) throws(NPYError) -> [UInt8] {
        try FileBytes.with(bytes) { raw throws(NPYError) in try decompress(raw, maximumSize: maximumSize) }
    }

    /// The decompressed contents of a gzip file.
    /// - Throws: ``NPYError/fileSystem(path:reason:)`` if the file cannot be read, otherwise as
    ///   ``decompress(_:maximumSize:)``.
    public static func decompress(contentsOf url: URL, maximumSize: Int = 1 << 30) throws(NPYError) -> [UInt8] {
        try FileBytes.with(try FileBytes.contents(of: url)) { raw throws(NPYError) in
            try decompress(raw, maximumSize: maximumSize)
        }
    }

    static let magic: [UInt8] = [0x1F, 0x8B]

    static func decompress(_ raw: UnsafeRawBufferPointer, maximumSize: Int) throws(NPYError) -> [UInt8] {
        guard raw.count >= 2, raw[0] == magic[0], raw[1] == magic[1] else {
            if raw.elementsEqual(magic.prefix(raw.count)) { throw .truncatedGzip }
            throw .notGzip(found: Array(raw.prefix(4)))
        }
        var output: [UInt8] = []
        // The trailer's length (modulo 2^32) of a one-member file, trusted only as far as the limits allow.
        let fields = ByteFields(raw: raw)
        let declared = Int(fields.uint32(raw.count - 4) ?? 0)
        output.reserveCapacity(max(0, min(declared, maximumSize, Zlib.largestInflatedSize(of: raw.count))))
        var offset = 0
        while true {
            let member = UnsafeRawBufferPointer(rebasing: raw[offset...])
            do {
                offset += try Zlib.inflate(member, format: .gzip, into: &output, limit: maximumSize)
            } catch {
                switch error {
                case .truncated: throw .truncatedGzip
                case .corrupt(let reason): throw .corruptGzip(reason: reason)
                case .exceedsLimit: throw .decompressedSizeExceedsLimit(size: nil, limit: maximumSize)
                }
            }
            let rest = raw[offset...]
            if rest.allSatisfy({ $0 == 0 }) { return output }
            guard rest.count >= 2, rest.first == magic[0], rest.dropFirst().first == magic[1] else {
                if rest.count == 1, rest.first == magic[0] { throw .truncatedGzip }
                throw .gzipTrailingData(offset: offset)
            }
        }
    }
}
