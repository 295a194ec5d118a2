/// ``ConvAlgorithm/winograd2x2`` and ``ConvAlgorithm/winograd4x4``: the forward pass and the input gradient
/// by ``WinogradKernel`` (F(m×m, 3×3), `F` its transforms); the filter gradient by the same kernel's adjoint
/// (``FilterGradientAlgorithm/winograd``, with the bias gradient summed directly) or, by sum of products, with
/// the bias gradient by ``TiledIm2colAlgorithm`` with the plan's gradient tile.
///
/// The input gradient is the stride-1 full convolution of dO with the rotated filter (``WinogradProblem``),
/// so it runs through the same kernel with the roles of K/G and C/G swapped.
struct WinogradAlgorithm<F: WinogradTransform>: ConvolutionAlgorithm {
    static var algorithm: ConvAlgorithm { F.algorithm }

    typealias Layout = WinogradLayout<LoweredLayout>

    /// Blocks hold at least this many tiles (GEMMs narrower than this run well below BLAS's rate; on res5's
    /// 512 channels a narrower block is dominated by packing U) and at most this many.
    static var minimumBlockTiles: Int { 128 }
    static var maximumBlockTiles: Int { 256 }

    let geometry: ConvGeometry
    let workers: Int
    let blockTiles: Int
    let gradients: TiledIm2colAlgorithm
    /// Whether dF is computed by transform (``FilterGradientAlgorithm/winograd``).
    let transformsFilterGradient: Bool

    init(_ geometry: ConvGeometry, plan: ConvPlan) {
        self.geometry = geometry
        workers = plan.workers
        transformsFilterGradient = plan.filterGradientAlgorithm == .winograd
        let (tiles, lowering) = plan.winogradTiles(minimum: Self.minimumBlockTiles)
        blockTiles = tiles
        gradients = TiledIm2colAlgorithm(geometry, plan: lowering)
    }

    static func inapplicability(to g: ConvGeometry) -> String? {
        guard g.kernelHeight == 3 && g.kernelWidth == 3 else { return "needs a 3×3 kernel; got \(g)" }
        guard g.strideHeight == 1 && g.strideWidth == 1 else { return "needs stride 1; got \(g)" }
        guard g.dilationHeight == 1 && g.dilationWidth == 1 else { return "needs dilation 1; got \(g)" }
        return nil
    }

    /// Where F(m×m) measured faster than the automatic sum-of-products plan (kernel-row GEMM; one thread,
    /// CHANGELOG 0.2.0): enough channels per group that the α² GEMMs run near BLAS's rate, and results of at
    /// least two tiles each way. Both won on every ResNet-50 and VGG 3×3 stride-1 layer measured (F(2×2) by the
    /// least on res2: 16.6 ms against 18.4).
    static func isAutomaticChoice(for g: ConvGeometry) -> Bool {
        g.inputChannelsPerGroup >= F.automaticMinimumInputChannels && g.outputChannelsPerGroup >= 32
            && g.outputHeight >= 2 * F.m && g.outputWidth >= 2 * F.m
    }

    /// Both ways; by transform first where it measured faster than the tiled im2col's GEMM
    /// (``filterGradientByTransformIsFaster(for:)``).
    static func filterGradientAlgorithms(for g: ConvGeometry) -> [FilterGradientAlgorithm] {
        filterGradientByTransformIsFaster(for: g) ? [.winograd, .sumOfProducts] : [.sumOfProducts, .winograd]
    }

    /// Where the filter gradient by transform measured faster than by the tiled im2col (CHANGELOG): the
    /// forward pass's own rule.
    static func filterGradientByTransformIsFaster(for g: ConvGeometry) -> Bool {
        isAutomaticChoice(for: g)
    }

    /// `8·⌊clamp(B / (α²·(C/G + K/G)·size), 32, 256) / 8⌋` tiles per block, B the tile budget: a block's V and M
    /// fill the budget. The gradients' tile is the tiled im2col's.
    static func initialTile(for g: ConvGeometry, policy: TilePolicy) -> ConvTile {
        let perTile = F.alpha * F.alpha * (g.inputChannelsPerGroup + g.outputChannelsPerGroup) * policy.scalarBytes
        let fit = policy.budgetBytes / max(1, perTile)
        let tiles = min(maximumBlockTiles, max(minimumBlockTiles, fit)) / 8 * 8
        return .transformTiles(tiles, gradients: TiledIm2colAlgorithm.initialTile(for: g, policy: policy))
    }

    /// Under a workspace limit: half the block (down to 8 tiles) and the next smaller gradient tile.
    static func smallerTile(than tile: ConvTile, for g: ConvGeometry) -> ConvTile? {
        guard case .transformTiles(let tiles, let gradientTile) = tile else { return nil }
        let smallerGradients = TiledIm2colAlgorithm.smallerTile(than: gradientTile, for: g)
        if tiles <= 8 && smallerGradients == nil { return nil }
        return .transformTiles(max(8, tiles / 2 / 8 * 8), gradients: smallerGradients ?? gradientTile)
    }

    var forwardKernel: WinogradKernel<F> { WinogradKernel(.forward(geometry), blockTiles: blockTiles) }
    var inputGradientKernel: WinogradKernel<F> { WinogradKernel(.inputGradient(geometry), blockTiles: blockTiles) }

    func layout(for pass: ConvPass) throws(ConvError) -> Layout {
        let problem = pass == .forward ? forwardKernel.problem : inputGradientKernel.problem
        return try Layout(F.self, pass: pass, problem: problem, blockTiles: blockTiles, workers: workers,
                          transformingFilterGradient: transformsFilterGradient) {
            set throws(ConvError) in try gradients.layout(for: .backward(set))
        }
    }

    /// U, the forward pass's transformed filter.
    func preparedFilterCount() throws(ConvError) -> Int? {
        try WinogradKernel<F>.checkedSizes(forwardKernel.problem, blockTiles: blockTiles).filter
    }

    func prepareFilter<T: ConvScalar>(_ filter: UnsafePointer<T>, into prepared: UnsafeMutablePointer<T>, workers: Int) {
        forwardKernel.transformFilter(filter, .forward(geometry), into: prepared, workers: workers)
    }

    func forward<T: ConvScalar>(_ call: ForwardCall<T>, _ layout: Layout) {
        let kernel = forwardKernel
        let u = layout.forwardFilter(call) { own in
            kernel.transformFilter(call.filter, .forward(geometry), into: own, workers: call.workers)
        }
        kernel.run(source: call.input, transformedFilter: u, bias: call.bias, epilogue: call.epilogue, result: call.output,
                   scratch: layout.blocks.at(call.workspace), workers: call.workers)
    }

    func backward<T: ConvScalar>(_ call: BackwardCall<T>, _ layout: Layout) {
        if layout.transformsFilterGradient, let dF = call.filterGradient, let x = call.input {
            forwardKernel.runFilterGradient(source: x, resultGradient: call.outputGradient, filterGradient: dF,
                                            sums: layout.filterGradientSums.at(call.workspace),
                                            scratch: layout.filterGradientBlocks.at(call.workspace), workers: call.workers)
            if let dB = call.biasGradient { sumBiasGradient(geometry, call.outputGradient, into: dB, workers: call.workers) }
        } else {
            layout.runLowering(gradients, call)
        }
        // After the lowering has finished with the workspace, in the same memory.
        if layout.runsWinograd, let dX = call.inputGradient, let f = call.filter {
            let kernel = inputGradientKernel
            let u = layout.transformedFilter.at(call.workspace)
            kernel.transformFilter(f, .inputGradient(geometry), into: u, workers: call.workers)
            kernel.run(source: call.outputGradient, transformedFilter: u, bias: nil, epilogue: .identity, result: dX,
                       scratch: layout.blocks.at(call.workspace), workers: call.workers)
        }
    }
}
