// Malformed .npz input: zip fields of valid archives set to what they must not be, each mapped to the NPYError
// that names it; truncation at every length; every bit of small archives flipped in turn; random damage. None
// of it may trap, and nothing may be read that the archive did not hold.
import ConvEngine
import ConvEngineNPY
import Foundation
import Testing

@Suite("NPZ malformed input")
struct NPZCorruptionTests {
    typealias F = CompressedFixtures

    /// A small archive of two arrays, stored or deflated, written by us, and its layout.
    static func archive(compressed: Bool) throws -> (bytes: [UInt8], layout: ZipLayout) {
        var archive = NPZArchive()
        archive["x"] = F.x
        archive["w"] = F.w
        let bytes = try archive.npzBytes(compressed: compressed)
        return (bytes, ZipLayout(bytes))
    }

    static func setting16(_ bytes: [UInt8], at offset: Int, to value: Int) -> [UInt8] {
        var b = bytes
        b[offset] = UInt8(truncatingIfNeeded: value)
        b[offset + 1] = UInt8(truncatingIfNeeded: value >> 8)
        return b
    }

    static func setting32(_ bytes: [UInt8], at offset: Int, to value: Int) -> [UInt8] {
        setting16(setting16(bytes, at: offset, to: value & 0xFFFF), at: offset + 2, to: value >> 16)
    }

    /// Reads `bytes`, expecting `expected`; any other outcome is recorded.
    static func expect(_ bytes: [UInt8], throws expected: NPYError, _ what: String,
                       sourceLocation: SourceLocation = #_sourceLocation) {
        let error = F.error { _ = try NPZArchive(npzBytes: bytes) }
        #expect(error == expected, "\(what): \(error.map(String.init(describing:)) ?? "read")",
                sourceLocation: sourceLocation)
        if let error { #expect(!error.description.isEmpty, sourceLocation: sourceLocation) }
    }

    @Test("each zip field set wrong throws the error that names it", arguments: [false, true])
    func corruptedFields(compressed: Bool) throws {
        let (valid, layout) = try Self.archive(compressed: compressed)
        let x = layout.members[0], w = layout.members[1]
        let end = layout.endOffset, directory = layout.directoryOffset

        // End record: entry counts, directory offset and size.
        Self.expect(Self.setting16(Self.setting16(valid, at: end + 8, to: 3), at: end + 10, to: 3),
                    throws: .malformedArchive(reason: "3 entries cannot fit in a central directory of "
                                              + "\(end - directory) bytes"), "three entries declared")
        Self.expect(Self.setting16(valid, at: end + 10, to: 3),
                    throws: .malformedArchive(reason: "the archive spans several disks (disk 0, directory on disk 0, "
                                              + "2 of 3 entries on this disk)"), "entry counts disagree")
        Self.expect(Self.setting16(Self.setting16(valid, at: end + 8, to: 0xFFFF), at: end + 10, to: 0xFFFF),
                    throws: .malformedArchive(reason: "65535 entries cannot fit in a central directory of "
                                              + "\(end - directory) bytes"), "65,535 entries declared")
        Self.expect(Self.setting16(valid, at: end + 4, to: 1),
                    throws: .malformedArchive(reason: "the archive spans several disks (disk 1, directory on disk 0, "
                                              + "2 of 2 entries on this disk)"), "disk number 1")
        Self.expect(Self.setting32(valid, at: end + 16, to: directory + 1),
                    throws: .malformedArchive(reason: "the central directory (\(end - directory) bytes at offset "
                                              + "\(directory + 1)) does not end before the end of central directory "
                                              + "record at \(end)"), "directory offset one too far")
        Self.expect(Self.setting32(valid, at: end + 16, to: directory - 1),
                    throws: .badSignature(part: "central directory entry 0", offset: directory - 1),
                    "directory offset one short")
        Self.expect(Self.setting32(valid, at: end + 12, to: 0xFFFF_FFFF),
                    throws: .malformedArchive(reason: "the central directory (4294967295 bytes at offset \(directory)) "
                                              + "does not end before the end of central directory record at \(end)"),
                    "huge directory size")
        Self.expect(Self.setting32(valid, at: end + 12, to: end - directory - 1),
                    throws: .truncatedArchive(part: "central directory entry 1", needed: w.entryOffset + 46 + 5,
                                              available: end - 1), "directory size one short")
        // No entries: an empty archive, as numpy would read it too.
        #expect(try NPZArchive(npzBytes: Self.setting16(Self.setting16(valid, at: end + 8, to: 0), at: end + 10, to: 0))
            .names == [])
        Self.expect(Self.setting32(valid, at: end, to: 0), throws: .notZipArchive(found: Array(valid.prefix(8))),
                    "end record signature gone")

        // Directory entries: signature, flags, method, sizes, offsets, names.
        Self.expect(Self.setting32(valid, at: w.entryOffset, to: 0x0403_4B50),
                    throws: .badSignature(part: "central directory entry 1", offset: w.entryOffset), "entry signature")
        Self.expect(Self.setting16(valid, at: x.entryOffset + 8, to: 1), throws: .encryptedMember("x.npy"), "encrypted")
        for method in [1, 9, 12, 14, 93, 0xFFFF] {
            Self.expect(Self.setting16(valid, at: x.entryOffset + 10, to: method),
                        throws: .unsupportedCompression(member: "x.npy", method: method), "method \(method)")
        }
        if compressed {
            Self.expect(Self.setting16(valid, at: x.entryOffset + 10, to: 0),
                        throws: .memberSizeMismatch(member: "x.npy", declared: x.uncompressedSize, actual: x.compressedSize),
                        "deflated data said to be stored")
        } else {
            // The .npy magic byte 0x93 starts a final block of fixed Huffman codes: what follows decodes to
            // something, but not to the member.
            let error = F.error { _ = try NPZArchive(npzBytes: Self.setting16(valid, at: x.entryOffset + 10, to: 8)) }
            switch error {
            case .corruptMember(member: "x.npy", _)?, .memberSizeMismatch(member: "x.npy", _, _)?: break
            default: Issue.record("stored data said to be deflated: \(String(describing: error))")
            }
        }
        let crc = Int(x.crc ^ 0x8000_0000)
        Self.expect(Self.setting32(valid, at: x.entryOffset + 16, to: crc),
                    throws: .crcMismatch(member: "x.npy", expected: UInt32(crc), actual: x.crc), "CRC-32 flipped")
        Self.expect(Self.setting32(valid, at: x.entryOffset + 20, to: 0xFFFF_FFFE),
                    throws: .truncatedArchive(part: "data of 'x.npy'", needed: x.dataOffset + 0xFFFF_FFFE,
                                              available: valid.count), "huge compressed size")
        Self.expect(Self.setting32(valid, at: x.entryOffset + 24, to: 0xFFFF_0000),
                    throws: .memberSizeMismatch(member: "x.npy", declared: 0xFFFF_0000,
                                                actual: compressed ? x.uncompressedSize : x.compressedSize),
                    "huge uncompressed size")
        Self.expect(Self.setting32(valid, at: x.entryOffset + 24, to: 0xFFFF_FFFE),
                    throws: .decompressedSizeExceedsLimit(size: 0xFFFF_FFFE + w.uncompressedSize,
                                                          limit: NPZArchive.defaultMaximumSize),
                    "uncompressed sizes over the default maximum")
        Self.expect(Self.setting32(valid, at: x.entryOffset + 24, to: x.uncompressedSize - 1),
                    throws: .memberSizeMismatch(member: "x.npy", declared: x.uncompressedSize - 1,
                                                actual: compressed ? nil : x.compressedSize),
                    "uncompressed size one short")
        Self.expect(Self.setting32(valid, at: x.entryOffset + 24, to: 0xFFFF_FFFF),
                    throws: .malformedArchive(reason: "the uncompressed size of 'x.npy' is deferred to a zip64 extra "
                                              + "field, but there is none"), "zip64 marker without zip64 field")
        Self.expect(Self.setting32(valid, at: w.entryOffset + 42, to: valid.count),
                    throws: .truncatedArchive(part: "local header of 'w.npy'", needed: valid.count + 30,
                                              available: valid.count), "local header offset past the end")
        Self.expect(Self.setting32(valid, at: w.entryOffset + 42, to: x.localOffset),
                    throws: .malformedArchive(reason: "the local header of 'w.npy' names 'x.npy'"),
                    "local header offset of the other member")
        Self.expect(Self.setting32(valid, at: w.entryOffset + 42, to: w.localOffset + 1),
                    throws: .badSignature(part: "local header of 'w.npy'", offset: w.localOffset + 1),
                    "local header offset one off")
        var renamed = valid
        renamed[w.entryOffset + 46] = UInt8(ascii: "x")
        Self.expect(renamed, throws: .duplicateMember("x.npy"), "two members named x.npy")
        renamed[w.entryOffset + 46] = 0xFF
        Self.expect(renamed, throws: .malformedArchive(reason: "the name of central directory entry 1 is not UTF-8 text"),
                    "a name that is not UTF-8")
        Self.expect(Self.setting16(valid, at: x.entryOffset + 30, to: 3),
                    throws: .malformedArchive(reason: "the extra field of 'x.npy' in the central directory has a block "
                                              + "that runs past its end at byte 0"),
                    "extra length covers the next entry's start")
        Self.expect(Self.setting16(valid, at: x.entryOffset + 32, to: 4),
                    throws: .badSignature(part: "central directory entry 1", offset: w.entryOffset + 4),
                    "comment length covers the next entry's signature")
        Self.expect(Self.setting16(valid, at: w.entryOffset + 30, to: 3),
                    throws: .truncatedArchive(part: "central directory entry 1", needed: end + 3, available: end),
                    "extra length past the directory")

        // Local headers and data.
        Self.expect(Self.setting16(valid, at: x.localOffset + 28, to: 0xFFFF),
                    throws: .truncatedArchive(part: "local header of 'x.npy'", needed: x.localOffset + 30 + 5 + 0xFFFF,
                                              available: valid.count), "local extra length past the end")
        var data = valid
        data[x.dataOffset + x.compressedSize - 1] ^= 0x01
        if compressed {
            let error = try #require(F.error { _ = try NPZArchive(npzBytes: data) })
            switch error {
            case .corruptMember(member: "x.npy", _), .crcMismatch(member: "x.npy", _, _),
                 .memberSizeMismatch(member: "x.npy", _, _): break
            default: Issue.record("last deflate byte flipped: \(error)")
            }
        } else {
            var flipped = Array(x.data)
            flipped[flipped.count - 1] ^= 0x01
            Self.expect(data, throws: .crcMismatch(member: "x.npy", expected: x.crc, actual: F.crc32(flipped)),
                        "last data byte flipped")
        }
    }

    @Test("every truncation throws notZipArchive; every prefix removed throws; nothing traps", arguments: [false, true])
    func truncation(compressed: Bool) throws {
        let (valid, _) = try Self.archive(compressed: compressed)
        for length in 0..<valid.count {
            Self.expect(Array(valid.prefix(length)), throws: .notZipArchive(found: Array(valid.prefix(min(length, 8)))),
                        "cut to \(length) bytes")
        }
        for start in 1..<valid.count {
            #expect(throws: NPYError.self, "first \(start) bytes removed") { try NPZArchive(npzBytes: Array(valid[start...])) }
        }
    }

    @Test("every bit flipped in turn: a typed error or the archive's own arrays; stored data flips are CRC errors",
          arguments: [false, true])
    func bitFlips(compressed: Bool) throws {
        let (valid, layout) = try Self.archive(compressed: compressed)
        let dataRanges = layout.members.map { $0.dataOffset..<($0.dataOffset + $0.compressedSize) }
        var thrown = 0, read = 0
        for offset in 0..<valid.count {
            for bit in 0..<8 {
                var damaged = valid
                damaged[offset] ^= 1 << bit
                do {
                    let archive = try NPZArchive(npzBytes: damaged)
                    // Only bytes nothing reads may change without an error: times, dates, versions, attributes.
                    F.expect(archive, holds: [("x", F.x), ("w", F.w)], "bit \(bit) of byte \(offset)")
                    read += 1
                } catch {
                    thrown += 1
                    if !compressed, let member = dataRanges.firstIndex(where: { $0.contains(offset) }) {
                        guard case .crcMismatch(member: layout.members[member].name, _, _) = error else {
                            Issue.record("bit \(bit) of stored data byte \(offset): \(error)")
                            continue
                        }
                    }
                }
            }
        }
        #expect(thrown > valid.count * 4 && read > 0, "\(thrown) thrown, \(read) read")
    }

    @Test("random damage to numpy's archives never traps: a typed error or an archive of valid arrays")
    func randomDamage() throws {
        var rng = SeededGenerator(seed: 0x4E5A)
        let originals = try ["stored.npz", "compressed.npz", "zip64.npz", "streamed.npz"].map(F.bytes)
        var thrown = 0, read = 0
        for trial in 0..<3_000 {
            let b = NPYFixtures.damaged(originals[trial % originals.count], using: &rng)
            do {
                let archive = try NPZArchive(npzBytes: b)
                for name in archive.names {
                    let array = try #require(archive[name])
                    #expect(array.count == array.shape.reduce(1, *))
                }
                read += 1
            } catch {
                thrown += 1
            }
        }
        #expect(thrown > 1_000 && read > 0, "\(thrown) thrown, \(read) read")
    }

    @Test("a member that inflates far beyond its size: stopped at the declared size and at maximumSize")
    func inflationBounds() throws {
        // 4,000,000 zero bytes of float32 deflate to a few kilobytes.
        var archive = NPZArchive()
        archive["zeros"] = try NPYArray(shape: [1_000_000], floats: [Float](repeating: 0, count: 1_000_000))
        let bytes = try archive.npzBytes(compressed: true)
        let layout = ZipLayout(bytes), zeros = layout.members[0]
        #expect(bytes.count < 10_000)
        #expect(throws: NPYError.decompressedSizeExceedsLimit(size: zeros.uncompressedSize, limit: 1 << 20)) {
            try NPZArchive(npzBytes: bytes, maximumSize: 1 << 20)
        }
        // Declared as 100 bytes in the directory: inflation stops at 100 (plus at most one 64 KiB piece).
        #expect(throws: NPYError.memberSizeMismatch(member: "zeros.npy", declared: 100, actual: nil)) {
            try NPZArchive(npzBytes: Self.setting32(bytes, at: zeros.entryOffset + 24, to: 100))
        }
    }
}
