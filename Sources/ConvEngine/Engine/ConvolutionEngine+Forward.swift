// The forward pass: validate, plan, lay out the workspace, dispatch to the plan's algorithm.

extension ConvolutionEngine {
    /// The forward pass, `output = conv(input, filter) + bias`, with the engine's ``ConvPlan`` (the first row
    /// of the GEMM table in <doc:TheMathAndTheLowering>).
    ///
    /// - Parameters:
    ///   - geometry: the convolution.
    ///   - input: X, `geometry.inputCount` elements, in the geometry's layout (NCHW by default; <doc:Layouts>). Read only.
    ///   - filter: F, `geometry.filterCount` elements, `K×(C/G)×R×S` (`K×R×S×(C/G)` with a channels-last filter). Read only.
    ///   - bias: B, `geometry.outputChannels` elements, or `nil` for none. Read only.
    ///   - output: O, `geometry.outputCount` elements, in the geometry's layout; overwritten. It must not overlap any other buffer.
    ///   - workspace: scratch memory, grown to ``workspaceElementCount(for:scalar:)-(ConvGeometry,_)`` if smaller and kept for later
    ///     calls. Not thread-safe: one workspace per concurrent call.
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)`` for a buffer of the wrong length,
    ///   ``ConvError/overlappingBuffers(output:other:)`` when the output shares memory with another buffer,
    ///   ``ConvError/algorithmNotApplicable(algorithm:reason:)`` when a forced algorithm cannot run `geometry`,
    ///   ``ConvError/workspaceCapTooSmall(required:cap:)`` and ``ConvError/sizeOverflow(quantity:)`` when the
    ///   workspace would not fit.
    public func forward<T: ConvScalar>(
        _ geometry: ConvGeometry,
        input: UnsafeBufferPointer<T>, filter: UnsafeBufferPointer<T>, bias: UnsafeBufferPointer<T>?,
        output: UnsafeMutableBufferPointer<T>, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try forward(geometry, input: input, filter: filter, bias: bias, activation: .identity, output: output,
                    workspace: workspace)
    }

    /// The forward pass with a fused activation, `output = f(conv(input, filter) + bias)`: every plan applies
    /// `activation` to each output region right after computing it, while it is in cache, instead of in a
    /// second pass over the whole output. The result is the plain pass's, then f, element by element (f is
    /// exact: a comparison and at most one multiplication, the leaky slope's).
    ///
    /// - Parameters:
    ///   - geometry: the convolution.
    ///   - input: X, `geometry.inputCount` elements, in the geometry's layout (NCHW by default; <doc:Layouts>). Read only.
    ///   - filter: F, `geometry.filterCount` elements, `K×(C/G)×R×S` (`K×R×S×(C/G)` with a channels-last filter). Read only.
    ///   - bias: B, `geometry.outputChannels` elements, or `nil` for none. Read only.
    ///   - activation: f (``Activation``); its derivative is applied by
    ///     ``backward(_:input:filter:activation:output:outputGradient:preActivationGradient:inputGradient:filterGradient:biasGradient:workspace:)-(ConvGeometry,_,_,_,_,_,_,_,_,_,_)``.
    ///   - output: f(O), `geometry.outputCount` elements, in the geometry's layout; overwritten. It must not overlap any other buffer.
    ///   - workspace: scratch memory, as in ``forward(_:input:filter:bias:output:workspace:)-(ConvGeometry,UnsafeBufferPointer<T>,_,_,_,_)``.
    /// - Throws: as ``forward(_:input:filter:bias:output:workspace:)-(ConvGeometry,UnsafeBufferPointer<T>,_,_,_,_)``, and
    ///   ``ConvError/invalidArgument(name:reason:)`` for an activation whose parameters
    ///   ``Activation/validate()`` rejects.
    public func forward<T: ConvScalar>(
        _ geometry: ConvGeometry,
        input: UnsafeBufferPointer<T>, filter: UnsafeBufferPointer<T>, bias: UnsafeBufferPointer<T>?,
        activation: Activation, output: UnsafeMutableBufferPointer<T>, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try forward(geometry, input: input, filter: filter, bias: bias, activation: activation, output: output,
                    workspace: workspace, plan: nil, prepared: nil)
    }

    /// The forward pass with `plan` (nil: this engine's plan for the geometry) and, when given, the plan's
    /// prepared filter (``PreparedFilter``) instead of the algorithm's own per-call filter transform.
    func forward<T: ConvScalar>(
        _ geometry: ConvGeometry,
        input: UnsafeBufferPointer<T>, filter: UnsafeBufferPointer<T>, bias: UnsafeBufferPointer<T>?,
        activation: Activation, output: UnsafeMutableBufferPointer<T>, workspace: ConvWorkspace<T>,
        plan given: ConvPlan?, prepared: UnsafeBufferPointer<T>?
    ) throws(ConvError) {
        try activation.validate()
        let g = geometry
        try checkLength("input", input.count, g.inputCount)
        try checkLength("filter", filter.count, g.filterCount)
        if let bias { try checkLength("bias", bias.count, g.outputChannels) }
        try checkLength("output", output.count, g.outputCount)
        let plan: ConvPlan
        if let given { plan = given } else { plan = try self.plan(for: g, scalar: T.self) }
        let ws = try workspace.buffer(AlgorithmRegistry.visit(plan.algorithm, ForwardWorkspace(geometry: g, plan: plan)))
        try checkNoOverlap(
            outputs: [BufferSpan("output", output)],
            others: [BufferSpan("input", input), BufferSpan("filter", filter), BufferSpan("bias", bias),
                     BufferSpan("prepared filter", prepared), BufferSpan("workspace", ws)])
        // Dispatch to a concrete element type so the loops are specialised inside the library.
        // Safe: the lengths were checked against the geometry, so the base addresses are non-nil.
        switch ScalarKind.of(T.self) {
        case .float:
            try AlgorithmRegistry.visit(plan.algorithm, ForwardRun<Float>(
                geometry: g, plan: plan, input: retype(input, Float.self).baseAddress!,
                filter: retype(filter, Float.self).baseAddress!, bias: retype(bias, Float.self)?.baseAddress,
                output: retype(output, Float.self).baseAddress!, workspace: workspaceStart(retype(ws, Float.self)),
                activation: activation, preparedFilter: retype(prepared, Float.self)?.baseAddress))
        case .double:
            try AlgorithmRegistry.visit(plan.algorithm, ForwardRun<Double>(
                geometry: g, plan: plan, input: retype(input, Double.self).baseAddress!,
                filter: retype(filter, Double.self).baseAddress!, bias: retype(bias, Double.self)?.baseAddress,
                output: retype(output, Double.self).baseAddress!, workspace: workspaceStart(retype(ws, Double.self)),
                activation: activation, preparedFilter: retype(prepared, Double.self)?.baseAddress))
        }
    }
}
