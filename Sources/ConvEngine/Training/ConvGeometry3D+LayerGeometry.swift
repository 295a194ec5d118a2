// ConvGeometry3D as a layer's geometry (PyTorch's `nn.Conv3d`): the weight shape and the backends' passes for this type.

extension ConvGeometry3D: LayerGeometry {
    /// `[K, C/G, T, R, S]`, PyTorch's `nn.Conv3d` weight layout.
    public var weightShape: [Int] { [outputChannels, inputChannelsPerGroup, kernelDepth, kernelHeight, kernelWidth] }

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
}
