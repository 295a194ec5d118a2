// The small element loops of the transposed convolution around the associated convolution's passes: the bias
// added per output plane, and the staging copies of the rare case where the associated convolution has more
// output rows or columns than the transposed input.

/// Adds `bias[c]` to every element of each `planeSize` plane of channel `c` of a `batch × channels × planeSize`
/// tensor, in place, split over `workers` threads by plane (each element gets exactly one addition, so the
/// result does not depend on the split).
func addChannelBias<T: ConvScalar>(_ bias: UnsafePointer<T>, to output: UnsafeMutablePointer<T>, batch: Int,
                                   channels: Int, planeSize: Int, workers: Int) {
    let planes = batch * channels  // Safe: at most the output's element count, checked by the geometry.
    // One thread per ~64 Ki elements at most: below that, starting a thread costs more than the additions.
    let split = max(1, min(workers, planes, planes * planeSize / 65_536))
    parallelFor(split) { w in
        for plane in share(of: planes, worker: w, of: split) {
            let b = bias[plane % channels]
            let row = output + plane * planeSize
            for i in 0..<planeSize { row[i] += b }
        }
    }
}

/// Copies one image of `channels × height × width` into the top-left corner of a `channels × rows × columns`
/// array and zeroes the rest (`rows ≥ height`, `columns ≥ width`): the transposed input zero-extended to the
/// associated convolution's output size.
func zeroExtend<T: ConvScalar>(_ image: UnsafePointer<T>, into staged: UnsafeMutablePointer<T>, channels: Int,
                               height: Int, width: Int, rows: Int, columns: Int) {
    for c in 0..<channels {
        let source = image + c * height * width, target = staged + c * rows * columns
        for h in 0..<height {
            (target + h * columns).update(from: source + h * width, count: width)
            (target + h * columns + width).update(repeating: 0, count: columns - width)
        }
        (target + height * columns).update(repeating: 0, count: (rows - height) * columns)
    }
}

/// Copies the top-left `height × width` corner of each channel of a `channels × rows × columns` array into a
/// `channels × height × width` image: the associated convolution's output cut to the transposed input's size.
func cropCorner<T: ConvScalar>(_ staged: UnsafePointer<T>, into image: UnsafeMutablePointer<T>, channels: Int,
                               height: Int, width: Int, rows: Int, columns: Int) {
    for c in 0..<channels {
        let source = staged + c * rows * columns, target = image + c * height * width
        for h in 0..<height {
            (target + h * width).update(from: source + h * columns, count: width)
        }
    }
}

/// `sum[i] += part[i]` for `count` elements.
func accumulate<T: ConvScalar>(_ part: UnsafePointer<T>, into sum: UnsafeMutablePointer<T>, count: Int) {
    for i in 0..<count { sum[i] += part[i] }
}
