// The fused activation on the transposed 2-D, 1-D, 1-D transposed and 3-D operations: the same buffer entry points
// as the 2-D convolution's (ConvolutionEngine+Forward.swift, ConvolutionEngine+Activation.swift), each a thin call
// of the shared passes in ActivatedPasses.swift around the operation's plain pass.

extension ConvolutionEngine {

    // MARK: TransposedConvGeometry

    /// The transposed 2-D convolution with a fused activation, `output = f(conv_transpose2d(input, filter) + bias)`:
    /// the plain pass
    /// (``forward(_:input:filter:bias:output:workspace:)-(TransposedConvGeometry,UnsafeBufferPointer<T>,_,_,_,_)``),
    /// then f over the output in parallel runs of 64 Ki elements. The result is the plain pass's, activated element by
    /// element.
    ///
    /// - Parameters:
    ///   - geometry: the operation.
    ///   - input: X, `N×Cin×H×W`, `geometry.inputCount` elements. Read only.
    ///   - filter: the weight, `Cin×(Cout/G)×R×S`, `geometry.filterCount` elements. Read only.
    ///   - bias: `Cout` elements, or `nil`.
    ///   - activation: f (``Activation``); its derivative is applied by
    ///     ``backward(_:input:filter:activation:output:outputGradient:preActivationGradient:inputGradient:filterGradient:biasGradient:workspace:)-(TransposedConvGeometry,_,_,_,_,_,_,_,_,_,_)``.
    ///   - output: f(O), `N×Cout×Ho×Wo`, `geometry.outputCount` elements; overwritten. It must not overlap any other
    ///     buffer.
    ///   - workspace: scratch memory, grown if needed and kept for later calls; one per concurrent call.
    /// - Throws: as the plain pass, and ``ConvError/invalidArgument(name:reason:)`` for an activation that
    ///   ``Activation/validate()`` rejects (checked before anything runs).
    public func forward<T: ConvScalar>(
        _ geometry: TransposedConvGeometry,
        input: UnsafeBufferPointer<T>, filter: UnsafeBufferPointer<T>, bias: UnsafeBufferPointer<T>?,
        activation: Activation, output: UnsafeMutableBufferPointer<T>, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try activatedForward(geometry, activation: activation, output: output) { () throws(ConvError) in
            try forward(geometry, input: input, filter: filter, bias: bias, output: output, workspace: workspace)
        }
    }

    /// The backward pass of the activated transposed 2-D convolution: with Z = conv_transpose2d(X, F) + B and `output`
    /// = f(Z), it writes dL/dZ = dL/dO ⊙ f′ into `preActivationGradient` (f′ read from `output`, see ``Activation``),
    /// then computes the requested gradients from dL/dZ as the plain backward pass does (overwritten; the filter and
    /// bias gradients summed over the batch).
    ///
    /// - Parameters:
    ///   - geometry: the operation.
    ///   - input: X, `N×Cin×H×W`; required for the filter gradient, else may be `nil`.
    ///   - filter: the weight, `Cin×(Cout/G)×R×S`; required for the input gradient, else may be `nil`.
    ///   - activation: the forward pass's f.
    ///   - output: the forward pass's result f(Z), `N×Cout×Ho×Wo`. Read only.
    ///   - outputGradient: dL/dO, `N×Cout×Ho×Wo`. Read only.
    ///   - preActivationGradient: `geometry.outputCount` elements, overwritten with dL/dZ (the caller's, so the
    ///     call allocates nothing); must not overlap any other buffer.
    ///   - inputGradient: dL/dX, `N×Cin×H×W`, or `nil` if not wanted.
    ///   - filterGradient: dL/dF, `Cin×(Cout/G)×R×S`, or `nil` if not wanted.
    ///   - biasGradient: dL/dB, `Cout` elements, or `nil` if not wanted.
    ///   - workspace: scratch memory, grown if needed and kept for later calls; one per concurrent call.
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)``, ``ConvError/missingBuffer(name:)`` and
    ///   ``ConvError/overlappingBuffers(output:other:)`` before anything is written,
    ///   ``ConvError/invalidArgument(name:reason:)`` for a rejected activation, and the plain pass's errors.
    public func backward<T: ConvScalar>(
        _ geometry: TransposedConvGeometry,
        input: UnsafeBufferPointer<T>?, filter: UnsafeBufferPointer<T>?,
        activation: Activation, output: UnsafeBufferPointer<T>,
        outputGradient: UnsafeBufferPointer<T>, preActivationGradient: UnsafeMutableBufferPointer<T>,
        inputGradient: UnsafeMutableBufferPointer<T>?, filterGradient: UnsafeMutableBufferPointer<T>?,
        biasGradient: UnsafeMutableBufferPointer<T>?, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try activatedBackward(
            geometry, input: input, filter: filter, activation: activation, output: output,
            outputGradient: outputGradient, preActivationGradient: preActivationGradient,
            inputGradient: inputGradient, filterGradient: filterGradient, biasGradient: biasGradient,
            workspace: workspace
        ) { x, f, dZ, dX, dF, dB throws(ConvError) in
            try backward(geometry, input: x, filter: f, outputGradient: dZ, inputGradient: dX, filterGradient: dF,
                         biasGradient: dB, workspace: workspace)
        }
    }

    // MARK: ConvGeometry1D

    /// The 1-D convolution with a fused activation, `output = f(conv1d(input, filter) + bias)`: the plain pass
    /// (``forward(_:input:filter:bias:output:workspace:)-(ConvGeometry1D,UnsafeBufferPointer<T>,_,_,_,_)``), then f
    /// over the output in parallel runs of 64 Ki elements. The result is the plain pass's, activated element by
    /// element.
    ///
    /// - Parameters:
    ///   - geometry: the operation.
    ///   - input: X, `N×C×L`, `geometry.inputCount` elements. Read only.
    ///   - filter: the weight, `K×(C/G)×S`, `geometry.filterCount` elements. Read only.
    ///   - bias: `K` elements, or `nil`.
    ///   - activation: f (``Activation``); its derivative is applied by
    ///     ``backward(_:input:filter:activation:output:outputGradient:preActivationGradient:inputGradient:filterGradient:biasGradient:workspace:)-(ConvGeometry1D,_,_,_,_,_,_,_,_,_,_)``.
    ///   - output: f(O), `N×K×Q`, `geometry.outputCount` elements; overwritten. It must not overlap any other buffer.
    ///   - workspace: scratch memory, grown if needed and kept for later calls; one per concurrent call.
    /// - Throws: as the plain pass, and ``ConvError/invalidArgument(name:reason:)`` for an activation that
    ///   ``Activation/validate()`` rejects (checked before anything runs).
    public func forward<T: ConvScalar>(
        _ geometry: ConvGeometry1D,
        input: UnsafeBufferPointer<T>, filter: UnsafeBufferPointer<T>, bias: UnsafeBufferPointer<T>?,
        activation: Activation, output: UnsafeMutableBufferPointer<T>, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try activatedForward(geometry, activation: activation, output: output) { () throws(ConvError) in
            try forward(geometry, input: input, filter: filter, bias: bias, output: output, workspace: workspace)
        }
    }

    /// The backward pass of the activated 1-D convolution: with Z = conv1d(X, F) + B and `output` = f(Z), it writes
    /// dL/dZ = dL/dO ⊙ f′ into `preActivationGradient` (f′ read from `output`, see ``Activation``), then computes the
    /// requested gradients from dL/dZ as the plain backward pass does (overwritten; the filter and bias gradients
    /// summed over the batch).
    ///
    /// - Parameters:
    ///   - geometry: the operation.
    ///   - input: X, `N×C×L`; required for the filter gradient, else may be `nil`.
    ///   - filter: the weight, `K×(C/G)×S`; required for the input gradient, else may be `nil`.
    ///   - activation: the forward pass's f.
    ///   - output: the forward pass's result f(Z), `N×K×Q`. Read only.
    ///   - outputGradient: dL/dO, `N×K×Q`. Read only.
    ///   - preActivationGradient: `geometry.outputCount` elements, overwritten with dL/dZ (the caller's, so the
    ///     call allocates nothing); must not overlap any other buffer.
    ///   - inputGradient: dL/dX, `N×C×L`, or `nil` if not wanted.
    ///   - filterGradient: dL/dF, `K×(C/G)×S`, or `nil` if not wanted.
    ///   - biasGradient: dL/dB, `K` elements, or `nil` if not wanted.
    ///   - workspace: scratch memory, grown if needed and kept for later calls; one per concurrent call.
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)``, ``ConvError/missingBuffer(name:)`` and
    ///   ``ConvError/overlappingBuffers(output:other:)`` before anything is written,
    ///   ``ConvError/invalidArgument(name:reason:)`` for a rejected activation, and the plain pass's errors.
    public func backward<T: ConvScalar>(
        _ geometry: ConvGeometry1D,
        input: UnsafeBufferPointer<T>?, filter: UnsafeBufferPointer<T>?,
        activation: Activation, output: UnsafeBufferPointer<T>,
        outputGradient: UnsafeBufferPointer<T>, preActivationGradient: UnsafeMutableBufferPointer<T>,
        inputGradient: UnsafeMutableBufferPointer<T>?, filterGradient: UnsafeMutableBufferPointer<T>?,
        biasGradient: UnsafeMutableBufferPointer<T>?, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try activatedBackward(
            geometry, input: input, filter: filter, activation: activation, output: output,
            outputGradient: outputGradient, preActivationGradient: preActivationGradient,
            inputGradient: inputGradient, filterGradient: filterGradient, biasGradient: biasGradient,
            workspace: workspace
        ) { x, f, dZ, dX, dF, dB throws(ConvError) in
            try backward(geometry, input: x, filter: f, outputGradient: dZ, inputGradient: dX, filterGradient: dF,
                         biasGradient: dB, workspace: workspace)
        }
    }

    // MARK: TransposedConvGeometry1D

    /// The 1-D transposed convolution with a fused activation, `output = f(conv_transpose1d(input, filter) + bias)`:
    /// the plain pass
    /// (``forward(_:input:filter:bias:output:workspace:)-(TransposedConvGeometry1D,UnsafeBufferPointer<T>,_,_,_,_)``),
    /// then f over the output in parallel runs of 64 Ki elements. The result is the plain pass's, activated element by
    /// element.
    ///
    /// - Parameters:
    ///   - geometry: the operation.
    ///   - input: X, `N×Cin×L`, `geometry.inputCount` elements. Read only.
    ///   - filter: the weight, `Cin×(Cout/G)×S`, `geometry.filterCount` elements. Read only.
    ///   - bias: `Cout` elements, or `nil`.
    ///   - activation: f (``Activation``); its derivative is applied by
    ///     ``backward(_:input:filter:activation:output:outputGradient:preActivationGradient:inputGradient:filterGradient:biasGradient:workspace:)-(TransposedConvGeometry1D,_,_,_,_,_,_,_,_,_,_)``.
    ///   - output: f(O), `N×Cout×Lo`, `geometry.outputCount` elements; overwritten. It must not overlap any other
    ///     buffer.
    ///   - workspace: scratch memory, grown if needed and kept for later calls; one per concurrent call.
    /// - Throws: as the plain pass, and ``ConvError/invalidArgument(name:reason:)`` for an activation that
    ///   ``Activation/validate()`` rejects (checked before anything runs).
    public func forward<T: ConvScalar>(
        _ geometry: TransposedConvGeometry1D,
        input: UnsafeBufferPointer<T>, filter: UnsafeBufferPointer<T>, bias: UnsafeBufferPointer<T>?,
        activation: Activation, output: UnsafeMutableBufferPointer<T>, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try activatedForward(geometry, activation: activation, output: output) { () throws(ConvError) in
            try forward(geometry, input: input, filter: filter, bias: bias, output: output, workspace: workspace)
        }
    }

    /// The backward pass of the activated 1-D transposed convolution: with Z = conv_transpose1d(X, F) + B and `output`
    /// = f(Z), it writes dL/dZ = dL/dO ⊙ f′ into `preActivationGradient` (f′ read from `output`, see ``Activation``),
    /// then computes the requested gradients from dL/dZ as the plain backward pass does (overwritten; the filter and
    /// bias gradients summed over the batch).
    ///
    /// - Parameters:
    ///   - geometry: the operation.
    ///   - input: X, `N×Cin×L`; required for the filter gradient, else may be `nil`.
    ///   - filter: the weight, `Cin×(Cout/G)×S`; required for the input gradient, else may be `nil`.
    ///   - activation: the forward pass's f.
    ///   - output: the forward pass's result f(Z), `N×Cout×Lo`. Read only.
    ///   - outputGradient: dL/dO, `N×Cout×Lo`. Read only.
    ///   - preActivationGradient: `geometry.outputCount` elements, overwritten with dL/dZ (the caller's, so the
    ///     call allocates nothing); must not overlap any other buffer.
    ///   - inputGradient: dL/dX, `N×Cin×L`, or `nil` if not wanted.
    ///   - filterGradient: dL/dF, `Cin×(Cout/G)×S`, or `nil` if not wanted.
    ///   - biasGradient: dL/dB, `Cout` elements, or `nil` if not wanted.
    ///   - workspace: scratch memory, grown if needed and kept for later calls; one per concurrent call.
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)``, ``ConvError/missingBuffer(name:)`` and
    ///   ``ConvError/overlappingBuffers(output:other:)`` before anything is written,
    ///   ``ConvError/invalidArgument(name:reason:)`` for a rejected activation, and the plain pass's errors.
    public func backward<T: ConvScalar>(
        _ geometry: TransposedConvGeometry1D,
        input: UnsafeBufferPointer<T>?, filter: UnsafeBufferPointer<T>?,
        activation: Activation, output: UnsafeBufferPointer<T>,
        outputGradient: UnsafeBufferPointer<T>, preActivationGradient: UnsafeMutableBufferPointer<T>,
        inputGradient: UnsafeMutableBufferPointer<T>?, filterGradient: UnsafeMutableBufferPointer<T>?,
        biasGradient: UnsafeMutableBufferPointer<T>?, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try activatedBackward(
            geometry, input: input, filter: filter, activation: activation, output: output,
            outputGradient: outputGradient, preActivationGradient: preActivationGradient,
            inputGradient: inputGradient, filterGradient: filterGradient, biasGradient: biasGradient,
            workspace: workspace
        ) { x, f, dZ, dX, dF, dB throws(ConvError) in
            try backward(geometry, input: x, filter: f, outputGradient: dZ, inputGradient: dX, filterGradient: dF,
                         biasGradient: dB, workspace: workspace)
        }
    }

    // MARK: ConvGeometry3D

    /// The 3-D convolution with a fused activation, `output = f(conv3d(input, filter) + bias)`: the plain pass
    /// (``forward(_:input:filter:bias:output:workspace:)-(ConvGeometry3D,UnsafeBufferPointer<T>,_,_,_,_)``), then f
    /// over the output in parallel runs of 64 Ki elements. The result is the plain pass's, activated element by
    /// element.
    ///
    /// - Parameters:
    ///   - geometry: the operation.
    ///   - input: X, `N×C×D×H×W`, `geometry.inputCount` elements. Read only.
    ///   - filter: the weight, `K×(C/G)×T×R×S`, `geometry.filterCount` elements. Read only.
    ///   - bias: `K` elements, or `nil`.
    ///   - activation: f (``Activation``); its derivative is applied by
    ///     ``backward(_:input:filter:activation:output:outputGradient:preActivationGradient:inputGradient:filterGradient:biasGradient:workspace:)-(ConvGeometry3D,_,_,_,_,_,_,_,_,_,_)``.
    ///   - output: f(O), `N×K×E×P×Q`, `geometry.outputCount` elements; overwritten. It must not overlap any other
    ///     buffer.
    ///   - workspace: scratch memory, grown if needed and kept for later calls; one per concurrent call.
    /// - Throws: as the plain pass, and ``ConvError/invalidArgument(name:reason:)`` for an activation that
    ///   ``Activation/validate()`` rejects (checked before anything runs).
    public func forward<T: ConvScalar>(
        _ geometry: ConvGeometry3D,
        input: UnsafeBufferPointer<T>, filter: UnsafeBufferPointer<T>, bias: UnsafeBufferPointer<T>?,
        activation: Activation, output: UnsafeMutableBufferPointer<T>, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try activatedForward(geometry, activation: activation, output: output) { () throws(ConvError) in
            try forward(geometry, input: input, filter: filter, bias: bias, output: output, workspace: workspace)
        }
    }

    /// The backward pass of the activated 3-D convolution: with Z = conv3d(X, F) + B and `output` = f(Z), it writes
    /// dL/dZ = dL/dO ⊙ f′ into `preActivationGradient` (f′ read from `output`, see ``Activation``), then computes the
    /// requested gradients from dL/dZ as the plain backward pass does (overwritten; the filter and bias gradients
    /// summed over the batch).
    ///
    /// - Parameters:
    ///   - geometry: the operation.
    ///   - input: X, `N×C×D×H×W`; required for the filter gradient, else may be `nil`.
    ///   - filter: the weight, `K×(C/G)×T×R×S`; required for the input gradient, else may be `nil`.
    ///   - activation: the forward pass's f.
    ///   - output: the forward pass's result f(Z), `N×K×E×P×Q`. Read only.
    ///   - outputGradient: dL/dO, `N×K×E×P×Q`. Read only.
    ///   - preActivationGradient: `geometry.outputCount` elements, overwritten with dL/dZ (the caller's, so the
    ///     call allocates nothing); must not overlap any other buffer.
    ///   - inputGradient: dL/dX, `N×C×D×H×W`, or `nil` if not wanted.
    ///   - filterGradient: dL/dF, `K×(C/G)×T×R×S`, or `nil` if not wanted.
    ///   - biasGradient: dL/dB, `K` elements, or `nil` if not wanted.
    ///   - workspace: scratch memory, grown if needed and kept for later calls; one per concurrent call.
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)``, ``ConvError/missingBuffer(name:)`` and
    ///   ``ConvError/overlappingBuffers(output:other:)`` before anything is written,
    ///   ``ConvError/invalidArgument(name:reason:)`` for a rejected activation, and the plain pass's errors.
    public func backward<T: ConvScalar>(
        _ geometry: ConvGeometry3D,
        input: UnsafeBufferPointer<T>?, filter: UnsafeBufferPointer<T>?,
        activation: Activation, output: UnsafeBufferPointer<T>,
        outputGradient: UnsafeBufferPointer<T>, preActivationGradient: UnsafeMutableBufferPointer<T>,
        inputGradient: UnsafeMutableBufferPointer<T>?, filterGradient: UnsafeMutableBufferPointer<T>?,
        biasGradient: UnsafeMutableBufferPointer<T>?, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try activatedBackward(
            geometry, input: input, filter: filter, activation: activation, output: output,
            outputGradient: outputGradient, preActivationGradient: preActivationGradient,
            inputGradient: inputGradient, filterGradient: filterGradient, biasGradient: biasGradient,
            workspace: workspace
        ) { x, f, dZ, dX, dF, dB throws(ConvError) in
            try backward(geometry, input: x, filter: f, outputGradient: dZ, inputGradient: dX, filterGradient: dF,
                         biasGradient: dB, workspace: workspace)
        }
    }
}
