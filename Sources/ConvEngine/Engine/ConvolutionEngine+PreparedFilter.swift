// Prepared filters: the per-call filter transform of an algorithm done once, and forward passes that use it.

extension ConvolutionEngine {
    /// F transformed and packed for this engine's forward passes on `geometry` (any batch), with the plan
    /// ``plan(for:scalar:)-(ConvGeometry,_)`` chooses for it (see ``PreparedFilter``).
    ///
    /// - Parameters:
    ///   - geometry: the convolution; its batch does not matter.
    ///   - filter: F, `geometry.filterCount` elements, `K×(C/G)×R×S` (`K×R×S×(C/G)` with a channels-last filter). Copied.
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)`` for a filter of the wrong length, the
    ///   planning errors of ``plan(for:scalar:)-(ConvGeometry,_)``, ``ConvError/sizeOverflow(quantity:)``, and what
    ///   ``MemoryCheck/checkAllocation(_:count:of:)`` throws for a prepared form that cannot fit in memory.
    public func prepareFilter<T: ConvScalar>(_ geometry: ConvGeometry,
                                             filter: UnsafeBufferPointer<T>) throws(ConvError) -> PreparedFilter<T> {
        try checkLength("filter", filter.count, geometry.filterCount)
        let plan = try plan(for: geometry, scalar: T.self)
        let raw = Array(filter)
        guard let count = try AlgorithmRegistry.visit(plan.algorithm, PreparedFilterCount(geometry: geometry, plan: plan)),
              count > 0 else {
            return PreparedFilter(geometry: geometry, algorithm: plan.algorithm, filter: raw, prepared: [])
        }
        try MemoryCheck.checkAllocation("prepared filter", count: count, of: T.self)
        var prepared = [T](repeating: 0, count: count)
        // Safe: the filter's length was checked against the geometry (nonzero), and `prepared` holds `count`.
        prepared.withUnsafeMutableBufferPointer { p in
            switch ScalarKind.of(T.self) {
            case .float:
                AlgorithmRegistry.visit(plan.algorithm, PrepareFilterRun(
                    geometry: geometry, plan: plan, filter: retype(filter, Float.self).baseAddress!,
                    prepared: retype(p, Float.self).baseAddress!))
            case .double:
                AlgorithmRegistry.visit(plan.algorithm, PrepareFilterRun(
                    geometry: geometry, plan: plan, filter: retype(filter, Double.self).baseAddress!,
                    prepared: retype(p, Double.self).baseAddress!))
            }
        }
        return PreparedFilter(geometry: geometry, algorithm: plan.algorithm, filter: raw, prepared: prepared)
    }

    /// ``prepareFilter(_:filter:)-(_,UnsafeBufferPointer<T>)`` on an array.
    /// - Throws: as the buffer form.
    public func prepareFilter<T: ConvScalar>(_ geometry: ConvGeometry, filter: [T]) throws(ConvError) -> PreparedFilter<T> {
        try filter.withUnsafeBufferPointer { f throws(ConvError) in try prepareFilter(geometry, filter: f) }
    }

    /// The forward pass with a prepared filter: `output = f(conv(input, F) + bias)` as
    /// ``forward(_:input:filter:bias:activation:output:workspace:)-(ConvGeometry,_,UnsafeBufferPointer<T>,_,_,_,_)`` computes it with `filter.filter`, bit for
    /// bit, without the per-call filter transform.
    ///
    /// - Parameters:
    ///   - geometry: the convolution: the prepared filter's geometry at any batch.
    ///   - input: X, `geometry.inputCount` elements, in the geometry's layout (NCHW by default; <doc:Layouts>).
    ///   - filter: F prepared by an engine that plans the same algorithm for `geometry`.
    ///   - bias: B, `geometry.outputChannels` elements, or `nil`.
    ///   - activation: f (``Activation``), ``Activation/identity`` by default.
    ///   - output: O, `geometry.outputCount` elements, overwritten.
    ///   - workspace: as in the forward pass with a raw filter.
    /// - Throws: ``ConvError/invalidArgument(name:reason:)`` (named `"filter"`) when `geometry` differs from the
    ///   prepared one in anything but the batch, or this engine plans another algorithm for it; otherwise the
    ///   errors of the forward pass with a raw filter.
    public func forward<T: ConvScalar>(
        _ geometry: ConvGeometry,
        input: UnsafeBufferPointer<T>, filter: PreparedFilter<T>, bias: UnsafeBufferPointer<T>?,
        activation: Activation = .identity, output: UnsafeMutableBufferPointer<T>, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        guard geometry.matchesExceptBatch(filter.geometry) else {
            throw .invalidArgument(name: "filter", reason: "prepared for \(filter.geometry), used on \(geometry): only the batch may differ")
        }
        let plan = try plan(for: geometry, scalar: T.self)
        guard plan.algorithm == filter.algorithm else {
            throw .invalidArgument(name: "filter", reason: "prepared for \(filter.algorithm), but this engine plans \(plan.algorithm) for \(geometry); prepare it with this engine")
        }
        try filter.filter.withUnsafeBufferPointer { f throws(ConvError) in
            try filter.prepared.withUnsafeBufferPointer { p throws(ConvError) in
                try forward(geometry, input: input, filter: f, bias: bias, activation: activation, output: output,
                            workspace: workspace, plan: plan, prepared: p.isEmpty ? nil : p)
            }
        }
    }

    /// ``forward(_:input:filter:bias:activation:output:workspace:)-(_,_,PreparedFilter<T>,_,_,_,_)`` on arrays,
    /// returning a new output array.
    /// - Throws: as the buffer form.
    public func forward<T: ConvScalar>(_ geometry: ConvGeometry, input: [T], filter: PreparedFilter<T>, bias: [T]?,
                                       activation: Activation = .identity,
                                       workspace: ConvWorkspace<T>? = nil) throws(ConvError) -> [T] {
        var output: [T] = []
        try resizeResult(&output, "output", geometry.outputCount)
        let ws = workspace ?? ConvWorkspace<T>()
        try input.withUnsafeBufferPointer { x throws(ConvError) in
            try withOptionalBuffer(bias) { b throws(ConvError) in
                try output.withUnsafeMutableBufferPointer { o throws(ConvError) in
                    try forward(geometry, input: x, filter: filter, bias: b, activation: activation, output: o,
                                workspace: ws)
                }
            }
        }
        return output
    }
}

extension ConvGeometry {
    /// Whether `other` is this convolution at some batch, in the same layout (a filter prepared for one filter
    /// layout holds another ordering of the elements).
    func matchesExceptBatch(_ other: ConvGeometry) -> Bool {
        layout == other.layout && inputChannels == other.inputChannels && inputHeight == other.inputHeight && inputWidth == other.inputWidth
            && outputChannels == other.outputChannels && kernelHeight == other.kernelHeight
            && kernelWidth == other.kernelWidth && requestedStrideHeight == other.requestedStrideHeight
            && requestedStrideWidth == other.requestedStrideWidth && padding == other.padding
            && dilationHeight == other.dilationHeight && dilationWidth == other.dilationWidth && groups == other.groups
    }
}
