/// The bias gradient `dB[k] = Σ_{n,p,q} dO[n,k,p,q]`, overwriting `dB`, split over `workers` threads by
/// channel. Per channel the images and positions are summed in order, into eight running sums (one per lane,
/// a fixed assignment of elements) that break the add latency chain: the order never depends on the worker
/// count.
func sumBiasGradient<T: ConvScalar>(_ g: ConvGeometry, _ dO: UnsafePointer<T>, into dB: UnsafeMutablePointer<T>,
                                    workers: Int) {
    sumBiasGradient(batch: g.batch, channels: g.outputChannels, positions: g.columnColumns, dO, into: dB,
                    workers: workers)
}

/// ``sumBiasGradient(_:_:into:workers:)`` for any layout `batch × channels × positions` (the 3-D convolution's
/// positions are `E·P·Q`).
func sumBiasGradient<T: ConvScalar>(batch: Int, channels K: Int, positions PQ: Int, _ dO: UnsafePointer<T>,
                                    into dB: UnsafeMutablePointer<T>, workers: Int) {
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
