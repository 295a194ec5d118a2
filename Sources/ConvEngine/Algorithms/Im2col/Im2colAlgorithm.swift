/// ``ConvAlgorithm/im2col``: the canonical lowering, im2col of one whole image and group, then one GEMM each.
/// Runs only when forced.
struct Im2colAlgorithm: Im2colLowering {
    static var algorithm: ConvAlgorithm { .im2col }
    let geometry: ConvGeometry
    let workers: Int
    let lowering: Lowering
    var tile: ConvTile { .images(1) }
    var usesStridePhases: Bool { false }

    init(_ geometry: ConvGeometry, plan: ConvPlan) {
        self.geometry = geometry
        workers = plan.workers
        lowering = Lowering(geometry)
    }

    static func inapplicability(to geometry: ConvGeometry) -> String? { nil }
}
