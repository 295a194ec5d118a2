// ConvGeometry as a layer's geometry (PyTorch's `nn.Conv2d`): the weight shape and the backends' passes for this type.

extension ConvGeometry: LayerGeometry {
    /// `[K, C/G, R, S]`, PyTorch's `nn.Conv2d` weight layout.
    public var weightShape: [Int] { [outputChannels, inputChannelsPerGroup, kernelHeight, kernelWidth] }

    /// ``ConvolutionEngine``'s plain forward pass for this geometry.
    public func forward<T: ConvScalar>(
        on engine: ConvolutionEngine, input: UnsafeBufferPointer<T>, filter: UnsafeBufferPointer<T>,
        bias: UnsafeBufferPointer<T>?, output: UnsafeMutableBufferPointer<T>, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try engine.forward(self, input: input, filter: filter, bias: bias, output: output, workspace: workspace)
    }

    /// ``ConvolutionEngine``'s plain backward pass for this geometry.
    public func backward<T: ConvScalar>(
        on engine: ConvolutionEngine, input: UnsafeBufferPointer<T>?, filter: UnsafeBufferPointer<T>?,
        outputGradient: UnsafeBufferPointer<T>, inputGradient: UnsafeMutableBufferPointer<T>?,
        filterGradient: UnsafeMutableBufferPointer<T>?, biasGradient: UnsafeMutableBufferPointer<T>?,
        workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try engine.backward(self, input: input, filter: filter, outputGradient: outputGradient,
                            inputGradient: inputGradient, filterGradient: filterGradient, biasGradient: biasGradient,
                            workspace: workspace)
    }

    /// ``ReferenceConvolution``'s forward pass for this geometry.
    public func forward<T: ConvScalar>(
        on reference: ReferenceConvolution, input: UnsafeBufferPointer<T>, filter: UnsafeBufferPointer<T>,
        bias: UnsafeBufferPointer<T>?, output: UnsafeMutableBufferPointer<T>, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try reference.forward(self, input: input, filter: filter, bias: bias, output: output, workspace: workspace)
    }

    /// ``ReferenceConvolution``'s backward pass for this geometry.
    public func backward<T: ConvScalar>(
        on reference: ReferenceConvolution, input: UnsafeBufferPointer<T>?, filter: UnsafeBufferPointer<T>?,
        outputGradient: UnsafeBufferPointer<T>, inputGradient: UnsafeMutableBufferPointer<T>?,
        filterGradient: UnsafeMutableBufferPointer<T>?, biasGradient: UnsafeMutableBufferPointer<T>?,
        workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try reference.backward(self, input: input, filter: filter, outputGradient: outputGradient,
                               inputGradient: inputGradient, filterGradient: filterGradient,
                               biasGradient: biasGradient, workspace: workspace)
    }

    /// ``ConvolutionEngine``'s forward pass with `activation` for this geometry: the fused epilogue of the 2-D algorithms (replacing the
    /// default of ``LayerGeometry``).
    public func forward<T: ConvScalar>(
        on engine: ConvolutionEngine, input: UnsafeBufferPointer<T>, filter: UnsafeBufferPointer<T>,
        bias: UnsafeBufferPointer<T>?, activation: Activation, output: UnsafeMutableBufferPointer<T>,
        workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try engine.forward(self, input: input, filter: filter, bias: bias, activation: activation, output: output,
                           workspace: workspace)
    }

    /// ``ConvolutionEngine``'s backward pass with `activation` for this geometry.
    public func backward<T: ConvScalar>(
        on engine: ConvolutionEngine, input: UnsafeBufferPointer<T>?, filter: UnsafeBufferPointer<T>?,
        activation: Activation, output: UnsafeBufferPointer<T>, outputGradient: UnsafeBufferPointer<T>,
        preActivationGradient: UnsafeMutableBufferPointer<T>, inputGradient: UnsafeMutableBufferPointer<T>?,
        filterGradient: UnsafeMutableBufferPointer<T>?, biasGradient: UnsafeMutableBufferPointer<T>?,
        workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try engine.backward(self, input: input, filter: filter, activation: activation, output: output,
                            outputGradient: outputGradient, preActivationGradient: preActivationGradient,
                            inputGradient: inputGradient, filterGradient: filterGradient, biasGradient: biasGradient,
                            workspace: workspace)
    }
}
