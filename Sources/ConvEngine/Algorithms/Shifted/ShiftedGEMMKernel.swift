/// The forward pass of ``ConvAlgorithm/shiftedGEMM``, at stride 1 without im2col: `O = Σ_{r,s} F[:, :, r, s] · X(r, s)`, one GEMM per kernel tap,
/// where `X(r, s)` is the zero-padded image read at the offset `r·dh·Wp + s·dw` of its flattened planes.
///
/// With the padded image `Hp × Wp` flattened, output `(p, q)` of tap `(r, s)` reads element
/// `(p + r·dh)·Wp + q + s·dw`, so every tap is the same `C/G × (P·Wp)` matrix shifted by a constant: a plain
/// GEMM operand with leading dimension `images·Hp·Wp`, no copy. The GEMMs compute `Wp - Q` extra columns per
/// row (and `Hp - P` extra rows between images batched side by side), which are dropped when the result is
/// copied out; the columns kept sum exactly the definition's products, padding zeros included. Costs one copy
/// of the input and one of the output instead of an im2col `R·S` times the input's size.
struct ShiftedGEMMKernel {
    let g: ConvGeometry
    let paddedHeight: Int, paddedWidth: Int
    /// Images side by side in one GEMM (sized from the geometry only, so the workspace does not grow with the batch).
    let imagesPerGEMM: Int

    init(_ g: ConvGeometry) {
        self.g = g
        paddedHeight = g.inputHeight + g.padding.top + g.padding.bottom
        paddedWidth = g.inputWidth + g.padding.left + g.padding.right
        let plane = max(1, paddedHeight * paddedWidth)
        imagesPerGEMM = max(1, min(64, 1024 / plane))
        // Large images run in bands of output rows, so the K/G × columns result the R·S GEMMs accumulate into
        // stays in cache (about 256 KiB of Float).
        let budget = max(1, (64 * 1024) / max(1, g.outputChannelsPerGroup * paddedWidth))
        bandRows = imagesPerGEMM > 1 ? g.outputHeight : max(1, min(g.outputHeight, budget))
    }

    /// Output rows per GEMM when images run one at a time (all of them when several share a GEMM).
    let bandRows: Int

    /// The padded-plane block: `C/G` channels of `imagesPerGEMM` images, plus slack so the last tap's
    /// extra columns stay inside the buffer.
    var paddedCount: Int {
        g.inputChannelsPerGroup * imagesPerGEMM * paddedHeight * paddedWidth + (g.kernelWidth - 1) * g.dilationWidth
    }

    /// Columns of one GEMM for `images` images (a band of `bandRows` rows when there is one image).
    func columns(images: Int) -> Int { (images - 1) * paddedHeight * paddedWidth + bandRows * paddedWidth }

    /// Scratch per worker: the padded block and the K/G × columns result.
    var perWorker: Int { paddedCount + g.outputChannelsPerGroup * columns(images: imagesPerGEMM) }

    /// Element counts, overflow-checked (the geometry has not checked the padded planes).
    static func checkedSizes(_ g: ConvGeometry) throws(ConvError) -> (perWorker: Int, filter: Int) {
        let ph = try checkedSum(g.inputHeight, g.padding.top, g.padding.bottom, quantity: "padded height")
        let pw = try checkedSum(g.inputWidth, g.padding.left, g.padding.right, quantity: "padded width")
        let plane = try checkedProduct(ph, pw, quantity: "padded plane")
        let s = ShiftedGEMMKernel(g)
        let padded = try checkedProduct(g.inputChannelsPerGroup, s.imagesPerGEMM, plane, quantity: "padded block")
        let cols = try checkedProduct(g.outputChannelsPerGroup, plane, s.imagesPerGEMM, quantity: "shifted result")
        _ = cols  // columns(images:) ≤ imagesPerGEMM·plane, so this bounds the result buffer too
        for (q, v) in [("shifted GEMM leading dimension", s.imagesPerGEMM * plane), ("shifted GEMM columns", cols)]
            where v > Int(Int32.max) {
            throw .blasDimensionTooLarge(quantity: q, value: v)
        }
        return (try checkedSum(padded, cols, g.kernelWidth * g.dilationWidth, quantity: "shifted scratch"), g.filterCount)
    }

    /// Reorders F (`K × C/G × R × S`) into one `K × C/G` matrix per tap: `[r][s][k][c]`.
    func repackFilter<T: ConvScalar>(_ f: UnsafePointer<T>, into packed: UnsafeMutablePointer<T>) {
        let K = g.outputChannels, Cg = g.inputChannelsPerGroup, RS = g.kernelHeight * g.kernelWidth
        for k in 0..<K {
            for c in 0..<Cg {
                let src = f + (k * Cg + c) * RS
                for t in 0..<RS { packed[(t * K + k) * Cg + c] = src[t] }
            }
        }
    }

    func forward<T: ConvScalar>(_ x: UnsafePointer<T>, _ packedFilter: UnsafePointer<T>, _ b: UnsafePointer<T>?,
                                _ o: UnsafeMutablePointer<T>, epilogue: Epilogue<T>, scratch: UnsafeMutablePointer<T>, scratchPerWorker: Int,
                                workers: Int) {
        let G = g.groups, C = g.inputChannels, K = g.outputChannels
        let Cg = g.inputChannelsPerGroup, Kg = g.outputChannelsPerGroup
        let H = g.inputHeight, W = g.inputWidth, P = g.outputHeight, Q = g.outputWidth
        let Hp = paddedHeight, Wp = paddedWidth, plane = Hp * Wp, PQ = P * Q
        let R = g.kernelHeight, S = g.kernelWidth
        let nb = imagesPerGEMM
        let split = min(workers, g.batch)
        parallelFor(split) { w in
            let padded = scratch + w * scratchPerWorker
            let result = padded + paddedCount
            // Borders (and slack) are zeroed once; only the interior rows are rewritten below.
            padded.update(repeating: 0, count: paddedCount)
            let mine = share(of: g.batch, worker: w, of: split)
            let chunks = (mine.count + nb - 1) / nb
            for chunk in 0..<chunks {
                let local = share(of: mine.count, worker: chunk, of: chunks)
                let images = (mine.lowerBound + local.lowerBound)..<(mine.lowerBound + local.upperBound)
                let ld = nb * plane
                for grp in 0..<G {
                    for c in 0..<Cg {
                        for (i, image) in images.enumerated() {
                            let src = x + ((image * C + grp * Cg + c) * H) * W
                            let dst = padded + c * ld + i * plane + g.padding.top * Wp + g.padding.left
                            for h in 0..<H { copyRow(dst + h * Wp, src + h * W, W) }
                        }
                    }
                    var p0 = 0
                    while p0 < P {
                        // One band of rows (or, with several images, all rows of all of them).
                        let rows = images.count > 1 ? P : min(bandRows, P - p0)
                        let n = (images.count - 1) * plane + rows * Wp
                        // The GEMMs accumulate onto the bias, as in the other forward passes.
                        let firstBeta: T = prefillBias(result, channels: Kg, channelStride: n, count: n,
                                                       bias: b.map { $0 + grp * Kg })
                        for r in 0..<R {
                            for s in 0..<S {
                                BLAS.uncheckedGEMM(
                                    transposeA: .none, transposeB: .none, m: Kg, n: n, k: Cg, alpha: 1,
                                    a: packedFilter + ((r * S + s) * K + grp * Kg) * Cg, lda: Cg,
                                    b: padded + (p0 + r * g.dilationHeight) * Wp + s * g.dilationWidth, ldb: ld,
                                    beta: r == 0 && s == 0 ? firstBeta : 1, c: result, ldc: n)
                            }
                        }
                        for (i, image) in images.enumerated() {
                            for k in 0..<Kg {
                                let dst = o + (image * K + grp * Kg + k) * PQ + p0 * Q
                                copyRows(dst, dstStride: Q,
                                         UnsafePointer(result + k * n + i * plane), srcStride: Wp, rows: rows, width: Q)
                                epilogue.apply(dst, count: rows * Q)
                            }
                        }
                        p0 += rows
                    }
                }
            }
        }
    }
}
