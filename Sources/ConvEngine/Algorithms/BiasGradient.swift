/// The bias gradient `dB[k] = Σ_{n,p,q} dO[n,k,p,q]`, overwriting `dB`, split over `workers` threads by
/// channel. Per channel the images and positions are summed in order, into eight running sums (one per lane,
/// a fixed assignment of elements) that break the add latency chain: the order never depends on the worker
/// count.
func sumBiasGradient<T: ConvScalar>(_ g: ConvGeometry, _ dO: UnsafePointer<T>, into dB: UnsafeMutablePointer<T>,
                                    workers: Int) {
    sumChannelPlanes(dO, batch: g.batch, channels: g.outputChannels, planeSize: g.columnColumns, into: dB,
                     workers: workers)
}

/// The per-channel sums of a `batch × channels × planeSize` tensor (every operation's bias gradient), overwriting
/// `dB[0..<channels]`, in the fixed order of ``sumBiasGradient(_:_:into:workers:)``.
///
/// `channelsLast`: the tensor is `batch × planeSize × channels`; each worker sums a range of channels over
/// every pixel in order (one running sum per channel), so the order does not depend on the worker count either.
func sumChannelPlanes<T: ConvScalar>(_ dO: UnsafePointer<T>, batch: Int, channels K: Int, planeSize PQ: Int,
                                     channelsLast: Bool = false, into dB: UnsafeMutablePointer<T>, workers: Int) {
    if channelsLast {
        let pixels = batch * PQ  // Safe: at most the tensor's element count.
        // Ranges of at least 8 channels, so each row step is a vector add.
        let split = max(1, min(workers, K / 8))
        parallelFor(split) { w in
            let range = share(of: K, worker: w, of: split)
            zeroRow(dB + range.lowerBound, range.count)
            for pixel in 0..<pixels { addRow(dB + range.lowerBound, dO + pixel * K + range.lowerBound, range.count) }
        }
        return
    }
    let split = min(workers, K)
    parallelFor(split) { w in
        for k in share(of: K, worker: w, of: split) {
            var lanes = SIMD8<T>()
            var tail: T = 0
            for n in 0..<batch {
                let row = dO + (n * K + k) * PQ
                var i = 0
                while i + 8 <= PQ {
                    lanes += UnsafeRawPointer(row + i).loadUnaligned(as: SIMD8<T>.self)
                    i += 8
                }
                while i < PQ { tail += row[i]; i += 1 }
            }
            dB[k] = lanes.sum() + tail
        }
    }
}
