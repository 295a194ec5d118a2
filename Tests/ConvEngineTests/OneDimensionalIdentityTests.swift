// Identities of the 1-D convolution, in Double: its direct-loop reference equals the 2-D reference run on the
// planar geometry (two references written from different definitions), the adjoint identities
// ⟨O(X), dO⟩ = ⟨X, dX(dO)⟩ = ⟨F, dF(X, dO)⟩ for the reference and every forced engine plan, and central finite
// differences of L = Σ dO·O for the reference's gradients.
import Testing
import ConvEngine

@Suite("1-D convolution: the 2-D reference, adjoint identities and finite differences")
struct OneDimensionalIdentityTests {
    @Test("The 1-D reference agrees with the 2-D reference on the planar geometry, element by element")
    func agreesWithThePlanarReference() throws {
        var worst = 0.0
        for (i, (g, _)) in OneDimensionalSweep.convolutions(count: 40).enumerated() {
            var rng = SeededGenerator(seed: 0x1D_2D00 + UInt64(i))
            let problem = FamilyProblem(g, useBias: true, rng: &rng)
            let mine = try FamilyReference(g, problem)
            let planar = try ReferenceResults(g.planar, input: problem.input, filter: problem.filter,
                                              bias: problem.bias, outputGradient: problem.outputGradient)
            let context = "1-D \(g) vs planar \(g.planar)"
            for (index, (name, values)) in planar.values.named.enumerated() {
                worst = max(worst, mine.check(values, index, name: name, geometry: g, context: context))
            }
        }
        print("1-D reference vs 2-D reference: worst fraction of the bound \(worst)")
    }

    @Test("Reference and every forced engine plan: ⟨O(X), dO⟩ = ⟨X, dX(dO)⟩ = ⟨F, dF(X, dO)⟩")
    func selfAdjoint() throws {
        pinBLASThreadsOnce()
        var worst = 0.0
        for (i, (g, _)) in OneDimensionalSweep.convolutions(count: 16).enumerated() {
            worst = max(worst, try checkSelfAdjoint(g, engine: nil, seed: 0x1DA_000 + UInt64(i)))
            for (a, route) in allPlans(for: g.planar) {
                let engine = try makeEngine(workers: 1 + i % 2, algorithm: a, inputGradientAlgorithm: route)
                worst = max(worst, try checkSelfAdjoint(g, engine: engine, seed: 0x1DA_000 + UInt64(i)))
            }
        }
        print("1-D self-adjoint (reference and engine plans): worst fraction of tolerance \(worst)")
    }

    @Test("dL/dX, dL/dF, dL/dB of the 1-D reference equal central differences")
    func finiteDifferences() throws {
        let geometries = try [
            ConvGeometry1D(batch: 1, inputChannels: 1, inputLength: 3, outputChannels: 1, kernelLength: 2),
            ConvGeometry1D(batch: 2, inputChannels: 2, inputLength: 7, outputChannels: 3, kernelLength: 3, stride: 2,
                           padding: Padding1D(left: 2, right: 1), dilation: 2),
            ConvGeometry1D(batch: 2, inputChannels: 4, inputLength: 5, outputChannels: 4, kernelLength: 2, stride: 3,
                           padding: Padding1D(left: 0, right: 3), groups: 4),
            ConvGeometry1D(batch: 1, inputChannels: 2, inputLength: 2, outputChannels: 2, kernelLength: 3,
                           padding: 2, dilation: 2, groups: 2),
        ]
        for (i, g) in geometries.enumerated() { try checkFiniteDifferences(g, seed: 0x1DF_D00 + UInt64(i)) }
    }
}
