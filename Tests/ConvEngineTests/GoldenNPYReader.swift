// The test target's own minimal readers for the golden files: NumPy .npy arrays and the JSON manifest.
// Deliberately independent of the library (an oracle should not be read through the code under test).
import Foundation

/// A minimal NumPy `.npy` reader: format versions 1.0, 2.0 and 3.0, little-endian `'<f8'` and `'<f4'`
/// elements, C order. Elements are returned as Double (float32 widened exactly).
///
/// Layout: magic `\x93NUMPY`, major and minor version bytes, header length (UInt16 LE for 1.0, UInt32 LE for
/// 2.0/3.0), a Python dict literal `{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }` padded with
/// spaces and a newline, then the raw elements.
struct MiniNPY: Equatable {
    var shape: [Int]
    var values: [Double]

    struct Malformed: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    init(contentsOf url: URL) throws {
        try self.init(bytes: [UInt8](Data(contentsOf: url)))
    }

    init(bytes: [UInt8]) throws {
        let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw Malformed("not an .npy file (bad magic)") }
        let major = bytes[6]
        let headerStart: Int, headerLength: Int
        switch major {
        case 1:
            headerStart = 10
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        case 2, 3:
            guard bytes.count >= 12 else { throw Malformed("truncated header length") }
            headerStart = 12
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        default:
            throw Malformed("unsupported format version \(major).\(bytes[7])")
        }
        guard headerLength <= bytes.count - headerStart else { throw Malformed("header runs past the end of the file") }
        let headerBytes = bytes[headerStart..<(headerStart + headerLength)]
        // 1.0 and 2.0 headers are Latin-1, 3.0 headers UTF-8; the keys and values read here are ASCII either way.
        let header = major == 3 ? String(decoding: headerBytes, as: UTF8.self)
                                : String(headerBytes.map { Character(Unicode.Scalar($0)) })

        let descr = try Self.stringValue(of: "descr", in: header)
        let elementSize: Int
        switch descr {
        case "<f8": elementSize = 8
        case "<f4": elementSize = 4
        default: throw Malformed("unsupported dtype '\(descr)' (only '<f8' and '<f4')")
        }
        let fortran = try Self.rawValue(of: "fortran_order", in: header)
        guard fortran.hasPrefix("False") else { throw Malformed("Fortran order is not supported") }
        shape = try Self.shapeValue(in: header)
        let count = shape.reduce(1, *)
        let dataStart = headerStart + headerLength
        guard bytes.count - dataStart == count * elementSize else {
            throw Malformed("\(bytes.count - dataStart) data bytes for shape \(shape) of \(descr)")
        }
        values = (0..<count).map { i in
            var bits: UInt64 = 0
            for b in 0..<elementSize { bits |= UInt64(bytes[dataStart + i * elementSize + b]) << (8 * UInt64(b)) }
            return elementSize == 8 ? Double(bitPattern: bits) : Double(Float(bitPattern: UInt32(bits)))
        }
    }

    /// The text after `'key':` (spaces skipped), up to the end of the header.
    private static func rawValue(of key: String, in header: String) throws -> Substring {
        for quote in ["'", "\""] {
            if let r = header.range(of: quote + key + quote) {
                var rest = header[r.upperBound...].drop { $0 == " " }
                guard rest.first == ":" else { break }
                rest = rest.dropFirst().drop { $0 == " " }
                return rest
            }
        }
        throw Malformed("header has no '\(key)': \(header)")
    }

    private static func stringValue(of key: String, in header: String) throws -> String {
        let rest = try rawValue(of: key, in: header)
        guard let quote = rest.first, quote == "'" || quote == "\"",
              let end = rest.dropFirst().firstIndex(of: quote) else { throw Malformed("'\(key)' is not a string") }
        return String(rest[rest.index(after: rest.startIndex)..<end])
    }

    private static func shapeValue(in header: String) throws -> [Int] {
        let rest = try rawValue(of: "shape", in: header)
        guard rest.first == "(", let close = rest.firstIndex(of: ")") else { throw Malformed("'shape' is not a tuple") }
        let inside = rest[rest.index(after: rest.startIndex)..<close]
        return try inside.split(separator: ",").compactMap { part in
            let t = part.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { return nil }
            guard let v = Int(t), v >= 0 else { throw Malformed("bad dimension '\(t)' in shape") }
            return v
        }
    }

    /// Builds an `.npy` file in memory (for the reader's own tests).
    static func encode(shape: [Int], values: [Double], float32: Bool = false, major: UInt8 = 1,
                       fortranOrder: Bool = false) -> [UInt8] {
        let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
        var header = "{'descr': '\(float32 ? "<f4" : "<f8")', 'fortran_order': \(fortranOrder ? "True" : "False"), 'shape': (\(dims)), }"
        let prefix = major == 1 ? 10 : 12
        while (prefix + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [major, 0]
        let n = header.utf8.count
        bytes += major == 1 ? [UInt8(n & 0xFF), UInt8(n >> 8)] : [UInt8(n & 0xFF), UInt8((n >> 8) & 0xFF), UInt8((n >> 16) & 0xFF), UInt8(n >> 24)]
        bytes += Array(header.utf8)
        for v in values {
            if float32 {
                let bits = Float(v).bitPattern
                for b in 0..<4 { bytes.append(UInt8((bits >> (8 * UInt32(b))) & 0xFF)) }
            } else {
                let bits = v.bitPattern
                for b in 0..<8 { bytes.append(UInt8((bits >> (8 * UInt64(b))) & 0xFF)) }
            }
        }
        return bytes
    }
}

/// `Golden/manifest.json`, as written by `Golden/make_golden.py`.
struct GoldenManifest: Decodable {
    var generator: String
    var torch: String
    var cases: [GoldenCase]

    static func load() throws -> GoldenManifest {
        try JSONDecoder().decode(GoldenManifest.self, from: Data(contentsOf: goldenDirectory.appendingPathComponent("manifest.json")))
    }
}

/// One golden case's geometry.
struct GoldenCase: Decodable, Sendable, CustomStringConvertible {
    var name: String
    var batch: Int, inputChannels: Int, inputHeight: Int, inputWidth: Int
    var outputChannels: Int, kernelHeight: Int, kernelWidth: Int
    var strideHeight: Int, strideWidth: Int
    var padTop: Int, padBottom: Int, padLeft: Int, padRight: Int
    var dilationHeight: Int, dilationWidth: Int
    var groups: Int
    var outputHeight: Int, outputWidth: Int

    var description: String { name }

    /// `Golden/<name>_<tensor>.npy`.
    func array(_ tensor: String) throws -> MiniNPY {
        try MiniNPY(contentsOf: goldenDirectory.appendingPathComponent("\(name)_\(tensor).npy"))
    }
}
