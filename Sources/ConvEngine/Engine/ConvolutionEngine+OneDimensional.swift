// The 1-D convolution and the 1-D transposed convolution, run as the 2-D operations with one input row and a
// one-row kernel (`planar`): an N×C×L tensor is an N×C×1×L one element for element, so nothing is copied and
// every plan, the workspace limit and the workers carry over unchanged.

extension ConvolutionEngine {
    /// The plan calls on `geometry` in `scalar` will use: the 2-D convolution ``ConvGeometry1D/planar`` and its
    /// ``ConvPlan``, chosen as ``plan(for:scalar:)-(ConvGeometry,_)`` chooses it (a forced ``algorithm`` or
    /// ``inputGradientAlgorithm``, the workers and the tile settings apply to it).
    ///
    /// - Parameters:
    ///   - geometry: the 1-D convolution.
    ///   - scalar: the element type of the calls (`Float` by default).
    /// - Throws: as ``plan(for:scalar:)-(ConvGeometry,_)``.
    public func plan<T: ConvScalar>(for geometry: ConvGeometry1D,
                                    scalar: T.Type = Float.self) throws(ConvError) -> MappedConvPlan {
        MappedConvPlan(operation: "1-D → planar conv", convolution: geometry.planar,
                       plan: try plan(for: geometry.planar, scalar: scalar))
    }

    /// Workspace elements a call on `geometry` needs: those of ``ConvGeometry1D/planar``. Never depends on the
    /// batch; stays under ``workspaceLimit``.
    ///
    /// - Parameters:
    ///   - geometry: the 1-D convolution.
    ///   - scalar: the element type of the calls (`Float` by default).
    /// - Throws: as ``plan(for:scalar:)-(ConvGeometry,_)``.
    public func workspaceElementCount<T: ConvScalar>(for geometry: ConvGeometry1D,
                                                     scalar: T.Type = Float.self) throws(ConvError) -> Int {
        try workspaceElementCount(for: geometry.planar, scalar: scalar)
    }

    /// ``workspaceElementCount(for:scalar:)-(ConvGeometry1D,_)`` in bytes.
    ///
    /// - Parameters:
    ///   - geometry: the 1-D convolution.
    ///   - scalar: the element type of the calls (`Float` by default).
    /// - Throws: as ``plan(for:scalar:)-(ConvGeometry,_)``.
    public func workspaceBytes<T: ConvScalar>(for geometry: ConvGeometry1D,
                                              scalar: T.Type = Float.self) throws(ConvError) -> Int {
        try workspaceBytes(for: geometry.planar, scalar: scalar)
    }

    /// The 1-D forward pass, `output = conv1d(input, filter) + bias` (PyTorch's `conv1d`), run as
    /// ``ConvGeometry1D/planar`` on the same buffers.
    ///
    /// - Parameters:
    ///   - geometry: the 1-D convolution.
    ///   - input: X, `geometry.inputCount` elements, `N×C×L` (`N×L×C` with channels-last activations). Read only.
    ///   - filter: F, `geometry.filterCount` elements, `K×(C/G)×S`. Read only.
    ///   - bias: B, `geometry.outputChannels` elements, or `nil` for none. Read only.
    ///   - output: O, `geometry.outputCount` elements, `N×K×Q`; overwritten. It must not overlap any other buffer.
    ///   - workspace: scratch memory, grown to ``workspaceElementCount(for:scalar:)-(ConvGeometry1D,_)`` if
    ///     smaller and kept for later calls. Not thread-safe: one workspace per concurrent call.
    /// - Throws: as ``forward(_:input:filter:bias:output:workspace:)-(ConvGeometry,UnsafeBufferPointer<T>,_,_,_,_)``.
    public func forward<T: ConvScalar>(
        _ geometry: ConvGeometry1D,
        input: UnsafeBufferPointer<T>, filter: UnsafeBufferPointer<T>, bias: UnsafeBufferPointer<T>?,
        output: UnsafeMutableBufferPointer<T>, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try forward(geometry.planar, input: input, filter: filter, bias: bias, output: output, workspace: workspace)
    }

    /// The 1-D backward pass: any subset of the input, filter and bias gradients in one call, run as
    /// ``ConvGeometry1D/planar`` on the same buffers. Every gradient given is overwritten; the filter and bias
    /// gradients are summed over the batch.
    ///
    /// - Parameters:
    ///   - geometry: the 1-D convolution.
    ///   - input: X, `geometry.inputCount` elements; required for the filter gradient, else may be `nil`.
    ///   - filter: F, `geometry.filterCount` elements; required for the input gradient, else may be `nil`.
    ///   - outputGradient: dL/dO, `geometry.outputCount` elements, `N×K×Q`. Read only.
    ///   - inputGradient: dL/dX, `geometry.inputCount` elements, or `nil` if not wanted.
    ///   - filterGradient: dL/dF, `geometry.filterCount` elements, or `nil` if not wanted.
    ///   - biasGradient: dL/dB, `geometry.outputChannels` elements, or `nil` if not wanted.
    ///   - workspace: scratch memory, as in the forward pass.
    /// - Throws: as the 2-D backward pass.
    public func backward<T: ConvScalar>(
        _ geometry: ConvGeometry1D,
        input: UnsafeBufferPointer<T>?, filter: UnsafeBufferPointer<T>?,
        outputGradient: UnsafeBufferPointer<T>,
        inputGradient: UnsafeMutableBufferPointer<T>?, filterGradient: UnsafeMutableBufferPointer<T>?,
        biasGradient: UnsafeMutableBufferPointer<T>?, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try backward(geometry.planar, input: input, filter: filter, outputGradient: outputGradient,
                     inputGradient: inputGradient, filterGradient: filterGradient, biasGradient: biasGradient,
                     workspace: workspace)
    }

    /// The plan calls on `geometry` in `scalar` will use: that of the 2-D transposed convolution
    /// ``TransposedConvGeometry1D/planar`` (its associated convolution and that convolution's ``ConvPlan``; see
    /// ``plan(for:scalar:)-(TransposedConvGeometry,_)``, including the staged case).
    ///
    /// - Parameters:
    ///   - geometry: the 1-D transposed convolution.
    ///   - scalar: the element type of the calls (`Float` by default).
    /// - Throws: as ``plan(for:scalar:)-(TransposedConvGeometry,_)``.
    public func plan<T: ConvScalar>(for geometry: TransposedConvGeometry1D,
                                    scalar: T.Type = Float.self) throws(ConvError) -> MappedConvPlan {
        try transposedLayout(geometry.planar, T.self, operation: Self.transposed1D).mapped
    }

    /// Workspace elements a call on `geometry` needs: those of ``TransposedConvGeometry1D/planar``. Never
    /// depends on the batch; stays under ``workspaceLimit``.
    ///
    /// - Parameters:
    ///   - geometry: the 1-D transposed convolution.
    ///   - scalar: the element type of the calls (`Float` by default).
    /// - Throws: as ``plan(for:scalar:)-(TransposedConvGeometry,_)``.
    public func workspaceElementCount<T: ConvScalar>(for geometry: TransposedConvGeometry1D,
                                                     scalar: T.Type = Float.self) throws(ConvError) -> Int {
        try workspaceElementCount(for: geometry.planar, scalar: scalar)
    }

    /// ``workspaceElementCount(for:scalar:)-(TransposedConvGeometry1D,_)`` in bytes.
    ///
    /// - Parameters:
    ///   - geometry: the 1-D transposed convolution.
    ///   - scalar: the element type of the calls (`Float` by default).
    /// - Throws: as ``plan(for:scalar:)-(TransposedConvGeometry,_)``.
    public func workspaceBytes<T: ConvScalar>(for geometry: TransposedConvGeometry1D,
                                              scalar: T.Type = Float.self) throws(ConvError) -> Int {
        try workspaceBytes(for: geometry.planar, scalar: scalar)
    }

    /// The 1-D transposed forward pass, `output = conv_transpose1d(input, filter) + bias` (PyTorch's
    /// `conv_transpose1d`), run as ``TransposedConvGeometry1D/planar`` on the same buffers.
    ///
    /// - Parameters:
    ///   - geometry: the 1-D transposed convolution.
    ///   - input: Xt, `geometry.inputCount` elements, `N×Cin×L` (`N×L×Cin` with channels-last activations). Read only.
    ///   - filter: the weight Wt, `geometry.filterCount` elements, `Cin×(Cout/G)×S`. Read only.
    ///   - bias: Bt, `geometry.outputChannels` elements, or `nil` for none. Read only.
    ///   - output: Ot, `geometry.outputCount` elements, `N×Cout×Lo`; overwritten. It must not overlap any other
    ///     buffer.
    ///   - workspace: scratch memory, grown to
    ///     ``workspaceElementCount(for:scalar:)-(TransposedConvGeometry1D,_)`` if smaller and kept for later
    ///     calls. Not thread-safe: one workspace per concurrent call.
    /// - Throws: as ``forward(_:input:filter:bias:output:workspace:)-(TransposedConvGeometry,UnsafeBufferPointer<T>,_,_,_,_)``.
    public func forward<T: ConvScalar>(
        _ geometry: TransposedConvGeometry1D,
        input: UnsafeBufferPointer<T>, filter: UnsafeBufferPointer<T>, bias: UnsafeBufferPointer<T>?,
        output: UnsafeMutableBufferPointer<T>, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try transposedForward(geometry.planar, operation: Self.transposed1D, input: input, filter: filter,
                              bias: bias, output: output, workspace: workspace)
    }

    /// The 1-D transposed backward pass: any subset of the input, filter and bias gradients in one call, run as
    /// ``TransposedConvGeometry1D/planar`` on the same buffers. Every gradient given is overwritten; the filter
    /// and bias gradients are summed over the batch.
    ///
    /// - Parameters:
    ///   - geometry: the 1-D transposed convolution.
    ///   - input: Xt, `geometry.inputCount` elements; required for the filter gradient, else may be `nil`.
    ///   - filter: Wt, `geometry.filterCount` elements; required for the input gradient, else may be `nil`.
    ///   - outputGradient: dL/dOt, `geometry.outputCount` elements, `N×Cout×Lo`. Read only.
    ///   - inputGradient: dL/dXt, `geometry.inputCount` elements, or `nil` if not wanted.
    ///   - filterGradient: dL/dWt, `geometry.filterCount` elements, or `nil` if not wanted.
    ///   - biasGradient: dL/dBt, `geometry.outputChannels` elements, or `nil` if not wanted.
    ///   - workspace: scratch memory, as in the forward pass.
    /// - Throws: as the 2-D transposed backward pass.
    public func backward<T: ConvScalar>(
        _ geometry: TransposedConvGeometry1D,
        input: UnsafeBufferPointer<T>?, filter: UnsafeBufferPointer<T>?,
        outputGradient: UnsafeBufferPointer<T>,
        inputGradient: UnsafeMutableBufferPointer<T>?, filterGradient: UnsafeMutableBufferPointer<T>?,
        biasGradient: UnsafeMutableBufferPointer<T>?, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try transposedBackward(geometry.planar, operation: Self.transposed1D, input: input, filter: filter,
                               outputGradient: outputGradient, inputGradient: inputGradient,
                               filterGradient: filterGradient, biasGradient: biasGradient, workspace: workspace)
    }

    /// How a 1-D transposed plan names its operation.
    static let transposed1D = "1-D transposed → associated conv"
}
