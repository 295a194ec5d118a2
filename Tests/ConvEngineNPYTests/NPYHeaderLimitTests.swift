// The header cap (NPYArray.defaultMaximumHeaderSize, NumPy's max_header_size) and headers with many keys,
// which the parser reads in one linear pass (a crafted header of 80,000 keys used to stall a reader for
// tens of seconds).
import ConvEngineNPY
import Foundation
import Testing

@Suite("NPY header size limit")
struct NPYHeaderLimitTests {
    /// A version 2.0 header dictionary with the three real keys and `extraKeys` more, `'k0': 0, 'k1': 1, …`.
    static func header(extraKeys: Int) -> String {
        var text = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), "
        for i in 0..<extraKeys { text += "'k\(i)': \(i), " }
        return text + "}"
    }

    /// The header length field of a file NPYFixtures.file made.
    static func declaredLength(_ bytes: [UInt8]) -> Int {
        let lengthBytes = bytes[6] == 1 ? 2 : 4
        return (0..<lengthBytes).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
    }

    static let data = NPYFixtures.littleEndian([1.5, -2.0])

    @Test("the default cap is NumPy's 10,000 bytes")
    func defaultCap() {
        #expect(NPYArray.defaultMaximumHeaderSize == 10_000)
    }

    @Test("a version 2.0 header with 80,000 extra keys is rejected by the cap, naming its size and the cap")
    func manyKeysRejectedByCap() throws {
        let file = NPYFixtures.file(version: 2, header: Self.header(extraKeys: 80_000), data: Self.data)
        let size = Self.declaredLength(file)
        #expect(size > 1_000_000)
        let expected = NPYError.headerExceedsLimit(size: size, limit: 10_000)
        #expect(throws: expected) { try NPYArray(npyBytes: file) }
        #expect(throws: expected) { try NPYArray(npyData: Data(file)) }
        #expect(expected.description.contains("\(size)") && expected.description.contains("10000"))

        let url = FileManager.default.temporaryDirectory.appendingPathComponent("npy-cap-\(UUID().uuidString).npy")
        try Data(file).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(throws: expected) { try NPYArray(contentsOf: url) }
    }

    @Test("with the cap raised above it, the same header is parsed and rejected for its first unknown key")
    func manyKeysWithCapRaised() throws {
        let file = NPYFixtures.file(version: 2, header: Self.header(extraKeys: 80_000), data: Self.data)
        let size = Self.declaredLength(file)
        for cap in [size, Int.max] {
            #expect(throws: NPYError.unexpectedKey("k0")) { try NPYArray(npyBytes: file, maximumHeaderSize: cap) }
        }
        // One byte under its size is still too small.
        #expect(throws: NPYError.headerExceedsLimit(size: size, limit: size - 1)) {
            try NPYArray(npyBytes: file, maximumHeaderSize: size - 1)
        }
    }

    @Test("80,000 keys with one repeated at the end: the duplicate is found (with the cap raised)")
    func duplicateAmongManyKeys() throws {
        var text = Self.header(extraKeys: 80_000)
        text.removeLast()  // "}"
        text += "'k123': 0, }"
        let file = NPYFixtures.file(version: 2, header: text, data: Self.data)
        #expect(throws: NPYError.duplicateKey("k123")) { try NPYArray(npyBytes: file, maximumHeaderSize: .max) }
    }

    @Test("a header just under the cap (and exactly at it) still reads", arguments: [UInt8(1), 2, 3])
    func justUnderTheCap(version: UInt8) throws {
        // Padding spaces after the dictionary count towards the header's size, as NumPy counts them.
        let lengthBytes = version == 1 ? 2 : 4
        let base = NPYFixtures.header(shape: "(2,)")
        for target in [NPYArray.defaultMaximumHeaderSize - 64, NPYArray.defaultMaximumHeaderSize - 1,
                       NPYArray.defaultMaximumHeaderSize] {
            // Header bytes: the dictionary, spaces, then the newline; data alignment does not matter to readers.
            var raw = Array(base.utf8)
            raw += [UInt8](repeating: 0x20, count: target - raw.count - 1) + [0x0A]
            #expect(raw.count == target)
            let file = NPYFixtures.file(version: version, rawHeader: raw, declaredLength: raw.count, data: Self.data)
            #expect(8 + lengthBytes + target + Self.data.count == file.count)
            let array = try NPYArray(npyBytes: file)
            #expect(array.shape == [2] && array.scalars(as: Double.self) == [1.5, -2.0])
        }
        var raw = Array(base.utf8)
        raw += [UInt8](repeating: 0x20, count: NPYArray.defaultMaximumHeaderSize - raw.count) + [0x0A]
        let over = NPYFixtures.file(version: version, rawHeader: raw, declaredLength: raw.count, data: Self.data)
        #expect(throws: NPYError.headerExceedsLimit(size: NPYArray.defaultMaximumHeaderSize + 1, limit: 10_000)) {
            try NPYArray(npyBytes: over)
        }
    }

    @Test("a lowered cap applies to ordinary files too")
    func loweredCap() throws {
        let bytes = try NPYArray(shape: [2], doubles: [1.5, -2.0]).npyBytes()
        let size = Self.declaredLength(bytes)
        #expect(throws: NPYError.headerExceedsLimit(size: size, limit: 16)) {
            try NPYArray(npyBytes: bytes, maximumHeaderSize: 16)
        }
        #expect(try NPYArray(npyBytes: bytes, maximumHeaderSize: size).shape == [2])
    }
}
