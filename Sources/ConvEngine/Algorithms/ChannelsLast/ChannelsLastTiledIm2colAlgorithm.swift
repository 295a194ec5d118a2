/// ``ConvAlgorithm/tiledIm2col`` on channels-last activations: the channels-last im2col
/// (``ChannelsLastIm2colLowering``) over tiles of output positions sized from the tile budget (whole output rows,
/// across images as the budget allows), cut smaller so that every worker gets a tile. The automatic choice for
/// channels-last geometries no other rule takes, and what a workspace limit shrinks.
struct ChannelsLastTiledIm2colAlgorithm: ChannelsLastIm2colLowering {
    static var algorithm: ConvAlgorithm { .tiledIm2col }
    static var forwardTilesFollowWorkers: Bool { true }
    let geometry: ConvGeometry
    let workers: Int
    let tilePositions: Int
    let lowering: ChannelsLastLowering
    let planes: Lowering?

    init(_ geometry: ConvGeometry, plan: ConvPlan) {
        self.geometry = geometry
        workers = plan.workers
        tilePositions = Self.tilePositions(plan.tile, geometry)
        lowering = ChannelsLastLowering(geometry)
        planes = geometry.inputChannels == 1 ? Lowering(geometry) : nil
    }

    /// The fallback of the automatic rule: any channels-last geometry no other algorithm takes.
    static func isAutomaticChoice(for geometry: ConvGeometry) -> Bool { true }

    static func initialTile(for g: ConvGeometry, policy: TilePolicy) -> ConvTile {
        initialTile(for: g, policy: policy, columnLength: g.columnRows)
    }

    static func smallerTile(than tile: ConvTile, for g: ConvGeometry) -> ConvTile? { TileSizing.smaller(than: tile, for: g) }
}
