/// One parameter's optimiser buffers and step count: opaque to layers, owned by the optimiser that steps it.
///
/// The buffers are those of PyTorch's per-parameter `optimizer.state[p]`, created on the first step that
/// needs them and then updated in place (a step allocates nothing after the first):
///
/// | property | PyTorch key | kept by |
/// | --- | --- | --- |
/// | ``momentumBuffer`` | `momentum_buffer` | ``SGD`` with momentum |
/// | ``firstMoment`` | `exp_avg` | ``Adam``, ``AdamW`` |
/// | ``secondMoment`` | `exp_avg_sq` | ``Adam``, ``AdamW`` |
/// | ``maxSecondMoment`` | `max_exp_avg_sq` | ``Adam``, ``AdamW`` with `amsgrad` |
/// | ``stepCount`` | `step` | every optimiser |
///
/// A state belongs to one optimiser family (SGD, or Adam/AdamW, which share the same buffers): stepping it
/// with the other family throws, since the buffers would mean something else. To switch optimisers or start
/// again, assign an empty state: `parameter.optimizerState = OptimizerState()`.
public struct OptimizerState<T: ConvScalar>: Sendable {
    /// Which optimiser family created the buffers, `nil` for an empty state.
    internal enum Family: Sendable {
        case sgd, adam

        var label: String {
            switch self {
            case .sgd: return "SGD"
            case .adam: return "Adam/AdamW"
            }
        }
    }

    internal private(set) var family: Family?
    /// The number of steps taken with this state (PyTorch's `state["step"]` for Adam; counted for SGD too).
    public internal(set) var stepCount: Int = 0
    /// SGD's velocity `b` (PyTorch's `momentum_buffer`), laid out as the parameter's value; `nil` until the
    /// first step with momentum.
    public internal(set) var momentumBuffer: [T]?
    /// Adam's running mean of the gradient `m` (PyTorch's `exp_avg`); `nil` until the first Adam step.
    public internal(set) var firstMoment: [T]?
    /// Adam's running mean of the squared gradient `v` (PyTorch's `exp_avg_sq`); `nil` until the first Adam step.
    public internal(set) var secondMoment: [T]?
    /// AMSGrad's running maximum of ``secondMoment`` (PyTorch's `max_exp_avg_sq`); `nil` unless stepped with
    /// `amsgrad`.
    public internal(set) var maxSecondMoment: [T]?

    /// An empty state: no buffers, no steps taken.
    public init() {}

    /// Whether no optimiser has stepped this state yet.
    public var isEmpty: Bool { family == nil }

    /// Claims the state for `family` and checks that every buffer present has `count` elements, before a
    /// step writes anything.
    /// - Throws: ``ConvError/invalidArgument(name:reason:)`` named `"\(name).optimizerState"` if the state
    ///   belongs to the other family or a buffer's length differs from the parameter's.
    internal mutating func claim(for family: Family, count: Int, name: String) throws(ConvError) {
        if let owner = self.family, owner != family {
            throw .invalidArgument(
                name: "\(name).optimizerState",
                reason: "holds \(owner.label) state after \(stepCount) steps, which a \(family.label) step cannot use; "
                    + "assign OptimizerState() to start the new optimiser from scratch")
        }
        // One call per buffer rather than a loop over an array of them: a step must not allocate.
        try Self.check(momentumBuffer, "momentumBuffer", count: count, name: name)
        try Self.check(firstMoment, "firstMoment", count: count, name: name)
        try Self.check(secondMoment, "secondMoment", count: count, name: name)
        try Self.check(maxSecondMoment, "maxSecondMoment", count: count, name: name)
        self.family = family
    }

    private static func check(_ buffer: [T]?, _ label: String, count: Int, name: String) throws(ConvError) {
        if let buffer, buffer.count != count {
            throw .invalidArgument(name: "\(name).optimizerState",
                                   reason: "\(label) has \(buffer.count) elements, the parameter \(count)")
        }
    }
}
