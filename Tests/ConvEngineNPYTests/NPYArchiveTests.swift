// A zip archive where a .npy file was expected: the .npz archives of numpy.savez and the files of
// torch.save (real ones, made by Archives/make_archives.py) are named as such, with what to do instead,
// rather than reported as a bad magic string. Damaged archives still only throw.
import ConvEngine
import ConvEngineNPY
import Foundation
import Testing

@Suite("NPY: zip archives given instead of .npy files")
struct NPYArchiveTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Archives")

    static func error(reading name: String) -> NPYError? {
        do {
            _ = try NPYArray(contentsOf: directory.appendingPathComponent(name))
            return nil
        } catch {
            return error
        }
    }

    @Test("numpy.savez and savez_compressed: an .npz archive, its arrays named, unzip or numpy.load + numpy.save")
    func npz() throws {
        for name in ["two_arrays.npz", "compressed.npz"] {
            let error = try #require(Self.error(reading: name), "\(name) was read")
            #expect(error == .zipArchive(kind: .npz, members: ["x.npy", "w.npy"]), "\(name): \(error)")
            let message = error.description
            for phrase in [".npz archive", "'x', 'w'", "single .npy arrays", "Unzip it", "numpy.load", "numpy.save"] {
                #expect(message.contains(phrase), "\(name): \(message)")
            }
            #expect(!message.contains("50 4b"), "no magic bytes for a known archive: \(message)")
        }
    }

    @Test("torch.save: a PyTorch file, save the tensor with numpy.save")
    func torchSave() throws {
        let error = try #require(Self.error(reading: "tensor.pt"))
        guard case let .zipArchive(kind, members) = error else {
            Issue.record("expected zipArchive, got \(error)")
            return
        }
        #expect(kind == .torchSave)
        #expect(members.first == "tensor/data.pkl", "\(members)")
        #expect(error.description.contains("torch.save"), "\(error)")
        #expect(error.description.contains("numpy.save"), "\(error)")
    }

    @Test("another zip: a zip archive with its members, unzip it")
    func otherZip() throws {
        let error = try #require(Self.error(reading: "notes.zip"))
        #expect(error == .zipArchive(kind: .other, members: ["notes.txt"]))
        #expect(error.description.contains("zip archive (members: notes.txt)"), "\(error)")
    }

    @Test("the archive kind from member names")
    func kinds() {
        #expect(NPYArchiveKind(members: ["a.npy", "b.npy"]) == .npz)
        #expect(NPYArchiveKind(members: ["archive/data.pkl", "archive/version"]) == .torchSave)
        #expect(NPYArchiveKind(members: ["data.pkl"]) == .torchSave)
        #expect(NPYArchiveKind(members: ["a.npy", "notes.txt"]) == .other)
        #expect(NPYArchiveKind(members: []) == .other)
    }

    @Test("every truncation and some damage of a real .npz only throw, and still say zip archive")
    func damagedArchives() throws {
        let bytes = [UInt8](try Data(contentsOf: Self.directory.appendingPathComponent("two_arrays.npz")))
        // Truncated at every length from 4 bytes on (the zip magic is there), with or without its directory.
        for length in 4...bytes.count {
            do {
                _ = try NPYArray(npyBytes: Array(bytes[0..<length]))
                Issue.record("\(length) bytes were read")
            } catch {
                guard case let .zipArchive(_, members) = error else {
                    Issue.record("\(length) bytes: \(error)")
                    continue
                }
                #expect(members.count <= 2, "\(length) bytes: \(members)")
            }
        }
        // Every byte after the magic set to 0xFF in turn: lengths and offsets become huge.
        for i in 4..<bytes.count {
            var damaged = bytes
            damaged[i] = 0xFF
            #expect(throws: NPYError.self, "byte \(i)") { _ = try NPYArray(npyBytes: damaged) }
        }
        #expect(throws: NPYError.zipArchive(kind: .other, members: [])) {
            _ = try NPYArray(npyBytes: [0x50, 0x4B, 0x05, 0x06] + [UInt8](repeating: 0, count: 18))  // an empty zip
        }
    }
}
