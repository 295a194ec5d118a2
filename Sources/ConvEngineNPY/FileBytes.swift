// Input and output as raw bytes, for every reader and writer of the product (NPYArray, NPZArchive, Gzip): each
// decodes an UnsafeRawBufferPointer, whether given [UInt8], Data or a file. withUnsafeBytes rethrows untyped
// errors, so the typed NPYError passes through it in a Result.
import Foundation

enum FileBytes {
    /// `body` applied to the bytes of an array.
    static func with<R>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(NPYError) -> R) throws(NPYError) -> R {
        let result: Result<R, NPYError> = bytes.withUnsafeBytes { raw in Result { () throws(NPYError) in try body(raw) } }
        return try result.get()
    }

    /// `body` applied to the bytes of `data`.
    static func with<R>(_ data: Data, _ body: (UnsafeRawBufferPointer) throws(NPYError) -> R) throws(NPYError) -> R {
        let result: Result<R, NPYError> = data.withUnsafeBytes { raw in Result { () throws(NPYError) in try body(raw) } }
        return try result.get()
    }

    /// The contents of the file at `url` (memory-mapped when that is safe).
    /// - Throws: ``NPYError/fileSystem(path:reason:)`` if it cannot be read.
    static func contents(of url: URL) throws(NPYError) -> Data {
        do {
            return try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw .fileSystem(path: url.path, reason: describe(error))
        }
    }

    /// Writes `bytes` to the file at `url`, replacing any file there, atomically.
    /// - Throws: ``NPYError/fileSystem(path:reason:)`` if it cannot be written.
    static func write(_ bytes: [UInt8], to url: URL) throws(NPYError) {
        do {
            try Data(bytes).write(to: url, options: .atomic)
        } catch {
            throw .fileSystem(path: url.path, reason: describe(error))
        }
    }

    /// The system's description of a file error (the underlying POSIX error's, when Foundation wraps one).
    static func describe(_ error: any Error) -> String {
        if let e = error as? CocoaError, let underlying = e.userInfo[NSUnderlyingErrorKey] as? NSError {
            return underlying.localizedDescription
        }
        return error.localizedDescription
    }
}
