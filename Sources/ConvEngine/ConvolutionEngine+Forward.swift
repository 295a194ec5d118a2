// The forward pass: per image and group, `O_g = F_g · col (+ B)` (MATH.md, first row of the GEMM table).

extension ConvolutionEngine {
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
        let plan = try plan(for: g)
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
        let lowering = Lowering(g)
        let G = g.groups, C = g.inputChannels, K = g.outputChannels
        let Cg = g.inputChannelsPerGroup, Kg = g.outputChannelsPerGroup
        let HW = g.inputHeight * g.inputWidth, PQ = g.columnColumns, CgRS = g.columnRows
        let items = g.batch * G
        let workers = min(plan.workers, items)
        let pointwise = plan.algorithm == .pointwise
        parallelFor(workers) { w in
            let col = ws.baseAddress.map { $0 + w * layout.columnsPerWorker }
            for item in share(of: items, worker: w, of: workers) {
                let n = item / G, grp = item % G
                let image = x + (n * C + grp * Cg) * HW
                let columns: UnsafePointer<T>
                if pointwise {
                    columns = image
                } else {
                    lowering.im2col(image, into: col!)
                    columns = UnsafePointer(col!)
                }
                let out = o + (n * K + grp * Kg) * PQ
                BLAS.uncheckedGEMM(transposeA: .none, transposeB: .none, m: Kg, n: PQ, k: CgRS,
                                   alpha: 1, a: f + grp * Kg * CgRS, lda: CgRS, b: columns, ldb: PQ,
                                   beta: 0, c: out, ldc: PQ)
                if let b {
                    for k in 0..<Kg {
                        let value = b[grp * Kg + k]
                        let row = out + k * PQ
                        for i in 0..<PQ { row[i] += value }
                    }
                }
            }
        }
    }
}
