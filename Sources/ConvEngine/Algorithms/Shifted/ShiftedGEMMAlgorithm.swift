/// ``ConvAlgorithm/shiftedGEMM``: the forward pass by ``ShiftedGEMMKernel`` (one GEMM per kernel tap over the
/// zero-padded image), the gradients by ``TiledIm2colAlgorithm`` with the same plan.
struct ShiftedGEMMAlgorithm: ConvolutionAlgorithm {
    static var algorithm: ConvAlgorithm { .shiftedGEMM }

    /// The forward pass's padded block and result per worker, and the filter repacked per tap; or the
    /// gradients' lowered layout.
    struct Layout: WorkspaceLayout {
        var scratch = WorkspaceRegion(), packedFilter = WorkspaceRegion()
        var gradients = LoweredLayout()
        var total = 0
    }


    let geometry: ConvGeometry
    let workers: Int
    let kernel: ShiftedGEMMKernel
    let gradients: TiledIm2colAlgorithm

    init(_ geometry: ConvGeometry, plan: ConvPlan) {
        self.geometry = geometry
        workers = plan.workers
        kernel = ShiftedGEMMKernel(geometry)
        gradients = TiledIm2colAlgorithm(geometry, plan: plan)
    }

    static func inapplicability(to g: ConvGeometry) -> String? {
        guard g.strideHeight == 1 && g.strideWidth == 1 else { return "needs stride 1; got \(g)" }
        // The kernel computes every padded column of every padded row (see ScratchBound).
        let (plane, overflow) = g.heightAxis.paddedExtent.multipliedReportingOverflow(by: g.widthAxis.paddedExtent)
        return ScratchBound.violation("a padded image", size: overflow ? nil : plane, canonical: g.columnColumns)
            .map { "\($0); got \(g)" }
    }

    /// Tiles (for the gradients) as the tiled im2col's, without its input-run minimum.
    static func initialTile(for g: ConvGeometry, policy: TilePolicy) -> ConvTile {
        TileSizing.tile(for: g, policy: policy, loweredRowsPerColumn: g.columnRows,
                        minimumColumns: TileSizing.minimumColumns, readsInputRuns: false)
    }

    func layout(for pass: ConvPass) throws(ConvError) -> Layout {
        var l = Layout()
        if pass == .forward {
            let sizes = try ShiftedGEMMKernel.checkedSizes(geometry)
            var b = WorkspaceLayoutBuilder(workers: workers)
            l.scratch = try b.perWorker(sizes.perWorker, "shifted-GEMM scratch")
            l.packedFilter = try b.shared(sizes.filter, "packed filter")
            l.total = b.total
        } else {
            l.gradients = try gradients.layout(for: pass)
            l.total = l.gradients.total
        }
        return l
    }

    /// The filter repacked per tap.
    func preparedFilterCount() throws(ConvError) -> Int? { try ShiftedGEMMKernel.checkedSizes(geometry).filter }

    func prepareFilter<T: ConvScalar>(_ filter: UnsafePointer<T>, into prepared: UnsafeMutablePointer<T>, workers: Int) {
        kernel.repackFilter(filter, into: prepared)
    }

    func forward<T: ConvScalar>(_ call: ForwardCall<T>, _ layout: Layout) {
        let packed: UnsafePointer<T>
        if let prepared = call.preparedFilter {
            packed = prepared
        } else {
            let own = layout.packedFilter.at(call.workspace)
            kernel.repackFilter(call.filter, into: own)
            packed = UnsafePointer(own)
        }
        kernel.forward(call.input, packed, call.bias, call.output, epilogue: call.epilogue, scratch: layout.scratch.at(call.workspace),
                       scratchPerWorker: layout.scratch.perWorker, workers: call.workers)
    }

    func backward<T: ConvScalar>(_ call: BackwardCall<T>, _ layout: Layout) {
        gradients.backward(call, layout.gradients)
    }
}
