// .npy reading and writing: bit-exact round trips, NumPy's own files (the PyTorch golden cases), and
// format versions 1.0, 2.0 and 3.0. Malformed input is covered by NPYCorruptionTests.swift.
import ConvEngine
import ConvEngineNPY
import Foundation
import Testing

/// Helpers shared by the NPY test files.
enum NPYFixtures {
    /// Tests/ConvEngineTests/Golden (the engine tests' PyTorch files), found from this source file.
    static let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("ConvEngineTests/Golden")

    static func goldenBytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: goldenDirectory.appendingPathComponent(name)))
    }

    /// A `.npy` file with the given header dictionary text, padded as NumPy pads it (64-byte alignment,
    /// newline last) unless `rawHeader` is set, in which case the header bytes are used exactly.
    static func file(version: UInt8 = 1, minor: UInt8 = 0, header: String, data: [UInt8]) -> [UInt8] {
        var h = Array(header.utf8)
        let lengthBytes = version == 1 ? 2 : 4
        let pad = 64 - (8 + lengthBytes + h.count + 1) % 64
        h += [UInt8](repeating: 0x20, count: pad) + [0x0A]
        return file(version: version, minor: minor, rawHeader: h, declaredLength: h.count, data: data)
    }

    static func file(version: UInt8 = 1, minor: UInt8 = 0, rawHeader: [UInt8], declaredLength: Int,
                     data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, version, minor]
        let lengthBytes = version == 1 ? 2 : 4
        for i in 0..<lengthBytes { out.append(UInt8(truncatingIfNeeded: declaredLength >> (8 * i))) }
        return out + rawHeader + data
    }

    static func header(descr: String = "'<f8'", fortran: String = "False", shape: String) -> String {
        "{'descr': \(descr), 'fortran_order': \(fortran), 'shape': \(shape), }"
    }

    static func littleEndian(_ values: [Double]) -> [UInt8] {
        values.flatMap { v in (0..<8).map { UInt8(truncatingIfNeeded: v.bitPattern >> (8 * UInt64($0))) } }
    }

    static func littleEndian(_ values: [Float]) -> [UInt8] {
        values.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v.bitPattern >> (8 * UInt32($0))) } }
    }

    /// Floats whose bits a careless implementation would change: NaN payloads (quiet and signalling, both
    /// signs), both zeros, subnormals, infinities and the extremes.
    static let specialFloats: [Float] = [
        0, -0.0, 1, -1, .infinity, -.infinity, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
        .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude, Float(bitPattern: 0x007F_FFFF),
        Float(bitPattern: 0x7FC0_0000), Float(bitPattern: 0x7FC0_0001), Float(bitPattern: 0xFFC1_2345),
        Float(bitPattern: 0x7F80_0001), Float(bitPattern: 0xFFBF_FFFF), .pi, .ulpOfOne,
    ]

    /// `bytes` after one to four random edits: a byte replaced, a bit flipped, the rest cut off, or a byte
    /// inserted (the damage of the corruption fuzz tests; stops early if nothing is left).
    static func damaged(_ bytes: [UInt8], using rng: inout SeededGenerator) -> [UInt8] {
        var b = bytes
        for _ in 0...Int(rng.next() % 4) {
            let i = Int(rng.next() % UInt64(b.count))
            switch rng.next() % 4 {
            case 0: b[i] = UInt8(truncatingIfNeeded: rng.next())
            case 1: b[i] ^= 1 << UInt8(rng.next() % 8)
            case 2: b.removeSubrange(i...)
            default: b.insert(UInt8(truncatingIfNeeded: rng.next()), at: i)
            }
            if b.isEmpty { break }
        }
        return b
    }

    static let specialDoubles: [Double] = [
        0, -0.0, 1, -1, .infinity, -.infinity, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
        .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude,
        Double(bitPattern: 0x000F_FFFF_FFFF_FFFF), Double(bitPattern: 0x7FF8_0000_0000_0000),
        Double(bitPattern: 0x7FF8_0000_0000_0001), Double(bitPattern: 0xFFF8_DEAD_BEEF_0001),
        Double(bitPattern: 0x7FF0_0000_0000_0001), Double(bitPattern: 0xFFF7_FFFF_FFFF_FFFF), .pi, .ulpOfOne,
    ]
}

@Suite("NPY round trips")
struct NPYRoundTripTests {
    static let shapes: [[Int]] = [[], [1], [7], [0], [3, 0, 2], [2, 3], [2, 3, 4], [1, 1, 1, 1, 1], [0, 0]]

    @Test("Float arrays round-trip bit-exactly", arguments: shapes)
    func floatRoundTrip(shape: [Int]) throws {
        let count = shape.reduce(1, *)
        var rng = SeededGenerator(seed: UInt64(count) &+ 17)
        let specials = NPYFixtures.specialFloats
        let values: [Float] = (0..<count).map { i in
            i < specials.count ? specials[i] : Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))
        }
        let array = try NPYArray(shape: shape, floats: values)
        let bytes = try array.npyBytes()
        let back = try NPYArray(npyBytes: bytes)
        #expect(back.shape == shape)
        #expect(back.dataType == .float32)
        #expect(back.isBitwiseIdentical(to: array))
        #expect(back.scalars(as: Float.self).map(\.bitPattern) == values.map(\.bitPattern))
        // Writing what was read reproduces the file, and the Data entry points agree with the byte ones.
        #expect(try back.npyBytes() == bytes)
        #expect(try NPYArray(npyData: array.npyData()).isBitwiseIdentical(to: array))
    }

    @Test("Double arrays round-trip bit-exactly", arguments: shapes)
    func doubleRoundTrip(shape: [Int]) throws {
        let count = shape.reduce(1, *)
        var rng = SeededGenerator(seed: UInt64(count) &+ 99)
        let specials = NPYFixtures.specialDoubles
        let values: [Double] = (0..<count).map { i in i < specials.count ? specials[i] : Double(bitPattern: rng.next()) }
        let array = try NPYArray(shape: shape, doubles: values)
        let back = try NPYArray(npyBytes: array.npyBytes())
        #expect(back.shape == shape)
        #expect(back.dataType == .float64)
        #expect(back.scalars(as: Double.self).map(\.bitPattern) == values.map(\.bitPattern))
    }

    @Test("every special value survives, one array each")
    func specialValuesOneByOne() throws {
        for v in NPYFixtures.specialFloats {
            let back = try NPYArray(npyBytes: NPYArray(shape: [], floats: [v]).npyBytes())
            #expect(back.scalars(as: Float.self)[0].bitPattern == v.bitPattern, "\(v.bitPattern)")
        }
        for v in NPYFixtures.specialDoubles {
            let back = try NPYArray(npyBytes: NPYArray(shape: [1], scalars: [v]).npyBytes())
            #expect(back.scalars(as: Double.self)[0].bitPattern == v.bitPattern, "\(v.bitPattern)")
        }
    }

    @Test("a scalar (shape ()) is written the way NumPy writes it")
    func scalarHeader() throws {
        let bytes = try NPYArray(shape: [], doubles: [2.5]).npyBytes()
        // What numpy.save(np.array(2.5)) writes: 118 header bytes (room for the first axis to grow is
        // only added for arrays with axes), data at offset 128.
        #expect(bytes.count == 128 + 8)
        #expect(bytes[8] == 118 && bytes[9] == 0)
        let header = String(decoding: bytes[10..<128], as: UTF8.self)
        #expect(header.hasPrefix("{'descr': '<f8', 'fortran_order': False, 'shape': (), }"))
        #expect(header.hasSuffix(" \n"))
        #expect(try NPYArray(npyBytes: bytes).scalars(as: Double.self) == [2.5])
    }

    @Test("headers are padded so the data starts on a 64-byte boundary, version 1.0")
    func alignment() throws {
        for shape in [[], [5], [1, 2, 3, 4], [123_456_789, 0], Array(repeating: 1, count: 100)] {
            let count = shape.reduce(1, *)
            let bytes = try NPYArray(shape: shape, floats: [Float](repeating: 1, count: count)).npyBytes()
            #expect(bytes[6] == 1 && bytes[7] == 0)
            let dataOffset = 10 + Int(bytes[8]) + Int(bytes[9]) << 8
            #expect(dataOffset % 64 == 0)
            #expect(bytes[dataOffset - 1] == 0x0A)
            #expect(bytes.count - dataOffset == 4 * count)
        }
    }

    @Test("a header longer than 65535 bytes is written as version 2.0 and read back with the cap raised")
    func version2Writing() throws {
        let shape = Array(repeating: 1, count: 30_000)  // "1, " × 30000: a 90 kB header
        let bytes = try NPYArray(shape: shape, doubles: [-0.0]).npyBytes()
        #expect(bytes[6] == 2 && bytes[7] == 0)
        let length = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
        #expect(length > 65535)
        #expect((12 + length) % 64 == 0)
        // Above the default cap, as in NumPy, which needs max_header_size raised to load it too.
        #expect(throws: NPYError.headerExceedsLimit(size: length, limit: NPYArray.defaultMaximumHeaderSize)) {
            try NPYArray(npyBytes: bytes)
        }
        let back = try NPYArray(npyBytes: bytes, maximumHeaderSize: length)
        #expect(back.shape == shape)
        #expect(back.scalars(as: Double.self)[0].sign == .minus)
    }

    @Test("versions 2.0 and 3.0 are read", arguments: [UInt8(2), 3])
    func readsLaterVersions(version: UInt8) throws {
        let values: [Float] = [1, -2, .nan, 0x1p-140]
        let file = NPYFixtures.file(version: version, header: NPYFixtures.header(descr: "'<f4'", shape: "(2, 2)"),
                                    data: NPYFixtures.littleEndian(values))
        let array = try NPYArray(npyBytes: file)
        #expect(array.shape == [2, 2])
        #expect(array.scalars(as: Float.self).map(\.bitPattern) == values.map(\.bitPattern))
    }

    @Test("a version 3.0 header may carry UTF-8 text; unsupported dtypes are still reported by name")
    func version3UTF8() throws {
        let file = NPYFixtures.file(version: 3, header: NPYFixtures.header(descr: "'<f8 µ'", shape: "(1,)"),
                                    data: NPYFixtures.littleEndian([1.0]))
        #expect(throws: NPYError.unsupportedDataType("<f8 µ")) { try NPYArray(npyBytes: file) }
    }

    @Test("headers written differently but legally are accepted")
    func lenientSyntax() throws {
        let data = NPYFixtures.littleEndian([1.0, 2, 3, 4, 5, 6])
        for header in [
            "{\"descr\":\"<f8\",\"fortran_order\":False,\"shape\":(2,3)}",        // double quotes, no spaces
            "{'shape': (2, 3), 'fortran_order': False, 'descr': '<f8'}",          // other key order
            "{ 'descr' : '<f8' ,\n 'fortran_order' : False ,\t'shape' : ( 2 , 3 , ) , }",  // whitespace, commas
            "{'descr': '<f8', 'fortran_order': False, 'shape': (+2, 3)}",
        ] {
            let array = try NPYArray(npyBytes: NPYFixtures.file(header: header, data: data))
            #expect(array.shape == [2, 3], "\(header)")
        }
        // Not padded to 64 bytes (older NumPy aligned to 16): still valid.
        let h = Array("{'descr': '<f8', 'fortran_order': False, 'shape': (6,), }\n".utf8)
        let array = try NPYArray(npyBytes: NPYFixtures.file(rawHeader: h, declaredLength: h.count, data: data))
        #expect(array.scalars(as: Double.self) == [1, 2, 3, 4, 5, 6])
    }

    @Test("precision conversion: float64 read as Float rounds, float32 read as Double is exact")
    func conversion() throws {
        let d = try NPYArray(shape: [2], doubles: [0.1, 1e300])
        #expect(d.scalars(as: Float.self) == [Float(0.1), .infinity])
        let f = try NPYArray(shape: [2], floats: [0.1, -3])
        #expect(f.scalars(as: Double.self) == [Double(Float(0.1)), -3])
    }

    @Test("making an array checks its shape against its elements")
    func initChecksShape() {
        #expect(throws: NPYError.invalidShape(reason: "shape [2, 3] has 6 elements, but 5 were given")) {
            try NPYArray(shape: [2, 3], floats: [1, 2, 3, 4, 5])
        }
        #expect(throws: NPYError.invalidShape(reason: "dimension 1 is -1, which is negative")) {
            try NPYArray(shape: [0, -1], floats: [])
        }
        #expect(throws: NPYError.sizeOverflow(shape: [Int.max, 2])) { try NPYArray(shape: [Int.max, 2], floats: []) }
        #expect(throws: NPYError.invalidShape(reason: "shape [] has 1 elements, but 0 were given")) {
            try NPYArray(shape: [], doubles: [])
        }
    }

    @Test("files: write, read back, and a missing file is a file-system error")
    func files() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("npy-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("a.npy")
        let array = try NPYArray(shape: [2, 1, 2], floats: [1, .nan, -0.0, 4])
        try array.write(to: url)
        #expect(try NPYArray(contentsOf: url).isBitwiseIdentical(to: array))
        do {
            _ = try NPYArray(contentsOf: dir.appendingPathComponent("missing.npy"))
            Issue.record("reading a missing file did not throw")
        } catch {
            guard case .fileSystem(let path, _) = error else { Issue.record("\(error)"); return }
            #expect(path.hasSuffix("missing.npy"))
        }
        do {
            try array.write(to: dir.appendingPathComponent("no/such/dir/b.npy"))
            Issue.record("writing into a missing directory did not throw")
        } catch {
            guard case .fileSystem = error else { Issue.record("\(error)"); return }
        }
    }
}

@Suite("NPY golden files (written by numpy.save)")
struct NPYGoldenTests {
    struct Manifest: Decodable {
        struct Case: Decodable {
            let name: String
            let batch, inputChannels, inputHeight, inputWidth, outputChannels, kernelHeight, kernelWidth: Int
            let groups, outputHeight, outputWidth: Int
        }
        let cases: [Case]
    }

    @Test("every golden file is read with the shape the manifest gives, and rewritten byte for byte")
    func readsEveryGoldenFile() throws {
        let manifestURL = NPYFixtures.goldenDirectory.appendingPathComponent("manifest.json")
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: manifestURL))
        #expect(manifest.cases.count >= 20)
        for c in manifest.cases {
            let x = [c.batch, c.inputChannels, c.inputHeight, c.inputWidth]
            let f = [c.outputChannels, c.inputChannels / c.groups, c.kernelHeight, c.kernelWidth]
            let o = [c.batch, c.outputChannels, c.outputHeight, c.outputWidth]
            let shapes = ["X": x, "F": f, "B": [c.outputChannels], "dO": o, "O": o, "dX": x, "dF": f,
                          "dB": [c.outputChannels]]
            for (suffix, shape) in shapes {
                let bytes = try NPYFixtures.goldenBytes("\(c.name)_\(suffix).npy")
                #expect(bytes[6] == 1 && bytes[7] == 0, "\(c.name)_\(suffix): numpy wrote version 1.0")
                let array = try NPYArray(npyBytes: bytes)
                #expect(array.shape == shape, "\(c.name)_\(suffix)")
                #expect(array.dataType == .float64)
                #expect(try array.npyBytes() == bytes, "\(c.name)_\(suffix): rewriting differs from numpy.save")
            }
        }
    }

    @Test("the textbook case holds the lecture's numbers: O = conv(X, F) + B")
    func textbookValues() throws {
        func load(_ s: String) throws -> [Double] {
            try NPYArray(contentsOf: NPYFixtures.goldenDirectory.appendingPathComponent("textbook_\(s).npy"))
                .scalars(as: Double.self)
        }
        let x = try load("X"), f = try load("F"), b = try load("B"), o = try load("O")
        // O11 = X11F11 + X12F12 + X21F21 + X22F22 + B (MATH.md, 1-based names).
        let o11 = x[0] * f[0] + x[1] * f[1] + x[3] * f[2] + x[4] * f[3] + b[0]
        #expect(abs(o11 - o[0]) < 1e-12)
    }
}
