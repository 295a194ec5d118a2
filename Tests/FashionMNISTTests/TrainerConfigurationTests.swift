import Testing
@testable import FashionMNISTKit

@Suite("Trainer configuration")
struct TrainerConfigurationTests {
    @Test("out-of-range settings are refused before anything is trained")
    func refused() throws {
        let images = try IDXFile(idx: idxBytes(dimensions: [1, 28, 28], data: [UInt8](repeating: 0, count: 784)),
                                 name: "i", dimensionCount: 3)
        let labels = try IDXFile(idx: idxBytes(dimensions: [1], data: [0]), name: "l", dimensionCount: 1)
        let one = try FashionMNISTDataset(images: images, labels: labels)
        for (edit, expected) in [
            ({ (c: inout FashionMNISTTrainer.Configuration) in c.batchSize = 0 },
             FashionMNISTError.invalidArgument(name: "batchSize", reason: "0 is outside 1...4096")),
            ({ $0.epochs = 0 }, .invalidArgument(name: "epochs", reason: "0 is below 1")),
            ({ $0.maximumSteps = 0 }, .invalidArgument(name: "maximumSteps", reason: "0 is below 1")),
        ] as [((inout FashionMNISTTrainer.Configuration) -> Void, FashionMNISTError)] {
            var c = FashionMNISTTrainer.Configuration()
            edit(&c)
            #expect(throws: expected) { try FashionMNISTTrainer(c, train: one, test: nil).run() }
        }
    }
}
