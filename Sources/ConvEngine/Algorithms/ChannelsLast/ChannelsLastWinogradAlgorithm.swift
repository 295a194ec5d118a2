/// ``ConvAlgorithm/winograd2x2`` and ``ConvAlgorithm/winograd4x4`` on channels-last activations: the forward pass
/// and the input gradient by ``ChannelsLastWinogradKernel`` (F(m×m, 3×3) with the transforms along contiguous runs
/// of channels), the filter and bias gradients by ``ChannelsLastTiledIm2colAlgorithm`` with the plan's gradient
/// tile, as ``WinogradAlgorithm`` does in NCHW. Either filter layout: U is transformed from F read in its own layout.
struct ChannelsLastWinogradAlgorithm<F: WinogradTransform>: ConvolutionAlgorithm {
    static var algorithm: ConvAlgorithm { F.algorithm }

    typealias Layout = WinogradLayout<ChannelsLastLayout>

    let geometry: ConvGeometry
    let workers: Int
    let blockTiles: Int
    let gradients: ChannelsLastTiledIm2colAlgorithm

    init(_ geometry: ConvGeometry, plan: ConvPlan) {
        self.geometry = geometry
        workers = plan.workers
        let (tiles, lowering) = plan.winogradTiles(minimum: WinogradAlgorithm<F>.minimumBlockTiles)
        blockTiles = tiles
        gradients = ChannelsLastTiledIm2colAlgorithm(geometry, plan: lowering)
    }

    static func runsNatively(_ layout: ConvLayout) -> Bool { layout.activations == .channelsLast }

    static func inapplicability(to g: ConvGeometry) -> String? { WinogradAlgorithm<F>.inapplicability(to: g) }

    /// The channels-first rule (enough channels per group, at least two tiles each way).
    static func isAutomaticChoice(for g: ConvGeometry) -> Bool { WinogradAlgorithm<F>.isAutomaticChoice(for: g) }

    /// The channels-first block of transform tiles; the gradients' tile is the channels-last tiled im2col's.
    static func initialTile(for g: ConvGeometry, policy: TilePolicy) -> ConvTile {
        let gradientTile = ChannelsLastTiledIm2colAlgorithm.initialTile(for: g, policy: policy)
        guard case .transformTiles(let tiles, _) = WinogradAlgorithm<F>.initialTile(for: g, policy: policy) else {
            return gradientTile
        }
        return .transformTiles(tiles, gradients: gradientTile)
    }

    /// As ``WinogradAlgorithm``: half the block (down to 8 tiles) and the next smaller gradient tile.
    static func smallerTile(than tile: ConvTile, for g: ConvGeometry) -> ConvTile? {
        WinogradAlgorithm<F>.smallerTile(than: tile, for: g)
    }

    var forwardKernel: ChannelsLastWinogradKernel<F> {
        ChannelsLastWinogradKernel(base: WinogradKernel(.forward(geometry), blockTiles: blockTiles))
    }
    var inputGradientKernel: ChannelsLastWinogradKernel<F> {
        ChannelsLastWinogradKernel(base: WinogradKernel(.inputGradient(geometry), blockTiles: blockTiles))
    }

    /// The input gradient reads F rotated with its K and C/G axes swapped: result channel c, source channel k. Read
    /// in place, the 8 lanes of one transform (8 source channels) are `9·C/G` elements apart and, in `K×3×3×C/G`,
    /// each tap another C/G further: 72 cache lines per lane group, and for a large filter (res5's 9 MiB) the
    /// transform waited on memory for a third of the pass. So each group's `K/G × 9·C/G` filter is first transposed
    /// (`9·C/G × K/G`: the `(tap, c)` or `(c, tap)` rows of either layout, K/G contiguous) and read from there,
    /// every lane group one contiguous vector per tap.
    var swappedFilterAccess: WinogradFilterAccess {
        let g = geometry, Kg = g.outputChannelsPerGroup, Cg = g.inputChannelsPerGroup
        switch g.layout.filter {
        case .channelsFirst:  // rows (c, tap): c at 9·K/G, tap at K/G
            return WinogradFilterAccess(groupStride: 9 * Cg * Kg, outputStride: 9 * Kg, inputStride: 1, rotated: true,
                                        tapStride: Kg)
        case .channelsLast:  // rows (tap, c): tap at C/G·K/G, c at K/G
            return WinogradFilterAccess(groupStride: 9 * Cg * Kg, outputStride: Kg, inputStride: 1, rotated: true,
                                        tapStride: Cg * Kg)
        }
    }

    /// The Winograd regions, with room for the swapped filter of the input gradient.
    func layout(for pass: ConvPass) throws(ConvError) -> Layout {
        let problem = pass == .forward ? forwardKernel.problem : inputGradientKernel.problem
        return try Layout(F.self, pass: pass, problem: problem, blockTiles: blockTiles, workers: workers,
                          swappedFilter: geometry.filterCount) {
            set throws(ConvError) in try gradients.layout(for: .backward(set))
        }
    }

    /// U, the forward pass's transformed filter.
    func preparedFilterCount() throws(ConvError) -> Int? {
        try WinogradKernel<F>.checkedSizes(forwardKernel.problem, blockTiles: blockTiles).filter
    }

    func prepareFilter<T: ConvScalar>(_ filter: UnsafePointer<T>, into prepared: UnsafeMutablePointer<T>, workers: Int) {
        forwardKernel.base.transformFilter(filter, .forward(geometry, filter: geometry.layout.filter), into: prepared,
                                           workers: workers)
    }

    func forward<T: ConvScalar>(_ call: ForwardCall<T>, _ layout: Layout) {
        let kernel = forwardKernel
        let u = layout.forwardFilter(call) { own in
            kernel.base.transformFilter(call.filter, .forward(geometry, filter: geometry.layout.filter), into: own,
                                        workers: call.workers)
        }
        kernel.run(source: call.input, transformedFilter: u, bias: call.bias, epilogue: call.epilogue,
                   result: call.output, scratch: layout.blocks.at(call.workspace), workers: call.workers)
    }

    func backward<T: ConvScalar>(_ call: BackwardCall<T>, _ layout: Layout) {
        layout.runLowering(gradients, call)
        // After the lowering has finished with the workspace, in the same memory.
        if layout.runsWinograd, let dX = call.inputGradient, let f = call.filter {
            let kernel = inputGradientKernel
            let u = layout.transformedFilter.at(call.workspace)
            let swapped = layout.swappedFilter.at(call.workspace)
            let g = geometry
            transposeBlocks(f, into: swapped, blocks: g.groups, rows: g.outputChannelsPerGroup,
                            columns: g.inputChannelsPerGroup * 9, workers: call.workers)
            kernel.base.transformFilter(UnsafePointer(swapped), swappedFilterAccess, into: u, workers: call.workers)
            kernel.run(source: call.outputGradient, transformedFilter: u, bias: nil, epilogue: .identity, result: dX,
                       scratch: layout.blocks.at(call.workspace), workers: call.workers)
        }
    }
}
