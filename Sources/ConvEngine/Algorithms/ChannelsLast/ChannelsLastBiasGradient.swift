/// The bias gradient of a channels-last output gradient, `dB[k] = Σ_pos dO[pos, k]` over the `rows × K` matrix
/// `dO` (rows = N·P·Q output positions), overwriting `dB`.
///
/// The sums run down the columns with the channels in vector lanes: row by row, `dB[k0..<k1] += dO[pos, k0..<k1]`,
/// so each channel's sum adds the positions in order. Threads split the channels (in blocks of 8, the vector
/// width), never the positions, so the result does not depend on the worker count.
func sumChannelColumns<T: ConvScalar>(_ dO: UnsafePointer<T>, rows: Int, channels K: Int,
                                      into dB: UnsafeMutablePointer<T>, workers: Int) {
    let blocks = (K + 7) / 8
    let split = max(1, min(workers, blocks))
    parallelFor(split) { w in
        let share = share(of: blocks, worker: w, of: split)
        let lo = share.lowerBound * 8, hi = min(K, share.upperBound * 8)
        guard lo < hi else { return }
        let sums = dB + lo
        sums.update(repeating: 0, count: hi - lo)
        var row = dO + lo
        for _ in 0..<rows {
            addRow(sums, row, hi - lo)
            row += K
        }
    }
}
