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
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)`` if the lengths differ,
    ///   ``ConvError/overlappingBuffers(output:other:)`` if the buffers share memory.
    public func step<T: ConvScalar>(_ parameters: UnsafeMutableBufferPointer<T>, gradient: UnsafeBufferPointer<T>) throws(ConvError) {
        try checkLength("gradient", gradient.count, parameters.count)
        try checkNoOverlap(outputs: [BufferSpan("parameters", parameters)], others: [BufferSpan("gradient", gradient)])
        let alpha = T(learningRate)
        for i in 0..<parameters.count { parameters[i] -= alpha * gradient[i] }
    }

    /// `parameters[i] -= learningRate · gradient[i]` on arrays.
    public func step<T: ConvScalar>(_ parameters: inout [T], gradient: [T]) throws(ConvError) {
        try parameters.withUnsafeMutableBufferPointer { p throws(ConvError) in
            try gradient.withUnsafeBufferPointer { g throws(ConvError) in try step(p, gradient: g) }
        }
    }

    /// One update of a convolution layer: `filter -= α·gradients.filter`, `bias -= α·gradients.bias`
    /// (each only when that gradient is present).
    public func update<T: ConvScalar>(filter: inout [T], bias: inout [T], with gradients: Gradients<T>) throws(ConvError) {
        if let dF = gradients.filter { try step(&filter, gradient: dF) }
        if let dB = gradients.bias { try step(&bias, gradient: dB) }
    }
}
