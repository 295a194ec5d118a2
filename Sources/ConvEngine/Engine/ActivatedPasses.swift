// The fused activation's passes written once over ConvolutionShape. Forward, for every operation of the family
// other than the 2-D convolution (whose algorithms activate each output region themselves): the plain pass, then f
// over the whole output in parallel runs small enough to stay in cache. Backward, for every operation the 2-D one
// included: f′ applied to dL/dO, then the plain backward pass.

extension ConvolutionEngine {
    /// Runs `plain` (a forward pass writing `output`), then f over `output`.
    ///
    /// The activation is checked before anything runs; `plain` checks every buffer's length, so `output` holds
    /// `shape.outputCount` elements when f is applied.
    func activatedForward<S: ConvolutionShape, T: ConvScalar>(
        _ shape: S, activation: Activation, output: UnsafeMutableBufferPointer<T>,
        plain: () throws(ConvError) -> Void
    ) throws(ConvError) {
        try activation.validate()
        try plain()
        try checkLength("output", output.count, shape.outputCount)
        // Safe: the output holds shape.outputCount ≥ 1 elements (checked just above and by the plain pass).
        switch ScalarKind.of(T.self) {
        case .float:
            activate(Epilogue<Float>(activation), retype(output, Float.self).baseAddress!, count: output.count)
        case .double:
            activate(Epilogue<Double>(activation), retype(output, Double.self).baseAddress!, count: output.count)
        }
    }

    /// f over `count` elements in runs of 64 Ki elements (256 KiB of Float, a core's L2) shared by the workers;
    /// each element's value does not depend on who computes it.
    private func activate<T: ConvScalar>(_ e: Epilogue<T>, _ p: UnsafeMutablePointer<T>, count: Int) {
        if e.isIdentity { return }
        let run = 1 << 16
        parallelItems(workers, count: (count + run - 1) / run) { _, item in
            let start = item * run
            e.apply(p + start, count: min(run, count - start))
        }
    }

    /// Checks every buffer of an activated backward pass, writes dL/dZ = dL/dO ⊙ f′(output) into
    /// `preActivationGradient`, then runs `plain` (a backward pass) on dL/dZ.
    ///
    /// Everything is checked before `preActivationGradient` is written, so an error leaves every buffer as it
    /// was; `plain` checks again what it reads (its own API edge).
    func activatedBackward<S: ConvolutionShape, T: ConvScalar>(
        _ shape: S,
        input: UnsafeBufferPointer<T>?, filter: UnsafeBufferPointer<T>?,
        activation: Activation, output: UnsafeBufferPointer<T>,
        outputGradient: UnsafeBufferPointer<T>, preActivationGradient: UnsafeMutableBufferPointer<T>,
        inputGradient: UnsafeMutableBufferPointer<T>?, filterGradient: UnsafeMutableBufferPointer<T>?,
        biasGradient: UnsafeMutableBufferPointer<T>?, workspace: ConvWorkspace<T>,
        plain: BackwardBufferCall<T>
    ) throws(ConvError) {
        try activation.validate()
        if inputGradient != nil, filter == nil { throw .missingBuffer(name: "filter") }
        if filterGradient != nil, input == nil { throw .missingBuffer(name: "input") }
        if let input { try checkLength("input", input.count, shape.inputCount) }
        if let filter { try checkLength("filter", filter.count, shape.filterCount) }
        try checkLength("output", output.count, shape.outputCount)
        try checkLength("outputGradient", outputGradient.count, shape.outputCount)
        try checkLength("preActivationGradient", preActivationGradient.count, shape.outputCount)
        if let inputGradient { try checkLength("inputGradient", inputGradient.count, shape.inputCount) }
        if let filterGradient { try checkLength("filterGradient", filterGradient.count, shape.filterCount) }
        if let biasGradient { try checkLength("biasGradient", biasGradient.count, shape.biasCount) }
        try checkNoOverlap(
            outputs: [BufferSpan("preActivationGradient", preActivationGradient),
                      BufferSpan("inputGradient", inputGradient), BufferSpan("filterGradient", filterGradient),
                      BufferSpan("biasGradient", biasGradient)],
            others: [BufferSpan("input", input), BufferSpan("filter", filter), BufferSpan("output", output),
                     BufferSpan("outputGradient", outputGradient),
                     BufferSpan("workspace", UnsafeMutableBufferPointer(start: workspace.storage,
                                                                        count: workspace.capacity))])
        // Safe: output, outputGradient and preActivationGradient were checked with the shape's (nonzero) length.
        switch ScalarKind.of(T.self) {
        case .float:
            activationDerivative(Epilogue<Float>(activation), output: retype(output, Float.self).baseAddress!,
                                 outputGradient: retype(outputGradient, Float.self).baseAddress!,
                                 into: retype(preActivationGradient, Float.self).baseAddress!,
                                 count: shape.outputCount)
        case .double:
            activationDerivative(Epilogue<Double>(activation), output: retype(output, Double.self).baseAddress!,
                                 outputGradient: retype(outputGradient, Double.self).baseAddress!,
                                 into: retype(preActivationGradient, Double.self).baseAddress!,
                                 count: shape.outputCount)
        }
        try plain(input, filter, UnsafeBufferPointer(preActivationGradient), inputGradient, filterGradient,
                  biasGradient)
    }

    /// dL/dZ in runs of 64 Ki elements shared by the workers (each element's value does not depend on who
    /// computes it).
    private func activationDerivative<T: ConvScalar>(_ e: Epilogue<T>, output y: UnsafePointer<T>,
                                                     outputGradient dO: UnsafePointer<T>,
                                                     into dZ: UnsafeMutablePointer<T>, count: Int) {
        let run = 1 << 16
        parallelItems(workers, count: (count + run - 1) / run) { _, item in
            let start = item * run
            e.derivative(output: y + start, outputGradient: dO + start, into: dZ + start,
                         count: min(run, count - start))
        }
    }
}
