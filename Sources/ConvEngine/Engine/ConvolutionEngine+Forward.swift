// The forward pass: per tile and group, `O_g = F_g · col (+ B)` (MATH.md, first row of the GEMM table).

extension ConvolutionEngine {
    /// The forward pass, `output = conv(input, filter) + bias`, with the engine's ``ConvPlan``: per image (or tile)
    /// and group, im2col of the input and one GEMM with the filters (MATH.md, first row of the GEMM table).
    ///
    /// - Parameters:
    ///   - geometry: the convolution.
    ///   - input: X, `geometry.inputCount` elements, NCHW. Read only.
    ///   - filter: F, `geometry.filterCount` elements, `K×(C/G)×R×S`. Read only.
    ///   - bias: B, `geometry.outputChannels` elements, or `nil` for none. Read only.
    ///   - output: O, `geometry.outputCount` elements, NCHW; overwritten. It must not overlap any other buffer.
    ///   - workspace: scratch memory, grown to ``workspaceElementCount(for:scalar:)`` if smaller and kept for later
    ///     calls. Not thread-safe: one workspace per concurrent call.
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)`` for a buffer of the wrong length,
    ///   ``ConvError/overlappingBuffers(output:other:)`` when the output shares memory with another buffer,
    ///   ``ConvError/algorithmNotApplicable(algorithm:reason:)`` when a forced algorithm cannot run `geometry`,
    ///   and ``ConvError`` size errors when the workspace would overflow.
    public func forward<T: ConvScalar>(
        _ geometry: ConvGeometry,
        input: UnsafeBufferPointer<T>, filter: UnsafeBufferPointer<T>, bias: UnsafeBufferPointer<T>?,
        output: UnsafeMutableBufferPointer<T>, workspace: ConvWorkspace<T>
    ) throws {
        let g = geometry
        try checkLength("input", input.count, g.inputCount)
        try checkLength("filter", filter.count, g.filterCount)
        if let bias { try checkLength("bias", bias.count, g.outputChannels) }
        try checkLength("output", output.count, g.outputCount)
        let plan = try plan(for: g, scalar: T.self)
        let layout = try layout(for: g, plan: plan, gradients: nil)
        let ws = try workspace.buffer(layout.total)
        try checkNoOverlap(
            outputs: [BufferSpan("output", output)],
            others: [BufferSpan("input", input), BufferSpan("filter", filter), BufferSpan("bias", bias),
                     BufferSpan("workspace", ws)])
        // Dispatch to a concrete element type so the loops below are specialised inside the library.
        switch ScalarKind.of(T.self) {
        case .float:
            runForward(g, plan, layout, retype(input, Float.self), retype(filter, Float.self),
                       retype(bias, Float.self), retype(output, Float.self), retype(ws, Float.self))
        case .double:
            runForward(g, plan, layout, retype(input, Double.self), retype(filter, Double.self),
                       retype(bias, Double.self), retype(output, Double.self), retype(ws, Double.self))
        }
    }

    private func runForward<T: ConvScalar>(
        _ g: ConvGeometry, _ plan: ConvPlan, _ layout: Layout,
        _ input: UnsafeBufferPointer<T>, _ filter: UnsafeBufferPointer<T>, _ bias: UnsafeBufferPointer<T>?,
        _ output: UnsafeMutableBufferPointer<T>, _ ws: UnsafeMutableBufferPointer<T>
    ) {
        // Safe: lengths were checked against the geometry, and the layout fits in `ws`.
        let x = input.baseAddress!, f = filter.baseAddress!, o = output.baseAddress!
        let b = bias?.baseAddress
        if plan.algorithm == .depthwiseDirect {
            DepthwiseKernel(g).forward(x, f, b, o, scratch: ws.baseAddress! + layout.depthwiseOffset,
                                       scratchPerWorker: layout.depthwisePerWorker, workers: plan.workers)
            return
        }
        if plan.algorithm == .shiftedGEMM {
            let shifted = ShiftedGEMM(g)
            let packed = ws.baseAddress! + layout.packedFilterOffset
            shifted.repackFilter(f, into: packed)
            shifted.forward(x, packed, b, o, scratch: ws.baseAddress! + layout.shiftedOffset,
                            scratchPerWorker: layout.shiftedPerWorker, workers: plan.workers)
            return
        }
        if plan.algorithm == .kernelRowGEMM {
            let rowGEMM = KernelRowGEMM(g)
            let packed = ws.baseAddress! + layout.packedFilterOffset
            rowGEMM.repackFilter(f, into: packed, workers: plan.workers)
            rowGEMM.forward(x, packed, b, o, tileRows: plan.tileRows,
                            lowered: ws.baseAddress!, loweredPerWorker: layout.columnsPerWorker,
                            results: ws.baseAddress! + layout.scratchOffset, resultPerWorker: layout.scratchPerWorker,
                            workers: plan.workers)
            return
        }
        let lowering = Lowering(g)
        let schedule = TileSchedule(outputHeight: g.outputHeight, tileRows: plan.tileRows, batch: g.batch,
                                    workers: plan.workers)
        let G = g.groups, C = g.inputChannels, K = g.outputChannels
        let Cg = g.inputChannelsPerGroup, Kg = g.outputChannelsPerGroup
        let HW = g.inputHeight * g.inputWidth, PQ = g.columnColumns, CgRS = g.columnRows, Q = g.outputWidth
        // The tiles of the whole batch go to whichever worker is free (see parallelItems): a tile's result does
        // not depend on the worker that computes it.
        let pointwise = plan.algorithm == .pointwise
        let phased = layout.inputPhasesPerWorker > 0
        let wsBase = ws.baseAddress
        parallelItems(plan.workers, count: schedule.tileCount(images: 0..<g.batch)) { w, t in
            let col = wsBase.map { $0 + w * layout.columnsPerWorker }
            let scratch = wsBase.map { $0 + layout.scratchOffset + w * layout.scratchPerWorker }
            let phases = wsBase.map { $0 + layout.inputPhasesOffset + w * layout.inputPhasesPerWorker }
            let (images, rows) = schedule.tile(t, images: 0..<g.batch)
            let columnsPerImage = rows.count * Q
            let tileColumns = images.count * columnsPerImage
            for grp in 0..<G {
                let columns: UnsafePointer<T>, ldb: Int
                if pointwise {
                    // Safe: pointwise tiles are whole single images.
                    columns = x + (images.lowerBound * C + grp * Cg) * HW
                    ldb = PQ
                } else {
                    lowering.im2col(tileOf: x + grp * Cg * HW, imageStride: C * HW, images: images, rows: rows,
                                    into: col!, phases: phased ? phases : nil)
                    columns = UnsafePointer(col!)
                    ldb = tileColumns
                }
                // One image: the GEMM accumulates straight onto the output rows, filled with their bias. Several:
                // onto the tile's scratch, filled the same way and then copied out image by image, so that every
                // element is the same sum (bias first) whatever the tile holds.
                let single = images.count == 1
                let direct = o + (images.lowerBound * K + grp * Kg) * PQ + rows.lowerBound * Q
                let beta: T = single
                    ? prefillBias(direct, channels: Kg, channelStride: PQ, count: columnsPerImage, bias: b.map { $0 + grp * Kg })
                    : prefillBias(scratch!, channels: Kg, channelStride: tileColumns, count: tileColumns,
                                  bias: b.map { $0 + grp * Kg })
                BLAS.uncheckedGEMM(transposeA: .none, transposeB: .none, m: Kg, n: tileColumns, k: CgRS,
                                   alpha: 1, a: f + grp * Kg * CgRS, lda: CgRS, b: columns, ldb: ldb,
                                   beta: beta, c: single ? direct : scratch!, ldc: single ? PQ : tileColumns)
                if single { continue }
                for (i, n) in images.enumerated() {
                    for k in 0..<Kg {
                        storeTileRows(o + (n * K + grp * Kg + k) * PQ + rows.lowerBound * Q,
                                      from: UnsafePointer(scratch! + k * tileColumns + i * columnsPerImage),
                                      rows: rows.count, width: Q, sourceStride: Q)
                    }
                }
            }
        }
    }
}
