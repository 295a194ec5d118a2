// Malformed .npy input: every header field of valid files corrupted in every way it can be wrong, each
// mapped to the specific NPYError that names it; truncation at every byte offset; random byte damage.
// None of it may trap.
import ConvEngine
import ConvEngineNPY
import Foundation
import Testing

@Suite("NPY malformed input")
struct NPYCorruptionTests {
    /// One corrupted file and the error it must raise.
    struct Case: CustomStringConvertible {
        let name: String
        let bytes: [UInt8]
        let expected: NPYError
        var description: String { name }
    }

    /// The valid files every corruption starts from: NumPy's own (golden, version 1.0, float64) and ours
    /// (float32, versions 1.0 and 2.0).
    static func validFiles() throws -> [(name: String, bytes: [UInt8])] {
        let ours = try NPYArray(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6]).npyBytes()
        let data32 = Array(ours.suffix(6 * 4))
        return [
            ("golden textbook_X (v1.0, <f8, (1, 1, 3, 3))", try NPYFixtures.goldenBytes("textbook_X.npy")),
            ("golden batch3_B (v1.0, <f8, (3,))", try NPYFixtures.goldenBytes("batch3_B.npy")),
            ("ours (v1.0, <f4, (2, 3))", ours),
            ("ours (v2.0, <f4, (2, 3))",
             NPYFixtures.file(version: 2, header: NPYFixtures.header(descr: "'<f4'", shape: "(2, 3)"), data: data32)),
        ]
    }

    /// Splits a valid file into its parts.
    struct Parts {
        let version: UInt8
        let lengthBytes: Int
        let header: String  // the dictionary text, without padding and newline
        let data: [UInt8]
        let dataType: NPYDataType
        let count: Int

        init(_ bytes: [UInt8]) throws {
            version = bytes[6]
            lengthBytes = version == 1 ? 2 : 4
            let length = (0..<lengthBytes).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
            let start = 8 + lengthBytes
            let text = String(decoding: bytes[start..<start + length], as: UTF8.self)
            header = String(text[...text.lastIndex(of: "}")!])
            data = Array(bytes[(start + length)...])
            let array = try NPYArray(npyBytes: bytes)
            dataType = array.dataType
            count = array.count
        }

        /// The file again with another header dictionary, correctly padded and length-prefixed.
        func with(header newHeader: String) -> [UInt8] {
            NPYFixtures.file(version: version, header: newHeader, data: data)
        }

        /// The header with one value replaced.
        func replacing(_ old: String, with new: String) -> String {
            precondition(header.contains(old), "\(old) not in \(header)")
            return header.replacingOccurrences(of: old, with: new)
        }

        var descr: String { "'\(dataType.rawValue)'" }
        var shapeText: String {
            let open = header.range(of: "'shape': ")!.upperBound
            return String(header[open...header[open...].firstIndex(of: ")")!])
        }
    }

    /// The header length field of a file.
    static func declaredHeaderLength(_ bytes: [UInt8]) -> Int {
        let lengthBytes = bytes[6] == 1 ? 2 : 4
        return (0..<lengthBytes).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
    }

    static func cases() throws -> [Case] {
        var cases: [Case] = []
        for (fileName, valid) in try validFiles() {
            let p = try Parts(valid)
            func add(_ what: String, _ bytes: [UInt8], _ expected: NPYError) {
                cases.append(Case(name: "\(fileName): \(what)", bytes: bytes, expected: expected))
            }
            let headerStart = 8 + p.lengthBytes
            let headerLength = valid.count - p.data.count - headerStart
            let dataBytes = p.data.count

            // Magic string: each byte wrong, all zero, another format's magic.
            for i in 0..<6 {
                var b = valid
                b[i] ^= 0x20
                add("magic byte \(i) flipped", b, .badMagic(found: Array(b[0..<6])))
            }
            var zeros = valid
            for i in 0..<6 { zeros[i] = 0 }
            add("magic zeroed", zeros, .badMagic(found: [0, 0, 0, 0, 0, 0]))
            // A zip's magic: named as a zip archive. Its "local header" is the .npy's own bytes, whose name length
            // (bytes 26-27, inside the header text: " '" or "',") runs past the end, so no member name is read.
            add("a zip's magic instead", [0x50, 0x4B, 0x03, 0x04] + valid[4...], .zipArchive(kind: .other, members: []))
            add("empty input", [], .truncated(part: "magic string", needed: 6, available: 0))

            // Version: unknown majors, non-zero minors.
            for (major, minor) in [(0, 0), (4, 0), (255, 0), (1, 1), (2, 5), (3, 255), (0, 1)] as [(UInt8, UInt8)] {
                var b = valid
                b[6] = major; b[7] = minor
                add("version \(major).\(minor)", b, .unsupportedVersion(major: major, minor: minor))
            }
            // Version 1.0 bytes with a version 2.0 length field (and the reverse) misread the length.
            var asOther = valid
            asOther[6] = p.version == 1 ? 2 : 1
            if p.version == 1 {
                // Four length bytes: the two real ones plus the header's first two characters "{'".
                let misread = headerLength | Int(0x7B) << 16 | Int(0x27) << 24
                add("version byte says 2.0", asOther, .truncated(part: "header", needed: 12 + misread, available: valid.count))
            } else {
                add("version byte says 1.0", asOther, .headerNotTerminated)
            }

            // Header length: zero, one off either way, a block off, past the end, the largest possible.
            func withLength(_ n: Int) -> [UInt8] {
                var b = valid
                for i in 0..<p.lengthBytes { b[8 + i] = UInt8(truncatingIfNeeded: n >> (8 * i)) }
                return b
            }
            add("header length 0", withLength(0), .invalidHeaderLength(0))
            add("header length one short", withLength(headerLength - 1), .headerNotTerminated)
            add("header length one long", withLength(headerLength + 1), .headerNotTerminated)
            add("header length 16 short", withLength(headerLength - 16), .headerNotTerminated)
            add("header length covers the data", withLength(headerLength + dataBytes),
                valid.last == 0x0A ? .malformedHeader(reason: "", offset: 0) : .headerNotTerminated)
            add("header length one past the end", withLength(headerLength + dataBytes + 1),
                .truncated(part: "header", needed: valid.count + 1, available: valid.count))
            let maxLength = p.lengthBytes == 2 ? 0xFFFF : 0xFFFF_FFFF
            add("header length at its maximum", withLength(maxLength),
                .truncated(part: "header", needed: headerStart + maxLength, available: valid.count))
            // A header whose length is right but whose newline is missing or moved.
            var noNewline = valid
            noNewline[headerStart + headerLength - 1] = 0x20
            add("newline replaced by a space", noNewline, .headerNotTerminated)

            // Encoding: invalid UTF-8 in a version 3.0 header; Latin-1 in 1.0/2.0 is text, so the same byte
            // is a syntax error there.
            var badUTF8 = NPYFixtures.file(version: 3, header: p.header, data: p.data)
            badUTF8[12 + 1] = 0xFF
            add("invalid UTF-8 in a 3.0 header", badUTF8, .invalidHeaderEncoding(version: 3))
            var latin1 = valid
            latin1[headerStart + 1] = 0xFF
            add("non-ASCII byte where a key starts", latin1,
                .malformedHeader(reason: "expected a quoted key or '}'", offset: 1))

            // Dictionary syntax.
            add("no opening brace", p.with(header: String(p.header.dropFirst())),
                .malformedHeader(reason: "expected '{' to open the header dictionary", offset: 0))
            let unclosed = p.with(header: String(p.header.dropLast()))
            add("no closing brace", unclosed,
                .malformedHeader(reason: "expected a quoted key or '}' after ',' (the header ends here)",
                                 offset: Self.declaredHeaderLength(unclosed)))
            add("text after the dictionary", p.with(header: p.header + " x"),
                .malformedHeader(reason: "unexpected text after the header dictionary", offset: p.header.count + 1))
            add("missing colon", p.with(header: p.replacing("'descr': ", with: "'descr' ")),
                .malformedHeader(reason: "expected ':' after the key 'descr'", offset: 9))
            add("missing comma", p.with(header: p.replacing("\(p.descr), ", with: "\(p.descr) ")),
                .malformedHeader(reason: "expected ',' or '}' after the value of 'descr'", offset: 16))
            add("unquoted key", p.with(header: p.replacing("'descr'", with: "descr")),
                .malformedHeader(reason: "expected a quoted key or '}'", offset: 1))
            add("unterminated key", p.with(header: "{'descr"),
                .malformedHeader(reason: "unterminated string", offset: 1))
            add("backslash escape", p.with(header: p.replacing("'descr'", with: "'des\\cr'")),
                .malformedHeader(reason: "escape sequences in strings are not supported", offset: 5))
            add("empty dictionary", p.with(header: "{}"), .missingKey("descr"))
            add("not a dictionary", p.with(header: "[1, 2]"),
                .malformedHeader(reason: "expected '{' to open the header dictionary", offset: 0))

            // Keys: missing, unexpected, duplicated.
            add("missing descr", p.with(header: p.replacing("'descr': \(p.descr), ", with: "")), .missingKey("descr"))
            add("missing fortran_order", p.with(header: p.replacing("'fortran_order': False, ", with: "")),
                .missingKey("fortran_order"))
            add("missing shape", p.with(header: p.replacing("'shape': \(p.shapeText), ", with: "")), .missingKey("shape"))
            add("misspelt key", p.with(header: p.replacing("'shape'", with: "'shapes'")), .unexpectedKey("shapes"))
            add("extra key", p.with(header: p.replacing("}", with: "'align': False, }")), .unexpectedKey("align"))
            add("duplicate key", p.with(header: p.replacing("}", with: "'descr': \(p.descr), }")), .duplicateKey("descr"))

            // dtype: other types, other byte orders, not a string.
            for other in ["<f2", "<f16", "<i4", "<i8", "<u1", "|b1", "<c8", "<c16", "|O", "<U8", "|V8", "float64", "d", ""] {
                add("dtype '\(other)'", p.with(header: p.replacing(p.descr, with: "'\(other)'")), .unsupportedDataType(other))
            }
            let code = p.dataType == .float32 ? "f4" : "f8"
            for order in [">", "|", "=", ""] {
                add("byte order '\(order)\(code)'", p.with(header: p.replacing(p.descr, with: "'\(order)\(code)'")),
                    .unsupportedByteOrder(order + code))
            }
            add("dtype not a string", p.with(header: p.replacing(p.descr, with: "8")),
                .invalidValue(key: "descr", reason: "expected a dtype string such as '<f8', got the integer 8"))
            add("structured dtype", p.with(header: p.replacing(p.descr, with: "[('a', \(p.descr))]")),
                .invalidValue(key: "descr", reason: "expected a dtype string such as '<f8', got a list"))
            add("dtype's closing quote missing", p.with(header: p.replacing(p.descr, with: String(p.descr.dropLast()))),
                .malformedHeader(reason: "expected ',' or '}' after the value of 'descr'", offset: 17))
            add("header ends inside the dtype", p.with(header: "{'descr': '<f8"),
                .malformedHeader(reason: "unterminated string", offset: 10))

            // fortran_order: True, and values that are not booleans.
            add("Fortran order", p.with(header: p.replacing("False", with: "True")), .fortranOrderNotSupported)
            for (text, kind) in [("0", "the integer 0"), ("1", "the integer 1"), ("'False'", "the string 'False'"),
                                 ("None", "None"), ("()", "a tuple")] {
                add("fortran_order \(text)", p.with(header: p.replacing("False", with: text)),
                    .invalidValue(key: "fortran_order", reason: "expected True or False, got \(kind)"))
            }
            add("fortran_order false (lower case)", p.with(header: p.replacing("False", with: "false")),
                .malformedHeader(reason: "unknown name 'false' (expected a string, True, False, None, a number or a tuple)",
                                 offset: 34))

            // Shape syntax and values.
            let shapeOffset = p.header.distance(from: p.header.startIndex, to: p.header.range(of: p.shapeText)!.lowerBound)
            func shape(_ text: String, _ expected: NPYError) {
                add("shape \(text)", p.with(header: p.replacing(p.shapeText, with: text)), expected)
            }
            shape("[\(p.count)]", .invalidShape(reason: "expected a tuple of integers, got a list"))
            shape("(\(p.count))", .invalidShape(reason: "expected a tuple of integers, got the integer \(p.count)"))
            shape("\(p.count)", .invalidShape(reason: "expected a tuple of integers, got the integer \(p.count)"))
            shape("None", .invalidShape(reason: "expected a tuple of integers, got None"))
            shape("'(\(p.count),)'", .invalidShape(reason: "expected a tuple of integers, got the string '(\(p.count),)'"))
            shape("(\(p.count).0,)", .invalidShape(reason: "dimension 0 is the number \(p.count).0, not an integer"))
            shape("(1e3,)", .invalidShape(reason: "dimension 0 is the number 1e3, not an integer"))
            shape("(-\(p.count),)", .invalidShape(reason: "dimension 0 is -\(p.count), which is negative"))
            shape("(1, -1)", .invalidShape(reason: "dimension 1 is -1, which is negative"))
            shape("(True,)", .invalidShape(reason: "dimension 0 is True, not an integer"))
            shape("((\(p.count),),)", .invalidShape(reason: "dimension 0 is a tuple, not an integer"))
            shape("(99999999999999999999,)", .invalidShape(reason: "dimension 0 does not fit in Int"))
            shape("(4294967296, 4294967296, 4294967296)", .sizeOverflow(shape: [4294967296, 4294967296, 4294967296]))
            shape("(1, \(Int.max / 4 + 1))", .sizeOverflow(shape: [1, Int.max / 4 + 1]))  // elements fit, bytes do not
            shape("(\(p.count),,)", .malformedHeader(reason: "expected a value, found ','", offset: shapeOffset + 1 + String(p.count).count + 1))
            shape("(,)", .malformedHeader(reason: "expected a value, found ','", offset: shapeOffset + 1))
            shape("(\(p.count) 1)", .malformedHeader(reason: "expected ',' or ')'", offset: shapeOffset + 1 + String(p.count).count + 1))
            shape("(0x10,)", .malformedHeader(reason: "invalid number '0x10'", offset: shapeOffset + 1))
            shape("(1_0,)", .malformedHeader(reason: "invalid number '1_0'", offset: shapeOffset + 1))
            shape("(a, b)", .malformedHeader(reason: "unknown name 'a' (expected a string, True, False, None, a number or a tuple)",
                                             offset: shapeOffset + 1))
            shape("(" + String(repeating: "(", count: 20), .malformedHeader(reason: "values nested too deeply",
                                                                              offset: shapeOffset + 7))

            // A shape that disagrees with the data, and a header that lies about the data.
            let size = p.dataType.byteCount
            shape("(\(p.count + 1),)", .dataLengthMismatch(expected: (p.count + 1) * size, actual: dataBytes))
            shape("(\(p.count - 1),)", .dataLengthMismatch(expected: (p.count - 1) * size, actual: dataBytes))
            shape("()", .dataLengthMismatch(expected: size, actual: dataBytes))
            shape("(0,)", .dataLengthMismatch(expected: 0, actual: dataBytes))
            shape("(\(p.count), 0)", .dataLengthMismatch(expected: 0, actual: dataBytes))
            shape("(\(p.count), 2)", .dataLengthMismatch(expected: 2 * p.count * size, actual: dataBytes))
            let otherType = p.dataType == .float32 ? "'<f8'" : "'<f4'"
            add("dtype lies about the element size", p.with(header: p.replacing(p.descr, with: otherType)),
                .dataLengthMismatch(expected: p.count * (12 - size), actual: dataBytes))
            add("data cut by one byte", Array(valid.dropLast()), .dataLengthMismatch(expected: dataBytes, actual: dataBytes - 1))
            add("one trailing byte", valid + [0], .dataLengthMismatch(expected: dataBytes, actual: dataBytes + 1))
            add("a second array appended", valid + valid, .dataLengthMismatch(expected: dataBytes, actual: dataBytes + valid.count))
        }
        return cases
    }

    @Test("every corrupted header field throws the error that names it")
    func corruptedFields() throws {
        let cases = try Self.cases()
        #expect(cases.count > 300)
        for c in cases {
            do {
                let array = try NPYArray(npyBytes: c.bytes)
                Issue.record("\(c): read as \(array.shape) instead of failing with \(c.expected)")
            } catch {
                if case .malformedHeader(reason: "", offset: 0) = c.expected {
                    guard case .malformedHeader = error else { Issue.record("\(c): \(error)"); continue }
                } else {
                    #expect(error == c.expected, "\(c)")
                }
                #expect(!error.description.isEmpty)
            }
        }
    }

    @Test("truncating a small file at every byte offset throws, naming the part it ends in")
    func truncationAtEveryOffset() throws {
        for valid in [try NPYFixtures.goldenBytes("textbook_B.npy"), try NPYFixtures.goldenBytes("textbook_X.npy"),
                      NPYFixtures.file(version: 2, header: NPYFixtures.header(descr: "'<f4'", shape: "(2,)"),
                                       data: NPYFixtures.littleEndian([Float(1), 2]))] {
            let lengthBytes = valid[6] == 1 ? 2 : 4
            let headerEnd = 8 + lengthBytes + (0..<lengthBytes).reduce(0) { $0 | Int(valid[8 + $1]) << (8 * $1) }
            let dataBytes = valid.count - headerEnd
            for cut in 0..<valid.count {
                let expected: NPYError
                switch cut {
                case 0..<6: expected = .truncated(part: "magic string", needed: 6, available: cut)
                case 6..<8: expected = .truncated(part: "format version", needed: 8, available: cut)
                case 8..<(8 + lengthBytes):
                    expected = .truncated(part: "header length", needed: 8 + lengthBytes, available: cut)
                case (8 + lengthBytes)..<headerEnd: expected = .truncated(part: "header", needed: headerEnd, available: cut)
                default: expected = .dataLengthMismatch(expected: dataBytes, actual: cut - headerEnd)
                }
                #expect(throws: expected, "cut at \(cut)") { try NPYArray(npyBytes: Array(valid.prefix(cut))) }
                #expect(throws: expected, "cut at \(cut), as Data") { try NPYArray(npyData: Data(valid.prefix(cut))) }
            }
            #expect(throws: Never.self) { try NPYArray(npyBytes: valid) }
        }
    }

    @Test("random byte damage never traps: every result is an array or an NPYError")
    func randomDamage() throws {
        var rng = SeededGenerator(seed: 0x5EED)
        let originals = try Self.validFiles().map(\.bytes)
        var thrown = 0, read = 0
        for trial in 0..<20_000 {
            let b = NPYFixtures.damaged(originals[trial % originals.count], using: &rng)
            do {
                let array = try NPYArray(npyBytes: b)
                #expect(array.count == array.shape.reduce(1, *))
                read += 1
            } catch {
                thrown += 1
            }
        }
        #expect(thrown > 10_000 && read > 0)
    }
}
