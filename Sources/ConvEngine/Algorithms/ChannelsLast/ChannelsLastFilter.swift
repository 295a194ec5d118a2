// The filter orders of the channels-last algorithms, and the permutations between them and the filter as given:
// the GEMM lowerings compute with K×R×S×C/G (their column rows are (r, s, c)), the depthwise kernel with the taps
// of each channel multiple side by side over the channels (m×R×S×C), so that its vectors run along C.

/// The filter orders of one geometry: which permutation, if any, turns the filter as given into the order an
/// algorithm computes with, and its gradient back.
struct ChannelsLastFilter {
    /// Filters K, input channels per group C/G, taps R·S, groups G.
    let filters: Int, channels: Int, taps: Int, groups: Int

    init(_ g: ConvGeometry) {
        filters = g.outputChannels
        channels = g.inputChannelsPerGroup
        taps = g.kernelHeight * g.kernelWidth
        groups = g.groups
    }

    /// Filters per group, K/G: the channel multiplier m of a depthwise geometry (whose C = G channels each have m).
    var multiplier: Int { filters / groups }

    /// Whether a filter in `layout` already is `K×R×S×C/G` in memory: it is given so, or one of the two axes it
    /// would be moved across has a single element (a 1×1 kernel, or one channel per group).
    func isTapMajor(_ layout: FilterLayout) -> Bool { layout == .channelsLast || taps == 1 || channels == 1 }

    /// `K×C/G×R×S` → `K×R×S×C/G`, overwriting `packed`.
    func tapMajor<T: ConvScalar>(_ f: UnsafePointer<T>, into packed: UnsafeMutablePointer<T>) {
        let Cg = channels, RS = taps
        for k in 0..<filters {
            let from = f + k * Cg * RS, to = packed + k * RS * Cg
            for c in 0..<Cg {
                for t in 0..<RS { to[t * Cg + c] = from[c * RS + t] }
            }
        }
    }

    /// The filter gradient `K×C/G×R×S` from `parts` tap-major (`K×R×S×C/G`) partial sums `|F|` apart, added in
    /// part order (element ranges split over `workers` threads, which keeps that order for every element).
    func channelMajorSum<T: ConvScalar>(_ sums: UnsafePointer<T>, parts: Int, into dF: UnsafeMutablePointer<T>,
                                        workers: Int) {
        let Cg = channels, RS = taps, count = filters * Cg * RS
        let split = max(1, min(workers, filters))
        parallelFor(split) { w in
            for k in share(of: filters, worker: w, of: split) {
                for c in 0..<Cg {
                    for t in 0..<RS {
                        let source = k * RS * Cg + t * Cg + c
                        var sum = sums[source]
                        for part in 1..<max(1, parts) { sum += sums[part * count + source] }
                        dF[(k * Cg + c) * RS + t] = sum
                    }
                }
            }
        }
    }

    /// A depthwise filter (`K×1×R×S`, `K = m·C`, filter `c·m + j` reading channel c) as `m×R×S×C`: entry
    /// `(j·R·S + t)·C + c` is tap t of filter `c·m + j`, so the taps of one multiple are contiguous over channels.
    func channelVectors<T: ConvScalar>(_ f: UnsafePointer<T>, into packed: UnsafeMutablePointer<T>) {
        let RS = taps, C = groups, m = multiplier
        for c in 0..<C {
            for j in 0..<m {
                let from = f + (c * m + j) * RS
                for t in 0..<RS { packed[(j * RS + t) * C + c] = from[t] }
            }
        }
    }

    /// The depthwise filter gradient `K×1×R×S` from `parts` partial sums `partSize` apart, each `m×R×S` taps of the
    /// C channels, taps `tapStride` apart (the order of ``channelVectors(_:into:)`` with room between the taps),
    /// added in part order, split over `workers` threads by filter.
    func depthwiseSum<T: ConvScalar>(_ sums: UnsafePointer<T>, parts: Int, partSize: Int, tapStride: Int,
                                     into dF: UnsafeMutablePointer<T>, workers: Int) {
        let RS = taps, m = multiplier
        let split = max(1, min(workers, filters))
        parallelFor(split) { w in
            for k in share(of: filters, worker: w, of: split) {
                let c = k / m, j = k % m
                for t in 0..<RS {
                    let source = (j * RS + t) * tapStride + c
                    var sum = sums[source]
                    for part in 1..<max(1, parts) { sum += sums[part * partSize + source] }
                    dF[k * RS + t] = sum
                }
            }
        }
    }
}
