/// How the lowered algorithms cut the batch's output rows into GEMM tiles (see ``ConvPlan/tileRows``):
/// either several whole images side by side (`tileRows` a multiple of P), or bands of rows of one image.
/// The canonical lowering is the special case of one whole image per tile.
struct TileSchedule {
    let outputHeight: Int
    let tileRows: Int

    /// Whole images per tile (1 for bands).
    var imagesPerTile: Int { tileRows >= outputHeight ? tileRows / outputHeight : 1 }
    /// Bands per image (1 when tiles hold whole images).
    var bandsPerImage: Int { tileRows >= outputHeight ? 1 : (outputHeight + tileRows - 1) / tileRows }

    /// Number of tiles covering `images`.
    func tileCount(images: Range<Int>) -> Int {
        imagesPerTile > 1 ? (images.count + imagesPerTile - 1) / imagesPerTile : images.count * bandsPerImage
    }

    /// Tile `i` of those covering `images`: the images it spans and the output rows it covers in each.
    func tile(_ i: Int, images: Range<Int>) -> (images: Range<Int>, rows: Range<Int>) {
        if imagesPerTile > 1 {
            let first = images.lowerBound + i * imagesPerTile
            return (first..<min(images.upperBound, first + imagesPerTile), 0..<outputHeight)
        }
        let n = images.lowerBound + i / bandsPerImage
        let p0 = (i % bandsPerImage) * tileRows
        return (n..<n + 1, p0..<min(outputHeight, p0 + tileRows))
    }
}
