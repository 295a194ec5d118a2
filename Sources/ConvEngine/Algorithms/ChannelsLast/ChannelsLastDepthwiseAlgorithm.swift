/// ``ConvAlgorithm/depthwiseDirect`` on channels-last activations: the direct ``ChannelsLastDepthwiseKernel``, with
/// the channels in vector lanes. Any channel multiplier, stride, padding and dilation. The filter (the same memory
/// in either filter layout, one channel per group) is reordered to `m×R×S×C` once per call, or prepared.
struct ChannelsLastDepthwiseAlgorithm: ConvolutionAlgorithm {
    static var algorithm: ConvAlgorithm { .depthwiseDirect }

    /// The reordered filter and bias (shared) and the workers' filter-gradient sums.
    struct Layout: WorkspaceLayout {
        var taps = WorkspaceRegion()
        var bias = WorkspaceRegion()
        var filterSums = WorkspaceRegion()
        var total = 0
    }

    let geometry: ConvGeometry
    let workers: Int

    init(_ geometry: ConvGeometry, plan: ConvPlan) {
        self.geometry = geometry
        workers = plan.workers
    }

    static func runsNatively(_ layout: ConvLayout) -> Bool { layout.activations == .channelsLast }

    static func inapplicability(to g: ConvGeometry) -> String? {
        g.isDepthwise ? nil : "needs groups == input channels; got \(g)"
    }

    /// Depthwise geometries with more than one group (one group is an ordinary convolution of one channel).
    static func isAutomaticChoice(for g: ConvGeometry) -> Bool { g.isDepthwise && g.groups > 1 }

    /// The channel multiplier m = K/C.
    private var multiplier: Int { geometry.outputChannelsPerGroup }

    func layout(for pass: ConvPass) throws(ConvError) -> Layout {
        let g = geometry
        var b = WorkspaceLayoutBuilder(workers: workers)
        var l = Layout()
        let gradients = pass.gradients
        if pass == .forward || gradients.contains(.input) { l.taps = try b.shared(g.filterCount, "depthwise taps") }
        if pass == .forward && multiplier > 1 { l.bias = try b.shared(g.outputChannels, "depthwise bias") }
        if gradients.contains(.filter) {
            l.filterSums = try b.perWorker(ChannelsLastDepthwiseKernel.sumsPerWorker(g), "depthwise filter-gradient sums")
        }
        l.total = b.total
        return l
    }

    /// The filter as `m×R×S×C` (``ChannelsLastFilter/channelVectors(_:into:)``).
    func preparedFilterCount() throws(ConvError) -> Int? { geometry.filterCount }

    func prepareFilter<T: ConvScalar>(_ filter: UnsafePointer<T>, into prepared: UnsafeMutablePointer<T>, workers: Int) {
        ChannelsLastFilter(geometry).channelVectors(filter, into: prepared)
    }

    func forward<T: ConvScalar>(_ call: ForwardCall<T>, _ layout: Layout) {
        let g = geometry, m = multiplier
        var taps = call.preparedFilter
        if taps == nil {
            let packed = layout.taps.at(call.workspace)
            ChannelsLastFilter(g).channelVectors(call.filter, into: packed)
            taps = UnsafePointer(packed)
        }
        // The bias of multiple j over the channels, contiguous: B itself for m = 1.
        var bias = call.bias
        if let b = call.bias, m > 1 {
            let packed = layout.bias.at(call.workspace)
            let C = g.inputChannels
            for c in 0..<C { for j in 0..<m { packed[j * C + c] = b[c * m + j] } }
            bias = UnsafePointer(packed)
        }
        // Safe: taps is set on both paths above.
        ChannelsLastDepthwiseKernel(g).forward(call.input, taps: taps!, bias: bias, call.output,
                                               epilogue: call.epilogue, workers: call.workers)
    }

    /// dF and dX in one walk over the positions (workers split the images, their dF sums added in worker order),
    /// dB separately, by channel, in an order independent of the worker count.
    func backward<T: ConvScalar>(_ call: BackwardCall<T>, _ layout: Layout) {
        let g = geometry
        let order = ChannelsLastFilter(g)
        var taps: UnsafePointer<T>?
        if let f = call.filter, call.inputGradient != nil {
            let packed = layout.taps.at(call.workspace)
            order.channelVectors(f, into: packed)
            taps = UnsafePointer(packed)
        }
        let sums = call.filterGradient != nil ? layout.filterSums.at(call.workspace) : nil
        let parts = ChannelsLastDepthwiseKernel(g).backward(call.input, taps: taps, call.outputGradient,
                                                            inputGradient: call.inputGradient, filterSums: sums,
                                                            workers: call.workers)
        if let dF = call.filterGradient, let sums, parts > 0 {
            order.depthwiseSum(sums, parts: parts, partSize: layout.filterSums.perWorker,
                               tapStride: ChannelsLastDepthwiseKernel.sumTapStride(channels: g.inputChannels),
                               into: dF, workers: call.workers)
        }
        if let dB = call.biasGradient {
            sumChannelColumns(call.outputGradient, rows: g.batch * g.columnColumns, channels: g.outputChannels,
                              into: dB, workers: call.workers)
        }
    }
}
