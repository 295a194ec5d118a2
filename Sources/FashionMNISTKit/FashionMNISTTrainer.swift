import ConvEngine
import ConvEngineNPY
import Foundation

/// Trains ``FashionMNISTNetwork`` with SGD and momentum on shuffled batches, as the PyTorch script does.
///
/// Per step: gather the batch's images and labels (in ``BatchOrder``'s order) into buffers allocated once,
/// then ``FashionMNISTNetwork/trainingStep(images:labels:optimizer:)``. After each epoch, the test accuracy.
/// All parallelism is the convolution engine's (`threads` workers); OpenBLAS is set to one thread, so the
/// linear layer's small GEMMs run on the calling thread.
public struct FashionMNISTTrainer: Sendable {
    /// What to train and how.
    public struct Configuration: Sendable {
        /// Passes over the training images.
        public var epochs = 3
        /// Images per step.
        public var batchSize = 64
        /// SGD's learning rate.
        public var learningRate = 0.01
        /// SGD's momentum (PyTorch's rule: `v = μ·v + g`, `w −= lr·v`).
        public var momentum = 0.9
        /// The initial weights' seed; the shuffle's generator is seeded with `seed + 1` (wrapping).
        public var seed: UInt64 = 2026
        /// The convolution engine's worker threads.
        public var threads = ProcessInfo.processInfo.activeProcessorCount
        /// Which convolution algorithms the engine may choose (``ConvNumerics/strict`` for the PyTorch comparison).
        public var numerics: ConvNumerics = .default
        /// Stop after this many steps in all (`nil`: every batch of every epoch); the test accuracy is then
        /// measured once, at the stop.
        public var maximumSteps: Int?
        /// Whether to measure the test accuracy (after each epoch, or at the stop).
        public var evaluates = true
        /// Whether to time each phase of the training steps (``Result/profile``).
        public var profiles = false

        /// The defaults: 3 epochs of batch 64, SGD lr 0.01 momentum 0.9, seed 2026, all processors, default numerics.
        public init() {}
    }

    /// What the progress callback sees after each step.
    public struct Progress: Sendable {
        /// The epoch, from 1.
        public var epoch: Int
        /// The step within the epoch, from 1.
        public var step: Int
        /// Steps in this epoch.
        public var stepsInEpoch: Int
        /// Training images per second of wall time, over the epoch so far.
        public var imagesPerSecond: Double
        /// The mean loss over the epoch's steps so far.
        public var runningLoss: Double
    }

    /// One epoch's summary.
    public struct EpochSummary: Sendable {
        /// The epoch, from 1.
        public var epoch: Int
        /// Steps run in it.
        public var steps: Int
        /// The mean of its steps' losses.
        public var meanLoss: Double
        /// Wall time of its training steps in seconds (evaluation not included).
        public var seconds: Double
        /// Training images per second.
        public var imagesPerSecond: Double
        /// The test accuracy after it (0…1), or `nil` when not evaluated.
        public var testAccuracy: Double?
    }

    /// The outcome of a run.
    public struct Result: Sendable {
        /// Every step's loss, before its update, in order.
        public var stepLosses: [Double]
        /// One summary per epoch begun.
        public var epochs: [EpochSummary]
        /// The weights before the first step, as a `state_dict`.
        public var initialWeights: NPZArchive
        /// The weights after the last step.
        public var finalWeights: NPZArchive
        /// The batches the run visited (its file is what the PyTorch script reads).
        public var batchOrder: BatchOrder
        /// The training steps' time per phase, when ``Configuration/profiles`` is set.
        public var profile: StepProfile?
    }

    /// The configuration.
    public let configuration: Configuration
    /// The training images.
    public let train: FashionMNISTDataset
    /// The test images (`nil`: no evaluation).
    public let test: FashionMNISTDataset?

    /// A trainer for `train`, evaluating on `test`.
    public init(_ configuration: Configuration = Configuration(), train: FashionMNISTDataset, test: FashionMNISTDataset?) {
        self.configuration = configuration
        self.train = train
        self.test = test
    }

    /// Runs the training, calling `progress` after every step and `epochEnded` after every epoch.
    ///
    /// - Throws: ``FashionMNISTError/invalidArgument(name:reason:)`` for a configuration out of range (no epoch,
    ///   a batch size outside 1…4096, a maximum step count below 1, no training image); the errors of the
    ///   network and the library.
    public func run(progress: (Progress) -> Void = { _ in },
                    epochEnded: (EpochSummary) -> Void = { _ in }) throws(FashionMNISTError) -> Result {
        let c = configuration
        guard c.epochs >= 1 else { throw .invalidArgument(name: "epochs", reason: "\(c.epochs) is below 1") }
        guard (1...4096).contains(c.batchSize) else {
            throw .invalidArgument(name: "batchSize", reason: "\(c.batchSize) is outside 1...4096")
        }
        if let steps = c.maximumSteps, steps < 1 {
            throw .invalidArgument(name: "maximumSteps", reason: "\(steps) is below 1")
        }
        guard train.count > 0 else { throw .invalidArgument(name: "train", reason: "no training images") }
        BLAS.setThreadCount(1)
        let engine = try convCall { () throws(ConvError) in try ConvolutionEngine(workers: c.threads, numerics: c.numerics) }
        let sgd = try convCall { () throws(ConvError) in try SGD(learningRate: c.learningRate, momentum: c.momentum) }
        var generator = SeededGenerator(seed: c.seed)
        let network = try FashionMNISTNetwork(engine: engine, generator: &generator, maximumBatch: c.batchSize)
        let order = try BatchOrder(seed: c.seed &+ 1, imageCount: train.count, batchSize: c.batchSize, epochs: c.epochs)
        let initialWeights = try network.stateDict()
        if c.profiles { network.profile = StepProfile() }

        let pixels = FashionMNISTDataset.pixels
        var images = [Float](repeating: 0, count: c.batchSize * pixels)
        var labels = [Int32](repeating: 0, count: c.batchSize)
        var stepLosses: [Double] = []
        stepLosses.reserveCapacity(min(c.maximumSteps ?? Int.max, order.batchesPerEpoch * c.epochs))
        var summaries: [EpochSummary] = []
        var stopped = false

        for epoch in 0..<c.epochs where !stopped {
            let start = ContinuousClock.now
            var lossSum = 0.0, seen = 0, steps = 0
            for b in 0..<order.batchesPerEpoch {
                let indices = order.batch(b, ofEpoch: epoch)
                let n = indices.count
                try train.images.withUnsafeBufferPointer { (source) throws(FashionMNISTError) in
                    try images.withUnsafeMutableBufferPointer { (x) throws(FashionMNISTError) in
                        try labels.withUnsafeMutableBufferPointer { (y) throws(FashionMNISTError) in
                            var mark = ContinuousClock.now
                            for (slot, index) in indices.enumerated() {
                                let i = Int(index)
                                (x.baseAddress! + slot * pixels).update(from: source.baseAddress! + i * pixels, count: pixels)
                                y[slot] = train.labels[i]
                            }
                            if network.profile != nil { network.profile!.record(.gather, since: &mark) }
                            let loss = try network.trainingStep(
                                images: UnsafeBufferPointer(rebasing: x[0..<(n * pixels)]),
                                labels: UnsafeBufferPointer(rebasing: y[0..<n]), optimizer: sgd)
                            stepLosses.append(loss)
                            lossSum += loss
                        }
                    }
                }
                seen += n
                steps += 1
                let seconds = Self.seconds(since: start)
                progress(Progress(epoch: epoch + 1, step: b + 1, stepsInEpoch: order.batchesPerEpoch,
                                  imagesPerSecond: Double(seen) / max(seconds, 1e-9), runningLoss: lossSum / Double(steps)))
                if let maximum = c.maximumSteps, stepLosses.count >= maximum { stopped = true; break }
            }
            let seconds = Self.seconds(since: start)
            var summary = EpochSummary(epoch: epoch + 1, steps: steps, meanLoss: lossSum / Double(steps), seconds: seconds,
                                       imagesPerSecond: Double(seen) / max(seconds, 1e-9), testAccuracy: nil)
            if c.evaluates, let test { summary.testAccuracy = try Evaluation.accuracy(of: network, on: test) }
            summaries.append(summary)
            epochEnded(summary)
        }
        return Result(stepLosses: stepLosses, epochs: summaries, initialWeights: initialWeights,
                      finalWeights: try network.stateDict(), batchOrder: order, profile: network.profile)
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}
