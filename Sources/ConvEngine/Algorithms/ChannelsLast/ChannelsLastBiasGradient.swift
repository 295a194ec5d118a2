/// The bias gradient of a channels-last output gradient, `dB[k] = Σ_pos dO[pos, k]` over the `rows × K` matrix
/// `dO` (rows = N·P·Q output positions), overwriting `dB`.
///
/// The sums run down the columns with the channels in vector lanes, 32 channels at a time in registers (then 8,
/// then one), each channel's sum adding the positions in order. Threads split the channels (in blocks of 8, the
/// vector width), never the positions, so the result does not depend on the worker count; and each thread writes
/// its sums once at the end, so two threads never write one cache line over and over.
func sumChannelColumns<T: ConvScalar>(_ dO: UnsafePointer<T>, rows: Int, channels K: Int,
                                      into dB: UnsafeMutablePointer<T>, workers: Int) {
    let blocks = (K + 7) / 8
    let split = max(1, min(workers, blocks))
    parallelFor(split) { w in
        let share = share(of: blocks, worker: w, of: split)
        let hi = min(K, share.upperBound * 8)
        var c = share.lowerBound * 8
        while c + 32 <= hi {
            var sum = ThirtyTwoChannels<T>(broadcast: 0)
            let one = ThirtyTwoChannels<T>(broadcast: 1)
            var row = dO + c
            for _ in 0..<rows {
                sum = sum.adding(.load(row), times: one)
                row += K
            }
            sum.store(dB + c)
            c += 32
        }
        while c + 8 <= hi {
            var sum = SIMD8<T>()
            var row = dO + c
            for _ in 0..<rows {
                sum += SIMD8<T>.load(row)
                row += K
            }
            sum.store(dB + c)
            c += 8
        }
        while c < hi {
            var sum: T = 0
            var row = dO + c
            for _ in 0..<rows {
                sum += row[0]
                row += K
            }
            dB[c] = sum
            c += 1
        }
    }
}
