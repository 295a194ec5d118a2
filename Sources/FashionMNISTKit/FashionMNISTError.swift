import ConvEngine
import ConvEngineNPY

/// The errors of the Fashion-MNIST example. Every case names what is wrong and the values involved; a bad
/// file or argument throws one of these, never traps.
public enum FashionMNISTError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The IDX file `file` ends after `actual` bytes where its header or dimensions need `expected`.
    case truncated(file: String, expected: Int, actual: Int)
    /// The IDX file `file` has `extra` bytes after the data its dimensions describe.
    case trailingBytes(file: String, extra: Int)
    /// The first two bytes of `file` are not the IDX magic zeros (`found` are the first four bytes).
    case badMagic(file: String, found: [UInt8])
    /// The IDX type code of `file` is `code`; only `0x08` (unsigned bytes) is read.
    case unsupportedDataType(file: String, code: UInt8)
    /// `file` has `actual` dimensions where `expected` are needed (3 for images, 1 for labels).
    case dimensionCount(file: String, expected: Int, actual: Int)
    /// Dimension `index` of `file` is `actual` where `expected` is needed (28 for image rows and columns).
    case dimension(file: String, index: Int, expected: Int, actual: Int)
    /// The product of the dimensions of `file` overflows `Int`.
    case sizeOverflow(file: String)
    /// The images file has `images` images but the labels file has `labels` labels.
    case countMismatch(images: Int, labels: Int)
    /// Label `index` is `value`, outside the ten classes 0…9.
    case labelOutOfRange(index: Int, value: UInt8)
    /// A file could not be read or written (`reason` is the system's message).
    case io(path: String, reason: String)
    /// The convolution library refused a call.
    case convolution(ConvError)
    /// Decompressing a gzip file or reading or writing an `.npz` archive failed.
    case archive(NPYError)
    /// A weights archive lacks the array `name`, or it has the wrong shape.
    case weights(name: String, reason: String)
    /// Any other argument outside its documented range.
    case invalidArgument(name: String, reason: String)

    /// A one-line message naming the problem and the values involved.
    public var description: String {
        switch self {
        case let .truncated(file, expected, actual):
            return "\(file): truncated IDX file: \(actual) bytes, its header and dimensions need \(expected)"
        case let .trailingBytes(file, extra):
            return "\(file): \(extra) bytes after the data its IDX dimensions describe"
        case let .badMagic(file, found):
            return "\(file): not an IDX file (first bytes \(found.map { String($0, radix: 16) }), expected 0 0 8 n)"
        case let .unsupportedDataType(file, code):
            return "\(file): IDX type code 0x\(String(code, radix: 16)); only 0x8 (unsigned bytes) is supported"
        case let .dimensionCount(file, expected, actual):
            return "\(file): \(actual) IDX dimensions, expected \(expected)"
        case let .dimension(file, index, expected, actual):
            return "\(file): IDX dimension \(index) is \(actual), expected \(expected)"
        case let .sizeOverflow(file):
            return "\(file): the product of the IDX dimensions overflows Int"
        case let .countMismatch(images, labels):
            return "\(images) images but \(labels) labels"
        case let .labelOutOfRange(index, value):
            return "label \(index) is \(value), outside the classes 0...9"
        case let .io(path, reason):
            return "\(path): \(reason)"
        case let .convolution(error):
            return "convolution: \(error)"
        case let .archive(error):
            return "archive: \(error)"
        case let .weights(name, reason):
            return "weights \(name): \(reason)"
        case let .invalidArgument(name, reason):
            return "invalid \(name): \(reason)"
        }
    }
}

/// Runs a convolution-library call, reporting its error as ``FashionMNISTError/convolution(_:)``.
@inline(__always)
func convCall<R>(_ body: () throws(ConvError) -> R) throws(FashionMNISTError) -> R {
    do { return try body() } catch { throw .convolution(error) }
}

/// Runs an `.npy`/`.npz`/gzip call, reporting its error as ``FashionMNISTError/archive(_:)``.
@inline(__always)
func npyCall<R>(_ body: () throws(NPYError) -> R) throws(FashionMNISTError) -> R {
    do { return try body() } catch { throw .archive(error) }
}
