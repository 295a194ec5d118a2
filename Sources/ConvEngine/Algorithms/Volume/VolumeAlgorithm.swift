/// What the 3-D engine plans and runs: an algorithm on tensors in its own layout (a ``VolumeAlgorithm``), or
/// one through the layout conversion (``VolumeLayoutAdapter``). ``VolumeAlgorithmRegistry`` picks which.
protocol VolumePasses {
    /// The algorithm's public name.
    static var algorithm: ConvAlgorithm3D { get }

    /// Why the algorithm cannot run `geometry`, or `nil` when it can.
    static func inapplicability(to geometry: ConvGeometry3D) -> String?

    /// Whether the automatic plan picks this algorithm (asked in the engine's automatic order, fallback last).
    static func isAutomaticChoice(for geometry: ConvGeometry3D) -> Bool

    /// Output planes per tile before any workspace limit halves them (at least 1, at most E).
    static func initialPlanes(for geometry: ConvGeometry3D, policy: TilePolicy) -> Int

    /// How the plan converts the operands (`nil`: the algorithm reads the geometry's layout itself).
    static func layoutConversion(for geometry: ConvGeometry3D, policy: TilePolicy) -> LayoutConversion?

    /// The passes for one call's geometry and plan.
    init(_ geometry: ConvGeometry3D, plan: ConvPlan3D)

    /// Workspace elements of `pass`, overflow-checked. Never depends on the batch.
    func workspace(for pass: ConvPass) throws(ConvError) -> Int

    /// The forward pass on checked buffers.
    func run<T: ConvScalar>(forward call: ForwardCall<T>) throws(ConvError)

    /// The backward pass on checked buffers.
    func run<T: ConvScalar>(backward call: BackwardCall<T>) throws(ConvError)
}

/// One way of computing a 3-D convolution: each type answers whether it runs a geometry, how many output planes
/// a tile holds, what workspace a tile needs, and the three GEMM steps of one tile (forward, weight, input). The
/// shared driver (VolumeDriver.swift) owns the work split, the bias, the per-worker filter-gradient sums and
/// their reduction in worker order, and the bias gradient. Adding an algorithm is a type conforming to this
/// protocol, a ``ConvAlgorithm3D`` case, and one line in ``VolumeAlgorithmRegistry``.
protocol VolumeAlgorithm: VolumePasses {
    /// Whether the algorithm reads tensors in `layout` (default: NCDHW with a `K×C/G×T×R×S` filter only); the
    /// registry runs it on any other through ``VolumeLayoutAdapter``.
    static func runsNatively(_ layout: ConvLayout) -> Bool

    /// The call's geometry.
    var geometry: ConvGeometry3D { get }
    /// Output planes per tile.
    var planesPerTile: Int { get }
    /// The plan's workers (the workspace has one block per worker slot).
    var workers: Int { get }

    /// Elements of one worker's lowered tile (the forward pass, the filter gradient and the input gradient
    /// share it, one after the other).
    func loweredCount() throws(ConvError) -> Int

    /// Elements of the filter repacked for the GEMMs, in the shared workspace (0: the GEMMs read F as given).
    var packedFilterCount: Int { get }

    /// Writes the repacked filter (``packedFilterCount`` elements).
    func packFilter<T: ConvScalar>(_ filter: UnsafePointer<T>, into packed: UnsafeMutablePointer<T>)

    /// Forward step of one tile and group: `c += F_g · col(tile)` after scaling `c` by `beta` (0: overwrite,
    /// 1: accumulate onto the prefilled bias). `group` is the volume's first channel of the group (channels
    /// `D·H·W` apart); `c` the tile's first output element of the group's first channel (channels `ldc` apart).
    func forwardTile<T: ConvScalar>(planes: Range<Int>, group grp: Int, input group: UnsafePointer<T>,
                                    filter: UnsafePointer<T>, into c: UnsafeMutablePointer<T>, ldc: Int, beta: T,
                                    lowered: UnsafeMutablePointer<T>)

    /// Weight step: adds `dO_tile · col(tile)ᵀ` into the worker's filter-gradient sums (in the algorithm's own
    /// layout, see ``finishFilterGradient(sums:parts:into:workers:)``). `outputGradient` is the tile's first
    /// element of the group's first channel, channels `ldo` apart.
    func weightTile<T: ConvScalar>(planes: Range<Int>, group grp: Int, input group: UnsafePointer<T>,
                                   outputGradient: UnsafePointer<T>, ldo: Int, into sums: UnsafeMutablePointer<T>,
                                   lowered: UnsafeMutablePointer<T>)

    /// Input step for the group's input channels `channels` (all C/G, or a worker's share of them): the rows of
    /// `dcol = F_gᵀ · dO_tile` that belong to those channels, added back into their planes of the input gradient
    /// (`inputGradient` is the group's first channel; the driver zeroes the channels before the volume's first tile).
    /// Channels own disjoint rows of dcol and disjoint planes of dX, so shares never write the same element.
    func inputTile<T: ConvScalar>(planes: Range<Int>, group grp: Int, channels: Range<Int>, filter: UnsafePointer<T>,
                                  outputGradient: UnsafePointer<T>, ldo: Int,
                                  into inputGradient: UnsafeMutablePointer<T>, lowered: UnsafeMutablePointer<T>)

    /// Writes dF from `parts` blocks of per-worker sums (`|F|` elements each, the algorithm's layout), added in
    /// block order for every element.
    func finishFilterGradient<T: ConvScalar>(sums: UnsafeMutablePointer<T>, parts: Int,
                                             into filterGradient: UnsafeMutablePointer<T>, workers: Int)
}

/// The workspace of one 3-D pass.
struct VolumeLayout: WorkspaceLayout {
    /// Per worker: the lowered tile.
    var lowered = WorkspaceRegion()
    /// Per worker: the filter-gradient sums (`|F|`).
    var filterSums = WorkspaceRegion()
    /// Shared: the repacked filter.
    var packedFilter = WorkspaceRegion()
    var total = 0
}

extension VolumeAlgorithm {
    static func isAutomaticChoice(for geometry: ConvGeometry3D) -> Bool { false }
    static func runsNatively(_ layout: ConvLayout) -> Bool { layout == .nchw }
    static func layoutConversion(for geometry: ConvGeometry3D, policy: TilePolicy) -> LayoutConversion? { nil }

    func workspace(for pass: ConvPass) throws(ConvError) -> Int { try layout(for: pass).total }

    func run<T: ConvScalar>(forward call: ForwardCall<T>) throws(ConvError) {
        forward(call, try layout(for: .forward))
    }

    func run<T: ConvScalar>(backward call: BackwardCall<T>) throws(ConvError) {
        backward(call, try layout(for: .backward(call.gradients)))
    }
    var packedFilterCount: Int { 0 }
    func packFilter<T: ConvScalar>(_ filter: UnsafePointer<T>, into packed: UnsafeMutablePointer<T>) {}

    /// The sums are in F's own layout: dF is their sum, block after block, split over threads by element
    /// ranges (which keeps that order for every element).
    func finishFilterGradient<T: ConvScalar>(sums: UnsafeMutablePointer<T>, parts: Int,
                                             into dF: UnsafeMutablePointer<T>, workers: Int) {
        addBlocks(sums, parts: parts, into: dF, workers: workers)
    }

    /// `target[i] = Σ_part blocks[part][i]` over `|F|` elements, parts added in order.
    func addBlocks<T: ConvScalar>(_ blocks: UnsafeMutablePointer<T>, parts: Int, into target: UnsafeMutablePointer<T>,
                                  workers: Int) {
        let count = geometry.filterCount
        let split = min(workers, count)
        parallelFor(split) { w in
            let range = share(of: count, worker: w, of: split)
            if target != blocks { copyRow(target + range.lowerBound, blocks + range.lowerBound, range.count) }
            for part in 1..<max(1, parts) {
                addRow(target + range.lowerBound, blocks + part * count + range.lowerBound, range.count)
            }
        }
    }

    /// The workspace regions `pass` uses, overflow-checked. Never depends on the batch.
    func layout(for pass: ConvPass) throws(ConvError) -> VolumeLayout {
        let gradients = pass.gradients
        var b = WorkspaceLayoutBuilder(workers: workers)
        var l = VolumeLayout()
        if pass == .forward || !gradients.intersection([.input, .filter]).isEmpty {
            l.lowered = try b.perWorker(loweredCount(), "lowered tile")
        }
        if gradients.contains(.filter) { l.filterSums = try b.perWorker(geometry.filterCount, "filter-gradient sums") }
        if pass == .forward || gradients.contains(.input) {
            l.packedFilter = try b.shared(packedFilterCount, "packed filter")
        }
        l.total = b.total
        return l
    }
}
