import Foundation

/// Stochastic gradient descent, optionally with momentum, dampening, Nesterov momentum and weight decay:
/// PyTorch 2.x's `torch.optim.SGD` update, element by element.
///
/// With gradient `g`, value `θ`, learning rate `γ`, momentum `μ`, dampening `τ` and weight decay `λ`, one
/// step is (PyTorch's single-tensor `foreach=False` implementation, `maximize=False`):
///
/// ```text
/// if λ ≠ 0:  g ← g + λ·θ
/// if μ ≠ 0:  b ← g                      on the first step (PyTorch clones the gradient: no dampening)
///            b ← μ·b + (1 − τ)·g        on every later step
///            g ← g + μ·b  if nesterov,  else  g ← b
/// θ ← θ − γ·g
/// ```
///
/// `SGD(learningRate:)` is plain SGD, `θ ← θ − γ·g` (for a convolution layer `F -= α·dF`, `B -= α·dB`).
///
/// **Arithmetic.** Values update in `T` (a `Float` parameter in `Float`, like PyTorch's float32 tensors).
/// The hyperparameters are `Double`s rounded to `T` where PyTorch passes its Python floats to a tensor op
/// (`γ`, `μ`, `λ`), and `1 − τ` is computed in `Double` before rounding, as PyTorch computes it in Python.
/// Each product and sum is rounded separately; PyTorch's vectorised CPU kernels fuse some of them into one
/// multiply-add, so a step can differ from PyTorch's in the last bit of an element.
///
/// The momentum buffer lives in each parameter's ``Parameter/optimizerState``
/// (``OptimizerState/momentumBuffer``), so one `SGD` value can step any number of parameters; the stateless
/// buffer and array forms (``step(_:gradient:)-(UnsafeMutableBufferPointer<T>,_)``, ``update(filter:bias:with:)``)
/// apply weight decay but cannot keep momentum.
public struct SGD: Optimizer, Sendable {
    /// The step size γ (PyTorch's `lr`).
    public let learningRate: Double
    /// The momentum factor μ (PyTorch's `momentum`), 0 for none.
    public let momentum: Double
    /// The dampening τ of the gradient in the momentum update (PyTorch's `dampening`).
    public let dampening: Double
    /// Whether the step uses Nesterov momentum, `g + μ·b`, instead of the buffer `b` (PyTorch's `nesterov`).
    public let nesterov: Bool
    /// The L2 penalty λ added to the gradient as `λ·θ` (PyTorch's `weight_decay`), 0 for none.
    public let weightDecay: Double

    /// Plain SGD: steps of size `learningRate` (γ) against the gradient, no momentum, no weight decay.
    ///
    /// Unlike the full initializer (and PyTorch), any finite rate is accepted, a negative one stepping uphill.
    ///
    /// - Parameter learningRate: γ, any finite value (typically small and positive).
    /// - Throws: ``ConvError/invalidArgument(name:reason:)`` unless `learningRate` is finite.
    public init(learningRate: Double) throws(ConvError) {
        guard learningRate.isFinite else {
            throw ConvError.invalidArgument(name: "learningRate", reason: "\(learningRate) is not finite")
        }
        self.learningRate = learningRate
        momentum = 0
        dampening = 0
        nesterov = false
        weightDecay = 0
    }

    /// SGD with PyTorch's hyperparameters and defaults (`torch.optim.SGD(params, lr, momentum=0,
    /// dampening=0, weight_decay=0, nesterov=False)`), validated as PyTorch validates them.
    ///
    /// - Parameters:
    ///   - learningRate: γ ≥ 0.
    ///   - momentum: μ ≥ 0.
    ///   - dampening: τ, any finite value (PyTorch does not restrict it).
    ///   - nesterov: Nesterov momentum; needs μ > 0 and τ = 0.
    ///   - weightDecay: λ ≥ 0.
    /// - Throws: ``ConvError/invalidArgument(name:reason:)`` naming the argument for a non-finite value, a
    ///   negative learning rate, momentum or weight decay (where PyTorch raises `ValueError`), and for
    ///   `nesterov` without a positive momentum and zero dampening.
    public init(learningRate: Double, momentum: Double = 0, dampening: Double = 0, nesterov: Bool = false,
                weightDecay: Double = 0) throws(ConvError) {
        try checkHyperparameter("learningRate", learningRate, atLeast: 0)
        try checkHyperparameter("momentum", momentum, atLeast: 0)
        try checkHyperparameter("dampening", dampening, atLeast: -.infinity)
        try checkHyperparameter("weightDecay", weightDecay, atLeast: 0)
        if nesterov && (momentum <= 0 || dampening != 0) {
            throw .invalidArgument(
                name: "nesterov",
                reason: "Nesterov momentum needs momentum > 0 and dampening 0, got momentum \(momentum), dampening \(dampening)")
        }
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }

    /// One SGD step of `parameter`: the update above, with the momentum buffer kept in its
    /// ``Parameter/optimizerState`` (created from the first gradient on the first step with momentum).
    ///
    /// - Throws: ``ConvError/gradientLength(gradient:parameters:expected:actual:)`` (named
    ///   `"\(name).gradient"` and `"\(name).value"`) if the gradient's length differs from the parameter's;
    ///   ``ConvError/invalidArgument(name:reason:)`` if the value no longer has the shape's element count or
    ///   the state holds another optimiser's buffers. Nothing is changed then.
    public func step<T: ConvScalar>(_ parameter: inout Parameter<T>) throws(ConvError) {
        try parameter.checkStepLengths()
        try parameter.optimizerState.claim(for: .sgd, count: parameter.count, name: parameter.name)
        let firstStep = momentum != 0 && parameter.optimizerState.momentumBuffer == nil
        if firstStep {
            // The kernel overwrites it with the (decayed) gradient: PyTorch's `buf = clone(grad)`.
            parameter.optimizerState.momentumBuffer = [T](repeating: 0, count: parameter.count)
        }
        parameter.optimizerState.stepCount += 1
        apply(&parameter.value, gradient: parameter.gradient, buffer: &parameter.optimizerState.momentumBuffer,
              firstStep: firstStep)
    }

    /// `parameters[i] -= learningRate · gradient[i]` in place (after adding `weightDecay · parameters[i]` to
    /// the gradient when it is not 0).
    /// - Throws: ``ConvError/gradientLength(gradient:parameters:expected:actual:)`` (named `"gradient"` and
    ///   `"parameters"`) if the lengths differ, ``ConvError/overlappingBuffers(output:other:)`` if the
    ///   buffers share memory, ``ConvError/invalidArgument(name:reason:)`` (named `"momentum"`) if
    ///   `momentum` is not 0: there is no state to keep a momentum buffer in (step a ``Parameter`` instead).
    public func step<T: ConvScalar>(_ parameters: UnsafeMutableBufferPointer<T>, gradient: UnsafeBufferPointer<T>) throws(ConvError) {
        try step(parameters, gradient: gradient, names: ("parameters", "gradient"))
    }

    /// `parameters[i] -= learningRate · gradient[i]` on arrays (with weight decay, as the buffer form).
    /// - Throws: as the buffer form: ``ConvError/gradientLength(gradient:parameters:expected:actual:)``,
    ///   ``ConvError/overlappingBuffers(output:other:)``, ``ConvError/invalidArgument(name:reason:)``.
    public func step<T: ConvScalar>(_ parameters: inout [T], gradient: [T]) throws(ConvError) {
        try step(&parameters, gradient: gradient, names: ("parameters", "gradient"))
    }

    /// One update of a convolution layer: `filter -= α·gradients.filter`, `bias -= α·gradients.bias`
    /// (each only when that gradient is present; with weight decay, as the buffer form).
    /// - Throws: ``ConvError/gradientLength(gradient:parameters:expected:actual:)`` naming `"gradients.filter"`
    ///   and `"filter"` (or `"gradients.bias"` and `"bias"`) if a gradient's length differs from its parameters';
    ///   ``ConvError/invalidArgument(name:reason:)`` if `momentum` is not 0.
    public func update<T: ConvScalar>(filter: inout [T], bias: inout [T], with gradients: Gradients<T>) throws(ConvError) {
        if let dF = gradients.filter { try step(&filter, gradient: dF, names: ("filter", "gradients.filter")) }
        if let dB = gradients.bias { try step(&bias, gradient: dB, names: ("bias", "gradients.bias")) }
    }

    /// The step on arrays, with the names its errors use.
    private func step<T: ConvScalar>(_ parameters: inout [T], gradient: [T],
                                     names: (parameters: String, gradient: String)) throws(ConvError) {
        try parameters.withUnsafeMutableBufferPointer { p throws(ConvError) in
            try gradient.withUnsafeBufferPointer { g throws(ConvError) in try step(p, gradient: g, names: names) }
        }
    }

    /// The stateless step; errors name the buffers as the caller knows them (`filter`, `gradients.filter`, …).
    private func step<T: ConvScalar>(_ parameters: UnsafeMutableBufferPointer<T>, gradient: UnsafeBufferPointer<T>,
                                     names: (parameters: String, gradient: String)) throws(ConvError) {
        if gradient.count != parameters.count {
            throw .gradientLength(gradient: names.gradient, parameters: names.parameters,
                                  expected: parameters.count, actual: gradient.count)
        }
        try checkNoOverlap(outputs: [BufferSpan(names.parameters, parameters)],
                           others: [BufferSpan(names.gradient, gradient)])
        if momentum != 0 {
            throw .invalidArgument(
                name: "momentum",
                reason: "\(momentum) needs a momentum buffer, which a step on bare buffers or arrays has nowhere to keep; step a Parameter")
        }
        apply(parameters, gradient: gradient, buffer: nil, firstStep: false)
    }

    /// The update on arrays whose lengths were checked (the buffer, when present, has the same length).
    private func apply<T: ConvScalar>(_ value: inout [T], gradient: [T], buffer: inout [T]?, firstStep: Bool) {
        value.withUnsafeMutableBufferPointer { v in
            gradient.withUnsafeBufferPointer { g in
                if buffer == nil {
                    apply(v, gradient: g, buffer: nil, firstStep: firstStep)
                } else {
                    // Safe: checked non-nil just above; the force-unwrapped access mutates the array in place.
                    buffer!.withUnsafeMutableBufferPointer { b in apply(v, gradient: g, buffer: b, firstStep: firstStep) }
                }
            }
        }
    }

    /// The update on buffers of equal length, dispatched to a concrete element type so that the loop is
    /// specialised inside the library even when the caller is generic.
    private func apply<T: ConvScalar>(_ value: UnsafeMutableBufferPointer<T>, gradient: UnsafeBufferPointer<T>,
                                      buffer: UnsafeMutableBufferPointer<T>?, firstStep: Bool) {
        guard value.count > 0 else { return }
        switch ScalarKind.of(T.self) {
        case .float:
            SGDKernel<Float>(self).run(retype(value, Float.self), retype(gradient, Float.self),
                                       retype(buffer, Float.self), firstStep: firstStep)
        case .double:
            SGDKernel<Double>(self).run(retype(value, Double.self), retype(gradient, Double.self),
                                        retype(buffer, Double.self), firstStep: firstStep)
        }
    }
}

/// SGD's element loop with its hyperparameters rounded to `U` (see ``SGD``'s arithmetic note).
private struct SGDKernel<U: ConvScalar> {
    let negativeLearningRate: U
    let momentum: U
    let oneMinusDampening: U
    let weightDecay: U
    let nesterov: Bool

    init(_ sgd: SGD) {
        // PyTorch: `param.add_(grad, alpha=-lr)`, `buf.mul_(momentum).add_(grad, alpha=1 - dampening)`,
        // `grad.add(param, alpha=weight_decay)`: each Python float becomes the tensor's type.
        negativeLearningRate = U(-sgd.learningRate)
        momentum = U(sgd.momentum)
        oneMinusDampening = U(1 - sgd.dampening)
        weightDecay = U(sgd.weightDecay)
        nesterov = sgd.nesterov
    }

    /// `value`, `gradient` and `buffer` (when present) have the same, non-zero length.
    func run(_ value: UnsafeMutableBufferPointer<U>, _ gradient: UnsafeBufferPointer<U>,
             _ buffer: UnsafeMutableBufferPointer<U>?, firstStep: Bool) {
        // Safe: the caller checked the lengths equal and non-zero, so the base addresses exist.
        let p = value.baseAddress!, g = gradient.baseAddress!
        let decays = weightDecay != 0
        guard let b = buffer?.baseAddress else {
            for i in 0..<value.count {
                let d = decays ? g[i] + weightDecay * p[i] : g[i]
                p[i] = p[i] + negativeLearningRate * d
            }
            return
        }
        for i in 0..<value.count {
            let d = decays ? g[i] + weightDecay * p[i] : g[i]
            let velocity = firstStep ? d : b[i] * momentum + oneMinusDampening * d
            b[i] = velocity
            let direction = nesterov ? d + momentum * velocity : velocity
            p[i] = p[i] + negativeLearningRate * direction
        }
    }
}
