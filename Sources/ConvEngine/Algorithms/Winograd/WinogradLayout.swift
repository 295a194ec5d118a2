/// The workspace of a pass of a Winograd algorithm, in either activation layout (``WinogradAlgorithm``,
/// ``ChannelsLastWinogradAlgorithm``): U (shared) and the blocks' V and M (per worker) when the pass runs the
/// Winograd kernel (the forward pass, or a backward pass with dX), and the layout of the lowering that computes
/// the filter and bias gradients. A backward pass runs the lowering first and the Winograd input gradient after
/// it in the same memory, so it needs the larger of the two.
struct WinogradLayout<Gradients: WorkspaceLayout>: WorkspaceLayout {
    var transformedFilter = WorkspaceRegion(), blocks = WorkspaceRegion()
    /// A copy of F the input gradient reads instead of F (the channels-last form's, with K and C/G swapped).
    var swappedFilter = WorkspaceRegion()
    var runsWinograd = false
    /// The filter gradient by transform (``FilterGradientAlgorithm/winograd``): the shares' sums of dU and each
    /// worker's V and W. It runs first and the input gradient after it, in the same memory.
    var filterGradientSums = WorkspaceRegion(), filterGradientBlocks = WorkspaceRegion()
    var transformsFilterGradient = false
    /// The lowering's layout, when the pass computes dF (by sum of products) or dB.
    var gradients: Gradients?
    var total = 0

    /// The layout of `pass`: the Winograd regions for `problem` (its transformed filter, `blockTiles` per block,
    /// `swappedFilter` elements more for a backward pass), and `gradients(set)` for the other gradients.
    ///
    /// With `transformingFilterGradient` (a backward pass of a ``FilterGradientAlgorithm/winograd`` plan), dF
    /// takes `workers` sums of `|U|` elements and the per-worker blocks, and dB is summed directly, so the
    /// lowering is not used.
    init<F: WinogradTransform>(_: F.Type, pass: ConvPass, problem: WinogradProblem, blockTiles: Int, workers: Int,
                               swappedFilter: Int = 0, transformingFilterGradient: Bool = false,
                               gradients: (GradientSet) throws(ConvError) -> Gradients) throws(ConvError) {
        if pass == .forward || pass.gradients.contains(.input) {
            let sizes = try WinogradKernel<F>.checkedSizes(problem, blockTiles: blockTiles)
            var b = WorkspaceLayoutBuilder(workers: workers)
            transformedFilter = try b.shared(sizes.filter, "Winograd transformed filter")
            blocks = try b.perWorker(sizes.perWorker, "Winograd blocks")
            if pass != .forward { self.swappedFilter = try b.shared(swappedFilter, "Winograd swapped filter") }
            total = b.total
            runsWinograd = true
        }
        var lowered = pass.gradients.subtracting(.input)
        if transformingFilterGradient && lowered.contains(.filter) {
            let sizes = try WinogradKernel<F>.checkedSizes(problem, blockTiles: blockTiles)
            var b = WorkspaceLayoutBuilder(workers: workers)
            filterGradientSums = try b.shared(checkedProduct(sizes.filter, workers, quantity: "Winograd filter-gradient sums"),
                                              "Winograd filter-gradient sums")
            filterGradientBlocks = try b.perWorker(sizes.perWorker, "Winograd filter-gradient blocks")
            total = max(total, b.total)
            transformsFilterGradient = true
            lowered = []
        }
        if !lowered.isEmpty {
            let layout = try gradients(lowered)
            self.gradients = layout
            total = max(total, layout.total)
        }
    }
}

extension WinogradLayout {
    /// U for a forward pass: the call's prepared filter, or `transform` writing it into the workspace.
    @inline(__always)
    func forwardFilter<T>(_ call: ForwardCall<T>, transform: (UnsafeMutablePointer<T>) -> Void) -> UnsafePointer<T> {
        if let prepared = call.preparedFilter { return prepared }
        let own = transformedFilter.at(call.workspace)
        transform(own)
        return UnsafePointer(own)
    }

    /// The filter and bias gradients of a backward `call` by the lowering `lowering` (dX left to the Winograd
    /// kernel, which runs after it in the same memory).
    func runLowering<A: ConvolutionAlgorithm, T: ConvScalar>(_ lowering: A, _ call: BackwardCall<T>)
        where A.Layout == Gradients {
        guard let gradients else { return }
        var lowered = call
        lowered.inputGradient = nil
        lowering.backward(lowered, gradients)
    }
}

extension ConvPlan {
    /// A Winograd plan's transform tiles per block (`minimum` when the tile is not a transform tile) and the plan
    /// of the lowering that computes its filter and bias gradients (the same plan with the gradients' tile).
    func winogradTiles(minimum: Int) -> (blockTiles: Int, gradients: ConvPlan) {
        guard case .transformTiles(let tiles, let gradientTile) = tile else { return (minimum, self) }
        var lowering = self
        lowering.tile = gradientTile
        return (tiles, lowering)
    }
}
