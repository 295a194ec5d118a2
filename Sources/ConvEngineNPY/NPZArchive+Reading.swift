// Reading an .npz archive: the central directory (ZipDirectory), then each member through its local header:
// its data bounds-checked, inflated when deflated (bounded by its declared size), its CRC-32 checked, and read as
// a .npy file. The total declared size is checked against the maximum before anything is decompressed.
import Foundation

extension NPZArchive {
    /// Reads an archive from the bytes of an `.npz` file.
    ///
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - maximumSize: the largest total uncompressed size of the members, in bytes; a larger archive throws
    ///     ``NPYError/decompressedSizeExceedsLimit(size:limit:)`` before any member is decompressed.
    ///   - maximumHeaderSize: passed to each member's `.npy` reader (as `numpy.load`'s `max_header_size`).
    /// - Throws: an ``NPYError`` naming the problem: ``NPYError/notZipArchive(found:)`` when the data is no
    ///   zip archive (a `.npy` file, for example); ``NPYError/truncatedArchive(part:needed:available:)``,
    ///   ``NPYError/badSignature(part:offset:)`` and ``NPYError/malformedArchive(reason:)`` for damaged zip
    ///   structures; ``NPYError/encryptedMember(_:)``, ``NPYError/unsupportedCompression(member:method:)``,
    ///   ``NPYError/duplicateMember(_:)``, ``NPYError/memberSizeMismatch(member:declared:actual:)``,
    ///   ``NPYError/corruptMember(member:reason:)`` and ``NPYError/crcMismatch(member:expected:actual:)`` for a
    ///   member that cannot be extracted; ``NPYError/invalidMember(name:error:)`` wrapping the `.npy` reader's
    ///   error for a member that is not a valid `.npy` file.
    public init(npzBytes bytes: [UInt8], maximumSize: Int = NPZArchive.defaultMaximumSize,
                maximumHeaderSize: Int = NPYArray.defaultMaximumHeaderSize) throws(NPYError) {
        self = try FileBytes.with(bytes) { raw throws(NPYError) in
            try NPZArchive.decode(raw, maximumSize: maximumSize, maximumHeaderSize: maximumHeaderSize)
        }
    }

    /// Reads an `.npz` file.
    /// - Throws: ``NPYError/fileSystem(path:reason:)`` if the file cannot be read, otherwise as
    ///   ``init(npzBytes:maximumSize:maximumHeaderSize:)``.
    public init(contentsOf url: URL, maximumSize: Int = NPZArchive.defaultMaximumSize,
                maximumHeaderSize: Int = NPYArray.defaultMaximumHeaderSize) throws(NPYError) {
        self = try FileBytes.with(try FileBytes.contents(of: url)) { raw throws(NPYError) in
            try NPZArchive.decode(raw, maximumSize: maximumSize, maximumHeaderSize: maximumHeaderSize)
        }
    }

    /// The array name a member exposes: its name without `.npy`, as `numpy.load`'s `files`.
    static func arrayName(ofMember member: String) -> String {
        member.hasSuffix(".npy") ? String(member.dropLast(4)) : member
    }

    static func decode(_ raw: UnsafeRawBufferPointer, maximumSize: Int, maximumHeaderSize: Int) throws(NPYError) -> NPZArchive {
        let entries = try ZipDirectory.entries(raw)
        var seen: Set<String> = []
        var total = 0
        for entry in entries {
            // "a.npy" and "a" would both be numpy.load's "a".
            guard seen.insert(arrayName(ofMember: entry.name)).inserted else { throw .duplicateMember(entry.name) }
            let (sum, overflow) = total.addingReportingOverflow(entry.uncompressedSize)
            guard !overflow, sum <= maximumSize else {
                throw .decompressedSizeExceedsLimit(size: overflow ? nil : sum, limit: maximumSize)
            }
            total = sum
        }
        var archive = NPZArchive()
        let fields = ByteFields(raw: raw)
        for entry in entries {
            let npy = try extract(entry, from: fields)
            do {
                archive[arrayName(ofMember: entry.name)] = try NPYArray(npyBytes: npy, maximumHeaderSize: maximumHeaderSize)
            } catch {
                throw .invalidMember(name: entry.name, error: error)
            }
        }
        return archive
    }

    /// The uncompressed bytes of one member, CRC-checked.
    static func extract(_ entry: ZipEntry, from fields: ByteFields) throws(NPYError) -> [UInt8] {
        let local = try ZipLocalRecord.read(fields, at: entry.localHeaderOffset, member: entry.name)
        guard local.name.elementsEqual(entry.nameBytes) else {
            throw .malformedArchive(reason: "the local header of '\(entry.name)' names "
                                    + "'\(String(decoding: local.name, as: UTF8.self))'")
        }
        guard let data = fields.bytes(local.dataStart, length: entry.compressedSize) else {
            throw .truncatedArchive(part: "data of '\(entry.name)'",
                                    needed: local.dataStart.addingReportingOverflow(entry.compressedSize).partialValue,
                                    available: fields.count)
        }
        var bytes: [UInt8]
        switch entry.method {
        case 0:
            guard entry.compressedSize == entry.uncompressedSize else {
                throw .memberSizeMismatch(member: entry.name, declared: entry.uncompressedSize, actual: entry.compressedSize)
            }
            bytes = Array(data)
        case 8:
            bytes = []
            bytes.reserveCapacity(min(entry.uncompressedSize, Zlib.largestInflatedSize(of: data.count)))
            do {
                _ = try Zlib.inflate(data, format: .rawDeflate, into: &bytes, limit: entry.uncompressedSize)
            } catch {
                switch error {
                case .exceedsLimit:
                    throw .memberSizeMismatch(member: entry.name, declared: entry.uncompressedSize, actual: nil)
                case .truncated:
                    throw .corruptMember(member: entry.name, reason: "its deflate stream ends before its last block")
                case .corrupt(let reason):
                    throw .corruptMember(member: entry.name, reason: reason)
                }
            }
            guard bytes.count == entry.uncompressedSize else {
                throw .memberSizeMismatch(member: entry.name, declared: entry.uncompressedSize, actual: bytes.count)
            }
        default:
            throw .unsupportedCompression(member: entry.name, method: Int(entry.method))
        }
        let crc = bytes.withUnsafeBytes { Zlib.crc32($0) }
        guard crc == entry.crc else { throw .crcMismatch(member: entry.name, expected: entry.crc, actual: crc) }
        return bytes
    }
}
