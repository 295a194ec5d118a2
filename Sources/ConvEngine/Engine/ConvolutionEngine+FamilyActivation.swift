// The fused activation on the transposed 2-D, 1-D, 1-D transposed and 3-D operations: the same buffer entry points
// as the 2-D convolution's (ConvolutionEngine+Forward.swift, ConvolutionEngine+Activation.swift), written once for
// every geometry of the family as a call of the geometry's activated pass (LayerGeometry.swift), whose default is
// the shared passes of ActivatedPasses.swift around the operation's plain pass. They are disfavoured so that a 2-D
// call keeps choosing the ConvGeometry overloads (the fused epilogue).

extension ConvolutionEngine {
    /// Any operation of the family with a fused activation, `output = f(op(input, filter) + bias)`: the plain pass
    /// (``forward(_:input:filter:bias:output:workspace:)-(TransposedConvGeometry,UnsafeBufferPointer<T>,_,_,_,_)``
    /// and its overloads for the other geometries), then f over the output in parallel runs of 64 Ki elements. The
    /// result is the plain pass's, activated element by element (``LayerGeometry``'s default; a 2-D call chooses
    /// the ``ConvGeometry`` overload, whose algorithms fuse f into their epilogue).
    ///
    /// The tensors' shapes and layouts are those the geometry's type documents (``TransposedConvGeometry``,
    /// ``ConvGeometry1D``, ``TransposedConvGeometry1D``, ``ConvGeometry3D``).
    ///
    /// - Parameters:
    ///   - geometry: the operation.
    ///   - input: X, `geometry.inputCount` elements. Read only.
    ///   - filter: the weight, in the geometry's layout, `geometry.filterCount` elements. Read only.
    ///   - bias: `geometry.biasCount` elements (one per output channel), or `nil`.
    ///   - activation: f (``Activation``); its derivative is applied by
    ///     ``backward(_:input:filter:activation:output:outputGradient:preActivationGradient:inputGradient:filterGradient:biasGradient:workspace:)-(G,_,_,_,_,_,_,_,_,_,_)``.
    ///   - output: f(O), `geometry.outputCount` elements; overwritten. It must not overlap any other buffer.
    ///   - workspace: scratch memory, grown if needed and kept for later calls; one per concurrent call.
    /// - Throws: as the plain pass (``ConvError/bufferLength(name:expected:actual:)``,
    ///   ``ConvError/overlappingBuffers(output:other:)``), and ``ConvError/invalidArgument(name:reason:)`` for an
    ///   activation that ``Activation/validate()`` rejects (checked before anything runs).
    @_disfavoredOverload
    public func forward<G: LayerGeometry, T: ConvScalar>(
        _ geometry: G,
        input: UnsafeBufferPointer<T>, filter: UnsafeBufferPointer<T>, bias: UnsafeBufferPointer<T>?,
        activation: Activation, output: UnsafeMutableBufferPointer<T>, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try geometry.forward(on: self, input: input, filter: filter, bias: bias, activation: activation,
                             output: output, workspace: workspace)
    }

    /// The backward pass of any activated operation of the family: with Z = op(X, F) + B and `output` = f(Z), it
    /// writes dL/dZ = dL/dO ⊙ f′ into `preActivationGradient` (f′ read from `output`, see ``Activation``), then
    /// computes the requested gradients from dL/dZ as the plain backward pass does (overwritten; the filter and bias
    /// gradients summed over the batch). Shapes and layouts as the geometry's type documents.
    ///
    /// - Parameters:
    ///   - geometry: the operation.
    ///   - input: X, `geometry.inputCount` elements; required for the filter gradient, else may be `nil`.
    ///   - filter: the weight, `geometry.filterCount` elements; required for the input gradient, else may be `nil`.
    ///   - activation: the forward pass's f.
    ///   - output: the forward pass's result f(Z), `geometry.outputCount` elements. Read only.
    ///   - outputGradient: dL/dO, `geometry.outputCount` elements. Read only.
    ///   - preActivationGradient: `geometry.outputCount` elements, overwritten with dL/dZ (the caller's, so the
    ///     call allocates nothing); must not overlap any other buffer.
    ///   - inputGradient: dL/dX, `geometry.inputCount` elements, or `nil` if not wanted.
    ///   - filterGradient: dL/dF, `geometry.filterCount` elements, or `nil` if not wanted.
    ///   - biasGradient: dL/dB, `geometry.biasCount` elements, or `nil` if not wanted.
    ///   - workspace: scratch memory, grown if needed and kept for later calls; one per concurrent call.
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)``, ``ConvError/missingBuffer(name:)`` and
    ///   ``ConvError/overlappingBuffers(output:other:)`` before anything is written,
    ///   ``ConvError/invalidArgument(name:reason:)`` for a rejected activation, and the plain pass's errors.
    @_disfavoredOverload
    public func backward<G: LayerGeometry, T: ConvScalar>(
        _ geometry: G,
        input: UnsafeBufferPointer<T>?, filter: UnsafeBufferPointer<T>?,
        activation: Activation, output: UnsafeBufferPointer<T>,
        outputGradient: UnsafeBufferPointer<T>, preActivationGradient: UnsafeMutableBufferPointer<T>,
        inputGradient: UnsafeMutableBufferPointer<T>?, filterGradient: UnsafeMutableBufferPointer<T>?,
        biasGradient: UnsafeMutableBufferPointer<T>?, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try geometry.backward(on: self, input: input, filter: filter, activation: activation, output: output,
                              outputGradient: outputGradient, preActivationGradient: preActivationGradient,
                              inputGradient: inputGradient, filterGradient: filterGradient,
                              biasGradient: biasGradient, workspace: workspace)
    }
}
