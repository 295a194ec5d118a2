// The depthwise input gradient of one plane: a gather at horizontal stride 1, a scatter otherwise.

extension DepthwiseKernel {
    /// dX of one input plane at horizontal stride 1, as a gather:
    /// `dX[h,w] = Σ_{k} Σ_{r,s valid} F[k,r,s] · dO_k[(h + pt - r·dh)/sh, w + pl - s·dw]`, summed over the m
    /// output channels k of the plane, then r, then s. A tap is valid where it maps to an output (the row
    /// divisible by the stride and in range, the column in range); the rest fall on padding and are dropped,
    /// as in col2im and the reference. The valid rows depend on h only. Each element is written once, so the
    /// plane needs no zeroing.
    ///
    /// Columns: with one output channel per plane and finite taps, dO is first copied into `scratch` (zeroed
    /// once per call) between zero columns on both sides, so that every dX row is a plain vector sweep; the extra terms are
    /// `finite · 0 = ±0`, and adding ±0 to a sum that starts at +0 changes no bit (such a sum is never -0).
    /// Otherwise (an infinite tap must not meet padding, or several channels) the columns where every tap
    /// is valid are swept in vectors and the few border columns summed one by one, testing each tap.
    func gatherInputGradient<T: ConvScalar>(_ grads: UnsafePointer<T>, _ taps: UnsafePointer<T>,
                                            _ dst: UnsafeMutablePointer<T>, tapsFinite: Bool,
                                            scratch: UnsafeMutablePointer<T>) {
        let H = g.inputHeight, W = g.inputWidth, P = g.outputHeight, Q = g.outputWidth
        let R = g.kernelHeight, S = g.kernelWidth, sh = g.strideHeight, dh = g.dilationHeight, dw = g.dilationWidth
        let pt = g.padding.top, pl = g.padding.left, m = g.outputChannelsPerGroup
        // Columns w + pl - s·dw that dX reads left of dO's first column and right of its last.
        let leftMargin = max(0, (S - 1) * dw - pl), rightMargin = max(0, W + pl - Q)
        // Safe: Q + leftMargin is at most Q + PW; the rest is checked, since a heavily padded row's margins need
        // not fit in `Int` twice over (the copy is used only when it fits the scratch plane, PH·PW).
        let (paddedRow, o1) = (Q + leftMargin).addingReportingOverflow(rightMargin)
        let (paddedCount, o2) = P.multipliedReportingOverflow(by: paddedRow)
        let padded = m == 1 && tapsFinite && !o1 && !o2 && paddedCount <= paddedHeight * paddedWidth
        let source: UnsafePointer<T>, rowStride: Int, colOffset: Int, lo: Int, hi: Int
        if padded {
            // The margins are zero already (the backward pass zeroes `scratch` once per call).
            for p in 0..<P { copyRow(scratch + p * paddedRow + leftMargin, grads + p * Q, Q) }
            source = UnsafePointer(scratch)
            (rowStride, colOffset, lo, hi) = (paddedRow, pl + leftMargin, 0, W)
        } else {
            // Interior columns: w + pl - s·dw in [0, Q) for every s.
            source = grads
            rowStride = Q
            colOffset = pl
            lo = min(W, max(0, (S - 1) * dw - pl))
            hi = max(lo, min(W, Q - pl))
        }
        let rowPlan = RowPlan(T.self, from: lo, to: hi)
        // Kernel rows r hitting output rows are those with r·dh ≡ h + pt (mod sh): every `rStep`-th one, where
        // rStep is the taps' phase period, capped at R (a larger period leaves one kernel row per input row).
        // Safe: with the cap, r + rStep < 2R; and the output-row step, rStep·dh/sh, is needed (and computed) only
        // for rStep < R, where rStep·dh ≤ (R - 1)·dh is within the dilated kernel's reach.
        let rStep = min(rows.tapPhasePeriod, R)
        let pStep = rStep < R ? rStep * dh / sh : 0
        for h in 0..<H {
            var rFirst = 0, pFirst = h + pt
            if sh > 1 {
                // The first kernel row whose tap lands on a multiple of the stride (rStep ≤ sh: a short scan).
                rFirst = R
                pFirst = 0
                for r in 0..<rStep {
                    let (phase, element) = rows.phase(of: h + pt - r * dh)
                    if phase == 0 {
                        (rFirst, pFirst) = (r, element)
                        break
                    }
                }
            }
            let row = GatherRow(grads: source, taps: taps, dst: dst + h * W, m: m, planeSize: P * rowStride,
                                R: R, S: S, P: P, rowStride: rowStride, colOffset: colOffset,
                                colLimit: padded ? paddedRow : Q, rFirst: rFirst, rStep: rStep,
                                pFirst: pFirst, pStep: pStep, dw: Self.tapStep(columns))
            for w in 0..<lo { row.one(w) }
            sweepRow(row, rowPlan)
            for w in hi..<W { row.one(w) }
        }
    }

    /// dX of one input plane at horizontal stride above 1: each output-gradient element scattered into a
    /// zeroed padded plane, tap by tap, then the padding dropped.
    func scatterInputGradient<T: ConvScalar>(_ grads: UnsafePointer<T>, _ taps: UnsafePointer<T>,
                                             _ dst: UnsafeMutablePointer<T>, _ padded: UnsafeMutablePointer<T>) {
        let H = g.inputHeight, W = g.inputWidth, P = g.outputHeight, Q = g.outputWidth
        let R = g.kernelHeight, S = g.kernelWidth, sh = g.strideHeight, sw = g.strideWidth
        let dh = g.dilationHeight, dw = g.dilationWidth, PW = paddedWidth
        padded.update(repeating: 0, count: paddedHeight * PW)
        // Safe: p < P, r < R, s < S and q < Q, so every product is a position of the padded plane.
        for j in 0..<g.outputChannelsPerGroup {
            let grad = grads + j * P * Q
            for r in 0..<R {
                for s in 0..<S {
                    let value = taps[(j * R + r) * S + s]
                    for p in 0..<P {
                        let row = padded + (p * sh + r * dh) * PW + s * dw
                        let gradRow = grad + p * Q
                        for q in 0..<Q { row[q * sw] += value * gradRow[q] }
                    }
                }
            }
        }
        for h in 0..<H {
            copyRow(dst + h * W, padded + (g.padding.top + h) * PW + g.padding.left, W)
        }
    }
}
