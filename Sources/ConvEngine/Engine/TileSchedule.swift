/// How the lowered algorithms cut output rows into GEMM tiles (a ``ConvTile`` in rows: `.images(n)` is `n·P` rows): either several
/// whole images side by side (`tileRows` a multiple of P), or bands of rows of one image. `tileRows` is the
/// largest tile (it sizes the workspace, so it must not depend on the batch); the tiles actually used are
/// evened out so that, for example, 8 images under a 5-image limit run as 4 + 4 rather than 5 + 3.
/// The canonical lowering is the special case of one whole image per tile.
struct TileSchedule {
    let outputHeight: Int
    let tileRows: Int

    /// The schedule of a pass that hands the tiles of a whole batch of `batch` images to `workers` threads as
    /// they come free: the plan's tiles, except that whole-image tiles hold at most `ceil(batch / workers)`
    /// images, so that there is a tile for every worker (ResNet's res5, 7×7 outputs: one 8-image tile would
    /// leave the second worker idle).
    init(outputHeight: Int, tileRows: Int, batch: Int, workers: Int) {
        self.outputHeight = outputHeight
        let perWorker = (batch - 1) / max(1, workers) + 1
        self.tileRows = tileRows >= outputHeight && workers > 1 && batch > 0
            ? max(1, min(tileRows / outputHeight, perWorker)) * outputHeight : tileRows
    }

    init(outputHeight: Int, tileRows: Int) {
        self.outputHeight = outputHeight
        self.tileRows = tileRows
    }

    /// The most whole images in one tile (1 for bands).
    var maximumImagesPerTile: Int { tileRows >= outputHeight ? tileRows / outputHeight : 1 }
    /// Bands per image (1 when tiles hold whole images).
    var bandsPerImage: Int { tileRows >= outputHeight ? 1 : (outputHeight + tileRows - 1) / tileRows }
    /// Rows per band, evened out over the image's bands.
    var bandRows: Int { (outputHeight + bandsPerImage - 1) / bandsPerImage }

    /// Number of tiles covering `images`.
    func tileCount(images: Range<Int>) -> Int {
        let most = maximumImagesPerTile
        return most > 1 ? (images.count + most - 1) / most : images.count * bandsPerImage
    }

    /// Tile `i` of those covering `images`: the images it spans and the output rows it covers in each.
    func tile(_ i: Int, images: Range<Int>) -> (images: Range<Int>, rows: Range<Int>) {
        if maximumImagesPerTile > 1 {
            let count = tileCount(images: images)
            let range = share(of: images.count, worker: i, of: count)
            return ((images.lowerBound + range.lowerBound)..<(images.lowerBound + range.upperBound), 0..<outputHeight)
        }
        let n = images.lowerBound + i / bandsPerImage
        let p0 = (i % bandsPerImage) * bandRows
        return (n..<n + 1, p0..<min(outputHeight, p0 + bandRows))
    }
}
