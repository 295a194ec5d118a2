import Foundation

/// Wall time per phase of the training steps, summed over the steps (`--profile`), to see which piece of a
/// step dominates: the convolutions (the library) or the example's own pooling, linear layer, loss and copies.
public struct StepProfile: Sendable {
    /// The phases of one step, in the order they run.
    public enum Phase: Int, CaseIterable, Sendable {
        /// Copying the batch's images and labels into the step's buffers.
        case gather
        /// conv1 with its fused ReLU.
        case conv1Forward
        /// The first pooling.
        case pool1Forward
        /// conv2 with its fused ReLU.
        case conv2Forward
        /// The second pooling.
        case pool2Forward
        /// The linear layer.
        case fcForward
        /// Softmax cross-entropy and its gradient.
        case loss
        /// Zeroing the accumulated gradients.
        case zeroGradients
        /// The linear layer's gradients.
        case fcBackward
        /// The second pooling's input gradient.
        case pool2Backward
        /// conv2's gradients (ReLU derivative, weight, bias and input).
        case conv2Backward
        /// The first pooling's input gradient.
        case pool1Backward
        /// conv1's gradients (ReLU derivative, weight and bias; no input gradient).
        case conv1Backward
        /// The SGD step of every parameter.
        case optimizer
    }

    /// Seconds per phase, indexed by `Phase.rawValue`.
    public private(set) var seconds = [Double](repeating: 0, count: Phase.allCases.count)
    /// The steps recorded.
    public internal(set) var steps = 0

    /// An empty profile.
    public init() {}

    /// Adds the time since `mark` to `phase` and moves `mark` to now.
    mutating func record(_ phase: Phase, since mark: inout ContinuousClock.Instant) {
        let now = ContinuousClock.now
        let d = now - mark
        seconds[phase.rawValue] += Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        mark = now
    }

    /// One line per phase: its name, milliseconds per step and share of the total.
    public var report: String {
        let total = seconds.reduce(0, +)
        return Phase.allCases.map { phase in
            let s = seconds[phase.rawValue]
            let perStep = steps > 0 ? s / Double(steps) * 1e3 : 0
            let name = "\(phase)".padding(toLength: 14, withPad: " ", startingAt: 0)
            return "\(name) \(String(format: "%8.3f ms/step %5.1f%%", perStep, total > 0 ? s / total * 100 : 0))"
        }.joined(separator: "\n")
    }
}
