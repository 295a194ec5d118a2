import ConvEngine
import Foundation
import Testing
@testable import FashionMNISTKit

/// The committed PyTorch loss trace (Traces/README.md says how it was made and how to regenerate it).
struct LossTrace: Decodable {
    var seed: UInt64
    var train_images: Int
    var batch_size: Int
    var numerics: String
    var torch: String
    var losses: [Double]
    var initial_weight_sums: [String: Double]
}

let dataInstalled = FashionMNISTDataset.isInstalled()
let dataMissing: Comment = "dataset-fashion-mnist is not installed in /usr/share/datasets/fashion-mnist (make setup installs it)"

@Suite("Fashion-MNIST training", .serialized)
struct TrainingTests {
    @Test("the network's parameters carry PyTorch's state_dict names and shapes")
    func stateDict() throws {
        var g = SeededGenerator(seed: 1)
        let network = try FashionMNISTNetwork(engine: ConvolutionEngine(workers: 1), generator: &g, maximumBatch: 2)
        let archive = try network.stateDict()
        #expect(archive.names == network.parameterNames)
        #expect(archive["conv1.weight"]?.shape == [32, 1, 3, 3])
        #expect(archive["conv2.weight"]?.shape == [64, 32, 3, 3])
        #expect(archive["fc.weight"]?.shape == [10, 3136])
        #expect(archive["fc.bias"]?.shape == [10])
        var h = SeededGenerator(seed: 2)
        let other = try FashionMNISTNetwork(engine: ConvolutionEngine(workers: 1), generator: &h, maximumBatch: 2)
        try other.load(stateDict: archive)
        let reloaded = try other.stateDict()
        for name in network.parameterNames { #expect(reloaded[name]!.isBitwiseIdentical(to: archive[name]!)) }
    }

    @Test("a short run on a few hundred real images lowers the loss", .enabled(if: dataInstalled, dataMissing))
    func lossFalls() throws {
        let train = try FashionMNISTDataset(split: .train, limit: 320)
        var c = FashionMNISTTrainer.Configuration()
        c.epochs = 3
        c.threads = 2
        c.evaluates = false
        let result = try FashionMNISTTrainer(c, train: train, test: nil).run()
        #expect(result.stepLosses.count == 15)
        // Ten classes start near log 10 ≈ 2.30; three passes over 320 images bring the epoch mean well below.
        #expect(result.epochs[0].meanLoss > 1.5)
        #expect(result.epochs[2].meanLoss < result.epochs[0].meanLoss - 0.3)
    }

    @Test("per-step losses agree with PyTorch's committed trace to 1e-4 relative (strict numerics)",
          .enabled(if: dataInstalled, dataMissing))
    func matchesPyTorchTrace() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Traces/torch-strict-seed2026-20steps.json")
        let trace = try JSONDecoder().decode(LossTrace.self, from: Data(contentsOf: url))
        let train = try FashionMNISTDataset(split: .train, limit: trace.train_images)
        var c = FashionMNISTTrainer.Configuration()
        c.seed = trace.seed
        c.batchSize = trace.batch_size
        c.epochs = 1
        c.numerics = .strict
        c.threads = 1
        c.evaluates = false
        c.maximumSteps = trace.losses.count
        let result = try FashionMNISTTrainer(c, train: train, test: nil).run()
        // The trace was made from the initial weights this seed gives; if the initialisers change, it must be regenerated.
        for (name, sum) in trace.initial_weight_sums {
            let mine = result.initialWeights[name]!.scalars(as: Float.self).reduce(0.0) { $0 + Double($1) }
            #expect(abs(mine - sum) <= 1e-5 * max(1, abs(sum)), "initial \(name) differs from the trace's: regenerate it (Traces/README.md)")
        }
        #expect(result.stepLosses.count == trace.losses.count)
        for (step, (swift, torch)) in zip(result.stepLosses, trace.losses).enumerated() {
            #expect(abs(swift - torch) <= 1e-4 * abs(torch), "step \(step + 1): Swift \(swift), PyTorch \(torch)")
        }
    }
}
