/// The errors thrown while reading or writing NumPy `.npy` data (``NPYArray``).
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

    /// A one-line message naming the problem and the values involved.
    public var description: String {
        switch self {
        case let .truncated(part, needed, available):
            return ".npy data ends inside the \(part): it needs \(needed) bytes but has \(available)"
        case let .badMagic(found):
            let hex = found.map { String($0, radix: 16, uppercase: false) }.map { $0.count < 2 ? "0" + $0 : $0 }
            return "not a .npy file: the magic string is \(hex.joined(separator: " ")), expected 93 4e 55 4d 50 59 (\\x93NUMPY)"
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
        }
    }

    /// What a zip archive is and what to do with it instead.
    private static func describeZipArchive(_ kind: NPYArchiveKind, _ members: [String]) -> String {
        switch kind {
        case .npz:
            let shown = members.prefix(6).map { "'\($0.dropLast(4))'" }.joined(separator: ", ")
            return "this is an .npz archive (numpy.savez) of arrays \(shown)\(members.count > 6 ? ", …" : ""), "
                + "not a .npy file: only single .npy arrays are read. Unzip it (each member is a .npy file), "
                + "or load it with numpy.load and save each array with numpy.save"
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
