// The test target's .npy reader, checked on files built byte by byte here (the golden tests rely on it).
import Testing

@Suite("Minimal .npy reader (test support)")
struct GoldenNPYReaderTests {
    @Test("Versions 1.0, 2.0 and 3.0; '<f8' and '<f4'; shapes including 1-D and scalar", arguments: [UInt8(1), 2, 3])
    func roundTrip(major: UInt8) throws {
        let values: [Double] = [1.5, -2, 0, 3.25, -0.0, 1e-300]
        let a = try MiniNPY(bytes: MiniNPY.encode(shape: [2, 3], values: values, major: major))
        #expect(a.shape == [2, 3])
        #expect(a.values.map(\.bitPattern) == values.map(\.bitPattern))
        let f = try MiniNPY(bytes: MiniNPY.encode(shape: [3, 1, 2], values: values, float32: true, major: major))
        #expect(f.shape == [3, 1, 2])
        #expect(f.values == values.map { Double(Float($0)) })
        let v = try MiniNPY(bytes: MiniNPY.encode(shape: [4], values: [1, 2, 3, 4], major: major))
        #expect(v.shape == [4] && v.values == [1, 2, 3, 4])
        let s = try MiniNPY(bytes: MiniNPY.encode(shape: [], values: [7], major: major))
        #expect(s.shape == [] && s.values == [7])
    }

    @Test("Reads a header written by numpy.save (the golden files' own bytes)")
    func numpyHeader() throws {
        let a = try MiniNPY(contentsOf: goldenDirectory.appendingPathComponent("textbook_X.npy"))
        #expect(a.shape == [1, 1, 3, 3])
        #expect(a.values.count == 9)
    }

    @Test("Rejects what it does not support")
    func rejects() {
        let good = MiniNPY.encode(shape: [2], values: [1, 2])
        #expect(throws: MiniNPY.Malformed.self) { try MiniNPY(bytes: Array(good.dropLast())) }      // one byte short
        #expect(throws: MiniNPY.Malformed.self) { try MiniNPY(bytes: good + [0]) }                  // one byte long
        #expect(throws: MiniNPY.Malformed.self) { try MiniNPY(bytes: [0x93] + Array("NUMPZ".utf8) + [1, 0, 0, 0]) }
        #expect(throws: MiniNPY.Malformed.self) {
            try MiniNPY(bytes: MiniNPY.encode(shape: [2], values: [1, 2], fortranOrder: true))
        }
        var version4 = good
        version4[6] = 4
        #expect(throws: MiniNPY.Malformed.self) { try MiniNPY(bytes: version4) }
        var bigEndian = good
        let r = firstRange(of: Array("<f8".utf8), in: bigEndian)
        #expect(r != nil)
        if let r { bigEndian.replaceSubrange(r, with: Array(">f8".utf8)) }
        #expect(throws: MiniNPY.Malformed.self) { try MiniNPY(bytes: bigEndian) }
    }

    private func firstRange(of needle: [UInt8], in haystack: [UInt8]) -> Range<Int>? {
        guard needle.count <= haystack.count else { return nil }
        for i in 0...(haystack.count - needle.count) where Array(haystack[i..<(i + needle.count)]) == needle {
            return i..<(i + needle.count)
        }
        return nil
    }
}
