// `fashion-mnist`: trains the example network on Fashion-MNIST (`make train`), printing a progress line on
// stderr and the test accuracy per epoch on stdout, and writing into --output the initial and final weights
// (`.npz`, PyTorch state_dict names), the batch order the PyTorch script replays, the per-step losses as JSON
// and the curves as SVG.
import ArgumentParser
import ConvEngine
import ConvEngineNPY
import FashionMNISTKit
import Foundation

extension ConvNumerics: ExpressibleByArgument {}

@main
struct FashionMNIST: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fashion-mnist",
        abstract: "Train a two-convolution CNN on Fashion-MNIST with ConvEngine.")

    @Option(help: "Passes over the 60,000 training images.") var epochs = 3
    @Option(help: "Images per step.") var batchSize = 64
    @Option(help: "SGD learning rate.") var learningRate = 0.01
    @Option(help: "SGD momentum.") var momentum = 0.9
    @Option(help: "Seed of the initial weights (the shuffle uses seed + 1).") var seed: UInt64 = 2026
    @Option(help: "Convolution worker threads (the default is the number of processors).")
    var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Convolution numerics: strict (sum-of-products only, for the PyTorch comparison), default or fast.")
    var numerics: ConvNumerics = .default
    @Option(help: "Stop after this many steps in all.") var steps: Int?
    @Option(help: "Use only the first N training images.") var trainLimit: Int?
    @Option(help: "Use only the first N test images.") var testLimit: Int?
    @Flag(help: "Skip the test-set evaluation.") var noEvaluation = false
    @Flag(help: "Print the training steps' time per phase (convolutions, pooling, linear, loss, optimiser) at the end.")
    var profile = false
    @Option(help: "Folder holding the four .gz IDX files.") var data = FashionMNISTDataset.defaultDirectory.path
    @Option(help: "Folder for the weights, batch order, losses and chart.") var output = "train-results"

    mutating func run() throws {
        let directory = URL(fileURLWithPath: data)
        guard FashionMNISTDataset.isInstalled(in: directory) else {
            throw ValidationError("the Fashion-MNIST files are not in \(data) (apt-get install dataset-fashion-mnist, or make setup)")
        }
        let train = try FashionMNISTDataset(split: .train, directory: directory, limit: trainLimit)
        let test = noEvaluation ? nil : try FashionMNISTDataset(split: .test, directory: directory, limit: testLimit)
        var c = FashionMNISTTrainer.Configuration()
        c.epochs = epochs
        c.batchSize = batchSize
        c.learningRate = learningRate
        c.momentum = momentum
        c.seed = seed
        c.threads = threads
        c.numerics = numerics
        c.maximumSteps = steps
        c.evaluates = !noEvaluation
        c.profiles = profile
        say("fashion-mnist: \(train.count) training and \(test?.count ?? 0) test images, \(epochs) epochs of batch \(batchSize), "
              + "SGD lr \(learningRate) momentum \(momentum), seed \(seed), \(threads) threads, \(numerics) numerics")

        let out = URL(fileURLWithPath: output)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        var lastPrint = ContinuousClock.now
        let result = try FashionMNISTTrainer(c, train: train, test: test).run(
            progress: { p in
                // About five updates a second, and always the epoch's last step.
                guard p.step == p.stepsInEpoch || ContinuousClock.now - lastPrint > .milliseconds(200) else { return }
                lastPrint = ContinuousClock.now
                let line = String(format: "epoch %d  step %4d/%d  %6.0f images/s  loss %.4f",
                                  p.epoch, p.step, p.stepsInEpoch, p.imagesPerSecond, p.runningLoss)
                FileHandle.standardError.write(Data(("\r" + line).utf8))
            },
            epochEnded: { e in
                FileHandle.standardError.write(Data("\n".utf8))
                let accuracy = e.testAccuracy.map { String(format: "test accuracy %.2f%%", $0 * 100) } ?? "not evaluated"
                say("epoch \(e.epoch): \(accuracy), "
                    + String(format: "mean loss %.4f, %.1f s (%.0f images/s)", e.meanLoss, e.seconds, e.imagesPerSecond))
            })

        if let p = result.profile { say("time per phase over \(p.steps) steps:\n" + p.report) }
        try result.initialWeights.write(to: out.appendingPathComponent("initial-weights.npz"))
        try result.finalWeights.write(to: out.appendingPathComponent("weights.npz"))
        try result.batchOrder.write(to: out.appendingPathComponent("batch-order.txt"))
        try writeLosses(result, c, to: out.appendingPathComponent("losses.json"))
        let chart = TrainingChart(
            title: "Fashion-MNIST with ConvEngine",
            subtitle: "\(epochs) epochs, batch \(batchSize), SGD lr \(learningRate) momentum \(momentum), seed \(seed), "
                + "\(threads) threads, \(numerics) numerics",
            stepLosses: result.stepLosses, accuracies: result.epochs.compactMap(\.testAccuracy))
        try Data(chart.svg().utf8).write(to: out.appendingPathComponent("curves.svg"))
        say("fashion-mnist: wrote \(output)/initial-weights.npz, weights.npz, batch-order.txt, losses.json, curves.svg")
    }

    /// A line on stdout, unbuffered, so that each epoch's line shows at once even through a pipe (`| tee`).
    private func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// The run as JSON: its settings, every step's loss and the epochs' summaries (compare_torch.py reads it).
    private func writeLosses(_ r: FashionMNISTTrainer.Result, _ c: FashionMNISTTrainer.Configuration, to url: URL) throws {
        let epochs: [[String: Any]] = r.epochs.map { e in
            var d: [String: Any] = ["epoch": e.epoch, "steps": e.steps, "mean_loss": e.meanLoss, "seconds": e.seconds,
                                    "images_per_second": e.imagesPerSecond]
            if let a = e.testAccuracy { d["test_accuracy"] = a }
            return d
        }
        let json: [String: Any] = [
            "seed": c.seed, "batch_size": c.batchSize, "learning_rate": c.learningRate, "momentum": c.momentum,
            "threads": c.threads, "numerics": c.numerics.rawValue, "train_images": r.batchOrder.imageCount,
            "step_losses": r.stepLosses, "epochs": epochs,
        ]
        try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys]).write(to: url)
    }
}
