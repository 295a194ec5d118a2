/// The errors thrown while reading or writing NumPy `.npy` data (``NPYArray``), `.npz` archives
/// (``NPZArchive``) and gzip data (``Gzip``).
///
/// Every case names the part of the file that is wrong and the values involved, so a message such as
/// `"unsupported .npy byte order in dtype '>f8': only little-endian ('<') is supported"` says what to fix.
/// Reading never traps on malformed input: every length read from a file is checked (with overflow-checked
/// arithmetic) before it is used.
public enum NPYError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The input ended inside `part` (`"magic string"`, `"format version"`, `"header length"` or `"header"`):
    /// it needed `needed` bytes in all but has only `available`.
    case truncated(part: String, needed: Int, available: Int)
    /// The first six bytes are not the `.npy` magic string `\x93NUMPY` (and not a zip archive's: see
    /// ``zipArchive(kind:members:)``).
    case badMagic(found: [UInt8])
    /// The data is a zip archive (it starts with `PK\x03\x04`), not a `.npy` file: most likely an `.npz`
    /// archive of `.npy` files (`numpy.savez`) or a `torch.save` file. `kind` says which, from `members`, the
    /// names of its first members (at most 16, in the archive's order; empty if none could be read). The
    /// message says what to do instead: unzip the `.npz` (or `numpy.load` it and `numpy.save` each array), or
    /// save the tensor with `numpy.save`. This is thrown instead of ``badMagic(found:)`` so that a program
    /// can tell a user which file format they gave.
    case zipArchive(kind: NPYArchiveKind, members: [String])
    /// The format version is not 1.0, 2.0 or 3.0.
    case unsupportedVersion(major: UInt8, minor: UInt8)
    /// The header length field is impossible (for example zero).
    case invalidHeaderLength(Int)
    /// The header is not valid text in its version's encoding (Latin-1 for 1.0 and 2.0, UTF-8 for 3.0).
    case invalidHeaderEncoding(version: UInt8)
    /// The header is `size` bytes long, more than the `limit` a reader accepts (the `maximumHeaderSize` given to
    /// a reading initialiser, by default ``NPYArray/defaultMaximumHeaderSize``, 10,000 bytes as in NumPy).
    /// Pass a larger `maximumHeaderSize` to read the file anyway.
    case headerExceedsLimit(size: Int, limit: Int)
    /// The header does not end with a newline, so its length field and its text disagree.
    case headerNotTerminated
    /// The header is not a Python dictionary literal of the form NumPy writes; `offset` counts characters
    /// from the start of the header text.
    case malformedHeader(reason: String, offset: Int)
    /// The header dictionary lacks one of its three keys (`descr`, `fortran_order`, `shape`).
    case missingKey(String)
    /// The header dictionary has a key other than `descr`, `fortran_order` and `shape`.
    case unexpectedKey(String)
    /// The header dictionary names the same key twice.
    case duplicateKey(String)
    /// A header value has the wrong type (for example `'fortran_order': 0` or `'descr': 8`).
    case invalidValue(key: String, reason: String)
    /// The dtype is not a float type this library reads (`'<f4'` or `'<f8'`).
    case unsupportedDataType(String)
    /// The dtype is `float32` or `float64` but not little-endian (`'>f8'`, `'|f8'`, `'=f4'` …).
    case unsupportedByteOrder(String)
    /// The array is stored in Fortran (column-major) order; only C order is supported.
    case fortranOrderNotSupported
    /// The shape is not a tuple of non-negative integers that fit in `Int`, or it disagrees with the
    /// number of elements given (when writing).
    case invalidShape(reason: String)
    /// The element count or byte count that the shape implies overflows `Int`.
    case sizeOverflow(shape: [Int])
    /// The data after the header has `actual` bytes where the shape and dtype need `expected`.
    case dataLengthMismatch(expected: Int, actual: Int)
    /// The header is too long to be written in any format version.
    case headerTooLarge(Int)
    /// Reading or writing the file at `path` failed; `reason` is the system's description.
    case fileSystem(path: String, reason: String)

    // .npz archives (NPZArchive).

    /// The data given as an `.npz` archive has no zip end of central directory record (`PK\x05\x06`) in its
    /// last 65,557 bytes: it is no zip archive, or one cut short. `found` is its first bytes (at most 8); the
    /// message says when they are a `.npy` file's (read it with ``NPYArray``) or a gzip file's.
    case notZipArchive(found: [UInt8])
    /// A zip record (`part`, for example `"central directory entry 1"`, `"local header of 'x.npy'"` or
    /// `"data of 'x.npy'"`) extends past the end of the archive, or for a directory entry past the end of the
    /// central directory: it needs the bytes up to offset `needed` but the archive (or directory) ends at
    /// `available`.
    case truncatedArchive(part: String, needed: Int, available: Int)
    /// The zip record `part` expected at `offset` does not start with its signature.
    case badSignature(part: String, offset: Int)
    /// The zip structures contradict each other or use what is not supported (several disks, a central directory
    /// outside the archive, a zip64 field that is missing, a local header naming another member, a name that is
    /// not UTF-8); `reason` says which.
    case malformedArchive(reason: String)
    /// The member is encrypted; `.npz` members never are.
    case encryptedMember(String)
    /// The member is compressed with a method other than 0 (stored) and 8 (deflated), the two NumPy writes.
    case unsupportedCompression(member: String, method: Int)
    /// Two members give the same array name (`NAME.npy` twice, or both `NAME` and `NAME.npy`, which
    /// `numpy.load` would both call `NAME`).
    case duplicateMember(String)
    /// The member's data has `actual` bytes where its directory entry declares `declared` (for a stored member,
    /// its compressed size differs from its uncompressed size); `actual` is nil when a deflated member inflates
    /// to more than `declared` (it is not decompressed further).
    case memberSizeMismatch(member: String, declared: Int, actual: Int?)
    /// The CRC-32 of the member's uncompressed bytes is `actual`, not the `expected` its directory entry records.
    case crcMismatch(member: String, expected: UInt32, actual: UInt32)
    /// The member's deflate stream is damaged; `reason` is zlib's message or says where it ends.
    case corruptMember(member: String, reason: String)
    /// The member `name` was extracted but is not a `.npy` file this library reads; `error` says why.
    indirect case invalidMember(name: String, error: NPYError)
    /// Writing would need zip64 (a member or the archive of 4 GiB or more, or too many members), which
    /// ``NPZArchive`` does not write, or a member name longer than 65,535 bytes; `reason` gives the value.
    case archiveTooLarge(reason: String)

    // Decompression (NPZArchive, Gzip).

    /// The uncompressed data would be larger than the `limit` given to the reader (`maximumSize`); `size` is the
    /// size the archive declares, or nil for gzip data, whose decompression stops at the limit.
    case decompressedSizeExceedsLimit(size: Int?, limit: Int)
    /// The data does not start with the gzip magic bytes 1f 8b; `found` is its first bytes (at most 4).
    case notGzip(found: [UInt8])
    /// The gzip data ends inside a member: in its header, its deflate stream or its 8-byte trailer.
    case truncatedGzip
    /// The gzip data is damaged; `reason` is zlib's message ("incorrect data check" for a CRC-32 that
    /// disagrees with the data, "incorrect length check", "invalid block type" …).
    case corruptGzip(reason: String)
    /// After the last gzip member, from `offset` on, there are bytes that are neither another member nor zero padding.
    case gzipTrailingData(offset: Int)
    /// A zlib function failed with `status` (zlib's Z_MEM_ERROR, -4, when out of memory).
    case zlibFailed(function: String, status: Int)

    /// A one-line message naming the problem and the values involved.
    public var description: String {
        switch self {
        case let .truncated(part, needed, available):
            return ".npy data ends inside the \(part): it needs \(needed) bytes but has \(available)"
        case let .badMagic(found):
            return "not a .npy file: the magic string is \(NPYError.hex(found)), expected 93 4e 55 4d 50 59 (\\x93NUMPY)"
        case let .zipArchive(kind, members):
            return NPYError.describeZipArchive(kind, members)
        case let .unsupportedVersion(major, minor):
            return "unsupported .npy format version \(major).\(minor): only 1.0, 2.0 and 3.0 are supported"
        case let .invalidHeaderLength(length):
            return "invalid .npy header length \(length)"
        case let .invalidHeaderEncoding(version):
            return "the .npy header is not valid \(version >= 3 ? "UTF-8" : "Latin-1") text"
        case let .headerExceedsLimit(size, limit):
            return "the .npy header is \(size) bytes, more than the limit of \(limit) bytes (maximumHeaderSize; NumPy's max_header_size)"
        case .headerNotTerminated:
            return "the .npy header does not end with a newline: its length field is wrong"
        case let .malformedHeader(reason, offset):
            return "malformed .npy header at character \(offset): \(reason)"
        case let .missingKey(key):
            return "the .npy header has no '\(key)' key"
        case let .unexpectedKey(key):
            return "the .npy header has an unexpected key '\(key)'"
        case let .duplicateKey(key):
            return "the .npy header has the key '\(key)' twice"
        case let .invalidValue(key, reason):
            return "invalid .npy header value for '\(key)': \(reason)"
        case let .unsupportedDataType(descr):
            return "unsupported .npy dtype '\(descr)': only float32 ('<f4') and float64 ('<f8') are supported"
        case let .unsupportedByteOrder(descr):
            return "unsupported .npy byte order in dtype '\(descr)': only little-endian ('<') is supported"
        case .fortranOrderNotSupported:
            return "the .npy array is in Fortran order: only C order (fortran_order False) is supported"
        case let .invalidShape(reason):
            return "invalid .npy shape: \(reason)"
        case let .sizeOverflow(shape):
            return "the .npy shape \(shape) has more bytes than fit in Int"
        case let .dataLengthMismatch(expected, actual):
            return "the .npy data has \(actual) bytes but its shape and dtype need \(expected)"
        case let .headerTooLarge(length):
            return "a .npy header of \(length) bytes is too long for any format version"
        case let .fileSystem(path, reason):
            return "\(path): \(reason)"
        case let .notZipArchive(found):
            if found.starts(with: NPYArray.magic) {
                return "not an .npz archive but a .npy file (it starts with \\x93NUMPY): read it with NPYArray"
            }
            if found.starts(with: Gzip.magic) {
                return "not an .npz archive but gzip data (it starts with 1f 8b): decompress it with Gzip.decompress"
            }
            return "not an .npz (zip) archive: it has no end of central directory record (PK\\x05\\x06) in its last "
                + "65,557 bytes; it starts with \(NPYError.hex(found))"
        case let .truncatedArchive(part, needed, available):
            let bound = part.hasPrefix("central directory") ? "central directory" : "archive"
            return "the .npz archive's \(part) runs past its end: it needs the bytes up to offset \(needed), but the "
                + "\(bound) ends at \(available)"
        case let .badSignature(part, offset):
            return "the .npz archive has no \(part) at offset \(offset) (its signature is missing)"
        case let .malformedArchive(reason):
            return "malformed .npz archive: \(reason)"
        case let .encryptedMember(member):
            return "the .npz member '\(member)' is encrypted, which is not supported"
        case let .unsupportedCompression(member, method):
            return "the .npz member '\(member)' uses compression method \(method): only 0 (stored) and 8 (deflated) "
                + "are supported"
        case let .duplicateMember(member):
            return "the .npz archive has two members for the array '\(NPZArchive.arrayName(ofMember: member))' "
                + "(the second is '\(member)')"
        case let .memberSizeMismatch(member, declared, actual?):
            return "the .npz member '\(member)' has \(actual) bytes but its directory entry declares \(declared)"
        case let .memberSizeMismatch(member, declared, nil):
            return "the .npz member '\(member)' inflates to more than the \(declared) bytes its directory entry declares"
        case let .crcMismatch(member, expected, actual):
            return "the .npz member '\(member)' is damaged: its CRC-32 is \(NPYError.hex32(actual)), "
                + "its directory entry records \(NPYError.hex32(expected))"
        case let .corruptMember(member, reason):
            return "the .npz member '\(member)' has damaged deflate data: \(reason)"
        case let .invalidMember(name, error):
            return "the .npz member '\(name)': \(error.description)"
        case let .archiveTooLarge(reason):
            return "cannot write the .npz archive: \(reason)"
        case let .decompressedSizeExceedsLimit(size?, limit):
            return "the data decompresses to \(size) bytes, more than the limit of \(limit) bytes (maximumSize)"
        case let .decompressedSizeExceedsLimit(nil, limit):
            return "the gzip data decompresses to more than the limit of \(limit) bytes (maximumSize)"
        case let .notGzip(found):
            return "not gzip data: it starts with \(NPYError.hex(found)), not the gzip magic bytes 1f 8b"
        case .truncatedGzip:
            return "the gzip data ends inside a member (its header, deflate data or 8-byte trailer is cut short)"
        case let .corruptGzip(reason):
            return "damaged gzip data: \(reason)"
        case let .gzipTrailingData(offset):
            return "the gzip data has bytes after its last member, from offset \(offset), that are neither another "
                + "gzip member nor zero padding"
        case let .zlibFailed(function, status):
            return "zlib's \(function) failed with status \(status)\(status == -4 ? " (out of memory)" : "")"
        }
    }

    /// Bytes as two-digit lower-case hex, space-separated ("(no bytes)" for none).
    private static func hex(_ bytes: [UInt8]) -> String {
        if bytes.isEmpty { return "(no bytes)" }
        return bytes.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined(separator: " ")
    }

    /// A CRC as 0x followed by eight hex digits.
    private static func hex32(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }

    /// What a zip archive is and what to do with it instead.
    private static func describeZipArchive(_ kind: NPYArchiveKind, _ members: [String]) -> String {
        switch kind {
        case .npz:
            let shown = members.prefix(6).map { "'\($0.dropLast(4))'" }.joined(separator: ", ")
            return "this is an .npz archive (numpy.savez) of arrays \(shown)\(members.count > 6 ? ", …" : ""), "
                + "not a .npy file: only single .npy arrays are read here (NPZArchive reads .npz archives). "
                + "Unzip it (each member is a .npy file), or load it with numpy.load and save each array with numpy.save"
        case .torchSave:
            return "this is a PyTorch torch.save file (a zip archive), not a .npy file: save the tensor with "
                + "numpy.save instead, for example numpy.save('x.npy', tensor.detach().cpu().numpy())"
        case .other:
            let listed = members.isEmpty ? "" : " (members: \(members.prefix(6).joined(separator: ", "))\(members.count > 6 ? ", …" : ""))"
            return "this is a zip archive\(listed), not a .npy file (its magic string is PK\\x03\\x04, not \\x93NUMPY): "
                + "unzip it and read the .npy file it holds"
        }
    }
}
