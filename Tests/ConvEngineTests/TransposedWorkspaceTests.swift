// The workspace of the transposed, 1-D and 1-D transposed operations: it never depends on the batch (the
// staged case included), and under a workspace limit the engine stays within it — the associated convolution's
// tiles shrink, and the staged case plans that convolution within what its staging copy leaves — with results
// still within MATH.md's bound of the reference.
import Testing
import ConvEngine

/// A few geometries of each operation at batch `n`, staged and not.
func workspaceGeometries(batch n: Int) throws -> [any FamilyGeometry] {
    [
        try TransposedConvGeometry(batch: n, inputChannels: 4, inputHeight: 6, inputWidth: 5, outputChannels: 3,
                                   kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2,
                                   padding: Padding(1), outputPaddingHeight: 1),
        try TransposedConvGeometry(batch: n, inputChannels: 3, inputHeight: 5, inputWidth: 4, outputChannels: 4,
                                   kernelHeight: 2, kernelWidth: 3, strideHeight: 1, strideWidth: 2,
                                   padding: Padding(top: 0, bottom: 1, left: 1, right: 0), outputPaddingHeight: 2,
                                   outputPaddingWidth: 1, dilationHeight: 3, dilationWidth: 1),  // staged
        try ConvGeometry1D(batch: n, inputChannels: 4, inputLength: 40, outputChannels: 6, kernelLength: 5,
                           stride: 2, padding: 2, dilation: 2),
        try TransposedConvGeometry1D(batch: n, inputChannels: 4, inputLength: 12, outputChannels: 2,
                                     kernelLength: 3, stride: 1, padding: 1, outputPadding: 2, dilation: 3),  // staged
    ]
}

@Suite("Transposed and 1-D convolutions: the workspace")
struct TransposedWorkspaceTests {
    @Test("The workspace does not depend on the batch")
    func independentOfTheBatch() throws {
        pinBLASThreadsOnce()
        let one = try workspaceGeometries(batch: 1), four = try workspaceGeometries(batch: 4)
        for workers in [1, 2, 3] {
            for algorithm in [nil, ConvAlgorithm.tiledIm2col, .kernelRowGEMM, .im2col] {
                let engine = try makeEngine(workers: workers, algorithm: algorithm)
                for (a, b) in zip(one, four) {
                    #expect(try a.workspaceCount(engine) == b.workspaceCount(engine), "\(b), workers \(workers)")
                }
            }
        }
    }

    @Test("Under a workspace limit the engine stays within it, with results within the bound")
    func withinTheLimit() throws {
        pinBLASThreadsOnce()
        var tight = 0
        for (i, g) in try workspaceGeometries(batch: 3).enumerated() {
            try Self.check(g, index: i, tight: &tight)
        }
        #expect(tight >= 3, "too few geometries ran under a limit below their unlimited need")
    }

    static func check<G: FamilyGeometry>(_ g: G, index i: Int, tight: inout Int) throws {
        let free = try makeEngine(workers: 2)
        let need = try g.workspaceCount(free) * MemoryLayout<Double>.stride
        var rng = SeededGenerator(seed: 0x3A_0000 + UInt64(i))
        let p = FamilyProblem(g, useBias: true, rng: &rng)
        let reference = try FamilyReference(g, p)
        for limit in [need, need / 2, need / 4] {
            let engine = try makeEngine(workers: 2, algorithm: .tiledIm2col, workspaceLimit: limit)
            let bytes: Int
            do { bytes = try g.workspaceCount(engine) * MemoryLayout<Double>.stride } catch ConvError.workspaceCapTooSmall {
                continue
            }
            #expect(bytes <= limit, "\(g): \(bytes) bytes planned under a limit of \(limit)")
            if limit < need { tight += 1 }
            let ws = ConvWorkspace<Double>()
            let worst = checkFamilyPlan(g, engine, p, reference, subset: [.input, .filter], ws,
                                        context: "\(g), workspace limit \(limit) B, plan \(try g.mappedPlan(engine))")
            #expect(worst <= 1)
            #expect(ws.peakElementCount * MemoryLayout<Double>.stride <= limit)
        }
    }
}

@Suite("Transposed and 1-D convolutions: the array forms")
struct TransposedArrayFormTests {
    @Test("Every array form gives the buffer form's bits, reuses arrays of the right length and sizes the others")
    func arrayForms() throws {
        pinBLASThreadsOnce()
        for (i, g) in try workspaceGeometries(batch: 2).enumerated() { try Self.check(g, seed: 0xA7_0000 + UInt64(i)) }
    }

    static func check<G: FamilyGeometry>(_ g: G, seed: UInt64) throws {
        let engine = try makeEngine(workers: 2)
        var rng = SeededGenerator(seed: seed)
        let p = FamilyProblem(g, useBias: true, rng: &rng)
        let x: [Float] = converted(p.input, to: Float.self), f: [Float] = converted(p.filter, to: Float.self)
        let b: [Float] = converted(p.bias!, to: Float.self), dO: [Float] = converted(p.outputGradient, to: Float.self)
        let ws = ConvWorkspace<Float>()
        // The buffer forms.
        var o = [Float](repeating: .nan, count: g.outputCount)
        var dX: [Float]? = [Float](repeating: .nan, count: g.inputCount)
        var dF: [Float]? = [Float](repeating: .nan, count: g.filterCount)
        var dB: [Float]? = [Float](repeating: .nan, count: g.biasCount)
        try x.withUnsafeBufferPointer { xb in
            try f.withUnsafeBufferPointer { fb in
                try dO.withUnsafeBufferPointer { dOb in
                    try b.withUnsafeBufferPointer { bb in
                        try o.withUnsafeMutableBufferPointer { try g.forward(engine, xb, fb, bb, $0, ws) }
                    }
                    try withMutableBuffers(&dX, &dF, &dB) { try g.backward(engine, xb, fb, dOb, $0, $1, $2, ws) }
                }
            }
        }
        // The inout forms: a result of the right length is written in place, one of another length resized.
        var output = [Float](repeating: 0, count: g.outputCount)
        let before = output.withUnsafeBufferPointer { $0.baseAddress }
        var grads = Gradients<Float>(input: [1], filter: nil, bias: [Float](repeating: 0, count: g.biasCount))
        switch g {
        case let t as TransposedConvGeometry:
            try engine.forward(t, input: x, filter: f, bias: b, output: &output, workspace: ws)
            try engine.backward(t, input: x, filter: f, outputGradient: dO, into: &grads, workspace: ws)
        case let c as ConvGeometry1D:
            try engine.forward(c, input: x, filter: f, bias: b, output: &output, workspace: ws)
            try engine.backward(c, input: x, filter: f, outputGradient: dO, into: &grads, workspace: ws)
        case let t as TransposedConvGeometry1D:
            try engine.forward(t, input: x, filter: f, bias: b, output: &output, workspace: ws)
            try engine.backward(t, input: x, filter: f, outputGradient: dO, into: &grads, workspace: ws)
        default:
            Issue.record("unexpected geometry type \(type(of: g))")
        }
        #expect(output.withUnsafeBufferPointer { $0.baseAddress } == before, "\(g): output array reallocated")
        expectBitIdentical(output, o, "O (inout) \(g)")
        expectBitIdentical(grads.input ?? [], dX!, "dX (into) \(g)")
        expectBitIdentical(grads.filter ?? [], dF!, "dF (into) \(g)")
        expectBitIdentical(grads.bias ?? [], dB!, "dB (into) \(g)")
        // The returning forms, one gradient at a time.
        let filterOnly = try g.arrayBackward(engine, input: p.input, filter: nil, outputGradient: p.outputGradient,
                                             gradients: .filter)
        #expect(filterOnly.input == nil && filterOnly.bias == nil && filterOnly.filter?.count == g.filterCount)
    }
}

@Suite("Transposed and 1-D convolutions: determinism")
struct TransposedDeterminismTests {
    @Test("For a fixed worker count, every result is bit-identical from call to call (staged case included)")
    func bitIdentical() throws {
        pinBLASThreadsOnce()
        for (i, g) in try workspaceGeometries(batch: 3).enumerated() {
            for workers in [1, 2, 3] { try Self.check(g, workers: workers, seed: 0xDE_0000 + UInt64(i)) }
        }
    }

    static func check<G: FamilyGeometry>(_ g: G, workers: Int, seed: UInt64) throws {
        let engine = try makeEngine(workers: workers)
        var rng = SeededGenerator(seed: seed)
        let p = FamilyProblem(g, useBias: true, rng: &rng)
        func run() throws -> ConvResults<Float> {
            let x: [Float] = converted(p.input, to: Float.self), f: [Float] = converted(p.filter, to: Float.self)
            let b: [Float] = converted(p.bias!, to: Float.self), dO: [Float] = converted(p.outputGradient, to: Float.self)
            let ws = ConvWorkspace<Float>()
            var o = [Float](repeating: 0, count: g.outputCount)
            var dX: [Float]? = [Float](repeating: 0, count: g.inputCount)
            var dF: [Float]? = [Float](repeating: 0, count: g.filterCount)
            var dB: [Float]? = [Float](repeating: 0, count: g.biasCount)
            try x.withUnsafeBufferPointer { xb in
                try f.withUnsafeBufferPointer { fb in
                    try dO.withUnsafeBufferPointer { dOb in
                        try b.withUnsafeBufferPointer { bb in
                            try o.withUnsafeMutableBufferPointer { try g.forward(engine, xb, fb, bb, $0, ws) }
                        }
                        try withMutableBuffers(&dX, &dF, &dB) { try g.backward(engine, xb, fb, dOb, $0, $1, $2, ws) }
                    }
                }
            }
            return ConvResults(output: o, inputGradient: dX!, filterGradient: dF!, biasGradient: dB!)
        }
        let first = try run(), second = try run()
        if let difference = firstBitDifference(first, second) {
            Issue.record("\(g), \(workers) workers: \(difference)")
        }
    }
}
