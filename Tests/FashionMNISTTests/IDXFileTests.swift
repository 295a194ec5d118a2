import Foundation
import Testing
@testable import FashionMNISTKit

/// An IDX file of unsigned bytes with the given dimensions and data, built by hand from the format.
func idxBytes(dimensions: [UInt32], data: [UInt8], typeCode: UInt8 = 0x08) -> [UInt8] {
    var out: [UInt8] = [0, 0, typeCode, UInt8(dimensions.count)]
    for d in dimensions { out += [UInt8(d >> 24), UInt8((d >> 16) & 0xFF), UInt8((d >> 8) & 0xFF), UInt8(d & 0xFF)] }
    return out + data
}

@Suite("IDX files")
struct IDXFileTests {
    @Test("a well-formed file gives its dimensions and data")
    func wellFormed() throws {
        let file = try IDXFile(idx: idxBytes(dimensions: [2, 3], data: [1, 2, 3, 4, 5, 6]), name: "m", dimensionCount: 2)
        #expect(file.dimensions == [2, 3])
        #expect(file.bytes == [1, 2, 3, 4, 5, 6])
    }

    @Test("big-endian dimensions above 255 are read whole")
    func bigEndian() throws {
        let file = try IDXFile(idx: idxBytes(dimensions: [258], data: [UInt8](repeating: 7, count: 258)), name: "l", dimensionCount: 1)
        #expect(file.dimensions == [258])
    }

    @Test("hostile files throw the error that names the problem")
    func hostile() {
        let cases: [([UInt8], Int, FashionMNISTError)] = [
            ([], 1, .truncated(file: "f", expected: 4, actual: 0)),
            ([0, 0, 8], 1, .truncated(file: "f", expected: 4, actual: 3)),
            ([0x1F, 0x8B, 8, 0], 1, .badMagic(file: "f", found: [0x1F, 0x8B, 8, 0])),
            (idxBytes(dimensions: [1], data: [0], typeCode: 0x0D), 1, .unsupportedDataType(file: "f", code: 0x0D)),
            (idxBytes(dimensions: [1, 1], data: [0]), 1, .dimensionCount(file: "f", expected: 1, actual: 2)),
            (Array(idxBytes(dimensions: [1, 1, 1], data: []).prefix(10)), 3, .truncated(file: "f", expected: 16, actual: 10)),
            (idxBytes(dimensions: [2, 2], data: [1, 2, 3]), 2, .truncated(file: "f", expected: 16, actual: 15)),
            (idxBytes(dimensions: [2], data: [1, 2, 3]), 1, .trailingBytes(file: "f", extra: 1)),
            (idxBytes(dimensions: [.max, .max, .max], data: []), 3, .sizeOverflow(file: "f")),
        ]
        for (bytes, dimensionCount, expected) in cases {
            #expect(throws: expected) { try IDXFile(idx: bytes, name: "f", dimensionCount: dimensionCount) }
        }
    }

    @Test("a missing file is an io error naming it")
    func missingFile() {
        let url = URL(fileURLWithPath: "/nonexistent/train-images-idx3-ubyte.gz")
        #expect(throws: FashionMNISTError.io(path: url.path, reason: "no such file")) {
            try IDXFile(gzipContentsOf: url, dimensionCount: 3)
        }
    }

    @Test("a file that is not gzip is an archive error, not a crash")
    func notGzip() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fashion-mnist-not-gzip-\(getpid()).gz")
        try Data(idxBytes(dimensions: [1], data: [3])).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect {
            try IDXFile(gzipContentsOf: url, dimensionCount: 1)
        } throws: { error in
            if case .archive = error as? FashionMNISTError { return true }
            return false
        }
    }
}

@Suite("Fashion-MNIST data set")
struct DatasetTests {
    @Test("pixels become (p/255 − 0.2860)/0.3530 and labels Int32")
    func normalisation() throws {
        var pixels = [UInt8](repeating: 0, count: 2 * 784)
        pixels[0] = 255
        pixels[784 + 5] = 51
        let images = try IDXFile(idx: idxBytes(dimensions: [2, 28, 28], data: pixels), name: "i", dimensionCount: 3)
        let labels = try IDXFile(idx: idxBytes(dimensions: [2], data: [9, 0]), name: "l", dimensionCount: 1)
        let d = try FashionMNISTDataset(images: images, labels: labels)
        #expect(d.count == 2)
        #expect(d.labels == [9, 0])
        #expect(d.images[0] == (Float(1) - 0.2860) / 0.3530)
        #expect(d.images[1] == (Float(0) - 0.2860) / 0.3530)
        #expect(d.images[784 + 5] == (Float(0.2) - 0.2860) / 0.3530)
        let limited = try FashionMNISTDataset(images: images, labels: labels, limit: 1)
        #expect(limited.count == 1 && limited.images.count == 784)
        let first = d.prefix(1)
        #expect(first.images == Array(d.images[0..<784]) && first.labels == [9])
        #expect(d.prefix(5).count == 2 && d.prefix(-1).count == 0)
    }

    @Test("wrong image size, count mismatch and bad labels are refused")
    func refused() throws {
        let small = try IDXFile(idx: idxBytes(dimensions: [1, 27, 28], data: [UInt8](repeating: 0, count: 27 * 28)),
                                name: "i", dimensionCount: 3)
        let one = try IDXFile(idx: idxBytes(dimensions: [1], data: [0]), name: "l", dimensionCount: 1)
        #expect(throws: FashionMNISTError.dimension(file: "images", index: 1, expected: 28, actual: 27)) {
            try FashionMNISTDataset(images: small, labels: one)
        }
        let two = try IDXFile(idx: idxBytes(dimensions: [2, 28, 28], data: [UInt8](repeating: 0, count: 2 * 784)),
                              name: "i", dimensionCount: 3)
        #expect(throws: FashionMNISTError.countMismatch(images: 2, labels: 1)) {
            try FashionMNISTDataset(images: two, labels: one)
        }
        let bad = try IDXFile(idx: idxBytes(dimensions: [2], data: [3, 10]), name: "l", dimensionCount: 1)
        #expect(throws: FashionMNISTError.labelOutOfRange(index: 1, value: 10)) {
            try FashionMNISTDataset(images: two, labels: bad)
        }
    }

    @Test("the installed files parse with the published sizes",
          .enabled(if: FashionMNISTDataset.isInstalled(), "dataset-fashion-mnist is not installed (make setup installs it)"))
    func realFiles() throws {
        let test = try FashionMNISTDataset(split: .test)
        #expect(test.count == 10_000)
        #expect(test.images.count == 10_000 * 784)
        // Fashion-MNIST's test set is balanced: 1,000 images per class.
        for c in 0..<10 { #expect(test.labels.filter { $0 == c }.count == 1000) }
    }
}
