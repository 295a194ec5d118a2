// The array form of the forward pass with a fused activation, and the backward pass of such a forward pass: the
// activation's derivative on dL/dO first (ActivatedPasses.swift), then the plain backward pass on the result.

extension ConvolutionEngine {
    /// ``forward(_:input:filter:bias:activation:output:workspace:)-(ConvGeometry,_,UnsafeBufferPointer<T>,_,_,_,_)`` on arrays, returning a new output array
    /// (`geometry.outputCount` elements, in the geometry's layout).
    /// - Throws: as the buffer form, and ``ConvError/invalidArgument(name:reason:)`` when the output would not
    ///   fit in physical memory.
    public func forward<T: ConvScalar>(_ geometry: ConvGeometry, input: [T], filter: [T], bias: [T]? = nil,
                                       activation: Activation,
                                       workspace: ConvWorkspace<T>? = nil) throws(ConvError) -> [T] {
        var output: [T] = []
        try resizeResult(&output, "output", geometry.outputCount)
        let ws = workspace ?? ConvWorkspace<T>()
        try input.withUnsafeBufferPointer { x throws(ConvError) in
            try filter.withUnsafeBufferPointer { f throws(ConvError) in
                try withOptionalBuffer(bias) { b throws(ConvError) in
                    try output.withUnsafeMutableBufferPointer { o throws(ConvError) in
                        try forward(geometry, input: x, filter: f, bias: b, activation: activation, output: o,
                                    workspace: ws)
                    }
                }
            }
        }
        return output
    }

    /// The backward pass of ``forward(_:input:filter:bias:activation:output:workspace:)-(ConvGeometry,_,UnsafeBufferPointer<T>,_,_,_,_)``: with Z = conv(X, F) + B
    /// and `output` = f(Z), it writes dL/dZ = dL/dO ⊙ f′ into `preActivationGradient` (f′ read from `output`, see
    /// ``Activation``), then computes the requested gradients from dL/dZ exactly as
    /// ``backward(_:input:filter:outputGradient:inputGradient:filterGradient:biasGradient:workspace:)-(ConvGeometry,_,_,_,_,_,_,_)`` does
    /// (overwritten, summed over the batch for the filter and bias gradients).
    ///
    /// `preActivationGradient` is the caller's so that the call allocates nothing and its workspace stays
    /// independent of the batch; it holds dL/dZ afterwards.
    ///
    /// - Parameters:
    ///   - geometry: the convolution.
    ///   - input: X, `geometry.inputCount` elements; required for the filter gradient, else may be `nil`.
    ///   - filter: F, `geometry.filterCount` elements; required for the input gradient, else may be `nil`.
    ///   - activation: the forward pass's f.
    ///   - output: the forward pass's result f(Z), `geometry.outputCount` elements. Read only.
    ///   - outputGradient: dL/dO, `geometry.outputCount` elements. Read only.
    ///   - preActivationGradient: `geometry.outputCount` elements, overwritten with dL/dZ; must not overlap any
    ///     other buffer.
    ///   - inputGradient: dL/dX, `geometry.inputCount` elements, or `nil` if not wanted.
    ///   - filterGradient: dL/dF, `geometry.filterCount` elements, or `nil` if not wanted.
    ///   - biasGradient: dL/dB, `geometry.outputChannels` elements, or `nil` if not wanted.
    ///   - workspace: scratch memory, grown if needed and kept for later calls; one per concurrent call.
    /// - Throws: the errors of the plain backward pass, and ``ConvError/bufferLength(name:expected:actual:)`` for
    ///   `output` or `preActivationGradient`, ``ConvError/overlappingBuffers(output:other:)`` when
    ///   `preActivationGradient` overlaps another buffer, ``ConvError/invalidArgument(name:reason:)`` for an
    ///   activation that ``Activation/validate()`` rejects.
    public func backward<T: ConvScalar>(
        _ geometry: ConvGeometry,
        input: UnsafeBufferPointer<T>?, filter: UnsafeBufferPointer<T>?,
        activation: Activation, output: UnsafeBufferPointer<T>,
        outputGradient: UnsafeBufferPointer<T>, preActivationGradient: UnsafeMutableBufferPointer<T>,
        inputGradient: UnsafeMutableBufferPointer<T>?, filterGradient: UnsafeMutableBufferPointer<T>?,
        biasGradient: UnsafeMutableBufferPointer<T>?, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try activatedBackward(geometry, input: input, filter: filter, activation: activation, output: output,
                              outputGradient: outputGradient, preActivationGradient: preActivationGradient,
                              inputGradient: inputGradient, filterGradient: filterGradient,
                              biasGradient: biasGradient, workspace: workspace) {
            x, f, dZ, dx, df, db throws(ConvError) in
            try backward(geometry, input: x, filter: f, outputGradient: dZ, inputGradient: dx, filterGradient: df,
                         biasGradient: db, workspace: workspace)
        }
    }
}
