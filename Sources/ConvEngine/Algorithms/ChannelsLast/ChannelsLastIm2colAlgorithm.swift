/// ``ConvAlgorithm/im2col`` on channels-last activations: the channels-last im2col (``ChannelsLastIm2colLowering``)
/// of one whole image per tile, then its GEMMs. The tiles never depend on the worker count, so neither do the
/// forward pass and the input gradient (each image's dX is one worker's, added position by position in order).
/// Runs only when forced.
struct ChannelsLastIm2colAlgorithm: ChannelsLastIm2colLowering {
    static var algorithm: ConvAlgorithm { .im2col }
    static var forwardTilesFollowWorkers: Bool { false }
    let geometry: ConvGeometry
    let workers: Int
    let lowering: ChannelsLastLowering
    let planes: Lowering?
    /// One image's positions, `P·Q`.
    var tilePositions: Int { geometry.columnColumns }

    init(_ geometry: ConvGeometry, plan: ConvPlan) {
        self.geometry = geometry
        workers = plan.workers
        lowering = ChannelsLastLowering(geometry)
        planes = geometry.inputChannels == 1 ? Lowering(geometry) : nil
    }
}
