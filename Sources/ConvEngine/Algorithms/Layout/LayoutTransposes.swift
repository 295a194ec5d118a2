// The copies of the layout conversion: moving the channel axis of activations (an image of `channels × pixels`
// is the transpose of one of `pixels × channels`) and of filters (`C/G × taps` per filter against `taps × C/G`)
// is one matrix transpose per image or per filter, done here in cache-sized square blocks over raw pointers.

/// The rows and columns of one block of ``transposeBlocks(_:into:blocks:rows:columns:workers:)``: 16×16 Float
/// elements read and 16 written per step stay in L1 on both sides of the transpose.
private let transposeTile = 16

/// Writes `blocks` consecutive matrices of `rows × columns` (row-major) transposed, each as `columns × rows`:
/// `dst[b][j][i] = src[b][i][j]`. Channels-last to channels-first is `rows` = pixels (or taps) and `columns` =
/// channels; the other way is the same call with the two swapped.
///
/// Split over `workers` threads by bands of rows when the copy is large enough to pay for a thread (each element
/// is written once, so the result does not depend on the split). A matrix with one row or one column is the same
/// memory in both orders, and is copied as one run.
func transposeBlocks<T: ConvScalar>(_ src: UnsafePointer<T>, into dst: UnsafeMutablePointer<T>, blocks: Int,
                                    rows: Int, columns: Int, workers: Int) {
    let size = rows * columns  // Safe: a block is one image or filter of a checked geometry.
    if rows == 1 || columns == 1 {
        copyBlocks(src, into: dst, count: blocks * size, workers: workers)
        return
    }
    // Bands of at least one tile of rows, and at most enough for two items per worker per block.
    let bandRows = max(transposeTile, (rows + 2 * max(1, workers) - 1) / (2 * max(1, workers)))
    let bands = (rows + bandRows - 1) / bandRows
    let split = size * blocks >= 1 << 15 ? workers : 1
    parallelItems(split, count: blocks * bands) { _, item in
        let b = item / bands, band = item % bands
        let lo = band * bandRows, hi = min(rows, lo + bandRows)
        transposeRows(src + b * size, into: dst + b * size, rows: rows, columns: columns, band: lo..<hi)
    }
}

/// Rows `band` of one `rows × columns` matrix, written transposed, tile by tile.
@_specialize(where T == Float)
@_specialize(where T == Double)
func transposeRows<T: ConvScalar>(_ src: UnsafePointer<T>, into dst: UnsafeMutablePointer<T>, rows: Int,
                                  columns: Int, band: Range<Int>) {
    var i0 = band.lowerBound
    while i0 < band.upperBound {
        let i1 = min(band.upperBound, i0 + transposeTile)
        var j0 = 0
        while j0 < columns {
            let j1 = min(columns, j0 + transposeTile)
            for i in i0..<i1 {
                let from = src + i * columns
                let to = dst + i
                for j in j0..<j1 { to[j * rows] = from[j] }
            }
            j0 = j1
        }
        i0 = i1
    }
}

/// `dst[0..<count] = src[0..<count]` in runs shared by the workers (large copies only).
private func copyBlocks<T: ConvScalar>(_ src: UnsafePointer<T>, into dst: UnsafeMutablePointer<T>, count: Int,
                                       workers: Int) {
    let run = 1 << 16
    let runs = (count + run - 1) / run
    parallelItems(runs > 1 ? workers : 1, count: runs) { _, item in
        let start = item * run
        (dst + start).update(from: src + start, count: min(run, count - start))
    }
}

/// Adds `count` elements of `part` into `sum`, split over the workers by element ranges (each element gets one
/// addition, in the same order whatever the split).
func addInto<T: ConvScalar>(_ sum: UnsafeMutablePointer<T>, _ part: UnsafePointer<T>, count: Int, workers: Int) {
    let split = max(1, min(workers, count / 16_384))
    parallelFor(split) { w in
        let range = share(of: count, worker: w, of: split)
        addRow(sum + range.lowerBound, part + range.lowerBound, range.count)
    }
}
