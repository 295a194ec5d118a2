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
