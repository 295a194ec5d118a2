// The transposed 2-D convolution, run on its associated convolution's algorithms (the table in
// <doc:TransposedConvolution>):
//
//   forward Ot      = the associated input gradient with dO = X̃t, then + Bt per output channel
//   input gradient  = the associated forward pass with X = dOt (no bias), its first H × W outputs
//   filter gradient = the associated filter gradient with X = dOt, dO = X̃t
//   bias gradient   = Σ over n, y, x of dOt, per output channel
//
// X̃t is Xt itself unless the associated convolution has more output rows or columns than Xt (sh ≤ output
// padding < dh on an axis): then each image is zero-extended into a staging copy in the workspace, and the
// associated convolution runs one image at a time.

/// The plan and workspace layout of the calls on one transposed geometry.
struct TransposedLayout {
    /// What runs (the associated convolution, with batch 1 when staged) and its plan.
    let mapped: MappedConvPlan
    /// Elements of the staging image (`Cin·P·Q`), 0 unless staged.
    let stage: Int
    /// Elements of one image's filter-gradient partial sum (`|Wt|`), 0 unless staged.
    let partial: Int
    /// Elements the associated convolution's plan needs, placed after the staging regions.
    let convolution: Int

    /// The workspace a call needs: the staging regions, then the associated convolution's workspace.
    var total: Int { stage + partial + convolution }  // Safe: summed with checkedSum when the layout is made.
}

extension ConvolutionEngine {
    /// The plan calls on `geometry` in `scalar` will use: the associated convolution
    /// (``TransposedConvGeometry/associated``) and its ``ConvPlan``, chosen as
    /// ``plan(for:scalar:)-(ConvGeometry,_)`` chooses it, so a forced ``algorithm`` and
    /// ``inputGradientAlgorithm``, the workers, the tile settings and measured planning all apply to it.
    /// Measured planning times the associated convolution's passes: ``ConvPlanning/measureTraining`` times the
    /// same three products a transposed training step runs (in another order), while
    /// ``ConvPlanning/measureForward`` times the associated forward pass, which is the transposed input gradient,
    /// not the transposed forward pass.
    ///
    /// When `stride ≤ outputPadding < dilation` on an axis (``MappedConvPlan/isStaged``), the associated
    /// convolution has more output rows or columns than the input: the engine then zero-extends one image at a
    /// time into a staging copy of `Cin·P·Q` elements in the workspace (plus `|Wt|` for the filter gradient's
    /// per-image sums) and runs the associated convolution with batch 1. Under a ``workspaceLimit`` that case
    /// plans the associated convolution by the rule (not by measuring) within what the staging leaves.
    ///
    /// - Parameters:
    ///   - geometry: the transposed convolution.
    ///   - scalar: the element type of the calls (`Float` by default).
    /// - Throws: ``ConvError/algorithmNotApplicable(algorithm:reason:)`` if a forced algorithm cannot run the
    ///   associated convolution; ``ConvError/workspaceCapTooSmall(required:cap:)`` if no plan fits the
    ///   workspace limit; ``ConvError/sizeOverflow(quantity:)`` if the workspace size overflows `Int`.
    public func plan<T: ConvScalar>(for geometry: TransposedConvGeometry,
                                    scalar: T.Type = Float.self) throws(ConvError) -> MappedConvPlan {
        try transposedLayout(geometry, T.self, operation: "transposed → associated conv").mapped
    }

    /// Workspace elements a forward or backward call on `geometry` needs: the associated convolution's
    /// (``workspaceElementCount(for:scalar:)-(ConvGeometry,_)``), plus `Cin·P·Q + |Wt|` in the staged case of
    /// ``plan(for:scalar:)-(TransposedConvGeometry,_)``. It never depends on the batch and stays under
    /// ``workspaceLimit``.
    ///
    /// - Parameters:
    ///   - geometry: the transposed convolution.
    ///   - scalar: the element type of the calls (`Float` by default).
    /// - Throws: as ``plan(for:scalar:)-(TransposedConvGeometry,_)``.
    public func workspaceElementCount<T: ConvScalar>(for geometry: TransposedConvGeometry,
                                                     scalar: T.Type = Float.self) throws(ConvError) -> Int {
        try transposedLayout(geometry, T.self, operation: "transposed → associated conv").total
    }

    /// ``workspaceElementCount(for:scalar:)-(TransposedConvGeometry,_)`` in bytes.
    ///
    /// - Parameters:
    ///   - geometry: the transposed convolution.
    ///   - scalar: the element type of the calls (`Float` by default).
    /// - Throws: as ``plan(for:scalar:)-(TransposedConvGeometry,_)``.
    public func workspaceBytes<T: ConvScalar>(for geometry: TransposedConvGeometry,
                                              scalar: T.Type = Float.self) throws(ConvError) -> Int {
        try checkedProduct(workspaceElementCount(for: geometry, scalar: scalar), MemoryLayout<T>.stride,
                           quantity: "workspace bytes")
    }

    /// The layout of the calls on `g`; `operation` names the public operation in the plan's description.
    func transposedLayout<T: ConvScalar>(_ g: TransposedConvGeometry, _: T.Type,
                                         operation: String) throws(ConvError) -> TransposedLayout {
        if !g.needsStaging {
            let plan = try plan(for: g.associated, scalar: T.self)
            return TransposedLayout(mapped: MappedConvPlan(operation: operation, convolution: g.associated, plan: plan),
                                    stage: 0, partial: 0, convolution: try largestWorkspace(g.associated, plan))
        }
        let single = try g.associated.withBatch(1)
        let stage = single.outputCount, partial = g.filterCount
        let staging = try checkedSum(stage, partial, quantity: "transposed staging elements")
        var engine = self
        if let limit = workspaceLimit {
            let stagingBytes = try checkedProduct(staging, MemoryLayout<T>.stride, quantity: "workspace bytes")
            if stagingBytes > limit { throw .workspaceCapTooSmall(required: stagingBytes, cap: limit) }
            // The associated convolution gets what the staging leaves. Planned by the rule: a measured plan
            // would be measured again on every call by this per-call engine, whose plan cache is new.
            engine = try ConvolutionEngine(
                workers: workers, algorithm: algorithm, numerics: numerics, planning: .rule,
                inputGradientAlgorithm: inputGradientAlgorithm, workspaceLimit: limit - stagingBytes,
                tileBudgetBytes: tileBudgetBytes, tileRows: tileRows, managesBLASThreads: managesBLASThreads,
                filterGradientAlgorithm: filterGradientAlgorithm)
        }
        let plan: ConvPlan
        let convolution: Int
        do {
            plan = try engine.plan(for: single, scalar: T.self)
            convolution = try engine.largestWorkspace(single, plan)
            _ = try checkedSum(staging, convolution, quantity: "workspace elements")
        } catch {
            if case let .workspaceCapTooSmall(required, _) = error, let limit = workspaceLimit {
                let stagingBytes = staging * MemoryLayout<T>.stride  // Safe: checked above.
                throw .workspaceCapTooSmall(required: required.addingReportingOverflow(stagingBytes).overflow
                                                ? Int.max : required + stagingBytes, cap: limit)
            }
            throw error
        }
        return TransposedLayout(
            mapped: MappedConvPlan(operation: operation, convolution: single, plan: plan, isStaged: true),
            stage: stage, partial: partial, convolution: convolution)
    }

    /// The transposed convolution's forward pass, `output = conv_transpose(input, filter) + bias` (PyTorch's
    /// `conv_transpose2d`), run as the associated convolution's input gradient (<doc:TransposedConvolution>).
    ///
    /// - Parameters:
    ///   - geometry: the transposed convolution.
    ///   - input: Xt, `geometry.inputCount` elements, `N×Cin×H×W` (`N×H×W×Cin` with channels-last activations). Read only.
    ///   - filter: the weight Wt, `geometry.filterCount` elements, `Cin×(Cout/G)×R×S`. Read only.
    ///   - bias: Bt, `geometry.outputChannels` elements, or `nil` for none. Read only.
    ///   - output: Ot, `geometry.outputCount` elements, `N×Cout×Ho×Wo`; overwritten. It must not overlap any
    ///     other buffer.
    ///   - workspace: scratch memory, grown to ``workspaceElementCount(for:scalar:)-(TransposedConvGeometry,_)``
    ///     if smaller and kept for later calls. Not thread-safe: one workspace per concurrent call.
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)`` for a buffer of the wrong length,
    ///   ``ConvError/overlappingBuffers(output:other:)`` when the output shares memory with another buffer, and
    ///   the errors of ``plan(for:scalar:)-(TransposedConvGeometry,_)``.
    public func forward<T: ConvScalar>(
        _ geometry: TransposedConvGeometry,
        input: UnsafeBufferPointer<T>, filter: UnsafeBufferPointer<T>, bias: UnsafeBufferPointer<T>?,
        output: UnsafeMutableBufferPointer<T>, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try transposedForward(geometry, operation: "transposed → associated conv", input: input, filter: filter,
                              bias: bias, output: output, workspace: workspace)
    }

    /// The transposed convolution's backward pass: any subset of the input, filter and bias gradients in one
    /// call, each run on the associated convolution (<doc:TransposedConvolution>): dXt is its forward pass on
    /// dOt, dWt its filter gradient with X = dOt and dO = Xt, dBt the sums of dOt per output channel.
    ///
    /// Every gradient given is overwritten (not accumulated into); the filter and bias gradients are summed
    /// over the whole batch. For a fixed worker count the results are bit-for-bit reproducible.
    ///
    /// - Parameters:
    ///   - geometry: the transposed convolution.
    ///   - input: Xt, `geometry.inputCount` elements; required for the filter gradient, else may be `nil`.
    ///   - filter: Wt, `geometry.filterCount` elements; required for the input gradient, else may be `nil`.
    ///   - outputGradient: dL/dOt, `geometry.outputCount` elements, `N×Cout×Ho×Wo`. Read only.
    ///   - inputGradient: dL/dXt, `geometry.inputCount` elements, or `nil` if not wanted.
    ///   - filterGradient: dL/dWt, `geometry.filterCount` elements, or `nil` if not wanted.
    ///   - biasGradient: dL/dBt, `geometry.outputChannels` elements, or `nil` if not wanted.
    ///   - workspace: scratch memory, as in ``forward(_:input:filter:bias:output:workspace:)-(TransposedConvGeometry,UnsafeBufferPointer<T>,_,_,_,_)``.
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)`` for any buffer given with the wrong length,
    ///   ``ConvError/missingBuffer(name:)`` (the input for the filter gradient, the filter for the input
    ///   gradient), ``ConvError/overlappingBuffers(output:other:)``, and the errors of
    ///   ``plan(for:scalar:)-(TransposedConvGeometry,_)``.
    public func backward<T: ConvScalar>(
        _ geometry: TransposedConvGeometry,
        input: UnsafeBufferPointer<T>?, filter: UnsafeBufferPointer<T>?,
        outputGradient: UnsafeBufferPointer<T>,
        inputGradient: UnsafeMutableBufferPointer<T>?, filterGradient: UnsafeMutableBufferPointer<T>?,
        biasGradient: UnsafeMutableBufferPointer<T>?, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try transposedBackward(geometry, operation: "transposed → associated conv", input: input, filter: filter,
                               outputGradient: outputGradient, inputGradient: inputGradient,
                               filterGradient: filterGradient, biasGradient: biasGradient, workspace: workspace)
    }

    /// The forward pass of ``forward(_:input:filter:bias:output:workspace:)-(TransposedConvGeometry,UnsafeBufferPointer<T>,_,_,_,_)``,
    /// with `operation` naming the public operation in the plan.
    func transposedForward<T: ConvScalar>(
        _ g: TransposedConvGeometry, operation: String,
        input: UnsafeBufferPointer<T>, filter: UnsafeBufferPointer<T>, bias: UnsafeBufferPointer<T>?,
        output: UnsafeMutableBufferPointer<T>, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try checkLength("input", input.count, g.inputCount)
        try checkLength("filter", filter.count, g.filterCount)
        if let bias { try checkLength("bias", bias.count, g.biasCount) }
        try checkLength("output", output.count, g.outputCount)
        let layout = try transposedLayout(g, T.self, operation: operation)
        let ws = try workspace.buffer(layout.total)
        try checkNoOverlap(
            outputs: [BufferSpan("output", output)],
            others: [BufferSpan("input", input), BufferSpan("filter", filter), BufferSpan("bias", bias),
                     BufferSpan("workspace", ws)])
        // Safe: the lengths were checked against the geometry (every count is at least 1), so the base
        // addresses are non-nil; the switch establishes T's concrete type, so the passes run specialised.
        switch ScalarKind.of(T.self) {
        case .float:
            try TransposedPasses<Float>(g: g, layout: layout).forward(
                input: retype(input, to: Float.self)!, filter: retype(filter, to: Float.self)!,
                bias: bias.flatMap { retype($0, to: Float.self) }, output: retype(output, to: Float.self)!,
                workspace: workspaceStart(retype(ws, Float.self)))
        case .double:
            try TransposedPasses<Double>(g: g, layout: layout).forward(
                input: retype(input, to: Double.self)!, filter: retype(filter, to: Double.self)!,
                bias: bias.flatMap { retype($0, to: Double.self) }, output: retype(output, to: Double.self)!,
                workspace: workspaceStart(retype(ws, Double.self)))
        }
    }

    /// The backward pass of
    /// ``backward(_:input:filter:outputGradient:inputGradient:filterGradient:biasGradient:workspace:)-(TransposedConvGeometry,_,_,_,_,_,_,_)``,
    /// with `operation` naming the public operation in the plan.
    func transposedBackward<T: ConvScalar>(
        _ g: TransposedConvGeometry, operation: String,
        input: UnsafeBufferPointer<T>?, filter: UnsafeBufferPointer<T>?, outputGradient: UnsafeBufferPointer<T>,
        inputGradient: UnsafeMutableBufferPointer<T>?, filterGradient: UnsafeMutableBufferPointer<T>?,
        biasGradient: UnsafeMutableBufferPointer<T>?, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try checkBackwardBuffers(g, input: input, filter: filter, outputGradient: outputGradient,
                                 inputGradient: inputGradient, filterGradient: filterGradient,
                                 biasGradient: biasGradient)
        let layout = try transposedLayout(g, T.self, operation: operation)
        let ws = try workspace.buffer(layout.total)
        try checkNoOverlap(
            outputs: [BufferSpan("inputGradient", inputGradient), BufferSpan("filterGradient", filterGradient),
                      BufferSpan("biasGradient", biasGradient)],
            others: [BufferSpan("input", input), BufferSpan("filter", filter),
                     BufferSpan("outputGradient", outputGradient), BufferSpan("workspace", ws)])
        // Safe: as in the forward pass; optional buffers stay nil.
        switch ScalarKind.of(T.self) {
        case .float:
            try TransposedPasses<Float>(g: g, layout: layout).backward(
                input: input.flatMap { retype($0, to: Float.self) }, filter: filter.flatMap { retype($0, to: Float.self) },
                outputGradient: retype(outputGradient, to: Float.self)!,
                inputGradient: inputGradient.flatMap { retype($0, to: Float.self) },
                filterGradient: filterGradient.flatMap { retype($0, to: Float.self) },
                biasGradient: biasGradient.flatMap { retype($0, to: Float.self) },
                workspace: workspaceStart(retype(ws, Float.self)))
        case .double:
            try TransposedPasses<Double>(g: g, layout: layout).backward(
                input: input.flatMap { retype($0, to: Double.self) }, filter: filter.flatMap { retype($0, to: Double.self) },
                outputGradient: retype(outputGradient, to: Double.self)!,
                inputGradient: inputGradient.flatMap { retype($0, to: Double.self) },
                filterGradient: filterGradient.flatMap { retype($0, to: Double.self) },
                biasGradient: biasGradient.flatMap { retype($0, to: Double.self) },
                workspace: workspaceStart(retype(ws, Double.self)))
        }
    }
}

/// The transposed convolution's passes on checked pointers, one row of the table in <doc:TransposedConvolution> each.
struct TransposedPasses<T: ConvScalar> {
    let g: TransposedConvGeometry
    let layout: TransposedLayout

    private var convolution: AssociatedConvolution<T> {
        AssociatedConvolution(geometry: layout.mapped.convolution, plan: layout.mapped.plan)
    }
    private var workers: Int { layout.mapped.plan.workers }
    /// Whether the activations are NHWC (the staging copies and the bias loops have a form for each layout).
    private var channelsLast: Bool { g.layout.activations == .channelsLast }
    /// Elements of one image of Xt (and dXt), of Ot (and dOt), and of the associated convolution's output.
    private var inputImage: Int { g.inputChannels * g.inputHeight * g.inputWidth }
    private var outputImage: Int { g.outputChannels * g.outputHeight * g.outputWidth }

    /// Ot = the associated input gradient with dO = X̃t, then + Bt.
    func forward(input: UnsafePointer<T>, filter: UnsafePointer<T>, bias: UnsafePointer<T>?,
                 output: UnsafeMutablePointer<T>, workspace: UnsafeMutablePointer<T>) throws(ConvError) {
        let own = workspace + layout.stage + layout.partial
        if layout.mapped.isStaged {
            for n in 0..<g.batch {
                stage(input + n * inputImage, into: workspace)
                try convolution.backward(input: nil, filter: filter, outputGradient: workspace,
                                         inputGradient: output + n * outputImage, filterGradient: nil, workspace: own)
            }
        } else {
            try convolution.backward(input: nil, filter: filter, outputGradient: input, inputGradient: output,
                                     filterGradient: nil, workspace: own)
        }
        if let bias {
            addChannelBias(bias, to: output, batch: g.batch, channels: g.outputChannels,
                           planeSize: g.outputHeight * g.outputWidth, channelsLast: channelsLast, workers: workers)
        }
    }

    /// dXt = the associated forward pass on dOt (its first H × W outputs), dWt = the associated filter gradient
    /// with X = dOt and dO = X̃t, dBt = the sums of dOt per output channel.
    func backward(input: UnsafePointer<T>?, filter: UnsafePointer<T>?, outputGradient: UnsafePointer<T>,
                  inputGradient: UnsafeMutablePointer<T>?, filterGradient: UnsafeMutablePointer<T>?,
                  biasGradient: UnsafeMutablePointer<T>?, workspace: UnsafeMutablePointer<T>) throws(ConvError) {
        let own = workspace + layout.stage + layout.partial
        if layout.mapped.isStaged {
            let a = layout.mapped.convolution
            let partial = workspace + layout.stage
            for n in 0..<g.batch {
                let dOt = outputGradient + n * outputImage
                if let dXt = inputGradient, let filter {
                    try convolution.forward(input: dOt, filter: filter, output: workspace, workspace: own)
                    cropCorner(workspace, into: dXt + n * inputImage, channels: g.inputChannels,
                               height: g.inputHeight, width: g.inputWidth, rows: a.outputHeight, columns: a.outputWidth,
                               channelsLast: channelsLast)
                }
                if let dWt = filterGradient, let input {
                    stage(input + n * inputImage, into: workspace)
                    // Image by image, in order: the first writes dWt, the others are added to it.
                    try convolution.backward(input: dOt, filter: nil, outputGradient: workspace, inputGradient: nil,
                                             filterGradient: n == 0 ? dWt : partial, workspace: own)
                    if n > 0 { accumulate(partial, into: dWt, count: g.filterCount) }
                }
            }
        } else {
            if let dXt = inputGradient, let filter {
                try convolution.forward(input: outputGradient, filter: filter, output: dXt, workspace: own)
            }
            if let dWt = filterGradient, let input {
                try convolution.backward(input: outputGradient, filter: nil, outputGradient: input, inputGradient: nil,
                                         filterGradient: dWt, workspace: own)
            }
        }
        if let dBt = biasGradient {
            sumChannelPlanes(outputGradient, batch: g.batch, channels: g.outputChannels,
                             planeSize: g.outputHeight * g.outputWidth, channelsLast: channelsLast, into: dBt,
                             workers: workers)
        }
    }

    /// One image of Xt zero-extended to the associated convolution's output size, in the staging region.
    private func stage(_ image: UnsafePointer<T>, into staged: UnsafeMutablePointer<T>) {
        let a = layout.mapped.convolution
        zeroExtend(image, into: staged, channels: g.inputChannels, height: g.inputHeight, width: g.inputWidth,
                   rows: a.outputHeight, columns: a.outputWidth, channelsLast: channelsLast)
    }
}
