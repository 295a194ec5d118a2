import ConvEngine
import Foundation
import Testing
@testable import FashionMNISTKit

/// The committed PyTorch loss trace (Traces/README.md says how it was made and how to regenerate it).
struct LossTrace: Decodable {
    var seed: UInt64
    var train_images: Int
    var epochs: Int
    var batch_size: Int
    var numerics: String
    var torch: String
    var losses: [Double]
    var initial_weight_sums: [String: Double]
}

let dataInstalled = FashionMNISTDataset.isInstalled()
let dataMissing: Comment = "dataset-fashion-mnist is not installed in /usr/share/datasets/fashion-mnist (make setup installs it)"

/// The committed trace (Traces/README.md says how it was made and how to regenerate it).
let trace: Result<LossTrace, any Error> = Result {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Traces/torch-strict-seed2026-20steps.json")
    return try JSONDecoder().decode(LossTrace.self, from: Data(contentsOf: url))
}

/// The trace's run in Swift, made once for the two tests that read it: strict numerics, one thread, the
/// trace's seed, images, epochs and batch size, and as many steps as it has losses.
let tracedRun: Result<FashionMNISTTrainer.Result, any Error> = Result {
    let t = try trace.get()
    let train = try FashionMNISTDataset(split: .train, limit: t.train_images)
    var c = FashionMNISTTrainer.Configuration()
    c.seed = t.seed
    c.batchSize = t.batch_size
    c.epochs = t.epochs
    c.numerics = .strict
    c.threads = 1
    c.evaluates = false
    c.maximumSteps = t.losses.count
    return try FashionMNISTTrainer(c, train: train, test: nil).run()
}

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
        let run = try tracedRun.get()
        #expect(run.stepLosses.count == 20)
        // Ten classes start near log 10 ≈ 2.30; 20 steps over the same 320 images bring it well below.
        let first = run.stepLosses.prefix(5).reduce(0, +) / 5, last = run.stepLosses.suffix(5).reduce(0, +) / 5
        #expect(first > 2)
        #expect(last < first - 0.5)
    }

    @Test("per-step losses agree with PyTorch's committed trace to 1e-4 relative (strict numerics)",
          .enabled(if: dataInstalled, dataMissing))
    func matchesPyTorchTrace() throws {
        let t = try trace.get(), run = try tracedRun.get()
        // The trace was made from the initial weights this seed gives; if the initialisers change, it must be regenerated.
        for (name, sum) in t.initial_weight_sums {
            let mine = run.initialWeights[name]!.scalars(as: Float.self).reduce(0.0) { $0 + Double($1) }
            #expect(abs(mine - sum) <= 1e-5 * max(1, abs(sum)), "initial \(name) differs from the trace's: regenerate it (Traces/README.md)")
        }
        #expect(run.stepLosses.count == t.losses.count)
        for (step, (swift, torch)) in zip(run.stepLosses, t.losses).enumerated() {
            #expect(abs(swift - torch) <= 1e-4 * abs(torch), "step \(step + 1): Swift \(swift), PyTorch \(torch)")
        }
    }
}
