// The 3-D convolution (ConvGeometry3D) on the engine: validate, plan, lay out the workspace, dispatch once to
// the plan's 3-D algorithm (Algorithms/Volume/), specialised for Float or Double.

extension ConvolutionEngine {
    /// The plan a 3-D call on `geometry` in `scalar` will use.
    ///
    /// Automatic choice (<doc:ThreeDimensionalConvolution> gives the measurements behind it):
    /// ``ConvAlgorithm3D/kernelDepthGEMM`` when the kernel has more than one plane and the depth stride is 1
    /// (each tap is then one GEMM over a whole tile of planes), else ``ConvAlgorithm3D/vol2col``. The engine's
    /// ``volumeAlgorithm`` forces one instead. Tiles hold as many output planes as fit ``tileBudgetBytes``
    /// (at least one); under a ``workspaceLimit`` they are halved until the workspace fits, and an automatic
    /// plan that still does not fit at one plane tries ``ConvAlgorithm3D/vol2col`` at one plane.
    ///
    /// The 3-D algorithms read NCDHW tensors with a `K×C/G×T×R×S` filter; a geometry in another layout
    /// (<doc:Layouts>) runs them through the conversion fallback, and the plan says so
    /// (``ConvPlan3D/layoutConversion``): X and dO copied into NCDHW and O and dX back a chunk of images at a time
    /// (halved first under a workspace limit), the filter repacked and dF permuted back.
    ///
    /// - Parameters:
    ///   - geometry: the 3-D convolution.
    ///   - scalar: the element type of the calls (`Float` by default): tiles are sized in bytes.
    /// - Throws: ``ConvError/algorithmNotApplicable(algorithm:reason:)`` if the forced algorithm cannot run
    ///   `geometry`; ``ConvError/workspaceCapTooSmall(required:cap:)`` if no plan fits the workspace limit;
    ///   ``ConvError/sizeOverflow(quantity:)`` if the workspace size overflows `Int`.
    public func plan<T: ConvScalar>(for geometry: ConvGeometry3D, scalar: T.Type = Float.self) throws(ConvError) -> ConvPlan3D {
        let g = geometry
        let chosen: ConvAlgorithm3D
        if let forced = volumeAlgorithm {
            if let reason = VolumeAlgorithmRegistry.inapplicability(of: forced, to: g) {
                throw .algorithmNotApplicable(algorithm: forced.rawValue, reason: reason)
            }
            chosen = forced
        } else {
            chosen = Self.volumeAutomaticOrder.first { VolumeAlgorithmRegistry.isAutomaticChoice($0, for: g) } ?? .vol2col
        }
        let policy = TilePolicy(budgetBytes: tileBudgetBytes, forcedRows: nil, scalarBytes: MemoryLayout<T>.stride,
                                workers: workers)
        var plan = ConvPlan3D(algorithm: chosen, workers: workers,
                              planesPerTile: VolumeAlgorithmRegistry.visit(chosen, InitialPlanes(geometry: g, policy: policy)))
        plan.layoutConversion = VolumeAlgorithmRegistry.visit(chosen, VolumeConversion(geometry: g, policy: policy))
        guard let limit = workspaceLimit else { return plan }
        var bytes = try volumeWorkspaceBytes(g, plan, T.self)
        // Fewer images per conversion chunk first (the copies), then fewer planes per tile (the GEMMs).
        while bytes > limit, let smaller = plan.layoutConversion?.halved() {
            plan.layoutConversion = smaller
            bytes = try volumeWorkspaceBytes(g, plan, T.self)
        }
        while bytes > limit && plan.planesPerTile > 1 {
            plan.planesPerTile /= 2
            bytes = try volumeWorkspaceBytes(g, plan, T.self)
        }
        if bytes > limit, volumeAlgorithm == nil, plan.algorithm != .vol2col {
            plan = ConvPlan3D(algorithm: .vol2col, workers: workers, planesPerTile: 1)
            plan.layoutConversion = VolumeAlgorithmRegistry.visit(.vol2col, VolumeConversion(geometry: g, policy: policy))
                .map { LayoutConversion(from: g.layout, to: $0.algorithmLayout, imagesPerChunk: 1, rank: 3) }
            bytes = try volumeWorkspaceBytes(g, plan, T.self)
        }
        if bytes > limit { throw .workspaceCapTooSmall(required: bytes, cap: limit) }
        return plan
    }

    /// Workspace elements a forward or backward 3-D call on `geometry` needs with this engine's plan: the larger
    /// of the forward pass's and of a backward pass computing all three gradients. It depends on the geometry,
    /// the worker count W and the plan's tile (`t` output planes), never on the batch, and stays under
    /// ``workspaceLimit``:
    /// - ``ConvAlgorithm3D/vol2col``: `W·C/G·T·R·S·t·P·Q` for the lowered tiles;
    /// - ``ConvAlgorithm3D/kernelDepthGEMM``: `W·C/G·R·S·min(D, (t−1)·sd + dd·(T−1) + 1)·P·Q` for the lowered
    ///   input planes and `|F|` for the repacked filter;
    ///
    /// and, for the filter gradient, `W·|F|` for the per-worker sums. A plan through the layout conversion also
    /// needs its staging before that: with n images per chunk, `n·(C·D·H·W + K·E·P·Q)` forward and
    /// `n·(K·E·P·Q + 2·C·D·H·W) + |F| + K` backward, plus `2·|F|` when the filter's layout differs (the repacked
    /// filter and dF in `K×C/G×T×R×S`).
    ///
    /// - Parameters:
    ///   - geometry: the 3-D convolution.
    ///   - scalar: the element type of the calls (`Float` by default).
    /// - Throws: as `plan(for:scalar:)`.
    public func workspaceElementCount<T: ConvScalar>(for geometry: ConvGeometry3D,
                                                     scalar: T.Type = Float.self) throws(ConvError) -> Int {
        let plan = try plan(for: geometry, scalar: scalar)
        return try VolumeAlgorithmRegistry.visit(plan.algorithm, VolumeWorkspace(geometry: geometry, plan: plan, pass: nil))
    }

    /// `workspaceElementCount(for:scalar:)` in bytes.
    ///
    /// - Parameters:
    ///   - geometry: the 3-D convolution.
    ///   - scalar: the element type of the calls (`Float` by default).
    /// - Throws: as `plan(for:scalar:)`.
    public func workspaceBytes<T: ConvScalar>(for geometry: ConvGeometry3D,
                                              scalar: T.Type = Float.self) throws(ConvError) -> Int {
        try volumeWorkspaceBytes(geometry, plan(for: geometry, scalar: scalar), T.self)
    }

    private func volumeWorkspaceBytes<T>(_ g: ConvGeometry3D, _ plan: ConvPlan3D, _: T.Type) throws(ConvError) -> Int {
        try checkedProduct(VolumeAlgorithmRegistry.visit(plan.algorithm, VolumeWorkspace(geometry: g, plan: plan, pass: nil)),
                           MemoryLayout<T>.stride, quantity: "workspace bytes")
    }

    /// The 3-D forward pass, `output = conv3d(input, filter) + bias`, with the engine's
    /// `plan(for:scalar:)`.
    ///
    /// - Parameters:
    ///   - geometry: the 3-D convolution.
    ///   - input: X, `geometry.inputCount` elements, N×C×D×H×W (N×D×H×W×C with channels-last activations). Read only.
    ///   - filter: F, `geometry.filterCount` elements, K×(C/G)×T×R×S (K×T×R×S×(C/G) with a channels-last filter). Read only.
    ///   - bias: B, `geometry.outputChannels` elements, or `nil` for none. Read only.
    ///   - output: O, `geometry.outputCount` elements, N×K×E×P×Q (N×E×P×Q×K channels-last); overwritten. It must not overlap any other buffer.
    ///   - workspace: scratch memory, grown to `workspaceElementCount(for:scalar:)` if smaller
    ///     and kept for later calls. Not thread-safe: one workspace per concurrent call.
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)`` for a buffer of the wrong length,
    ///   ``ConvError/overlappingBuffers(output:other:)`` when the output shares memory with another buffer,
    ///   ``ConvError/algorithmNotApplicable(algorithm:reason:)`` when the forced algorithm cannot run `geometry`,
    ///   ``ConvError/workspaceCapTooSmall(required:cap:)`` and ``ConvError/sizeOverflow(quantity:)`` when the
    ///   workspace would not fit.
    public func forward<T: ConvScalar>(
        _ geometry: ConvGeometry3D,
        input: UnsafeBufferPointer<T>, filter: UnsafeBufferPointer<T>, bias: UnsafeBufferPointer<T>?,
        output: UnsafeMutableBufferPointer<T>, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        let g = geometry
        try checkLength("input", input.count, g.inputCount)
        try checkLength("filter", filter.count, g.filterCount)
        if let bias { try checkLength("bias", bias.count, g.biasCount) }
        try checkLength("output", output.count, g.outputCount)
        let plan = try plan(for: g, scalar: T.self)
        let ws = try workspace.buffer(VolumeAlgorithmRegistry.visit(
            plan.algorithm, VolumeWorkspace(geometry: g, plan: plan, pass: .forward)))
        try checkNoOverlap(
            outputs: [BufferSpan("output", output)],
            others: [BufferSpan("input", input), BufferSpan("filter", filter), BufferSpan("bias", bias),
                     BufferSpan("workspace", ws)])
        // Safe: the lengths were checked against the geometry (every count is at least 1), so the base
        // addresses are non-nil.
        switch ScalarKind.of(T.self) {
        case .float:
            try VolumeAlgorithmRegistry.visit(plan.algorithm, VolumeForwardRun<Float>(geometry: g, plan: plan, call: ForwardCall(
                input: retype(input, Float.self).baseAddress!, filter: retype(filter, Float.self).baseAddress!,
                bias: retype(bias, Float.self)?.baseAddress, output: retype(output, Float.self).baseAddress!,
                epilogue: .identity, preparedFilter: nil, workspace: workspaceStart(retype(ws, Float.self)),
                workers: plan.workers)))
        case .double:
            try VolumeAlgorithmRegistry.visit(plan.algorithm, VolumeForwardRun<Double>(geometry: g, plan: plan, call: ForwardCall(
                input: retype(input, Double.self).baseAddress!, filter: retype(filter, Double.self).baseAddress!,
                bias: retype(bias, Double.self)?.baseAddress, output: retype(output, Double.self).baseAddress!,
                epilogue: .identity, preparedFilter: nil, workspace: workspaceStart(retype(ws, Double.self)),
                workers: plan.workers)))
        }
    }

    /// The 3-D backward pass: any subset of the input, filter and bias gradients in one call.
    ///
    /// Every gradient given is overwritten (not accumulated into); the filter and bias gradients are summed
    /// over the whole batch. For a fixed worker count the results are bit-for-bit reproducible.
    ///
    /// - Parameters:
    ///   - geometry: the 3-D convolution.
    ///   - input: X, `geometry.inputCount` elements; required for the filter gradient, else may be `nil`.
    ///   - filter: F, `geometry.filterCount` elements; required for the input gradient, else may be `nil`.
    ///   - outputGradient: dL/dO, `geometry.outputCount` elements, N×K×E×P×Q (N×E×P×Q×K channels-last). Read only.
    ///   - inputGradient: dL/dX, `geometry.inputCount` elements, or `nil` if not wanted.
    ///   - filterGradient: dL/dF, `geometry.filterCount` elements, or `nil` if not wanted.
    ///   - biasGradient: dL/dB, `geometry.outputChannels` elements, or `nil` if not wanted.
    ///   - workspace: scratch memory, grown if needed and kept for later calls; one per concurrent call.
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)`` for any buffer given with the wrong length,
    ///   ``ConvError/missingBuffer(name:)`` (the input for the filter gradient, the filter for the input
    ///   gradient), ``ConvError/overlappingBuffers(output:other:)``, and the plan and workspace errors of
    ///   `forward(_:input:filter:bias:output:workspace:)`.
    public func backward<T: ConvScalar>(
        _ geometry: ConvGeometry3D,
        input: UnsafeBufferPointer<T>?, filter: UnsafeBufferPointer<T>?,
        outputGradient: UnsafeBufferPointer<T>,
        inputGradient: UnsafeMutableBufferPointer<T>?, filterGradient: UnsafeMutableBufferPointer<T>?,
        biasGradient: UnsafeMutableBufferPointer<T>?, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        let g = geometry
        try checkShapeBackwardBuffers(g, input: input, filter: filter, outputGradient: outputGradient,
                                      inputGradient: inputGradient, filterGradient: filterGradient,
                                      biasGradient: biasGradient)
        var gradients: GradientSet = []
        if inputGradient != nil { gradients.insert(.input) }
        if filterGradient != nil { gradients.insert(.filter) }
        if biasGradient != nil { gradients.insert(.bias) }
        let plan = try plan(for: g, scalar: T.self)
        let ws = try workspace.buffer(VolumeAlgorithmRegistry.visit(
            plan.algorithm, VolumeWorkspace(geometry: g, plan: plan, pass: .backward(gradients))))
        try checkNoOverlap(
            outputs: [BufferSpan("inputGradient", inputGradient), BufferSpan("filterGradient", filterGradient),
                      BufferSpan("biasGradient", biasGradient)],
            others: [BufferSpan("input", input), BufferSpan("filter", filter),
                     BufferSpan("outputGradient", outputGradient), BufferSpan("workspace", ws)])
        // Safe: every buffer given was checked with the geometry's (nonzero) length.
        switch ScalarKind.of(T.self) {
        case .float:
            try VolumeAlgorithmRegistry.visit(plan.algorithm, VolumeBackwardRun<Float>(geometry: g, plan: plan, call: BackwardCall(
                input: retype(input, Float.self)?.baseAddress, filter: retype(filter, Float.self)?.baseAddress,
                outputGradient: retype(outputGradient, Float.self).baseAddress!,
                inputGradient: retype(inputGradient, Float.self)?.baseAddress,
                filterGradient: retype(filterGradient, Float.self)?.baseAddress,
                biasGradient: retype(biasGradient, Float.self)?.baseAddress,
                workspace: workspaceStart(retype(ws, Float.self)), workers: plan.workers)))
        case .double:
            try VolumeAlgorithmRegistry.visit(plan.algorithm, VolumeBackwardRun<Double>(geometry: g, plan: plan, call: BackwardCall(
                input: retype(input, Double.self)?.baseAddress, filter: retype(filter, Double.self)?.baseAddress,
                outputGradient: retype(outputGradient, Double.self).baseAddress!,
                inputGradient: retype(inputGradient, Double.self)?.baseAddress,
                filterGradient: retype(filterGradient, Double.self)?.baseAddress,
                biasGradient: retype(biasGradient, Double.self)?.baseAddress,
                workspace: workspaceStart(retype(ws, Double.self)), workers: plan.workers)))
        }
    }
}

extension ConvolutionEngine {
    /// The 3-D algorithms in the order the automatic rule asks them: the specialised one first, then the fallback
    /// that takes every geometry (``ConvAlgorithm3D/vol2col`` answers yes to all, so anything after it would never
    /// be chosen). Kept once because planning runs on every call.
    static let volumeAutomaticOrder: [ConvAlgorithm3D] = [.kernelDepthGEMM, .vol2col]
}

/// The length checks of a backward call on any geometry of the family, shared by the 3-D engine and reference:
/// every buffer given is checked, even one the requested gradients do not read, and the operands a gradient
/// needs must be given.
func checkShapeBackwardBuffers<S: ConvolutionShape, T>(
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

/// A 3-D algorithm's starting tile.
private struct InitialPlanes: VolumeAlgorithmVisitor {
    let geometry: ConvGeometry3D, policy: TilePolicy
    func visit<A: VolumePasses>(_: A.Type) -> Int { A.initialPlanes(for: geometry, policy: policy) }
}

/// The layout conversion of a 3-D algorithm's type for a geometry (`nil`: none).
private struct VolumeConversion: VolumeAlgorithmVisitor {
    let geometry: ConvGeometry3D, policy: TilePolicy
    func visit<A: VolumePasses>(_: A.Type) -> LayoutConversion? { A.layoutConversion(for: geometry, policy: policy) }
}

/// The workspace elements of one pass (`nil`: the larger of the forward pass and a backward pass with all
/// three gradients).
private struct VolumeWorkspace: VolumeAlgorithmVisitor {
    let geometry: ConvGeometry3D, plan: ConvPlan3D, pass: ConvPass?
    func visit<A: VolumePasses>(_: A.Type) throws(ConvError) -> Int {
        let algorithm = A(geometry, plan: plan)
        if let pass { return try algorithm.workspace(for: pass) }
        return try max(algorithm.workspace(for: .forward), algorithm.workspace(for: .backward(.all)))
    }
}

/// Runs the forward pass of the plan's 3-D algorithm on checked buffers.
private struct VolumeForwardRun<T: ConvScalar>: VolumeAlgorithmVisitor {
    let geometry: ConvGeometry3D, plan: ConvPlan3D, call: ForwardCall<T>
    func visit<A: VolumePasses>(_: A.Type) throws(ConvError) {
        try A(geometry, plan: plan).run(forward: call)
    }
}

/// Runs the backward pass of the plan's 3-D algorithm on checked buffers.
private struct VolumeBackwardRun<T: ConvScalar>: VolumeAlgorithmVisitor {
    let geometry: ConvGeometry3D, plan: ConvPlan3D, call: BackwardCall<T>
    func visit<A: VolumePasses>(_: A.Type) throws(ConvError) {
        try A(geometry, plan: plan).run(backward: call)
    }
}
