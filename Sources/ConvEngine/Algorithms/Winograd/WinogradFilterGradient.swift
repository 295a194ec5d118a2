// The filter gradient by Winograd's F(m×m, 3×3) (``FilterGradientAlgorithm/transform``): the adjoint of the
// forward pass. The forward pass is Y = Aᵀ·(U ⊙ V)·A with U = G·F·Gᵀ, linear in U, so for one tile
// dU = (A·dY·Aᵀ) ⊙ V and dF = Gᵀ·(Σ over tiles of dU)·G:
//
//     W[ξν]  (Co × n)  = A·dY·Aᵀ at (ξ, ν), the n tiles of one block of dO
//     V[ξν]  (Ci × n)  = Bᵀ·d·B at (ξ, ν), the same tiles of X (the forward input transform)
//     S[ξν]  (Co × Ci) += W[ξν] · V[ξν]ᵀ        (one GEMM per ξν, summing the block's tiles)
//     dF     = Gᵀ·S·G, once per call
//
// α²·Co·Ci multiplications per tile instead of the lowering's 9·m²·Co·Ci.

extension WinogradKernel {
    /// The filter gradient's partial sums: one S (`transformedFilterCount` elements) per share of the tiles,
    /// `workers` of them (one when the workers split the positions instead).
    func filterGradientSumsCount(workers: Int) -> Int { transformedFilterCount * workers }

    /// Whether `workers` split the α² positions ξν of every block rather than the tiles: when a worker's share
    /// of the tiles would fit in one block. Then a share's own S (α²·Co·Ci per worker: 9.4 MB on ResNet's res4)
    /// is zeroed, summed into once and added up again, memory traffic that does not shrink with more workers
    /// while its GEMMs do; split by position, there is one S and each worker writes its part once, at the price
    /// of transforming every tile in every worker (cheap beside the GEMMs where channels are many and tiles few).
    func splitsPositions(workers: Int) -> Bool {
        let total = problem.batch * tileRows * tileColumns
        return workers > 1 && (total + workers - 1) / workers <= blockTiles
    }

    /// dF of the forward ``problem`` (overwriting `filterGradient`, `K × C/G × 3 × 3`) from X (`source`) and dO
    /// (`resultGradient`, the result's layout).
    ///
    /// Either the tiles of the batch are cut into `workers` contiguous shares, fixed by the worker count alone,
    /// and share `w` sums its blocks, in order, into its own S in `sums` (``filterGradientSumsCount(workers:)``
    /// elements) using worker `w`'s V and W in `scratch` (``perWorker`` elements each), the shares' sums added in
    /// share order before the last transform; or (``splitsPositions(workers:)``) worker `w` sums every block of
    /// the batch, in order, into its contiguous share of the positions of one S. Either way the result never
    /// depends on which thread ran what.
    func runFilterGradient<T: ConvScalar>(source: UnsafePointer<T>, resultGradient: UnsafePointer<T>,
                                          filterGradient: UnsafeMutablePointer<T>, sums: UnsafeMutablePointer<T>,
                                          scratch: UnsafeMutablePointer<T>, workers: Int) {
        let total = problem.batch * tileRows * tileColumns, filterCount = transformedFilterCount
        if splitsPositions(workers: workers) {
            parallelFor(workers) { w in
                sumBlocks(source, resultGradient, tiles: 0..<total, positions: share(of: Self.positions, worker: w, of: workers),
                          into: sums, scratch: scratch + w * perWorker)
            }
            finishFilterGradient(sums, shares: 1, into: filterGradient, workers: workers)
            return
        }
        parallelFor(workers) { w in
            sumBlocks(source, resultGradient, tiles: share(of: total, worker: w, of: workers), positions: 0..<Self.positions,
                      into: sums + w * filterCount, scratch: scratch + w * perWorker)
        }
        finishFilterGradient(sums, shares: workers, into: filterGradient, workers: workers)
    }

    /// `S[grp·α² + ξν] = Σ over the blocks of `tiles` of W[ξν]·V[ξν]ᵀ` for every group and the ξν in `positions`
    /// (S at `s`, `transformedFilterCount` elements of which only those positions are written), the blocks in
    /// order, V and W in `scratch` (``perWorker`` elements).
    func sumBlocks<T: ConvScalar>(_ source: UnsafePointer<T>, _ resultGradient: UnsafePointer<T>, tiles: Range<Int>,
                                  positions: Range<Int>, into s: UnsafeMutablePointer<T>, scratch: UnsafeMutablePointer<T>) {
        let p = problem, L = Self.lanes, a2 = Self.positions, Co = p.outputChannels, Ci = p.inputChannels
        for grp in 0..<p.groups {
            for xi in positions { (s + (grp * a2 + xi) * Co * Ci).update(repeating: 0, count: Co * Ci) }
        }
        guard !tiles.isEmpty && !positions.isEmpty else { return }
        let block = min(blockTiles, (tiles.count + L - 1) / L * L)
        let v = BlockMatrices(start: scratch, rows: Ci, ld: block, count: a2)
        let dy = BlockMatrices(start: v.end, rows: Co, ld: block, count: a2)
        for grp in 0..<p.groups {
            for first in stride(from: tiles.lowerBound, to: tiles.upperBound, by: block) {
                let range = first..<min(first + block, tiles.upperBound)
                transformInput(source, group: grp, tiles: range, into: v)
                transformResultGradient(resultGradient, group: grp, tiles: range, into: dy)
                for xi in positions {
                    BLAS.uncheckedGEMM(transposeA: .none, transposeB: .transpose, m: Co, n: Ci, k: range.count,
                                       alpha: 1, a: dy.matrix(xi), lda: dy.ld, b: v.matrix(xi), ldb: v.ld,
                                       beta: 1, c: s + (grp * a2 + xi) * Co * Ci, ldc: Ci)
                }
            }
        }
    }

    /// `dF = Gᵀ·(Σ_shares S)·G` into `dF` (`K × C/G × 3 × 3`), eight source channels of one filter at a time,
    /// the filters split over threads.
    func finishFilterGradient<T: ConvScalar>(_ sums: UnsafePointer<T>, shares: Int,
                                             into dF: UnsafeMutablePointer<T>, workers: Int) {
        let p = problem, Co = p.outputChannels, Ci = p.inputChannels, a2 = Self.positions
        let L = Self.lanes, chunks = (Ci + L - 1) / L, filterCount = transformedFilterCount
        parallelItems(workers, count: p.groups * Co) { _, item in
            let grp = item / Co, k = item % Co
            withUnsafeTemporaryAllocation(of: SIMD8<T>.self, capacity: a2 + 9 + 3 * F.alpha) { lanes in
                let t = lanes.baseAddress!, g = t + a2, scratch = g + 9  // Safe: capacity > 0.
                for chunk in 0..<chunks {
                    let c0 = chunk * L, count = min(L, Ci - c0)
                    for xi in 0..<a2 {
                        let offset = ((grp * a2 + xi) * Co + k) * Ci + c0
                        var sum = SIMD8<T>()
                        for s in 0..<shares {
                            let src = sums + s * filterCount + offset
                            if count == L { sum += loadLanes(src) } else { for l in 0..<count { sum[l] += src[l] } }
                        }
                        t[xi] = sum
                    }
                    F.filterGradient(UnsafePointer(t), into: g, scratch: scratch)
                    let dst = dF + ((grp * Co + k) * Ci + c0) * 9
                    for l in 0..<count { for tap in 0..<9 { dst[l * 9 + tap] = g[tap][l] } }
                }
            }
        }
    }

    /// W of the block's `tiles`: row k, column t of matrix ξν is `A·dY·Aᵀ` at (ξ, ν) for tile `t` of the block,
    /// dY the tile's m×m window of the result gradient (zero past the result's edge, where the forward pass
    /// crops). Lanes past the block's last tile hold zeros and are never multiplied. Channels are the outer
    /// loop, as in ``transformInput(_:group:tiles:into:)``.
    func transformResultGradient<T: ConvScalar>(_ dO: UnsafePointer<T>, group grp: Int, tiles: Range<Int>,
                                                into w: BlockMatrices<T>) {
        let p = problem, L = Self.lanes, a2 = Self.positions, m = F.m, Co = p.outputChannels
        let P = p.outputHeight, Q = p.outputWidth, plane = P * Q
        withResultLanes(tiles, T.self) { t, y, scratch, allOrigins, laneGroups in
            for k in 0..<Co {
                let planeStart = dO + (grp * Co + k) * plane
                for g in 0..<(tiles.count + L - 1) / L {
                    let l0 = g * L, origins = allOrigins + l0, (lanes, oneRow) = laneGroups[g]
                    if oneRow {
                        let o0 = origins[0]
                        let src = planeStart + o0.image * p.groups * Co * plane + o0.row * Q + o0.column
                        for i in 0..<m {
                            let row = src + i &* Q
                            for j in 0..<m { y[i &* m &+ j] = F.rowLanes(row, j) }
                        }
                    } else {
                        for i in 0..<(m * m) { y[i] = SIMD8() }
                        for l in 0..<lanes {
                            let o = origins[l]
                            let src = planeStart + o.image * p.groups * Co * plane
                            let rows = min(m, P - o.row), columns = min(m, Q - o.column)
                            for i in 0..<rows {
                                let row = src + ((o.row &+ i) &* Q &+ o.column)
                                for j in 0..<columns { y[i &* m &+ j][l] = row[j] }
                            }
                        }
                    }
                    F.outputGradient(UnsafePointer(y), into: t, scratch: scratch)
                    for xi in 0..<a2 { storeLanes(t[xi], w.matrix(xi) + k * w.ld + l0) }
                }
            }
        }
    }
}
