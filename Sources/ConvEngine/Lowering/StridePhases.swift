// Stride phases: every image row split into `sw` phases, so that a strided tap reads a contiguous run.

extension Lowering {
    /// Columns per phase row: `ceil(W / sw)` (``Axis/phaseLength(of:)``, which cannot overflow).
    var phaseWidth: Int { columnAxis.phaseLength(of: width) }
    /// Elements of the phase layout of `channels` channels: `channels · sw · H · ceil(W/sw)`.
    func phaseCount(channels: Int) -> Int { channels * strideWidth * height * phaseWidth }

    /// Splits every image row into `sw` phases (phase φ holds columns φ, φ+sw, φ+2sw, …), layout
    /// `[channel][phase][row][column / sw]`, so that a strided tap reads a contiguous run of one phase row.
    /// Costs one pass over the image, against a strided gather per kernel tap without it.
    /// Only the input rows `inputRows` (default: all) are split.
    func splitPhases<T: ConvScalar>(_ image: UnsafePointer<T>, channels: Int, inputRows: Range<Int>? = nil,
                                    into phases: UnsafeMutablePointer<T>) {
        let H = height, W = width, sw = strideWidth, Wp = phaseWidth, axis = columnAxis
        for c in 0..<channels {
            for phase in 0..<sw {
                let count = axis.phaseCount(phase, of: W)  // columns of this phase (0 when phase ≥ W)
                for h in inputRows ?? 0..<H {
                    let src = image + (c * H + h) * W + phase
                    let dst = phases + ((c * sw + phase) * H + h) * Wp
                    gatherRow(dst, src, count: count, stride: sw)
                }
            }
        }
    }

    /// The inverse of ``splitPhases(_:channels:into:)``: overwrites the image from its phases.
    func mergePhases<T: ConvScalar>(_ phases: UnsafePointer<T>, channels: Int, into image: UnsafeMutablePointer<T>) {
        let H = height, W = width, sw = strideWidth, Wp = phaseWidth, axis = columnAxis
        for c in 0..<channels {
            for phase in 0..<sw {
                let count = axis.phaseCount(phase, of: W)
                for h in 0..<H {
                    let src = phases + ((c * sw + phase) * H + h) * Wp
                    let dst = image + (c * H + h) * W + phase
                    for j in 0..<count { dst[j * sw] = src[j] }
                }
            }
        }
    }
}
