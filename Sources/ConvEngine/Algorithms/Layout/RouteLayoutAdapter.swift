/// Runs input-gradient route R on a geometry whose layout R does not read natively (<doc:Layouts>), by the
/// conversions of ``LayoutAdapter``: dO copied into R's layout a chunk of images at a time, F repacked once, dX
/// copied back. The registry wraps a route in it for an algorithm that runs the layout natively (a
/// channels-last algorithm with the ``InputGradientAlgorithm/fullConvolution`` route); under ``LayoutAdapter``
/// the route already sees copies in its own layout, and this adapter converts nothing.
///
/// Workspace: `n·(K·P·Q + C·H·W)` for the copies of a chunk of n images (``LayoutStaging/regions(for:preparedFilter:)``),
/// `|F|` for the repacked filter, then R's own workspace. n fills one default tile budget of Double elements
/// (at least one image), so the workspace does not depend on the batch.
struct RouteLayoutAdapter<R: InputGradientRoute>: InputGradientRoute {
    /// The staging regions, then R's layout for the full chunk and for a shorter last chunk.
    struct Layout: WorkspaceLayout {
        let staging: LayoutStaging.Regions
        let full: R.Layout, last: R.Layout?
        let total: Int
    }

    static var algorithmComputesInputGradient: Bool { R.algorithmComputesInputGradient }
    static func runsNatively(_ layout: ConvLayout) -> Bool { true }

    let staging: LayoutStaging
    let full: R, last: R?
    let fullImages: Int
    /// Whether a chunk's geometry could not be made (cannot happen); ``layout(workers:)`` then throws.
    let invalid: Bool

    init(_ geometry: ConvGeometry) {
        self.init(geometry, imagesPerChunk: imagesPerChunk(
            imageElements: geometry.inputChannels * geometry.inputHeight * geometry.inputWidth
                + geometry.outputChannels * geometry.columnColumns,
            policy: TilePolicy(budgetBytes: ConvolutionEngine.defaultTileBudgetBytes, forcedRows: nil,
                               scalarBytes: MemoryLayout<Double>.stride, workers: 1)))
    }

    /// The adapter with `images` images per chunk (tests use small chunks).
    init(_ geometry: ConvGeometry, imagesPerChunk images: Int) {
        let inner = geometry.withLayout(ConvLayout.nearest(to: geometry.layout, among: R.runsNatively))
        staging = LayoutStaging(ConversionShape(geometry), requested: geometry.layout, algorithm: inner.layout,
                                imagesPerChunk: images)
        let chunks = staging.chunkGeometries(inner) { n throws(ConvError) in try inner.withBatch(n) }
        invalid = chunks.invalid
        fullImages = chunks.full.batch
        full = R(chunks.full)
        last = chunks.last.map { R($0) }
    }

    func layout(workers: Int) throws(ConvError) -> Layout {
        if invalid { throw .sizeOverflow(quantity: "layout conversion chunk geometry") }
        let regions = try staging.regions(for: .backward(.input))
        let own = try full.layout(workers: workers), lastOwn = try last?.layout(workers: workers)
        let total = try checkedSum(regions.total, max(own.total, lastOwn?.total ?? 0),
                                   quantity: "workspace (layout conversion staging and input-gradient route)")
        return Layout(staging: regions, full: own, last: lastOwn, total: total)
    }

    func inputGradient<T: ConvScalar>(filter: UnsafePointer<T>, outputGradient: UnsafePointer<T>,
                                      inputGradient: UnsafeMutablePointer<T>, workspace: UnsafeMutablePointer<T>,
                                      workers: Int, _ layout: Layout) {
        let call = BackwardCall(input: nil, filter: filter, outputGradient: outputGradient, inputGradient: inputGradient,
                                filterGradient: nil, biasGradient: nil, workspace: workspace, workers: workers)
        // Safe from throwing: the closure never throws. Safe unwraps: a chunk is the full one or the last one,
        // whose route and layout exist when its size differs; the call carries F and dX.
        try? staging.backward(call, layout.staging) { images, chunk in
            let (route, own) = images == fullImages ? (full, layout.full) : (last!, layout.last!)
            route.inputGradient(filter: chunk.filter!, outputGradient: chunk.outputGradient,
                                inputGradient: chunk.inputGradient!, workspace: chunk.workspace, workers: workers, own)
        }
    }
}
