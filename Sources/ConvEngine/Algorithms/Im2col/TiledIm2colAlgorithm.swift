/// ``ConvAlgorithm/tiledIm2col``: im2col over tiles of output rows sized from the tile budget, with horizontal
/// stride phases where several taps read each phase row.
struct TiledIm2colAlgorithm: Im2colLowering {
    static var algorithm: ConvAlgorithm { .tiledIm2col }
    let geometry: ConvGeometry
    let tile: ConvTile
    let workers: Int
    let lowering: Lowering
    let usesStridePhases: Bool

    init(_ geometry: ConvGeometry, plan: ConvPlan) {
        self.geometry = geometry
        tile = plan.tile
        workers = plan.workers
        lowering = Lowering(geometry)
        usesStridePhases = Self.stridePhasesPay(geometry)
    }

    static func inapplicability(to geometry: ConvGeometry) -> String? { nil }

    /// The fallback of the automatic rule: any geometry no other algorithm takes.
    static func isAutomaticChoice(for geometry: ConvGeometry) -> Bool { true }

    static func initialTile(for g: ConvGeometry, policy: TilePolicy) -> ConvTile {
        TileSizing.tile(for: g, policy: policy, loweredRowsPerColumn: g.columnRows,
                        minimumColumns: TileSizing.minimumColumns, readsInputRuns: true)
    }

    static func smallerTile(than tile: ConvTile, for g: ConvGeometry) -> ConvTile? { TileSizing.smaller(than: tile, for: g) }
}
