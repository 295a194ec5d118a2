// The backward pass, per image and group (MATH.md, rows two to four of the GEMM table):
//   filter gradient  dF_g += dO_g · colᵀ    (β = 0 for a worker's first image, then 1: a fixed batch order)
//   input gradient   dcol  = F_gᵀ · dO_g,  dX = col2im(dcol)   (or the full-convolution route)
//   bias gradient    dB    = row sums of dO

extension ConvolutionEngine {
    /// The backward pass: any subset of the input, filter and bias gradients in one call, with the engine's
    /// ``ConvPlan`` (MATH.md, rows two to four of the GEMM table).
    ///
    /// Every gradient given is overwritten (not accumulated into); the filter and bias gradients are summed
    /// over the whole batch. For a fixed worker count the results are bit-for-bit reproducible.
    ///
    /// - Parameters:
    ///   - geometry: the convolution.
    ///   - input: X, `geometry.inputCount` elements; required for the filter gradient, else may be `nil`.
    ///   - filter: F, `geometry.filterCount` elements; required for the input gradient, else may be `nil`.
    ///   - outputGradient: dL/dO, `geometry.outputCount` elements. Read only.
    ///   - inputGradient: dL/dX, `geometry.inputCount` elements, or `nil` if not wanted.
    ///   - filterGradient: dL/dF, `geometry.filterCount` elements, or `nil` if not wanted.
    ///   - biasGradient: dL/dB, `geometry.outputChannels` elements, or `nil` if not wanted.
    ///   - workspace: scratch memory, grown if needed and kept for later calls; one per concurrent call.
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)``, ``ConvError/missingBuffer(name:)`` (the input
    ///   for the filter gradient, the filter for the input gradient), ``ConvError/overlappingBuffers(output:other:)``,
    ///   ``ConvError/algorithmNotApplicable(algorithm:reason:)``.
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
        let plan = try plan(for: g, scalar: T.self)
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
        let full = plan.inputGradientAlgorithm == .fullConvolution
        // Images are split in contiguous, ordered shares, so each worker's filter-gradient sum has a fixed order.
        let dXHere = full ? nil : dX
        let workers = (dXHere != nil || dF != nil) ? min(plan.workers, g.batch) : 0
        let partials = wsBase.map { $0 + layout.filterPartialsOffset }
        let depthwise = plan.algorithm == .depthwiseDirect
        if depthwise {
            // The depthwise kernel splits by channel over the whole batch: no partial sums, and it sums the
            // bias gradient in the same pass over dO, in an order that does not depend on the worker count.
            let dB = biasGradient?.baseAddress
            DepthwiseKernel(g).backward(x, f, dO, dXHere, dF, dB,
                                        scratch: wsBase! + layout.depthwiseOffset,
                                        scratchPerWorker: layout.depthwisePerWorker,
                                        workers: (dXHere != nil || dF != nil || dB != nil) ? plan.workers : 0)
        } else if plan.algorithm == .kernelRowGEMM {
            // With a gradient to compute (workers > 0) the workspace is never empty.
            if workers > 0, let wsBase {
                kernelRowBackward(g, plan, layout, x, f, dO, dXHere, dF, wsBase, workers: workers)
            }
        } else {
            loweredBackward(g, plan, layout, x, f, dO, dXHere, dF, wsBase, workers: workers)
        }
        if let dF, workers > 1, let partials, !depthwise, plan.algorithm != .kernelRowGEMM {
            // Add the partial sums in worker order; split by element ranges, which keeps that order per element.
            let count = g.filterCount
            let split = min(plan.workers, count)
            parallelFor(split) { w in
                let range = share(of: count, worker: w, of: split)
                for part in 1..<workers {
                    let src = partials + (part - 1) * count
                    for i in range { dF[i] += src[i] }
                }
            }
        }
        if full, let dX, let f {
            fullConvolutionInputGradient(g, plan, layout, f, dO, dX, wsBase!)
        }
        if !depthwise, let dB = biasGradient?.baseAddress {
            // Per channel, images in order, positions in order: independent of the worker count.
            let K = g.outputChannels, PQ = g.columnColumns
            let split = min(plan.workers, K)
            parallelFor(split) { w in
                for k in share(of: K, worker: w, of: split) {
                    // Eight running sums (one per lane, a fixed assignment of elements) break the add latency
                    // chain; the order never depends on the worker count.
                    var lanes = SIMD8<T>()
                    var tail: T = 0
                    for n in 0..<g.batch {
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
    }

    /// Filter gradient and (col2im route) input gradient of ``ConvAlgorithm/kernelRowGEMM``. Its filter-gradient
    /// shares are packed per kernel row, so it adds them up itself.
    private func kernelRowBackward<T: ConvScalar>(
        _ g: ConvGeometry, _ plan: ConvPlan, _ layout: Layout,
        _ x: UnsafePointer<T>?, _ f: UnsafePointer<T>?, _ dO: UnsafePointer<T>,
        _ dX: UnsafeMutablePointer<T>?, _ dF: UnsafeMutablePointer<T>?, _ wsBase: UnsafeMutablePointer<T>,
        workers: Int
    ) {
        let rowGEMM = KernelRowGEMM(g)
        var packed: UnsafePointer<T>? = nil
        if dX != nil, let f {
            rowGEMM.repackFilter(f, into: wsBase + layout.packedFilterOffset, workers: plan.workers)
            packed = UnsafePointer(wsBase + layout.packedFilterOffset)
        }
        rowGEMM.backward(x, packed, dO, dX, dF, tileRows: plan.tileRows,
                         lowered: wsBase, loweredPerWorker: layout.columnsPerWorker,
                         gathered: wsBase + layout.scratchOffset, gatheredPerWorker: layout.scratchPerWorker,
                         filterSums: wsBase + layout.filterPartialsOffset, workers: workers)
    }

    /// Filter gradient and (col2im) input gradient of the lowered algorithms, tile by tile.
    private func loweredBackward<T: ConvScalar>(
        _ g: ConvGeometry, _ plan: ConvPlan, _ layout: Layout,
        _ x: UnsafePointer<T>?, _ f: UnsafePointer<T>?, _ dO: UnsafePointer<T>,
        _ dX: UnsafeMutablePointer<T>?, _ dF: UnsafeMutablePointer<T>?, _ wsBase: UnsafeMutablePointer<T>?,
        workers: Int
    ) {
        let lowering = Lowering(g)
        let schedule = TileSchedule(outputHeight: g.outputHeight, tileRows: plan.tileRows)
        let G = g.groups, C = g.inputChannels, K = g.outputChannels
        let Cg = g.inputChannelsPerGroup, Kg = g.outputChannelsPerGroup
        let HW = g.inputHeight * g.inputWidth, PQ = g.columnColumns, CgRS = g.columnRows, Q = g.outputWidth
        let pointwise = plan.algorithm == .pointwise
        let phasedInput = layout.inputPhasesPerWorker > 0
        parallelFor(workers) { w in
            let col = wsBase.map { $0 + w * layout.columnsPerWorker }
            let scratch = wsBase.map { $0 + layout.scratchOffset + w * layout.scratchPerWorker }
            let dFSum = dF.map { w == 0 ? $0 : wsBase! + layout.filterPartialsOffset + (w - 1) * g.filterCount }
            let inputPhases = phasedInput ? wsBase! + layout.inputPhasesOffset + w * layout.inputPhasesPerWorker : nil
            let gradientPhases = layout.gradientPhasesPerWorker > 0
                ? wsBase! + layout.gradientPhasesOffset + w * layout.gradientPhasesPerWorker : nil
            let images = share(of: g.batch, worker: w, of: workers)
            for t in 0..<schedule.tileCount(images: images) {
                let (tileImages, rows) = schedule.tile(t, images: images)
                let columnsPerImage = rows.count * Q
                let tileColumns = tileImages.count * columnsPerImage
                let single = tileImages.count == 1
                for grp in 0..<G {
                    // The tile's output gradient as a K/G × tileColumns matrix: in place for one image,
                    // gathered side by side for several.
                    let dOTile: UnsafePointer<T>, ldo: Int
                    if single {
                        dOTile = dO + (tileImages.lowerBound * K + grp * Kg) * PQ + rows.lowerBound * Q
                        ldo = PQ
                    } else {
                        for (i, n) in tileImages.enumerated() {
                            for k in 0..<Kg {
                                (scratch! + k * tileColumns + i * columnsPerImage)
                                    .update(from: dO + (n * K + grp * Kg + k) * PQ, count: columnsPerImage)
                            }
                        }
                        dOTile = UnsafePointer(scratch!)
                        ldo = tileColumns
                    }
                    if let dFSum, let x {
                        let columns: UnsafePointer<T>, ldb: Int
                        if pointwise {
                            columns = x + (tileImages.lowerBound * C + grp * Cg) * HW
                            ldb = PQ
                        } else {
                            lowering.im2col(tileOf: x + grp * Cg * HW, imageStride: C * HW, images: tileImages,
                                            rows: rows, into: col!, phases: inputPhases)
                            columns = UnsafePointer(col!)
                            ldb = tileColumns
                        }
                        BLAS.uncheckedGEMM(transposeA: .none, transposeB: .transpose, m: Kg, n: CgRS, k: tileColumns,
                                           alpha: 1, a: dOTile, lda: ldo, b: columns, ldb: ldb,
                                           beta: t == 0 ? 0 : 1, c: dFSum + grp * Kg * CgRS, ldc: CgRS)
                    }
                    if let dX, let f {
                        if pointwise {
                            BLAS.uncheckedGEMM(transposeA: .transpose, transposeB: .none, m: CgRS, n: tileColumns, k: Kg,
                                               alpha: 1, a: f + grp * Kg * CgRS, lda: CgRS, b: dOTile, ldb: ldo,
                                               beta: 0, c: dX + (tileImages.lowerBound * C + grp * Cg) * HW, ldc: PQ)
                        } else {
                            BLAS.uncheckedGEMM(transposeA: .transpose, transposeB: .none, m: CgRS, n: tileColumns, k: Kg,
                                               alpha: 1, a: f + grp * Kg * CgRS, lda: CgRS, b: dOTile, ldb: ldo,
                                               beta: 0, c: col!, ldc: tileColumns)
                            for (i, n) in tileImages.enumerated() {
                                // The first band of an image overwrites its gradient; later bands add to it.
                                let dXg = dX + (n * C + grp * Cg) * HW
                                if let gradientPhases {
                                    let groupPhases = gradientPhases + grp * lowering.phaseCount(channels: Cg)
                                    lowering.col2im(UnsafePointer(col! + i * columnsPerImage), rows: rows,
                                                    ld: tileColumns, into: groupPhases,
                                                    overwrite: rows.lowerBound == 0, phased: true)
                                    if rows.upperBound == g.outputHeight {
                                        lowering.mergePhases(UnsafePointer(groupPhases), channels: Cg, into: dXg)
                                    }
                                } else {
                                    lowering.col2im(UnsafePointer(col! + i * columnsPerImage), rows: rows,
                                                    ld: tileColumns, into: dXg, overwrite: rows.lowerBound == 0)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The input gradient by the full-convolution route, one image and group at a time.
    private func fullConvolutionInputGradient<T: ConvScalar>(
        _ g: ConvGeometry, _ plan: ConvPlan, _ layout: Layout,
        _ f: UnsafePointer<T>, _ dO: UnsafePointer<T>, _ dX: UnsafeMutablePointer<T>, _ wsBase: UnsafeMutablePointer<T>
    ) {
        let full = FullConvolution(g)
        full.rotateFilters(f, into: wsBase + layout.rotatedFilterOffset)
        let G = g.groups, C = g.inputChannels, K = g.outputChannels
        let Cg = g.inputChannelsPerGroup, Kg = g.outputChannelsPerGroup
        let HW = g.inputHeight * g.inputWidth, PQ = g.columnColumns, CgRS = g.columnRows
        let workers = min(plan.workers, g.batch)
        parallelFor(workers) { w in
            let scratch = wsBase + layout.fullScratchOffset + w * layout.fullScratchPerWorker
            for n in share(of: g.batch, worker: w, of: workers) {
                for grp in 0..<G {
                    full.inputGradient(outputGradient: dO + (n * K + grp * Kg) * PQ,
                                       rotatedFilter: wsBase + layout.rotatedFilterOffset + grp * Kg * CgRS,
                                       inputGradient: dX + (n * C + grp * Cg) * HW, array: scratch,
                                       columns: scratch + layout.fullArrayPerWorker)
                }
            }
        }
    }
}
