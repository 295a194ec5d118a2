import Foundation

/// Adam (Kingma and Ba, 2015) with PyTorch 2.x's `torch.optim.Adam` update, element by element, including
/// its L2 weight decay (added to the gradient), its decoupled weight decay (``AdamW``) and the AMSGrad variant.
///
/// With gradient `g`, value `θ`, learning rate `γ`, betas `β₁, β₂`, epsilon `ε`, weight decay `λ` and the
/// parameter's step count `t` (1 on its first step), one step is (PyTorch's single-tensor `foreach=False`
/// implementation, `maximize=False`):
///
/// ```text
/// if λ ≠ 0:  g ← g + λ·θ              (θ ← θ·(1 − γλ) instead with decoupled weight decay)
/// m ← m + (1 − β₁)·(g − m)           (torch.lerp; m and v start at 0)
/// v ← β₂·v + (1 − β₂)·g·g
/// v̂ ← max(v̂, v) with amsgrad, else v̂ = v
/// θ ← θ − (γ / (1 − β₁ᵗ)) · m / (√v̂ / √(1 − β₂ᵗ) + ε)
/// ```
///
/// **Arithmetic.** Values and moments update in `T` (a `Float` parameter in `Float`, like PyTorch's float32
/// tensors), one rounding per operation in PyTorch's order. The bias corrections, the step size
/// `γ / (1 − β₁ᵗ)` and `√(1 − β₂ᵗ)` (as `pow(·, 0.5)`, Python's `** 0.5`) are computed in `Double` (PyTorch
/// computes them in Python floats) and, like `1 − β₁`, `β₂`, `1 − β₂`, `ε`, `λ` and `1 − γλ`, rounded to
/// `T` where PyTorch hands them to a tensor op. The step count is used as a `Double` (PyTorch keeps it in
/// a float32 tensor, the same value for the first 2²⁴ steps). PyTorch's
/// vectorised CPU kernels fuse some multiply-adds (in `lerp`), so an element can differ from PyTorch's in
/// its last bit.
///
/// The moments and the step count live in each parameter's ``Parameter/optimizerState``
/// (``OptimizerState/firstMoment``, ``OptimizerState/secondMoment``, ``OptimizerState/maxSecondMoment``,
/// ``OptimizerState/stepCount``), created on its first step.
public struct Adam: Optimizer, Sendable {
    /// The step size γ (PyTorch's `lr`).
    public let learningRate: Double
    /// The decay rates (β₁, β₂) of the moment averages (PyTorch's `betas`).
    public let betas: (Double, Double)
    /// ε, added to the denominator for stability (PyTorch's `eps`).
    public let epsilon: Double
    /// The weight decay λ (PyTorch's `weight_decay`): added to the gradient as `λ·θ`, or with
    /// ``decoupledWeightDecay`` a shrinking of the value by `1 − γλ`.
    public let weightDecay: Double
    /// Whether the step normalises by the running maximum of `v` (AMSGrad; PyTorch's `amsgrad`).
    public let amsgrad: Bool
    /// Whether weight decay is decoupled from the gradient (PyTorch's `decoupled_weight_decay`, what
    /// `torch.optim.AdamW` sets; see ``AdamW``).
    public let decoupledWeightDecay: Bool

    /// Adam with PyTorch's hyperparameters and defaults (`torch.optim.Adam(params, lr=1e-3,
    /// betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, decoupled_weight_decay=False)`),
    /// validated as PyTorch validates them.
    ///
    /// - Parameters:
    ///   - learningRate: γ ≥ 0.
    ///   - betas: β₁ and β₂, each in [0, 1).
    ///   - epsilon: ε ≥ 0.
    ///   - weightDecay: λ ≥ 0.
    ///   - amsgrad: use AMSGrad's running maximum of `v`.
    ///   - decoupledWeightDecay: apply λ as AdamW does.
    /// - Throws: ``ConvError/invalidArgument(name:reason:)`` naming `learningRate`, `betas.0`, `betas.1`,
    ///   `epsilon` or `weightDecay` when it is not finite or out of its range (where PyTorch raises `ValueError`).
    public init(learningRate: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999), epsilon: Double = 1e-8,
                weightDecay: Double = 0, amsgrad: Bool = false, decoupledWeightDecay: Bool = false) throws(ConvError) {
        try checkHyperparameter("learningRate", learningRate, atLeast: 0)
        try checkHyperparameter("epsilon", epsilon, atLeast: 0)
        try checkHyperparameter("betas.0", betas.0, atLeast: 0, below: 1)
        try checkHyperparameter("betas.1", betas.1, atLeast: 0, below: 1)
        try checkHyperparameter("weightDecay", weightDecay, atLeast: 0)
        self.learningRate = learningRate
        self.betas = betas
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.amsgrad = amsgrad
        self.decoupledWeightDecay = decoupledWeightDecay
    }

    /// One Adam step of `parameter`: the update above, with the moments and step count in its
    /// ``Parameter/optimizerState`` (the moments created as zeros on its first step and reused after).
    ///
    /// - Throws: ``ConvError/gradientLength(gradient:parameters:expected:actual:)`` (named
    ///   `"\(name).gradient"` and `"\(name).value"`) if the gradient's length differs from the parameter's;
    ///   ``ConvError/invalidArgument(name:reason:)`` if the value no longer has the shape's element count or
    ///   the state holds SGD's buffers. Nothing is changed then.
    public func step<T: ConvScalar>(_ parameter: inout Parameter<T>) throws(ConvError) {
        try parameter.checkStepLengths()
        try parameter.optimizerState.claim(for: .adam, count: parameter.count, name: parameter.name)
        let count = parameter.count
        if parameter.optimizerState.firstMoment == nil {
            parameter.optimizerState.firstMoment = [T](repeating: 0, count: count)
            parameter.optimizerState.secondMoment = [T](repeating: 0, count: count)
        }
        // PyTorch creates `max_exp_avg_sq` with the other moments; a state first stepped without amsgrad gets
        // it (zero) at its first amsgrad step, so that v̂ starts there from the current v.
        if amsgrad && parameter.optimizerState.maxSecondMoment == nil {
            parameter.optimizerState.maxSecondMoment = [T](repeating: 0, count: count)
        }
        parameter.optimizerState.stepCount += 1
        let t = Double(parameter.optimizerState.stepCount)
        let biasCorrection1 = 1 - pow(betas.0, t)
        let biasCorrection2 = 1 - pow(betas.1, t)
        let scalars = AdamStepScalars(stepSize: learningRate / biasCorrection1,
                                      biasCorrection2Root: pow(biasCorrection2, 0.5))
        // Safe: the moments were created above when missing; `!` mutates the arrays in place.
        applyAdam(self, scalars, to: &parameter.value, gradient: parameter.gradient,
                  m: &parameter.optimizerState.firstMoment!, v: &parameter.optimizerState.secondMoment!,
                  vMax: &parameter.optimizerState.maxSecondMoment)
    }
}
