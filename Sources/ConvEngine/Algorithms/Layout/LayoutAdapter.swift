/// Runs algorithm A on a geometry whose layout A does not read natively (<doc:Layouts>): the conversion
/// fallback. ``AlgorithmRegistry`` wraps A in it whenever ``ConvolutionAlgorithm/runsNatively(_:)`` says no.
///
/// The adapter keeps what A reads natively and converts the rest (``algorithmLayout(for:)``): for a
/// channels-first algorithm on NHWC tensors, X and dO are copied into NCHW and O and dX back, a chunk of
/// images at a time (``LayoutConversion/imagesPerChunk``), and the filter is repacked into `K×C/G×R×S` once per
/// call (dF permuted back at the end). A geometry whose activations A reads but whose filter it does not costs
/// only the filter repack. The bias is never copied. Everything else — the tile, the epilogue (applied by A to
/// its copy of O, before the copy back), the input-gradient route (run on the copies), prepared filters (the
/// repacked filter followed by A's own prepared form) — is A's.
///
/// Workspace: the staging regions of ``LayoutStaging/regions(for:preparedFilter:)``, then A's workspace for
/// the chunk's geometry. With n images per chunk that is `n·(C·H·W + K·P·Q)` for the forward pass,
/// `n·(K·P·Q + C·H·W [dF] + C·H·W [dX]) + |F| [dF] + K [dB]` for a backward pass, plus `|F|` for the repacked
/// filter and `|F|` for dF in A's layout when the filter is converted. n depends on the geometry without its
/// batch, the worker count and the tile budget, so neither does the workspace.
struct LayoutAdapter<A: ConvolutionAlgorithm>: ConvolutionAlgorithm {
    /// The staging regions of a pass, then A's layout for each chunk size.
    struct Layout: WorkspaceLayout {
        let staging: LayoutStaging.Regions
        /// A's regions, from the end of the staging, for the full chunk and for a shorter last chunk.
        let full: A.Layout, last: A.Layout?
        let total: Int
    }

    static var algorithm: ConvAlgorithm { A.algorithm }
    static func runsNatively(_ layout: ConvLayout) -> Bool { true }

    /// The layout A runs when a call is in `requested` (``ConvLayout/nearest(to:among:)``).
    static func algorithmLayout(for requested: ConvLayout) -> ConvLayout {
        ConvLayout.nearest(to: requested, among: A.runsNatively)
    }

    /// `geometry` in the layout A runs.
    static func inner(_ geometry: ConvGeometry) -> ConvGeometry {
        geometry.withLayout(algorithmLayout(for: geometry.layout))
    }

    static func inapplicability(to geometry: ConvGeometry) -> String? {
        let inner = inner(geometry)
        guard A.runsNatively(inner.layout) else {
            return "\(A.algorithm) runs neither \(geometry.layout) nor any layout it could be converted to"
        }
        return A.inapplicability(to: inner)
    }

    /// A's own rule on the converted geometry, when only the filter is converted; when the activations are
    /// copied too, only where A says the copies pay (``ConvolutionAlgorithm/isAutomaticThroughActivationConversion(for:)``).
    static func isAutomaticChoice(for geometry: ConvGeometry) -> Bool {
        let inner = inner(geometry)
        guard A.isAutomaticChoice(for: inner) else { return false }
        return inner.layout.activations == geometry.layout.activations
            || A.isAutomaticThroughActivationConversion(for: geometry)
    }

    static func initialTile(for geometry: ConvGeometry, policy: TilePolicy) -> ConvTile {
        A.initialTile(for: inner(geometry), policy: policy)
    }

    static func smallerTile(than tile: ConvTile, for geometry: ConvGeometry) -> ConvTile? {
        A.smallerTile(than: tile, for: inner(geometry))
    }

    static var workspaceFallback: ConvAlgorithm? { A.workspaceFallback }

    static func filterGradientAlgorithms(for geometry: ConvGeometry) -> [FilterGradientAlgorithm] {
        A.filterGradientAlgorithms(for: inner(geometry))
    }

    static func layoutConversion(for geometry: ConvGeometry, policy: TilePolicy) -> LayoutConversion? {
        LayoutConversion(from: geometry.layout, to: algorithmLayout(for: geometry.layout),
                         imagesPerChunk: imagesPerChunk(
                            imageElements: geometry.inputChannels * geometry.inputHeight * geometry.inputWidth
                                + geometry.outputChannels * geometry.columnColumns,
                            policy: policy))
    }

    let geometry: ConvGeometry
    let staging: LayoutStaging
    /// A on the geometry of a full chunk (in A's layout), and on a shorter last chunk's.
    let full: A, last: A?
    let fullGeometry: ConvGeometry, lastGeometry: ConvGeometry?
    /// Whether a chunk's geometry could not be made (cannot happen: it is the call's with fewer images); every
    /// layout then throws, so nothing runs.
    let invalid: Bool
    /// Whether A has a prepared filter form of its own.
    let hasOwnPreparedFilter: Bool

    init(_ geometry: ConvGeometry, plan: ConvPlan) {
        self.geometry = geometry
        let inner = Self.inner(geometry)
        staging = LayoutStaging(ConversionShape(geometry), requested: geometry.layout, algorithm: inner.layout,
                                imagesPerChunk: plan.layoutConversion?.imagesPerChunk)
        var own = plan
        own.layoutConversion = nil
        let chunks = staging.chunkGeometries(inner) { n throws(ConvError) in try inner.withBatch(n) }
        (fullGeometry, lastGeometry, invalid) = chunks
        full = A(fullGeometry, plan: own)
        last = lastGeometry.map { A($0, plan: own) }
        hasOwnPreparedFilter = ((try? full.preparedFilterCount()) ?? nil).map { $0 > 0 } ?? false
    }

    /// A and its geometry for a chunk of `images` images.
    private func chunk(_ images: Int) -> (algorithm: A, geometry: ConvGeometry) {
        if images == fullGeometry.batch { return (full, fullGeometry) }
        // Safe: a chunk is the full one or the last one, and the last exists when its size differs.
        return (last!, lastGeometry!)
    }

    func layout(for pass: ConvPass) throws(ConvError) -> Layout {
        if invalid { throw .sizeOverflow(quantity: "layout conversion chunk geometry") }
        let regions = try staging.regions(for: pass)
        let own = try full.layout(for: pass), lastOwn = try last?.layout(for: pass)
        let total = try checkedSum(regions.total, max(own.total, lastOwn?.total ?? 0),
                                   quantity: "workspace (layout conversion staging and \(A.algorithm))")
        return Layout(staging: regions, full: own, last: lastOwn, total: total)
    }

    func preparedFilterCount() throws(ConvError) -> Int? {
        let own = try full.preparedFilterCount()
        guard staging.convertsFilter else { return own }
        return try checkedSum(geometry.filterCount, own ?? 0, quantity: "prepared filter elements")
    }

    /// The filter in A's layout, followed by A's own prepared form of it when A has one.
    func prepareFilter<T: ConvScalar>(_ filter: UnsafePointer<T>, into prepared: UnsafeMutablePointer<T>, workers: Int) {
        guard staging.convertsFilter else {
            full.prepareFilter(filter, into: prepared, workers: workers)
            return
        }
        staging.convertFilter(filter, into: prepared, toAlgorithm: true, workers: workers)
        if hasOwnPreparedFilter {
            full.prepareFilter(prepared, into: prepared + geometry.filterCount, workers: workers)
        }
    }

    func forward<T: ConvScalar>(_ call: ForwardCall<T>, _ layout: Layout) {
        var filter = call.filter, own = call.preparedFilter, converted = false
        if staging.convertsFilter, let prepared = call.preparedFilter {
            filter = prepared
            converted = true
            own = hasOwnPreparedFilter ? prepared + geometry.filterCount : nil
        }
        staging.forward(call, layout.staging, filter: filter, filterConverted: converted) { images, x, f, o, ws in
            let a = chunk(images).algorithm
            // Safe: the last chunk's layout exists whenever the last chunk does.
            a.forward(ForwardCall(input: x, filter: f, bias: call.bias, output: o, epilogue: call.epilogue,
                                  preparedFilter: own, workspace: ws, workers: call.workers),
                      images == fullGeometry.batch ? layout.full : layout.last!)
        }
    }

    /// The backward pass with the col2im route (the engine calls ``backward(_:route:geometry:workers:)``).
    func backward<T: ConvScalar>(_ call: BackwardCall<T>, _ layout: Layout) {
        // Safe from throwing: the closure below never throws.
        try? staging.backward(call, layout.staging) { images, chunkCall in
            chunk(images).algorithm.backward(chunkCall, images == fullGeometry.batch ? layout.full : layout.last!)
        }
    }

    func backwardWorkspace<R: InputGradientRoute>(route: R.Type, geometry: ConvGeometry, gradients: GradientSet,
                                                  workers: Int) throws(ConvError) -> Int {
        if invalid { throw .sizeOverflow(quantity: "layout conversion chunk geometry") }
        let regions = try staging.regions(for: .backward(gradients))
        var own = try full.backwardWorkspace(route: R.self, geometry: fullGeometry, gradients: gradients, workers: workers)
        if let last, let lastGeometry {
            own = max(own, try last.backwardWorkspace(route: R.self, geometry: lastGeometry, gradients: gradients,
                                                      workers: workers))
        }
        return try checkedSum(regions.total, own, quantity: "workspace (layout conversion staging and \(A.algorithm))")
    }

    /// The backward pass on the copies, chunk by chunk, with A's backward pass and the route R on each.
    func backward<T: ConvScalar, R: InputGradientRoute>(_ call: BackwardCall<T>, route: R.Type, geometry: ConvGeometry,
                                                        workers: Int) throws(ConvError) {
        if invalid { throw .sizeOverflow(quantity: "layout conversion chunk geometry") }
        let regions = try staging.regions(for: .backward(call.gradients))
        try staging.backward(call, regions) { images, chunkCall throws(ConvError) in
            let (a, g) = chunk(images)
            try a.backward(chunkCall, route: R.self, geometry: g, workers: workers)
        }
    }
}

/// Images per conversion chunk for images of `imageElements` elements (input plus output): as many as fit one tile
/// budget (about a core's L2, so a chunk's copies are still in cache when the algorithm reads them), rounded down
/// to a multiple of the workers (every worker gets whole images), at least one per worker and at most 64. Never
/// depends on the batch: a call with fewer images leaves part of the staging unused.
func imagesPerChunk(imageElements: Int, policy: TilePolicy) -> Int {
    let workers = max(1, policy.workers)
    let (bytes, overflow) = imageElements.multipliedReportingOverflow(by: max(1, policy.scalarBytes))
    let fit = overflow ? 1 : policy.budgetBytes / max(1, bytes)
    let images = min(64, max(1, fit))
    return images >= workers ? images - images % workers : workers
}

extension ConversionShape {
    /// The tensors of a 2-D convolution.
    init(_ g: ConvGeometry) {
        self.init(batch: g.batch, inputChannels: g.inputChannels, inputPixels: g.inputHeight * g.inputWidth,
                  outputChannels: g.outputChannels, outputPixels: g.columnColumns,
                  channelsPerGroup: g.inputChannelsPerGroup, taps: g.kernelHeight * g.kernelWidth)
    }
}

extension ConvLayout {
    /// The layout an algorithm or route that reads the layouts `runs` says yes to runs a call in `requested`
    /// with: the requested activation layout if it reads it (with some filter layout), else the other; then the
    /// requested filter layout if it reads it with those activations, else the other. Whatever differs from
    /// `requested` is converted.
    static func nearest(to requested: ConvLayout, among runs: (ConvLayout) -> Bool) -> ConvLayout {
        // Both filter layouts spelled out: `allCases` would build an array on every call.
        let activations = runs(ConvLayout(activations: requested.activations, filter: .channelsFirst))
            || runs(ConvLayout(activations: requested.activations, filter: .channelsLast))
            ? requested.activations : requested.activations.other
        let filter = runs(ConvLayout(activations: activations, filter: requested.filter)) ? requested.filter : requested.filter.other
        return ConvLayout(activations: activations, filter: filter)
    }
}

extension ActivationLayout {
    /// The other activation layout.
    var other: ActivationLayout { self == .channelsFirst ? .channelsLast : .channelsFirst }
}

extension FilterLayout {
    /// The other filter layout.
    var other: FilterLayout { self == .channelsFirst ? .channelsLast : .channelsFirst }
}
