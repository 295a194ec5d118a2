// How a row of outputs is covered by vector chunks, and the sweep that drives a row kernel over it.

extension DepthwiseKernel {
    /// Computes outputs `plan.lo ..< plan.hi` of one row with `row`'s vector code (see ``RowPlan``).
    @inline(__always)
    func sweepRow<Row: RowChunks>(_ row: Row, _ plan: RowPlan) {
        if Row.Scalar.self == Float.self {
            sweepRow(row, SIMD4<Row.Scalar>.self, plan)
        } else {
            sweepRow(row, SIMD2<Row.Scalar>.self, plan)
        }
    }

    @inline(__always)
    func sweepRow<Row: RowChunks, V: SIMD>(_ row: Row, _: V.Type, _ plan: RowPlan) where V.Scalar == Row.Scalar {
        let L = V.scalarCount
        if plan.runs == 0 {
            for q in plan.lo..<plan.hi { row.one(q) }
            return
        }
        var q0 = plan.lo
        for run in 0..<plan.runs {
            let size = plan.runSize + (run < plan.longerRuns ? 1 : 0)
            // The row's last chunk ends at `hi` exactly (overlapping its neighbour when the length is not a
            // multiple of L).
            let last = run == plan.runs - 1 ? plan.hi - L : q0 + (size - 1) * L
            switch size {
            case 8: row.run(V.self, Chunks8.self, q0, last)
            case 7: row.run(V.self, Chunks7.self, q0, last)
            case 6: row.run(V.self, Chunks6.self, q0, last)
            case 5: row.run(V.self, Chunks5.self, q0, last)
            case 4: row.run(V.self, Chunks4.self, q0, last)
            case 3: row.run(V.self, Chunks3.self, q0, last)
            case 2: row.run(V.self, Chunks2.self, q0, last)
            default: row.run(V.self, Chunks1.self, q0, last)
            }
            q0 += size * L
        }
    }
}

/// How ``DepthwiseKernel/sweepRow(_:_:)`` covers outputs `lo ..< hi` of a row, worked out once per plane:
/// 16-byte chunks (one SSE register each) in runs of up to eight, whose independent sums hide the add
/// latency. A length that is not a multiple of the chunk ends with a chunk overlapping the one before it
/// (recomputing those outputs bit for bit, since every element's sum order is fixed); a row shorter than one
/// chunk goes one element at a time (`runs == 0`). The runs are evened out (9 chunks as 5 + 4, not 8 + 1)
/// so that none is latency-bound alone.
struct RowPlan {
    let lo: Int, hi: Int
    /// Number of runs, chunks in the shorter runs, and how many runs (the first ones) have one more.
    let runs: Int, runSize: Int, longerRuns: Int

    init<T: ConvScalar>(_: T.Type, from lo: Int, to hi: Int, maxRun: Int = 8) {
        self.lo = lo
        self.hi = hi
        let L = 16 / MemoryLayout<T>.stride
        let count = hi - lo
        if count < L {
            (runs, runSize, longerRuns) = (0, 0, 0)
        } else {
            let chunks = (count + L - 1) / L
            runs = (chunks + maxRun - 1) / maxRun
            runSize = chunks / runs
            longerRuns = chunks % runs
        }
    }
}
