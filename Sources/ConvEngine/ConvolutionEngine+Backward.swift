// The backward pass, per image and group (MATH.md, rows two to four of the GEMM table):
//   filter gradient  dF_g += dO_g · colᵀ    (β = 0 for a worker's first image, then 1: a fixed batch order)
//   input gradient   dcol  = F_gᵀ · dO_g,  dX = col2im(dcol)   (or the full-convolution route)
//   bias gradient    dB    = row sums of dO

extension ConvolutionEngine {
    public func backward<T: ConvScalar>(
        _ geometry: ConvGeometry,
        input: UnsafeBufferPointer<T>?, filter: UnsafeBufferPointer<T>?,
        outputGradient: UnsafeBufferPointer<T>,
        inputGradient: UnsafeMutableBufferPointer<T>?, filterGradient: UnsafeMutableBufferPointer<T>?,
        biasGradient: UnsafeMutableBufferPointer<T>?, workspace: ConvWorkspace<T>
    ) throws {
        let g = geometry
        try checkLength("outputGradient", outputGradient.count, g.outputCount)
        if let inputGradient {
            try checkLength("inputGradient", inputGradient.count, g.inputCount)
            guard let filter else { throw ConvError.missingBuffer(name: "filter") }
            try checkLength("filter", filter.count, g.filterCount)
        }
        if let filterGradient {
            try checkLength("filterGradient", filterGradient.count, g.filterCount)
            guard let input else { throw ConvError.missingBuffer(name: "input") }
            try checkLength("input", input.count, g.inputCount)
        }
        if let biasGradient { try checkLength("biasGradient", biasGradient.count, g.outputChannels) }
        var gradients: GradientSet = []
        if inputGradient != nil { gradients.insert(.input) }
        if filterGradient != nil { gradients.insert(.filter) }
        if biasGradient != nil { gradients.insert(.bias) }
        let plan = try plan(for: g)
        let layout = try layout(for: g, plan: plan, gradients: gradients)
        let ws = try workspace.buffer(layout.total)
        try checkNoOverlap(
            outputs: [BufferSpan("inputGradient", inputGradient), BufferSpan("filterGradient", filterGradient),
                      BufferSpan("biasGradient", biasGradient)],
            others: [BufferSpan("input", input), BufferSpan("filter", filter),
                     BufferSpan("outputGradient", outputGradient), BufferSpan("workspace", ws)])
        switch ScalarKind.of(T.self) {
        case .float:
            runBackward(g, plan, layout, retype(input, Float.self), retype(filter, Float.self),
                        retype(outputGradient, Float.self), retype(inputGradient, Float.self),
                        retype(filterGradient, Float.self), retype(biasGradient, Float.self), retype(ws, Float.self))
        case .double:
            runBackward(g, plan, layout, retype(input, Double.self), retype(filter, Double.self),
                        retype(outputGradient, Double.self), retype(inputGradient, Double.self),
                        retype(filterGradient, Double.self), retype(biasGradient, Double.self), retype(ws, Double.self))
        }
    }

    private func runBackward<T: ConvScalar>(
        _ g: ConvGeometry, _ plan: ConvPlan, _ layout: Layout,
        _ input: UnsafeBufferPointer<T>?, _ filter: UnsafeBufferPointer<T>?, _ outputGradient: UnsafeBufferPointer<T>,
        _ inputGradient: UnsafeMutableBufferPointer<T>?, _ filterGradient: UnsafeMutableBufferPointer<T>?,
        _ biasGradient: UnsafeMutableBufferPointer<T>?, _ ws: UnsafeMutableBufferPointer<T>
    ) {
        // Safe: every buffer used below was checked non-nil with the geometry's length by `backward`.
        let dO = outputGradient.baseAddress!
        let x = input?.baseAddress, f = filter?.baseAddress
        let dX = inputGradient?.baseAddress, dF = filterGradient?.baseAddress
        let wsBase = ws.baseAddress
        let lowering = Lowering(g)
        let G = g.groups, C = g.inputChannels, K = g.outputChannels
        let Cg = g.inputChannelsPerGroup, Kg = g.outputChannelsPerGroup
        let HW = g.inputHeight * g.inputWidth, PQ = g.columnColumns, CgRS = g.columnRows
        let pointwise = plan.algorithm == .pointwise
        let full = plan.inputGradientAlgorithm == .fullConvolution ? FullConvolution(g) : nil
        if dX != nil, let full, let f {
            full.rotateFilters(f, into: wsBase! + layout.rotatedFilterOffset)
        }
        // Images are split in contiguous, ordered shares, so each worker's filter-gradient sum has a fixed order.
        let workers = (dX != nil || dF != nil) ? min(plan.workers, g.batch) : 0
        parallelFor(workers) { w in
            let col = wsBase.map { $0 + w * layout.columnsPerWorker }
            let dFSum = dF.map { w == 0 ? $0 : wsBase! + layout.filterPartialsOffset + (w - 1) * g.filterCount }
            let images = share(of: g.batch, worker: w, of: workers)
            for n in images {
                for grp in 0..<G {
                    let image = x.map { $0 + (n * C + grp * Cg) * HW }
                    let dOg = dO + (n * K + grp * Kg) * PQ
                    if let dFSum, let image {
                        let columns: UnsafePointer<T>
                        if pointwise {
                            columns = image
                        } else {
                            lowering.im2col(image, into: col!)
                            columns = UnsafePointer(col!)
                        }
                        BLAS.uncheckedGEMM(transposeA: .none, transposeB: .transpose, m: Kg, n: CgRS, k: PQ,
                                           alpha: 1, a: dOg, lda: PQ, b: columns, ldb: PQ,
                                           beta: n == images.lowerBound ? 0 : 1,
                                           c: dFSum + grp * Kg * CgRS, ldc: CgRS)
                    }
                    if let dX, let f {
                        let dXg = dX + (n * C + grp * Cg) * HW
                        if let full {
                            let scratch = wsBase! + layout.fullScratchOffset + w * layout.fullScratchPerWorker
                            full.inputGradient(outputGradient: dOg,
                                               rotatedFilter: wsBase! + layout.rotatedFilterOffset + grp * Kg * CgRS,
                                               inputGradient: dXg, array: scratch,
                                               columns: scratch + layout.fullArrayPerWorker)
                        } else if pointwise {
                            BLAS.uncheckedGEMM(transposeA: .transpose, transposeB: .none, m: CgRS, n: PQ, k: Kg,
                                               alpha: 1, a: f + grp * Kg * CgRS, lda: CgRS, b: dOg, ldb: PQ,
                                               beta: 0, c: dXg, ldc: PQ)
                        } else {
                            BLAS.uncheckedGEMM(transposeA: .transpose, transposeB: .none, m: CgRS, n: PQ, k: Kg,
                                               alpha: 1, a: f + grp * Kg * CgRS, lda: CgRS, b: dOg, ldb: PQ,
                                               beta: 0, c: col!, ldc: PQ)
                            lowering.col2im(UnsafePointer(col!), into: dXg)
                        }
                    }
                }
            }
        }
        if let dF, workers > 1 {
            // Add the partial sums in worker order; split by element ranges, which keeps that order per element.
            let partials = wsBase! + layout.filterPartialsOffset
            let count = g.filterCount
            parallelFor(min(plan.workers, count)) { w in
                let range = share(of: count, worker: w, of: min(plan.workers, count))
                for part in 1..<workers {
                    let src = partials + (part - 1) * count
                    for i in range { dF[i] += src[i] }
                }
            }
        }
        if let dB = biasGradient?.baseAddress {
            // Per channel, images in order, positions in order: independent of the worker count.
            let split = min(plan.workers, K)
            parallelFor(split) { w in
                for k in share(of: K, worker: w, of: split) {
                    var sum: T = 0
                    for n in 0..<g.batch {
                        let row = dO + (n * K + k) * PQ
                        for i in 0..<PQ { sum += row[i] }
                    }
                    dB[k] = sum
                }
            }
        }
    }
}
