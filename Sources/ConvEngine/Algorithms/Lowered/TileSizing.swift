/// How the tiled lowerings size their tiles from the engine's tile budget.
enum TileSizing {
    /// Tiles get at least this many columns (output pixels), so that each GEMM stays efficient.
    static let minimumColumns = 256

    /// Automatic tiles of the tiled im2col read at least this many bytes of input rows per channel (about
    /// `rows·sh·W` elements): a tile reads one run of rows from each channel plane, and short runs defeat the
    /// hardware prefetcher (see the CHANGELOG, 0.1.0, for the measurement).
    static let minimumInputRunBytes = 16 << 10

    /// The tile whose lowered operand (`loweredRowsPerColumn` elements per column) and tile result (`K/G` per
    /// column) fill the budget, with at least `minimumColumns` columns.
    ///
    /// A forced row count below P is a band of one image; at or above P it is rounded down to whole images.
    /// Whole-image tiles are not clamped to the batch, so the workspace is the same at any batch size (the
    /// tiles actually used are evened out over the images there are). Automatic tiles take only as many images
    /// as the GEMM needs to reach its minimum width: beyond it, copying the result out to NCHW and a larger
    /// lowered tile cost more than the wider GEMM saves.
    static func tile(for g: ConvGeometry, policy: TilePolicy, loweredRowsPerColumn: Int, minimumColumns: Int,
                     readsInputRuns: Bool) -> ConvTile {
        let budgetColumns = max(minimumColumns, policy.budgetBytes
                                    / max(1, (loweredRowsPerColumn + g.outputChannelsPerGroup) * policy.scalarBytes))
        var rows = policy.forcedRows ?? max(1, budgetColumns / g.outputWidth)
        if policy.forcedRows == nil && readsInputRuns {
            // A product that overflows means rows far wider than any run, so no minimum applies.
            let (strideBytes, o1) = g.strideHeight.multipliedReportingOverflow(by: policy.scalarBytes)
            let (rowBytes, o2) = strideBytes.multipliedReportingOverflow(by: g.inputWidth)
            if !o1 && !o2 && rowBytes > 0 { rows = max(rows, (minimumInputRunBytes - 1) / rowBytes + 1) }
        }
        guard rows >= g.outputHeight else { return .rows(rows) }
        var images = rows / g.outputHeight
        if policy.forcedRows == nil { images = min(images, max(1, minimumColumns / max(1, g.columnColumns))) }
        return .images(images)
    }

    /// The next smaller tile under a workspace limit: half the images, then bands of half the rows; `nil` at
    /// one row. Never clamped to the batch, so the tile a limit settles on is the same at any batch size.
    static func smaller(than tile: ConvTile, for g: ConvGeometry) -> ConvTile? {
        switch tile {
        case .images(let n) where n > 1: return .images(n / 2)
        case .images: return g.outputHeight > 1 ? .rows(g.outputHeight / 2) : nil
        case .rows(let r): return r > 1 ? .rows(r / 2) : nil
        case .transformTiles(_, let gradients): return smaller(than: gradients, for: g)
        }
    }
}
