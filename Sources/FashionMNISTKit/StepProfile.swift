import Foundation

/// Wall time per phase of the training steps, summed over the steps (`--profile`), to see which piece of a
/// step dominates: the convolutions (the library) or the example's own pooling, linear layer, loss and copies.
public struct StepProfile: Sendable {
    /// The phases of one step, in the order they run.
    public enum Phase: Int, CaseIterable, Sendable {
        case gather, conv1Forward, pool1Forward, conv2Forward, pool2Forward, fcForward, loss, zeroGradients,
             fcBackward, pool2Backward, conv2Backward, pool1Backward, conv1Backward, optimizer
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
