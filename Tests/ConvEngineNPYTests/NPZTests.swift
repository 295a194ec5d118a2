// NPZArchive: the archives numpy.savez and savez_compressed wrote (Compressed/make_compressed.py, whose
// docstring gives each array's formula; the expected values here come from those formulas), round trips of
// our own archives, and the layout of what we write, which numpy.load reads.
import ConvEngine
import ConvEngineNPY
import Foundation
import Testing

/// The committed fixtures of Compressed/ and the arrays make_compressed.py wrote into them (computed on each use:
/// stored ones would be reported by LeakSanitizer in `make sanitize`).
enum CompressedFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Compressed")

    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    static func bytes(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: url(name))) }

    /// np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    static var x: NPYArray { try! NPYArray(shape: [2, 3, 4], floats: (0..<24).map(Float.init)) }
    /// np.linspace(-1, 1, 5)
    static var w: NPYArray { try! NPYArray(shape: [5], doubles: [-1, -0.5, 0, 0.5, 1]) }
    /// np.array(2.5)
    static var scalar: NPYArray { try! NPYArray(shape: [], doubles: [2.5]) }
    /// np.zeros((0, 3), dtype=np.float32)
    static var empty: NPYArray { try! NPYArray(shape: [0, 3], floats: []) }
    /// (np.arange(18, dtype=np.float32) / 8).reshape(2, 1, 3, 3)
    static var convWeight: NPYArray { try! NPYArray(shape: [2, 1, 3, 3], floats: (0..<18).map { Float($0) / 8 }) }
    /// np.arange(3.0)
    static var größe: NPYArray { try! NPYArray(shape: [3], doubles: [0, 1, 2]) }
    /// np.repeat(np.arange(4, dtype=np.float32), 20000)
    static var big: NPYArray { try! NPYArray(shape: [80_000], floats: (0..<80_000).map { Float($0 / 20_000) }) }

    /// stored.npz's arrays in order (compressed.npz has `big` after them).
    static var stored: [(String, NPYArray)] {
        [("x", x), ("w", w), ("scalar", scalar), ("empty", empty), ("conv1.weight", convWeight), ("größe", größe)]
    }

    /// Expects `archive` to hold exactly `expected`, in order, bit for bit.
    static func expect(_ archive: NPZArchive, holds expected: [(String, NPYArray)], _ what: String,
                       sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(archive.names == expected.map(\.0), "\(what)", sourceLocation: sourceLocation)
        #expect(archive.count == expected.count, sourceLocation: sourceLocation)
        for (name, array) in expected {
            guard let read = archive[name] else {
                Issue.record("\(what): no array '\(name)'", sourceLocation: sourceLocation)
                continue
            }
            #expect(read.dataType == array.dataType, "\(what): \(name)", sourceLocation: sourceLocation)
            #expect(read.isBitwiseIdentical(to: array), "\(what): \(name) is \(read.shape) \(read.elements)",
                    sourceLocation: sourceLocation)
        }
    }

    /// CRC-32 (the zip and gzip polynomial, reflected 0xEDB88320), bit by bit: the tests' own, independent of zlib.
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    /// The error `body` throws, or nil.
    static func error(_ body: () throws -> Void) -> NPYError? {
        do {
            try body()
            return nil
        } catch let error as NPYError {
            return error
        } catch {
            Issue.record("an error that is not an NPYError: \(error)")
            return nil
        }
    }
}

@Suite("NPZ: numpy's archives, our archives, round trips")
struct NPZTests {
    typealias F = CompressedFixtures

    @Test("numpy.savez (stored) and savez_compressed (deflated): names in order, shapes, dtypes, values")
    func numpyArchives() throws {
        F.expect(try NPZArchive(contentsOf: F.url("stored.npz")), holds: F.stored, "stored.npz")
        F.expect(try NPZArchive(contentsOf: F.url("compressed.npz")), holds: F.stored + [("big", F.big)], "compressed.npz")
        F.expect(try NPZArchive(npzBytes: try F.bytes("compressed.npz")), holds: F.stored + [("big", F.big)],
                 "compressed.npz from bytes")
    }

    @Test("zip64 sizes, offsets and end record (zip64.npz); data descriptors (streamed.npz)")
    func zip64AndStreamed() throws {
        for name in ["zip64.npz", "streamed.npz"] {
            F.expect(try NPZArchive(contentsOf: F.url(name)), holds: [("x", F.x), ("w", F.w)], name)
        }
    }

    @Test("the archives NPYArray refuses (Archives/) read as NPZArchive")
    func archivesGivenToNPYArray() throws {
        // make_archives.py: x = np.arange(6, dtype=np.float32).reshape(2, 3), w = np.linspace(-1, 1, 4), which
        // numpy computes as i · (2/3) − 1 with the last value set to 1.
        let x = try NPYArray(shape: [2, 3], floats: [0, 1, 2, 3, 4, 5])
        let w = try NPYArray(shape: [4], doubles: [-1, 1 * (2.0 / 3) - 1, 2 * (2.0 / 3) - 1, 1])
        for name in ["two_arrays.npz", "compressed.npz"] {
            let url = NPYArchiveTests.directory.appendingPathComponent(name)
            F.expect(try NPZArchive(contentsOf: url), holds: [("x", x), ("w", w)], name)
        }
    }

    @Test("numpy's archives given to NPYArray are still named as .npz archives, with their members")
    func givenToNPYArray() throws {
        for (name, members) in [("stored.npz", F.stored.map { $0.0 + ".npy" }), ("zip64.npz", ["x.npy", "w.npy"]),
                                ("streamed.npz", ["x.npy", "w.npy"])] {
            #expect(throws: NPYError.zipArchive(kind: .npz, members: members), "\(name)") {
                try NPYArray(contentsOf: F.url(name))
            }
        }
    }

    @Test("other compression, two members for one name, a member that is not .npy: the errors that name them")
    func unsupportedArchives() throws {
        #expect(throws: NPYError.unsupportedCompression(member: "x.npy", method: 12)) {
            try NPZArchive(contentsOf: F.url("bzip2.npz"))
        }
        #expect(throws: NPYError.duplicateMember("x")) { try NPZArchive(contentsOf: F.url("duplicate.npz")) }
        let notNPY = NPYError.invalidMember(name: "notes.txt", error: .badMagic(found: Array("not an".utf8)))
        #expect(throws: notNPY) { try NPZArchive(contentsOf: F.url("text_member.npz")) }
        #expect(notNPY.description.hasPrefix("the .npz member 'notes.txt': not a .npy file"), "\(notNPY)")
    }

    @Test("a .npy file, gzip data or nothing given as an archive: not a zip archive, with what it is instead")
    func notArchives() throws {
        let npy = try F.x.npyBytes()
        let error = try #require(F.error { _ = try NPZArchive(npzBytes: npy) })
        #expect(error == .notZipArchive(found: Array(npy.prefix(8))))
        #expect(error.description.contains("read it with NPYArray"), "\(error)")
        let gzip = try F.bytes("labels.gz")
        let gzipError = try #require(F.error { _ = try NPZArchive(npzBytes: gzip) })
        #expect(gzipError == .notZipArchive(found: Array(gzip.prefix(8))))
        #expect(gzipError.description.contains("Gzip.decompress"), "\(gzipError)")
        #expect(throws: NPYError.notZipArchive(found: [])) { try NPZArchive(npzBytes: []) }
        let missing = F.url("no such file.npz")
        let fileError = try #require(F.error { _ = try NPZArchive(contentsOf: missing) })
        guard case .fileSystem(let path, _) = fileError else {
            Issue.record("expected fileSystem, got \(fileError)")
            return
        }
        #expect(path == missing.path)
    }

    /// Arrays of both element types and awkward shapes, with bit patterns a conversion would change.
    static func roundTripArrays() throws -> [(String, NPYArray)] {
        let specials = NPYFixtures.specialDoubles
        let floatSpecials = NPYFixtures.specialFloats
        return [
            ("scalar32", try NPYArray(shape: [], floats: [-0.0])),
            ("scalar64", try NPYArray(shape: [], doubles: [Double.pi])),
            ("empty", try NPYArray(shape: [0], doubles: [])),
            ("empty 2-d", try NPYArray(shape: [3, 0], floats: [])),
            ("one", try NPYArray(shape: [1], floats: [1])),
            ("specials64", try NPYArray(shape: [specials.count], doubles: specials)),
            ("specials32", try NPYArray(shape: [1, floatSpecials.count], floats: floatSpecials)),
            ("conv.weight", try NPYArray(shape: [4, 2, 3, 3], floats: (0..<72).map { Float($0) * 0.25 - 9 })),
            ("conv.bias", try NPYArray(shape: [4], doubles: [1e-300, -1e300, .leastNonzeroMagnitude, 0.1])),
            // 300,000 bytes: several 64 KiB pieces when inflated.
            ("long", try NPYArray(shape: [50, 1_500], floats: (0..<75_000).map { Float($0 % 977) })),
        ]
    }

    @Test("round trips, stored and compressed: every array back bit for bit, in order", arguments: [false, true])
    func roundTrip(compressed: Bool) throws {
        let arrays = try Self.roundTripArrays()
        var archive = NPZArchive()
        for (name, array) in arrays { archive[name] = array }
        let bytes = try archive.npzBytes(compressed: compressed)
        F.expect(try NPZArchive(npzBytes: bytes), holds: arrays, "compressed \(compressed)")
        // Deflating shrinks these (the long array repeats), storing adds only headers.
        let npySizes = try arrays.reduce(0) { $0 + (try $1.1.npyBytes().count) }
        if compressed { #expect(bytes.count < npySizes / 2) } else { #expect(bytes.count > npySizes) }

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("npz-\(UUID().uuidString).npz")
        defer { try? FileManager.default.removeItem(at: file) }
        try archive.write(to: file, compressed: compressed)
        #expect([UInt8](try Data(contentsOf: file)) == bytes)
        F.expect(try NPZArchive(contentsOf: file), holds: arrays, "file, compressed \(compressed)")
    }

    @Test("numpy's archives written again by us hold the same .npy members, and read back the same")
    func rewriteNumpyArchive() throws {
        let numpy = try NPZArchive(contentsOf: F.url("stored.npz"))
        for compressed in [false, true] {
            F.expect(try NPZArchive(npzBytes: try numpy.npzBytes(compressed: compressed)), holds: F.stored,
                     "rewritten, compressed \(compressed)")
        }
        // Our stored members are byte for byte numpy.savez's: the .npy file numpy.save writes, under NAME.npy.
        let ours = ZipLayout(try numpy.npzBytes(compressed: false)), theirs = ZipLayout(try F.bytes("stored.npz"))
        #expect(ours.members.map(\.name) == theirs.members.map(\.name))
        #expect(ours.members.map(\.data) == theirs.members.map(\.data))
        #expect(ours.members.map(\.crc) == theirs.members.map(\.crc))
    }

    @Test("the layout of what we write: the zip fields numpy.load (Python's zipfile) reads")
    func writtenLayout() throws {
        var archive = NPZArchive()
        archive["x"] = F.x
        archive["größe"] = F.größe
        for compressed in [false, true] {
            let bytes = try archive.npzBytes(compressed: compressed)
            let layout = ZipLayout(bytes)
            #expect(layout.members.map(\.name) == ["x.npy", "größe.npy"])
            #expect(layout.members.map(\.method) == [compressed ? 8 : 0, compressed ? 8 : 0])
            // Bit 11 (UTF-8 name) only for the non-ASCII name; no data descriptors, no encryption.
            #expect(layout.members.map(\.flags) == [0, 0x800])
            #expect(layout.members.map(\.uncompressedSize) == [try F.x.npyBytes().count, try F.größe.npyBytes().count])
            // 1980-01-01 00:00, in the local header and in the directory entry.
            for m in layout.members { #expect(m.dosTime == 0 && m.dosDate == 0x21) }
            if !compressed { #expect(layout.members[0].data == (try F.x.npyBytes())) }
            #expect(layout.entryCount == 2)
            #expect(layout.endOffset == bytes.count - 22, "no comment, nothing after the end record")
            #expect(try archive.npzBytes(compressed: compressed) == bytes, "the same arrays give the same bytes")
        }
        // An empty archive is the end record alone, as numpy.savez(path) writes it.
        #expect(try NPZArchive().npzBytes() == [0x50, 0x4B, 0x05, 0x06] + [UInt8](repeating: 0, count: 18))
        #expect(try NPZArchive(npzBytes: try NPZArchive().npzBytes()).names == [])
    }

    @Test("the subscript: new names append, existing ones are replaced in place, nil removes")
    func subscriptOrder() throws {
        var archive = NPZArchive()
        archive["b"] = F.w
        archive["a"] = F.x
        archive["c"] = F.scalar
        #expect(archive.names == ["b", "a", "c"])
        archive["a"] = F.empty
        #expect(archive.names == ["b", "a", "c"])
        #expect(archive["a"]?.shape == [0, 3])
        archive["b"] = nil
        archive["missing"] = nil
        #expect(archive.names == ["a", "c"])
        #expect(archive["b"] == nil)
        // A name ending in .npy is stored as NAME.npy.npy, which numpy.load also calls NAME.npy.
        archive["d.npy"] = F.w
        let layout = ZipLayout(try archive.npzBytes())
        #expect(layout.members.map(\.name) == ["a.npy", "c.npy", "d.npy.npy"])
        #expect(try NPZArchive(npzBytes: try archive.npzBytes()).names == ["a", "c", "d.npy"])
    }

    @Test("maximumSize bounds the total uncompressed size before anything is inflated")
    func sizeLimit() throws {
        let bytes = try F.bytes("compressed.npz")
        let total = try (F.stored + [("big", F.big)]).reduce(0) { $0 + (try $1.1.npyBytes().count) }
        #expect(throws: Never.self) { try NPZArchive(npzBytes: bytes, maximumSize: total) }
        #expect(throws: NPYError.decompressedSizeExceedsLimit(size: total, limit: total - 1)) {
            try NPZArchive(npzBytes: bytes, maximumSize: total - 1)
        }
        // A member's header over the .npy header limit: the .npy reader's error, wrapped with the member's name.
        let headerLength = try F.x.npyBytes().count - 24 * 4 - 10
        #expect(throws: NPYError.invalidMember(name: "x.npy", error: .headerExceedsLimit(size: headerLength, limit: 10))) {
            try NPZArchive(npzBytes: bytes, maximumHeaderSize: 10)
        }
    }
}

/// An independent reading of a zip archive's layout (the tests' own, for checking what NPZArchive writes and
/// for aiming corruptions): the end record, each directory entry and its local header. Traps on anything
/// unexpected, which only well-formed archives given by the tests reach.
struct ZipLayout {
    struct Member {
        var name: String
        var method: Int
        var flags: Int
        var dosTime: Int
        var dosDate: Int
        var crc: UInt32
        var compressedSize: Int
        var uncompressedSize: Int
        /// Where the central directory entry starts.
        var entryOffset: Int
        /// Where the local header starts.
        var localOffset: Int
        /// Where the member's data starts.
        var dataOffset: Int
        var data: [UInt8]
    }

    var endOffset: Int
    var entryCount: Int
    var directoryOffset: Int
    var members: [Member] = []

    static func u16(_ b: [UInt8], _ o: Int) -> Int { Int(b[o]) | Int(b[o + 1]) << 8 }
    static func u32(_ b: [UInt8], _ o: Int) -> Int { u16(b, o) | u16(b, o + 2) << 16 }

    init(_ b: [UInt8]) {
        endOffset = b.count - 22
        precondition(Self.u32(b, endOffset) == 0x0605_4B50)
        entryCount = Self.u16(b, endOffset + 10)
        directoryOffset = Self.u32(b, endOffset + 16)
        var offset = directoryOffset
        for _ in 0..<entryCount {
            precondition(Self.u32(b, offset) == 0x0201_4B50)
            let nameLength = Self.u16(b, offset + 28)
            let local = Self.u32(b, offset + 42)
            let compressed = Self.u32(b, offset + 20)
            let dataOffset = local + 30 + Self.u16(b, local + 26) + Self.u16(b, local + 28)
            precondition(Array(b[local + 8..<local + 14]) == Array(b[offset + 10..<offset + 16]))  // method, time, date
            members.append(Member(
                name: String(decoding: b[offset + 46..<offset + 46 + nameLength], as: UTF8.self),
                method: Self.u16(b, offset + 10), flags: Self.u16(b, offset + 8), dosTime: Self.u16(b, offset + 12),
                dosDate: Self.u16(b, offset + 14), crc: UInt32(Self.u32(b, offset + 16)), compressedSize: compressed,
                uncompressedSize: Self.u32(b, offset + 24), entryOffset: offset, localOffset: local,
                dataOffset: dataOffset, data: Array(b[dataOffset..<dataOffset + compressed])))
            offset += 46 + nameLength + Self.u16(b, offset + 30) + Self.u16(b, offset + 32)
        }
    }
}
