// The backward pass: validate, plan, lay out the workspace, dispatch to the plan's algorithm and route.

extension ConvolutionEngine {
    /// The backward pass: any subset of the input, filter and bias gradients in one call, with the engine's
    /// ``ConvPlan`` (rows two to four of the GEMM table in <doc:TheMathAndTheLowering>).
    ///
    /// Every gradient given is overwritten (not accumulated into); the filter and bias gradients are summed
    /// over the whole batch. For a fixed worker count the results are bit-for-bit reproducible.
    ///
    /// - Parameters:
    ///   - geometry: the convolution.
    ///   - input: X, `geometry.inputCount` elements; required for the filter gradient, else may be `nil`.
    ///   - filter: F, `geometry.filterCount` elements; required for the input gradient, else may be `nil`.
    ///   - outputGradient: dL/dO, `geometry.outputCount` elements. Read only.
    ///   - inputGradient: dL/dX, `geometry.inputCount` elements, or `nil` if not wanted.
    ///   - filterGradient: dL/dF, `geometry.filterCount` elements, or `nil` if not wanted.
    ///   - biasGradient: dL/dB, `geometry.outputChannels` elements, or `nil` if not wanted.
    ///   - workspace: scratch memory, grown if needed and kept for later calls; one per concurrent call.
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)`` for any buffer given with the wrong length
    ///   (also one the requested gradients do not need), ``ConvError/missingBuffer(name:)`` (the input for the
    ///   filter gradient, the filter for the input gradient), ``ConvError/overlappingBuffers(output:other:)``,
    ///   ``ConvError/algorithmNotApplicable(algorithm:reason:)``, and the workspace errors of
    ///   ``forward(_:input:filter:bias:output:workspace:)-(ConvGeometry,UnsafeBufferPointer<T>,_,_,_,_)``.
    public func backward<T: ConvScalar>(
        _ geometry: ConvGeometry,
        input: UnsafeBufferPointer<T>?, filter: UnsafeBufferPointer<T>?,
        outputGradient: UnsafeBufferPointer<T>,
        inputGradient: UnsafeMutableBufferPointer<T>?, filterGradient: UnsafeMutableBufferPointer<T>?,
        biasGradient: UnsafeMutableBufferPointer<T>?, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        let g = geometry
        try checkBackwardBuffers(g, input: input, filter: filter, outputGradient: outputGradient,
                                 inputGradient: inputGradient, filterGradient: filterGradient,
                                 biasGradient: biasGradient)
        var gradients: GradientSet = []
        if inputGradient != nil { gradients.insert(.input) }
        if filterGradient != nil { gradients.insert(.filter) }
        if biasGradient != nil { gradients.insert(.bias) }
        let plan = try plan(for: g, scalar: T.self)
        let ws = try workspace.buffer(AlgorithmRegistry.visit(
            plan.algorithm, BackwardPassWorkspace(geometry: g, plan: plan, gradients: gradients)))
        try checkNoOverlap(
            outputs: [BufferSpan("inputGradient", inputGradient), BufferSpan("filterGradient", filterGradient),
                      BufferSpan("biasGradient", biasGradient)],
            others: [BufferSpan("input", input), BufferSpan("filter", filter),
                     BufferSpan("outputGradient", outputGradient), BufferSpan("workspace", ws)])
        // Safe: every buffer given was checked with the geometry's (nonzero) length.
        switch ScalarKind.of(T.self) {
        case .float:
            let call = BackwardCall(
                input: retype(input, Float.self)?.baseAddress, filter: retype(filter, Float.self)?.baseAddress,
                outputGradient: retype(outputGradient, Float.self).baseAddress!,
                inputGradient: retype(inputGradient, Float.self)?.baseAddress,
                filterGradient: retype(filterGradient, Float.self)?.baseAddress,
                biasGradient: retype(biasGradient, Float.self)?.baseAddress,
                workspace: workspaceStart(retype(ws, Float.self)), workers: plan.workers)
            try AlgorithmRegistry.visit(plan.algorithm, BackwardRun(geometry: g, plan: plan, call: call))
        case .double:
            let call = BackwardCall(
                input: retype(input, Double.self)?.baseAddress, filter: retype(filter, Double.self)?.baseAddress,
                outputGradient: retype(outputGradient, Double.self).baseAddress!,
                inputGradient: retype(inputGradient, Double.self)?.baseAddress,
                filterGradient: retype(filterGradient, Double.self)?.baseAddress,
                biasGradient: retype(biasGradient, Double.self)?.baseAddress,
                workspace: workspaceStart(retype(ws, Double.self)), workers: plan.workers)
            try AlgorithmRegistry.visit(plan.algorithm, BackwardRun(geometry: g, plan: plan, call: call))
        }
    }
}

/// The length checks of a backward call, shared by the engine and the reference: every buffer given is
/// checked, even one the requested gradients do not read, and the operands a gradient needs must be given.
func checkBackwardBuffers<S: ConvolutionShape, T>(
    _ g: S, input: UnsafeBufferPointer<T>?, filter: UnsafeBufferPointer<T>?,
    outputGradient: UnsafeBufferPointer<T>, inputGradient: UnsafeMutableBufferPointer<T>?,
    filterGradient: UnsafeMutableBufferPointer<T>?, biasGradient: UnsafeMutableBufferPointer<T>?
) throws(ConvError) {
    try checkLength("outputGradient", outputGradient.count, g.outputCount)
    if let input { try checkLength("input", input.count, g.inputCount) }
    if let filter { try checkLength("filter", filter.count, g.filterCount) }
    if let inputGradient { try checkLength("inputGradient", inputGradient.count, g.inputCount) }
    if let filterGradient { try checkLength("filterGradient", filterGradient.count, g.filterCount) }
    if let biasGradient { try checkLength("biasGradient", biasGradient.count, g.biasCount) }
    if inputGradient != nil && filter == nil { throw .missingBuffer(name: "filter") }
    if filterGradient != nil && input == nil { throw .missingBuffer(name: "input") }
}
