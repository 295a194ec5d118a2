// The depthwise forward pass: output planes row by row from a padded input plane or its column phases.

extension DepthwiseKernel {
    /// `O[n,k] = B[k] + Σ_{r,s} F[k,r,s] · Xpadded[n, k/m]`, split by (image, channel) plane: runs of
    /// planes go to whichever worker is free. A run zeroes its worker's padded plane, then per plane copies the
    /// input into its middle and computes the m output planes row by row in vector runs (``sweepRow(_:_:)``): at
    /// horizontal stride 1 from the padded plane, at a larger stride from its column phases
    /// (``padPhases(_:into:)``; one element at a time only for a stride so wide that the phases would not fit
    /// the scratch). Every element sums the bias, then the taps in `(r, s)` order, at any worker count.
    func forward<T: ConvScalar>(_ x: UnsafePointer<T>, _ f: UnsafePointer<T>, _ b: UnsafePointer<T>?,
                                _ o: UnsafeMutablePointer<T>, epilogue: Epilogue<T>,
                                scratch: UnsafeMutablePointer<T>, scratchPerWorker: Int,
                                workers: Int) {
        let K = g.outputChannels, m = g.outputChannelsPerGroup, C = g.inputChannels
        let H = g.inputHeight, W = g.inputWidth, P = g.outputHeight, Q = g.outputWidth
        let R = g.kernelHeight, S = g.kernelWidth, sh = g.strideHeight, sw = g.strideWidth
        let PW = paddedWidth
        // Safe (see step(_:count:)): the steps between output rows, kernel rows and kernel columns, 0 where an
        // axis has a single position, so every product below stays inside the padded plane or its phases.
        let rowStride = Self.outputStep(rows), dh = Self.tapStep(rows), dw = Self.tapStep(columns)
        let planes = g.batch * C
        let split = min(workers, planes)
        let rowPlan = RowPlan(T.self, from: 0, to: Q)
        // Output rows p and p + 1 share input rows when the vertical stride equals the dilation (row p + 1's
        // kernel row r reads row p's kernel row r + 1): the usual stride 1, dilation 1.
        let pairs = sw == 1 && sh == g.dilationHeight
        let pairPlan = RowPlan(T.self, from: 0, to: Q, maxRun: pairMaxRun)
        let phaseCount = forwardPhaseCount, PWp = phaseWidth
        // The step between taps as (phase, element) of the column phases.
        let tapShift = columns.phase(of: dw)
        // Runs of planes go to whichever worker is free (see parallelItems); each run starts by zeroing the border
        // its copies rely on, a small fraction of a run of several planes.
        let run = max(1, planes / (split * 16))
        parallelItems(split, count: (planes - 1) / run + 1) { w, item in
            let padded = scratch + w * scratchPerWorker
            if let phaseCount { padded.update(repeating: 0, count: phaseCount) } else { zeroPadded(padded) }
            for plane in item * run..<min(planes, (item + 1) * run) {
                let n = plane / C, c = plane % C
                if phaseCount != nil { padPhases(x + plane * H * W, into: padded) } else { pad(x + plane * H * W, into: padded) }
                for k in c * m..<(c + 1) * m {
                    let out = o + (n * K + k) * P * Q
                    // The plane is final (and in cache) when this iteration ends, by whichever branch.
                    defer { epilogue.apply(out, count: P * Q) }
                    let taps = f + k * R * S
                    let bias: T = b?[k] ?? 0
                    if phaseCount != nil {
                        for p in 0..<P {
                            sweepRow(PhasedForwardRow(base: UnsafePointer(padded) + p * rowStride * PWp, taps: taps,
                                                      bias: bias, dst: out + p * Q, R: R, S: S, rowStep: dh * PWp,
                                                      tapShift: tapShift, sw: sw, phaseStride: paddedHeight * PWp),
                                     rowPlan)
                        }
                        continue
                    }
                    if pairs {
                        // Two output rows per pass: each input row between them is loaded once for both. The second
                        // row's kernel row r is the first's r + 1, so the pair's row step is the stride, sh = dh
                        // (Safe: a pair means P ≥ 2, so rowStride is sh, within the padded height).
                        var p = 0
                        while p + 1 < P {
                            let pair = ForwardRowPair(base: UnsafePointer(padded) + p * rowStride * PW, taps: taps,
                                                      bias: bias, dst: out + p * Q, R: R, S: S,
                                                      rowStep: rowStride * PW, dw: dw, Q: Q)
                            sweepRow(pair, pairPlan)
                            p += 2
                        }
                        if p < P {
                            sweepRow(ForwardRow(base: UnsafePointer(padded) + p * rowStride * PW, taps: taps, bias: bias,
                                                dst: out + p * Q, R: R, S: S, rowStep: dh * PW, dw: dw, sw: sw),
                                     rowPlan)
                        }
                        continue
                    }
                    for p in 0..<P {
                        let row = ForwardRow(base: UnsafePointer(padded) + p * rowStride * PW, taps: taps, bias: bias,
                                             dst: out + p * Q, R: R, S: S, rowStep: dh * PW, dw: dw, sw: sw)
                        if sw == 1 {
                            sweepRow(row, rowPlan)
                        } else {
                            for q in 0..<Q { row.one(q) }
                        }
                    }
                }
            }
        }
    }
}
