/// A GEMM lowering computed tile by tile: the per-tile steps of the GEMM table, which the shared tile driver
/// (``LoweredAlgorithm/forward(_:_:)`` and ``LoweredAlgorithm/backward(_:_:)``) runs over the batch.
///
/// The driver owns everything the lowerings have in common: the tile schedule and the threads, the bias
/// prefill and the copy-out of multi-image tiles, the gather of a multi-image tile's output gradient, the
/// per-worker filter-gradient sums and their reduction in worker order, and the bias gradient. A conforming
/// type supplies only its lowering and its GEMMs.
protocol LoweredAlgorithm: ConvolutionAlgorithm where Layout == LoweredLayout {
    /// The call's geometry.
    var geometry: ConvGeometry { get }
    /// The plan's tile.
    var tile: ConvTile { get }
    /// The plan's worker count (the workspace has a block per worker slot).
    var workers: Int { get }
    /// How the columns of a multi-image tile are ordered.
    static var columnOrder: TileColumnOrder { get }
    /// Whether worker 0 sums its filter gradient straight into dF (the others into the workspace). When
    /// false every worker sums into the workspace and ``finishFilterGradient(sums:parts:into:workers:)`` writes dF.
    static var filterSumsInPlace: Bool { get }

    /// The sizes of the algorithm's own workspace regions for `pass`.
    func needs(for pass: ConvPass) throws(ConvError) -> LoweringNeeds

    /// Work done once per call before the tiles (for example repacking the filter into `layout.packedFilter`).
    func prepare<T: ConvScalar>(filter: UnsafePointer<T>, workspace: UnsafeMutablePointer<T>, _ layout: LoweredLayout,
                                workers: Int)

    /// Forward GEMM of one tile and group: adds `F_g · col` to `c` (`K/G × tile.columns`, rows `ldc` apart),
    /// scaling what `c` held by `beta` first (0: overwrite; 1: accumulate onto the prefilled bias).
    func forwardGEMM<T: ConvScalar>(_ tile: Tile, group: Int, input: UnsafePointer<T>, filter: UnsafePointer<T>,
                                    into c: UnsafeMutablePointer<T>, ldc: Int, beta: T, _ scratch: TileScratch<T>)

    /// Weight GEMM of one tile and group: `sums_g = beta·sums_g + dO_tile · colᵀ`, where `sums` is the worker's
    /// whole filter-gradient block and `outputGradient` the tile's `K/G × tile.columns` matrix (rows `ldo` apart).
    func weightGEMM<T: ConvScalar>(_ tile: Tile, group: Int, input: UnsafePointer<T>,
                                   outputGradient: UnsafePointer<T>, ldo: Int,
                                   into sums: UnsafeMutablePointer<T>, beta: T, _ scratch: TileScratch<T>)

    /// Input GEMM and col2im of one tile and group: `dcol = F_gᵀ · dO_tile`, added back into the input gradient
    /// of the tile's images (the first band of an image overwrites its gradient, later bands add to it).
    func inputGEMM<T: ConvScalar>(_ tile: Tile, group: Int, filter: UnsafePointer<T>,
                                  outputGradient: UnsafePointer<T>, ldo: Int,
                                  into inputGradient: UnsafeMutablePointer<T>, _ scratch: TileScratch<T>)

    /// Writes dF from the per-worker sums: `sums` holds `parts` blocks of `|F|` (for
    /// ``filterSumsInPlace`` the shares of workers 1…, worker 0's being dF itself).
    func finishFilterGradient<T: ConvScalar>(sums: UnsafeMutablePointer<T>, parts: Int,
                                             into filterGradient: UnsafeMutablePointer<T>, workers: Int)
}

/// How a multi-image tile's columns are ordered (one image's tile is always its rows in order).
enum TileColumnOrder {
    /// Image after image, each its rows in order: `[image][row][q]`.
    case imageMajor
    /// Row after row, each holding that row of every image: `[row][image][q]` (a shift by one row moves every
    /// image's columns together, which the kernel-row lowering needs).
    case rowInterleaved
}

/// One tile: output rows `rows` of each image in `images`, as `columns` GEMM columns.
struct Tile {
    let images: Range<Int>
    let rows: Range<Int>
    /// Output width Q.
    let width: Int
    let order: TileColumnOrder

    /// Columns per image (`rows.count · Q`).
    var columnsPerImage: Int { rows.count * width }
    /// GEMM columns of the tile.
    var columns: Int { images.count * columnsPerImage }
    /// Whether the tile holds one image (its GEMMs then read and write the NCHW tensors in place).
    var isSingleImage: Bool { images.count == 1 }
    /// The first column of image `i` of the tile.
    @inline(__always)
    func imageOffset(_ i: Int) -> Int { i * (order == .imageMajor ? columnsPerImage : width) }
    /// Columns between consecutive rows of one image.
    var rowStride: Int { order == .imageMajor ? width : images.count * width }
}

/// The sizes of a lowered algorithm's own workspace regions (elements; 0 for none).
struct LoweringNeeds {
    /// Per worker: the tile's lowered operand (column matrix).
    var lowered = 0
    /// Per worker: input staging of one image and group (the tiled im2col's stride phases).
    var inputStaging = 0
    /// Per worker: input-gradient staging of one image (the tiled col2im's stride phases).
    var gradientStaging = 0
    /// Shared: the filter repacked for the algorithm's GEMMs.
    var packedFilter = 0
}

/// The workspace of a lowered pass.
struct LoweredLayout: WorkspaceLayout {
    var lowered = WorkspaceRegion()
    /// Per worker: a multi-image tile's `K/G × columns` result (forward) or gathered output gradient (backward).
    var tileResult = WorkspaceRegion()
    var inputStaging = WorkspaceRegion()
    var gradientStaging = WorkspaceRegion()
    /// The filter-gradient sums of the workers that do not sum into dF.
    var filterSums = WorkspaceRegion()
    var packedFilter = WorkspaceRegion()
    var total = 0
}

/// One worker's scratch for a tile, and the call's shared packed filter.
struct TileScratch<T: ConvScalar> {
    let lowered: UnsafeMutablePointer<T>
    let inputStaging: UnsafeMutablePointer<T>?
    let gradientStaging: UnsafeMutablePointer<T>?
    let packedFilter: UnsafeMutablePointer<T>

    /// `prepared`, when given, replaces the layout's packed filter (a ``PreparedFilter``'s, read only).
    init(_ workspace: UnsafeMutablePointer<T>, _ layout: LoweredLayout, worker w: Int,
         prepared: UnsafePointer<T>? = nil) {
        lowered = layout.lowered.at(workspace, worker: w)
        inputStaging = layout.inputStaging.isEmpty ? nil : layout.inputStaging.at(workspace, worker: w)
        gradientStaging = layout.gradientStaging.isEmpty ? nil : layout.gradientStaging.at(workspace, worker: w)
        // Safe: the forward GEMMs only read the packed filter.
        packedFilter = prepared.map { UnsafeMutablePointer(mutating: $0) } ?? layout.packedFilter.at(workspace)
    }
}

extension LoweredAlgorithm {
    /// Rows of the plan's tile counted over the batch (see ``ConvTile/outputRows(imageHeight:)``).
    var tileRows: Int { tile.outputRows(imageHeight: geometry.outputHeight) }

    static var filterSumsInPlace: Bool { true }

    func prepare<T: ConvScalar>(filter: UnsafePointer<T>, workspace: UnsafeMutablePointer<T>, _ layout: LoweredLayout,
                                workers: Int) {}

    /// Adds the shares of workers 1… into dF, in worker order, split over threads by element ranges (which
    /// keeps that order for every element).
    func finishFilterGradient<T: ConvScalar>(sums: UnsafeMutablePointer<T>, parts: Int,
                                             into dF: UnsafeMutablePointer<T>, workers: Int) {
        let count = geometry.filterCount
        let split = min(workers, count)
        parallelFor(split) { w in
            let range = share(of: count, worker: w, of: split)
            for part in 0..<parts {
                addRow(dF + range.lowerBound, sums + part * count + range.lowerBound, range.count)
            }
        }
    }

    func layout(for pass: ConvPass) throws(ConvError) -> LoweredLayout {
        let g = geometry
        let needs = try needs(for: pass)
        let gradients = pass.gradients
        let usesTiles = pass == .forward || gradients.contains(.input) || gradients.contains(.filter)
        var b = WorkspaceLayoutBuilder(workers: workers)
        var l = LoweredLayout()
        l.lowered = try b.perWorker(needs.lowered, "lowered tile")
        if usesTiles && tileRows > g.outputHeight {
            let columns = try checkedProduct(tileRows, g.outputWidth, quantity: "tile columns")
            l.tileResult = try b.perWorker(checkedProduct(g.outputChannelsPerGroup, columns, quantity: "tile result"),
                                           "tile result")
        }
        l.inputStaging = try b.perWorker(needs.inputStaging, "input staging")
        l.gradientStaging = try b.perWorker(needs.gradientStaging, "input-gradient staging")
        if gradients.contains(.filter) {
            let parts = Self.filterSumsInPlace ? workers - 1 : workers
            l.filterSums = try b.shared(checkedProduct(parts, g.filterCount, quantity: "filter-gradient sums"),
                                        "filter-gradient sums")
        }
        l.packedFilter = try b.shared(needs.packedFilter, "packed filter")
        l.total = b.total
        return l
    }
}
