// The small element loops of the transposed convolution around the associated convolution's passes: the bias
// added per output plane, and the staging copies of the rare case where the associated convolution has more
// output rows or columns than the transposed input. Each has a channels-last form (`channelsLast`), for NHWC
// tensors (<doc:Layouts>).

/// Adds `bias[c]` to every element of each `planeSize` plane of channel `c` of a `batch × channels × planeSize`
/// tensor, in place, split over `workers` threads by plane (each element gets exactly one addition, so the
/// result does not depend on the split).
///
/// Channels-last (`batch × planeSize × channels`): the bias vector is added to each pixel's run of channels,
/// split over the workers by pixel.
func addChannelBias<T: ConvScalar>(_ bias: UnsafePointer<T>, to output: UnsafeMutablePointer<T>, batch: Int,
                                   channels: Int, planeSize: Int, channelsLast: Bool = false, workers: Int) {
    if channelsLast {
        let pixels = batch * planeSize  // Safe: at most the output's element count.
        let split = max(1, min(workers, pixels * channels / 65_536))
        parallelFor(split) { w in
            for pixel in share(of: pixels, worker: w, of: split) { addRow(output + pixel * channels, bias, channels) }
        }
        return
    }
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
///
/// Channels-last (`height × width × channels` into `rows × columns × channels`): each row's `width·channels`
/// elements are one contiguous run.
func zeroExtend<T: ConvScalar>(_ image: UnsafePointer<T>, into staged: UnsafeMutablePointer<T>, channels: Int,
                               height: Int, width: Int, rows: Int, columns: Int, channelsLast: Bool = false) {
    if channelsLast {
        let run = width * channels, stagedRow = columns * channels
        for h in 0..<height {
            (staged + h * stagedRow).update(from: image + h * run, count: run)
            (staged + h * stagedRow + run).update(repeating: 0, count: stagedRow - run)
        }
        (staged + height * stagedRow).update(repeating: 0, count: (rows - height) * stagedRow)
        return
    }
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
/// Channels-last: the first `width·channels` elements of each of the first `height` rows.
func cropCorner<T: ConvScalar>(_ staged: UnsafePointer<T>, into image: UnsafeMutablePointer<T>, channels: Int,
                               height: Int, width: Int, rows: Int, columns: Int, channelsLast: Bool = false) {
    if channelsLast {
        let run = width * channels, stagedRow = columns * channels
        for h in 0..<height { (image + h * run).update(from: staged + h * stagedRow, count: run) }
        return
    }
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
