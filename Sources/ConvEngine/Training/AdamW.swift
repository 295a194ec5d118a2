/// AdamW (Loshchilov and Hutter, 2019): Adam with decoupled weight decay, PyTorch 2.x's `torch.optim.AdamW`
/// update, element by element.
///
/// As in PyTorch, where `AdamW` is `Adam` with `decoupled_weight_decay=True`, this is ``Adam`` with
/// ``Adam/decoupledWeightDecay`` set and a default weight decay of 0.01. The step is Adam's without the
/// `λ·θ` term in the gradient; instead the value first shrinks by `1 − γλ` (PyTorch's
/// `param.mul_(1 - lr * weight_decay)`, the factor computed in `Double`):
///
/// ```text
/// θ ← θ·(1 − γλ)                     (when λ ≠ 0)
/// m ← m + (1 − β₁)·(g − m)
/// v ← β₂·v + (1 − β₂)·g·g
/// v̂ ← max(v̂, v) with amsgrad, else v̂ = v
/// θ ← θ − (γ / (1 − β₁ᵗ)) · m / (√v̂ / √(1 − β₂ᵗ) + ε)
/// ```
///
/// Arithmetic and state as ``Adam``'s (the two share ``OptimizerState``'s moment buffers).
public struct AdamW: Optimizer, Sendable {
    /// The optimiser itself, with ``Adam/decoupledWeightDecay`` set; its properties are the hyperparameters.
    public let adam: Adam

    /// AdamW with PyTorch's hyperparameters and defaults (`torch.optim.AdamW(params, lr=1e-3,
    /// betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False)`), validated as PyTorch validates them.
    ///
    /// - Parameters:
    ///   - learningRate: γ ≥ 0.
    ///   - betas: β₁ and β₂, each in [0, 1).
    ///   - epsilon: ε ≥ 0.
    ///   - weightDecay: λ ≥ 0, applied as `θ ← θ·(1 − γλ)`.
    ///   - amsgrad: use AMSGrad's running maximum of `v`.
    /// - Throws: ``ConvError/invalidArgument(name:reason:)`` naming `learningRate`, `betas.0`, `betas.1`,
    ///   `epsilon` or `weightDecay` when it is not finite or out of its range (where PyTorch raises `ValueError`).
    public init(learningRate: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999), epsilon: Double = 1e-8,
                weightDecay: Double = 1e-2, amsgrad: Bool = false) throws(ConvError) {
        adam = try Adam(learningRate: learningRate, betas: betas, epsilon: epsilon, weightDecay: weightDecay,
                        amsgrad: amsgrad, decoupledWeightDecay: true)
    }

    /// One AdamW step of `parameter`: ``Adam/step(_:)`` with decoupled weight decay.
    ///
    /// - Throws: as ``Adam/step(_:)``.
    public func step<T: ConvScalar>(_ parameter: inout Parameter<T>) throws(ConvError) {
        try adam.step(&parameter)
    }
}
