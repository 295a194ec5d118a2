// The only file that imports CZlib: every zlib call of the product goes through these three functions, so the
// C-shaped surface (z_stream, 32-bit lengths, status codes) stays in one place. Callers see Swift buffers and
// `InflateFailure`, which they turn into the NPYError that names what was being read.
import CZlib

/// What went wrong inside an inflate, before the caller says which stream it was.
enum InflateFailure: Error, Equatable {
    /// The input ended before the stream did (zlib wanted more input).
    case truncated
    /// zlib rejected the data; the reason is zlib's message, for example "invalid block type" or
    /// "incorrect data check" (a gzip CRC-32 that disagrees with the data).
    case corrupt(String)
    /// The output grew past the limit the caller gave.
    case exceedsLimit
}

enum Zlib {
    /// The two stream formats read here, as zlib's `windowBits`: raw deflate (RFC 1951, zip members) and
    /// gzip (RFC 1952: zlib checks the header, the CRC-32 and the length in the trailer).
    enum Format {
        case rawDeflate
        case gzip

        var windowBits: Int32 { self == .rawDeflate ? -MAX_WBITS : 16 + MAX_WBITS }
    }

    /// zlib takes lengths as `uInt`: larger buffers are fed in pieces of this size.
    private static let largestPiece = Int(UInt32.max)

    /// Output is produced in pieces of this size, so a stream that runs past `limit` is stopped within one piece.
    private static let outputPiece = 1 << 16

    /// The most bytes a deflate stream of `compressed` bytes can inflate to (deflate's densest code, a run
    /// of 258 bytes in about two bits, gives at most 1,032 bytes per input byte): the capacity a reader may
    /// reserve for a declared size it cannot trust yet.
    static func largestInflatedSize(of compressed: Int) -> Int {
        compressed <= (Int.max - 64) / 1032 ? compressed * 1032 + 64 : Int.max
    }

    /// The CRC-32 of `bytes` (the zip and gzip checksum).
    static func crc32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var value: UInt = 0
        var offset = 0
        while offset < bytes.count {
            let n = min(largestPiece, bytes.count - offset)
            // Safe: offset + n ≤ bytes.count, so the base address exists and the range is inside the buffer.
            value = CZlib.crc32(value, bytes.baseAddress!.advanced(by: offset).assumingMemoryBound(to: Bytef.self),
                                UInt32(n))
            offset += n
        }
        return UInt32(truncatingIfNeeded: value)
    }

    /// Inflates one stream that starts at the beginning of `input`, appending its bytes to `output`.
    ///
    /// - Returns: how many bytes of `input` the stream took (the rest may be another gzip member).
    /// - Throws: ``InflateFailure/exceedsLimit`` as soon as `output` would hold more than `limit` bytes (so at
    ///   most one piece of 64 KiB more is ever produced), ``InflateFailure/truncated`` if `input` ends inside the
    ///   stream, ``InflateFailure/corrupt(_:)`` with zlib's message otherwise.
    static func inflate(_ input: UnsafeRawBufferPointer, format: Format, into output: inout [UInt8],
                        limit: Int) throws(InflateFailure) -> Int {
        var stream = z_stream()
        let initStatus = convengine_inflateInit2(&stream, format.windowBits)
        guard initStatus == Z_OK else { throw .corrupt("zlib's inflateInit2 failed with status \(initStatus)") }
        defer { inflateEnd(&stream) }
        var piece = [UInt8](repeating: 0, count: outputPiece)
        var fed = 0
        while true {
            feed(&stream, from: input, fed: &fed)
            let status: Int32 = piece.withUnsafeMutableBufferPointer { out in
                stream.next_out = out.baseAddress
                stream.avail_out = UInt32(out.count)
                return CZlib.inflate(&stream, Z_NO_FLUSH)
            }
            let produced = outputPiece - Int(stream.avail_out)
            guard produced <= limit - output.count else { throw .exceedsLimit }
            output.append(contentsOf: piece[0..<produced])
            switch status {
            case Z_STREAM_END:
                return fed - Int(stream.avail_in)
            case Z_OK:
                continue
            case Z_BUF_ERROR where stream.avail_in == 0 && fed == input.count:
                throw .truncated
            case Z_BUF_ERROR:
                continue  // No progress possible in this call only; zlib asks to call again.
            case Z_NEED_DICT:
                throw .corrupt("the stream needs a preset dictionary")
            default:
                throw .corrupt(stream.msg.map { String(cString: $0) } ?? "zlib's inflate failed with status \(status)")
            }
        }
    }

    /// Gives zlib the next piece of `input` (from `fed` on) once it has used up the last one.
    private static func feed(_ stream: inout z_stream, from input: UnsafeRawBufferPointer, fed: inout Int) {
        guard stream.avail_in == 0, fed < input.count else { return }
        let n = min(largestPiece, input.count - fed)
        // Safe: zlib only reads through next_in (the pointer is mutable only because zlib.h declares it without
        // const), and fed + n ≤ input.count.
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.advanced(by: fed)
            .assumingMemoryBound(to: Bytef.self))
        stream.avail_in = UInt32(n)
        fed += n
    }

    /// The raw deflate stream (RFC 1951, no header or trailer) of `input` at zlib's default compression level,
    /// what Python's zipfile writes for `ZIP_DEFLATED` members (so `numpy.savez_compressed`'s members).
    ///
    /// - Throws: the zlib function and status when zlib fails (it does so only when out of memory).
    static func deflate(_ bytes: [UInt8]) throws(NPYError) -> [UInt8] {
        try FileBytes.with(bytes) { raw throws(NPYError) in try deflate(raw) }
    }

    private static func deflate(_ input: UnsafeRawBufferPointer) throws(NPYError) -> [UInt8] {
        var stream = z_stream()
        let initStatus = convengine_deflateInit2(&stream, Z_DEFAULT_COMPRESSION, -MAX_WBITS)
        guard initStatus == Z_OK else { throw .zlibFailed(function: "deflateInit2", status: Int(initStatus)) }
        defer { deflateEnd(&stream) }
        var output: [UInt8] = []
        output.reserveCapacity(Int(deflateBound(&stream, UInt(input.count))))
        var piece = [UInt8](repeating: 0, count: outputPiece)
        var fed = 0
        while true {
            feed(&stream, from: input, fed: &fed)
            let flush = fed == input.count ? Z_FINISH : Z_NO_FLUSH
            let status: Int32 = piece.withUnsafeMutableBufferPointer { out in
                stream.next_out = out.baseAddress
                stream.avail_out = UInt32(out.count)
                return CZlib.deflate(&stream, flush)
            }
            output.append(contentsOf: piece[0..<(outputPiece - Int(stream.avail_out))])
            switch status {
            case Z_STREAM_END: return output
            case Z_OK, Z_BUF_ERROR: continue
            default: throw .zlibFailed(function: "deflate", status: Int(status))
            }
        }
    }
}
