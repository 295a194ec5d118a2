/// An update rule that moves a ``Parameter``'s value against its gradient: ``SGD``, ``Adam``, ``AdamW``.
///
/// An optimiser value holds only hyperparameters and is immutable and `Sendable`; everything that changes
/// from step to step (momentum, Adam's moments, the step count) lives in each parameter's
/// ``Parameter/optimizerState``. A step reads ``Parameter/gradient`` and does not clear it (call
/// ``Parameter/zeroGradient()``, as PyTorch's `optimizer.zero_grad()`).
public protocol Optimizer: Sendable {
    /// One update of `parameter.value` from `parameter.gradient`, using and updating `parameter.optimizerState`.
    ///
    /// Buffers are allocated on the first step that needs them and reused after, so later steps allocate
    /// nothing.
    /// - Throws: ``ConvError/gradientLength(gradient:parameters:expected:actual:)`` if the gradient's length
    ///   differs from the parameter's; ``ConvError/invalidArgument(name:reason:)`` if the value's length
    ///   no longer matches the shape or the state belongs to another optimiser. Nothing is changed then.
    func step<T: ConvScalar>(_ parameter: inout Parameter<T>) throws(ConvError)
}

extension Optimizer {
    /// Steps every parameter of `container`, in its ``ParameterContainer/parameterNames`` order.
    ///
    /// - Throws: what the single-parameter `step` throws for the first parameter that fails; the parameters
    ///   before it have been updated.
    public func step<C: ParameterContainer>(_ container: C) throws(ConvError) {
        try container.updateParameters { (parameter: inout Parameter<C.Scalar>) throws(ConvError) in
            try step(&parameter)
        }
    }
}
