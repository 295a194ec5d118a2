// The training example: learn a known 3×3 edge-detector filter and its bias from random images whose
// targets carry Gaussian noise, with nothing but ConvEngine's forward pass, backward pass and SGD step.
//
//   data      X ~ N(0, 1) images (fresh every step), T = conv(X, F*) + b* + σ·N(0, 1)
//   model     O = conv(X, F) + b      (one 3×3 filter, 'same' padding)
//   loss      L = mean((O - T)²)      → dL/dO = 2 (O - T) / M
//   update    F -= α·dL/dF,  b -= α·dL/db
//
// The loss falls to the noise floor σ² (what the noise alone costs), and F, b approach F*, b*.
import ConvEngine
import Foundation

/// Trains a single 3×3 convolution (one input and one output channel) to reproduce a known filter.
public struct EdgeDetectorTraining: Sendable {
    /// What to train and for how long.
    public struct Configuration: Sendable {
        /// SGD steps, at least 1.
        public var steps = 200
        /// Images per step.
        public var batch = 8
        /// Images are `imageSize × imageSize`.
        public var imageSize = 32
        /// The SGD step size α.
        public var learningRate = 0.05
        /// Standard deviation σ of the Gaussian noise added to the targets.
        public var noise = 0.01
        /// Seed of the images, the noise and nothing else (the filter starts at zero).
        public var seed: UInt64 = 2026
        /// Report the loss every this many steps (and at the first and last step).
        public var reportEvery = 20
        /// Worker threads of the engine.
        public var workers = 1

        /// The defaults: 200 steps of 8 images of 32×32, α = 0.05, σ = 0.01.
        public init() {}
    }

    /// The filter to learn: the Sobel operator for vertical edges (a horizontal gradient), row-major 3×3.
    public static let trueFilter: [Float] = [
        -1, 0, 1,
        -2, 0, 2,
        -1, 0, 1,
    ]
    /// The bias to learn.
    public static let trueBias: Float = 0.5

    /// The outcome of a run.
    public struct Result: Sendable {
        /// The learned filter, row-major 3×3.
        public var filter: [Float]
        /// The learned bias.
        public var bias: Float
        /// `(step, loss)` at every reported step; step 1 is the loss before the first update.
        public var losses: [(step: Int, loss: Double)]
        /// The mean loss over the last 10 steps (or all of them, if fewer).
        public var finalLoss: Double
        /// σ², the loss a perfect filter would have on noisy targets.
        public var noiseFloor: Double
        /// The largest `|filter[i] - trueFilter[i]|`.
        public var filterError: Float
        /// `|bias - trueBias|`.
        public var biasError: Float
        /// The step at which training stopped because the loss diverged (see
        /// ``EdgeDetectorTraining/divergenceFactor``), or nil if it ran every step. The loss at that step
        /// is the last of ``losses``.
        public var divergedAt: Int?
    }

    /// Training stops as diverged at the first step whose loss is not finite or exceeds this many times the
    /// loss at step 1. The loss at step 1 is that of F = 0, b = 0; a step size that converges only shrinks
    /// the error in F and b (by about |1 - 2α| per step, as the images are standard normal), so a converging run
    /// never comes near this, while one that diverges grows geometrically and passes it within a few steps.
    public static let divergenceFactor = 10.0

    /// The configuration this training runs with.
    public let configuration: Configuration

    /// A training run with `configuration`.
    public init(_ configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Trains, calling `report(step, loss)` every ``Configuration/reportEvery`` steps and at the first
    /// and last step; the loss reported at a step is the one computed before that step's update.
    ///
    /// A loss that diverges (see ``divergenceFactor``) is reported at the step it is detected, and training
    /// stops there with ``Result/divergedAt`` set.
    ///
    /// - Throws: ``ConvError`` for an impossible configuration (for example an image size of 0, or
    ///   ``ConvError/invalidArgument(name:reason:)`` for fewer than 1 step), or
    ///   ``ConvError/invalidArgument(name:reason:)`` when a step's images would not fit in physical memory.
    public func run(report: (_ step: Int, _ loss: Double) -> Void = { _, _ in }) throws -> Result {
        let c = configuration
        // Zero steps would train nothing and leave no loss to report: refused rather than run as one step.
        guard c.steps >= 1 else {
            throw ConvError.invalidArgument(name: "steps", reason: "\(c.steps) steps: at least 1 is needed to train")
        }
        let geometry = try ConvGeometry(batch: c.batch, inputChannels: 1, inputHeight: c.imageSize,
                                        inputWidth: c.imageSize, outputChannels: 1, kernelHeight: 3, kernelWidth: 3,
                                        padding: .same)
        let engine = try ConvolutionEngine(workers: c.workers)
        let sgd = try SGD(learningRate: c.learningRate)
        var random = DemoRandom(seed: c.seed)
        // What every step allocates (the images, the targets, the output and its gradient), through the
        // library's memory check, so an impossible size throws instead of trapping in the allocator.
        try MemoryCheck.checkAllocation("images", count: geometry.inputCount, of: Float.self)
        try MemoryCheck.checkAllocation("outputs", count: geometry.outputCount, of: Float.self)

        var filter = [Float](repeating: 0, count: 9)
        var bias: [Float] = [0]
        var losses: [(step: Int, loss: Double)] = []
        var recent: [Double] = []
        var firstLoss = Double.nan
        var divergedAt: Int?
        let m = Float(geometry.outputCount)

        for step in 1...c.steps {
            // Fresh images, and targets from the true filter plus noise.
            let x = (0..<geometry.inputCount).map { _ in Float(random.gaussian()) }
            var target = try engine.forward(geometry, input: x, filter: Self.trueFilter, bias: [Self.trueBias])
            for i in target.indices { target[i] += Float(c.noise * random.gaussian()) }

            // Forward, loss and its gradient dL/dO = 2 (O - T) / M.
            let output = try engine.forward(geometry, input: x, filter: filter, bias: bias)
            var loss = 0.0
            var outputGradient = [Float](repeating: 0, count: output.count)
            for i in output.indices {
                let r = output[i] - target[i]
                loss += Double(r) * Double(r)
                outputGradient[i] = 2 * r / m
            }
            loss /= Double(output.count)
            recent.append(loss)
            if recent.count > 10 { recent.removeFirst() }
            if step == 1 { firstLoss = loss }
            let diverged = !loss.isFinite || loss > Self.divergenceFactor * firstLoss
            if step == 1 || step % max(1, c.reportEvery) == 0 || step == c.steps || diverged {
                losses.append((step, loss))
                report(step, loss)
            }
            if diverged {
                divergedAt = step
                break
            }

            // Backward (no input gradient: X is data) and the SGD step.
            let gradients = try engine.backward(geometry, input: x, filter: filter, outputGradient: outputGradient,
                                                gradients: [.filter, .bias])
            try sgd.update(filter: &filter, bias: &bias, with: gradients)
        }

        return Result(
            filter: filter, bias: bias[0], losses: losses,
            finalLoss: recent.reduce(0, +) / Double(recent.count), noiseFloor: c.noise * c.noise,
            filterError: zip(filter, Self.trueFilter).map { abs($0 - $1) }.max() ?? 0,
            biasError: abs(bias[0] - Self.trueBias), divergedAt: divergedAt)
    }
}

/// Gaussian samples (Box–Muller) from the library's SeededGenerator (SplitMix64): reproducible data for a
/// seed, the same as before the generator moved into the library.
struct DemoRandom {
    var generator: SeededGenerator
    var spare: Double?

    init(seed: UInt64) { generator = SeededGenerator(seed: seed) }

    /// Uniform in (0, 1].
    mutating func uniform() -> Double { Double((generator.next() >> 11) + 1) * 0x1p-53 }

    /// Standard normal.
    mutating func gaussian() -> Double {
        if let s = spare { spare = nil; return s }
        let r = (-2 * log(uniform())).squareRoot(), theta = 2 * Double.pi * uniform()
        spare = r * sin(theta)
        return r * cos(theta)
    }
}
