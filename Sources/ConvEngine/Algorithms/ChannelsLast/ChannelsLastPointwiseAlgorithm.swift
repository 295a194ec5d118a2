/// ``ConvAlgorithm/pointwise`` on channels-last activations: a 1×1 kernel at stride 1 without padding reads
/// every pixel once, and the `N·H·W × C` input already is the column matrix of the whole batch (group g: its
/// columns `g·C/G ..< (g+1)·C/G`, rows C apart). So each step is one GEMM per tile and group, over positions of
/// any image, with no copy of X at all: `O = X·Fᵀ`, `dF = dOᵀ·X`, `dX = dO·F` (the 1×1 filter is the same memory
/// in either filter layout).
///
/// Tiles are a fixed number of positions (from the tile budget), never cut to the worker count, so the forward
/// pass and the input gradient do not depend on it.
struct ChannelsLastPointwiseAlgorithm: ChannelsLastLowered {
    static var algorithm: ConvAlgorithm { .pointwise }
    static var backwardSplitsImages: Bool { false }
    static var forwardTilesFollowWorkers: Bool { false }
    let geometry: ConvGeometry
    let workers: Int
    let tilePositions: Int

    init(_ geometry: ConvGeometry, plan: ConvPlan) {
        self.geometry = geometry
        workers = plan.workers
        tilePositions = Self.tilePositions(plan.tile, geometry)
    }

    static func inapplicability(to g: ConvGeometry) -> String? {
        g.isPointwise ? nil : "needs a 1×1 kernel, stride 1 and no padding; got \(g)"
    }

    static func isAutomaticChoice(for g: ConvGeometry) -> Bool { g.isPointwise }

    /// Tiles whose input rows (C/G per position) and results fill the budget.
    static func initialTile(for g: ConvGeometry, policy: TilePolicy) -> ConvTile {
        initialTile(for: g, policy: policy, columnLength: g.inputChannelsPerGroup)
    }

    /// Over a workspace limit (the filter-gradient sums of many workers), the automatic plan takes the tiled
    /// im2col, which can shrink.
    static var workspaceFallback: ConvAlgorithm? { .tiledIm2col }

    func columnBuffer(for pass: ConvPass) -> Int { 0 }

    /// The tile's rows of X, group `group`'s channels: `positions × C/G`, rows C apart.
    @inline(__always)
    func columns<T: ConvScalar>(_ positions: Range<Int>, group: Int, input x: UnsafePointer<T>,
                                buffer: UnsafeMutablePointer<T>) -> (UnsafePointer<T>, Int) {
        let g = geometry
        return (x + positions.lowerBound * g.inputChannels + group * g.inputChannelsPerGroup, g.inputChannels)
    }

    /// `dX[positions, group's channels] = dO_tile · F_g`, overwriting (each input pixel is one position's).
    func inputGradient<T: ConvScalar>(_ positions: Range<Int>, group: Int, filter f: UnsafePointer<T>,
                                      outputGradient dO: UnsafePointer<T>, into dX: UnsafeMutablePointer<T>,
                                      buffer: UnsafeMutablePointer<T>) {
        let g = geometry
        let Kg = g.outputChannelsPerGroup, Cg = g.inputChannelsPerGroup, C = g.inputChannels
        BLAS.uncheckedGEMM(transposeA: .none, transposeB: .none, m: positions.count, n: Cg, k: Kg, alpha: 1,
                           a: dO, lda: g.outputChannels, b: f + group * Kg * Cg, ldb: Cg, beta: 0,
                           c: dX + positions.lowerBound * C + group * Cg, ldc: C)
    }
}
