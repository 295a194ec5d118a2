// Gzip.decompress: files Python's gzip wrote (Compressed/make_compressed.py) and gzip members built here by
// hand from stored deflate blocks (RFC 1951 3.2.4) with the tests' own CRC-32, so the expected bytes never come
// from the code under test; damage of every kind; the real Fashion-MNIST test labels when installed.
import ConvEngine
import ConvEngineNPY
import Foundation
import Testing

@Suite("Gzip decompression")
struct GzipTests {
    typealias F = CompressedFixtures

    /// One gzip member (RFC 1952) holding `content` in stored deflate blocks of at most `blockSize` bytes, with
    /// optional header fields: FEXTRA, FNAME, FCOMMENT and FHCRC (the low 16 bits of the header's CRC-32).
    static func member(_ content: [UInt8], blockSize: Int = 65_535, extra: [UInt8]? = nil, name: String? = nil,
                       comment: String? = nil, headerCRC: Bool = false) -> [UInt8] {
        var flags: UInt8 = 0
        if headerCRC { flags |= 0x02 }
        if extra != nil { flags |= 0x04 }
        if name != nil { flags |= 0x08 }
        if comment != nil { flags |= 0x10 }
        var out: [UInt8] = [0x1F, 0x8B, 8, flags, 0, 0, 0, 0, 0, 3]  // deflate, mtime 0, no extra flags, Unix
        if let extra { out += [UInt8(extra.count & 0xFF), UInt8(extra.count >> 8)] + extra }
        if let name { out += Array(name.utf8) + [0] }
        if let comment { out += Array(comment.utf8) + [0] }
        if headerCRC {
            let crc = F.crc32(out)
            out += [UInt8(truncatingIfNeeded: crc), UInt8(truncatingIfNeeded: crc >> 8)]
        }
        var start = 0
        repeat {
            let end = min(content.count, start + blockSize)
            let length = end - start
            out.append(end == content.count ? 1 : 0)  // BFINAL, BTYPE 00 (stored), padded to the byte
            out += [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8((~length >> 8) & 0xFF)]
            out += content[start..<end]
            start = end
        } while start < content.count
        return out + littleEndian32(F.crc32(content)) + littleEndian32(UInt32(truncatingIfNeeded: content.count))
    }

    static func littleEndian32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

    /// "line 0\n" … "line 999\n", the content of text.gz.
    static var lines: [UInt8] { Array((0..<1000).map { "line \($0)\n" }.joined().utf8) }

    @Test("files Python's gzip wrote: a named member, two members, an IDX1 labels file")
    func pythonFiles() throws {
        #expect(try Gzip.decompress(contentsOf: F.url("text.gz")) == Self.lines)
        #expect(try Gzip.decompress(F.bytes("two_members.gz")) == Array("first\nsecond\n".utf8))
        let labels = try Gzip.decompress(contentsOf: F.url("labels.gz"))
        #expect(labels == [0, 0, 8, 1, 0, 0, 1, 44] + (0..<300).map { UInt8($0 % 10) })
    }

    @Test("members built by hand: header fields, empty content, several blocks, several members, zero padding")
    func handBuilt() throws {
        let content = Array("conv engine\n".utf8)
        #expect(try Gzip.decompress(Self.member(content)) == content)
        #expect(try Gzip.decompress(Self.member(content, extra: [1, 2, 3, 4], name: "a.txt", comment: "made by hand",
                                                headerCRC: true)) == content)
        #expect(try Gzip.decompress(Self.member([])) == [])
        // 200,000 bytes in stored blocks of 1,000: many blocks, several 64 KiB output pieces.
        let long = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
        #expect(try Gzip.decompress(Self.member(long, blockSize: 1_000)) == long)
        #expect(try Gzip.decompress(Self.member(content) + Self.member([]) + Self.member(long)) == content + long)
        #expect(try Gzip.decompress(Self.member(content) + [0, 0, 0, 0]) == content)
    }

    @Test("maximumSize: exactly the size is read, one byte less throws, also across members")
    func sizeLimit() throws {
        let bytes = try F.bytes("text.gz")
        #expect(try Gzip.decompress(bytes, maximumSize: Self.lines.count) == Self.lines)
        #expect(throws: NPYError.decompressedSizeExceedsLimit(size: nil, limit: Self.lines.count - 1)) {
            try Gzip.decompress(bytes, maximumSize: Self.lines.count - 1)
        }
        let two = Self.member([1, 2, 3]) + Self.member([4, 5])
        #expect(try Gzip.decompress(two, maximumSize: 5) == [1, 2, 3, 4, 5])
        #expect(throws: NPYError.decompressedSizeExceedsLimit(size: nil, limit: 4)) { try Gzip.decompress(two, maximumSize: 4) }
        #expect(throws: NPYError.decompressedSizeExceedsLimit(size: nil, limit: -1)) {
            try Gzip.decompress(Self.member([1]), maximumSize: -1)
        }
    }

    @Test("not gzip, truncated at every length, damaged trailer, trailing bytes: the error that names it")
    func errors() throws {
        #expect(throws: NPYError.truncatedGzip) { try Gzip.decompress([]) }
        #expect(throws: NPYError.truncatedGzip) { try Gzip.decompress([0x1F]) }
        #expect(throws: NPYError.notGzip(found: [0x50, 0x4B, 0x03, 0x04])) {
            try Gzip.decompress([0x50, 0x4B, 0x03, 0x04, 0, 0, 0, 0])
        }
        #expect(throws: NPYError.notGzip(found: [0x1F, 0x9D])) { try Gzip.decompress([0x1F, 0x9D]) }  // compress(1)'s .Z
        for valid in [try F.bytes("text.gz"), Self.member(Array("abc".utf8), name: "n", headerCRC: true)] {
            for length in 0..<valid.count {
                #expect(throws: NPYError.truncatedGzip, "cut to \(length) of \(valid.count)") {
                    try Gzip.decompress(Array(valid.prefix(length)))
                }
            }
        }
        let valid = Self.member(Array("abc".utf8))
        var crc = valid
        crc[crc.count - 8] ^= 1
        #expect(throws: NPYError.corruptGzip(reason: "incorrect data check")) { try Gzip.decompress(crc) }
        var size = valid
        size[size.count - 4] ^= 1
        #expect(throws: NPYError.corruptGzip(reason: "incorrect length check")) { try Gzip.decompress(size) }
        var method = valid
        method[2] = 7
        #expect(throws: NPYError.corruptGzip(reason: "unknown compression method")) { try Gzip.decompress(method) }
        var blockType = valid
        blockType[10] = 0x07  // BFINAL with BTYPE 11, which is reserved
        #expect(throws: NPYError.corruptGzip(reason: "invalid block type")) { try Gzip.decompress(blockType) }
        #expect(throws: NPYError.gzipTrailingData(offset: valid.count)) { try Gzip.decompress(valid + [0, 1]) }
        #expect(throws: NPYError.truncatedGzip) { try Gzip.decompress(valid + [0x1F]) }
        let missing = F.url("no such file.gz")
        let error = try #require(F.error { _ = try Gzip.decompress(contentsOf: missing) })
        guard case .fileSystem(let path, _) = error else {
            Issue.record("expected fileSystem, got \(error)")
            return
        }
        #expect(path == missing.path)
    }

    @Test("every bit flipped in turn never traps: a typed error, or the content (header bits zlib ignores)")
    func bitFlips() throws {
        for valid in [try F.bytes("labels.gz"), Self.member(Array("stored".utf8), name: "s.txt")] {
            let content = try Gzip.decompress(valid)
            var thrown = 0
            for offset in 0..<valid.count {
                for bit in 0..<8 {
                    var damaged = valid
                    damaged[offset] ^= 1 << bit
                    do {
                        #expect(try Gzip.decompress(damaged) == content, "bit \(bit) of byte \(offset)")
                    } catch {
                        thrown += 1
                    }
                }
            }
            #expect(thrown > valid.count * 4, "\(thrown) of \(valid.count * 8) flips thrown")
        }
    }

    static let fashionLabels = URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz")

    @Test("the Fashion-MNIST test labels (Debian's dataset-fashion-mnist): IDX magic, 10,000 labels, 1,000 per class",
          .enabled(if: FileManager.default.fileExists(atPath: fashionLabels.path), "dataset-fashion-mnist is not installed"))
    func fashionMNISTLabels() throws {
        let bytes = try Gzip.decompress(contentsOf: Self.fashionLabels)
        #expect(bytes.count == 8 + 10_000)
        #expect(Array(bytes.prefix(8)) == [0x00, 0x00, 0x08, 0x01, 0x00, 0x00, 0x27, 0x10])
        var perClass = [Int](repeating: 0, count: 10)
        for label in bytes.dropFirst(8) where label < 10 { perClass[Int(label)] += 1 }
        #expect(perClass == [Int](repeating: 1_000, count: 10))
    }
}
