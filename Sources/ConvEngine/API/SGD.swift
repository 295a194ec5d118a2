/// Plain stochastic gradient descent: `parameters -= learningRate · gradient`, element by element
/// (for a convolution layer, `F -= α·dF` and `B -= α·dB`).
public struct SGD: Sendable {
    /// The step size α.
    public let learningRate: Double

    /// An optimizer taking steps of size `learningRate` (α) against the gradient.
    ///
    /// - Parameter learningRate: α, any finite value (typically small and positive).
    /// - Throws: ``ConvError/invalidArgument(name:reason:)`` unless `learningRate` is finite.
    public init(learningRate: Double) throws(ConvError) {
        guard learningRate.isFinite else {
            throw ConvError.invalidArgument(name: "learningRate", reason: "\(learningRate) is not finite")
        }
        self.learningRate = learningRate
    }

    /// `parameters[i] -= learningRate · gradient[i]` in place.
    /// - Throws: ``ConvError/gradientLength(gradient:parameters:expected:actual:)`` (named `"gradient"` and
    ///   `"parameters"`) if the lengths differ, ``ConvError/overlappingBuffers(output:other:)`` if the
    ///   buffers share memory.
    public func step<T: ConvScalar>(_ parameters: UnsafeMutableBufferPointer<T>, gradient: UnsafeBufferPointer<T>) throws(ConvError) {
        try step(parameters, gradient: gradient, names: ("parameters", "gradient"))
    }

    /// `parameters[i] -= learningRate · gradient[i]` on arrays.
    /// - Throws: as the buffer form: ``ConvError/gradientLength(gradient:parameters:expected:actual:)``,
    ///   ``ConvError/overlappingBuffers(output:other:)``.
    public func step<T: ConvScalar>(_ parameters: inout [T], gradient: [T]) throws(ConvError) {
        try step(&parameters, gradient: gradient, names: ("parameters", "gradient"))
    }

    /// One update of a convolution layer: `filter -= α·gradients.filter`, `bias -= α·gradients.bias`
    /// (each only when that gradient is present).
    /// - Throws: ``ConvError/gradientLength(gradient:parameters:expected:actual:)`` naming `"gradients.filter"`
    ///   and `"filter"` (or `"gradients.bias"` and `"bias"`) if a gradient's length differs from its parameters'.
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

    /// The step itself; errors name the buffers as the caller knows them (`filter`, `gradients.filter`, …).
    private func step<T: ConvScalar>(_ parameters: UnsafeMutableBufferPointer<T>, gradient: UnsafeBufferPointer<T>,
                                     names: (parameters: String, gradient: String)) throws(ConvError) {
        if gradient.count != parameters.count {
            throw .gradientLength(gradient: names.gradient, parameters: names.parameters,
                                  expected: parameters.count, actual: gradient.count)
        }
        try checkNoOverlap(outputs: [BufferSpan(names.parameters, parameters)],
                           others: [BufferSpan(names.gradient, gradient)])
        let alpha = T(learningRate)
        for i in 0..<parameters.count { parameters[i] -= alpha * gradient[i] }
    }
}
