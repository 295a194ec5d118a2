// An oracle nobody here wrote: PyTorch float64 results (Golden/, made by Golden/make_golden.py) for forward
// and all three gradients. The engine (every plan) and the reference are compared with them element by
// element within MATH.md's bound, with Σ|terms| from the reference (PyTorch is one more summation order), and
// per tensor within 1e-10 of max|PyTorch|.
import Foundation
import Testing
import ConvEngine

@Suite("PyTorch golden cases")
struct GoldenTests {
    /// The manifest's cases (empty if it cannot be read, which `manifest()` then reports).
    static let cases: [GoldenCase] = (try? GoldenManifest.load().cases) ?? []

    @Test("The manifest reads, lists about twenty cases and every file is present")
    func manifest() throws {
        let manifest = try GoldenManifest.load()
        #expect(manifest.generator == "make_golden.py")
        #expect(manifest.cases.count >= 20)
        #expect(Set(manifest.cases.map(\.name)).count == manifest.cases.count, "case names are unique")
        for c in manifest.cases {
            for tensor in ["X", "F", "B", "dO", "O", "dX", "dF", "dB"] {
                let path = goldenDirectory.appendingPathComponent("\(c.name)_\(tensor).npy").path
                #expect(FileManager.default.fileExists(atPath: path), "\(path) is missing")
            }
        }
    }

    @Test("Engine (every plan) and reference match PyTorch", arguments: GoldenTests.cases)
    func goldenCase(_ c: GoldenCase) throws {
        let g = try c.geometry()
        #expect(g.outputHeight == c.outputHeight, "P of \(c.name)")
        #expect(g.outputWidth == c.outputWidth, "Q of \(c.name)")

        let x = try c.array("X"), f = try c.array("F"), b = try c.array("B"), dO = try c.array("dO")
        let o = try c.array("O"), dX = try c.array("dX"), dF = try c.array("dF"), dB = try c.array("dB")
        #expect(x.shape == g.inputShape && dX.shape == g.inputShape, "X/dX shape of \(c.name)")
        #expect(f.shape == g.filterShape && dF.shape == g.filterShape, "F/dF shape of \(c.name)")
        #expect(b.shape == g.biasShape && dB.shape == g.biasShape, "B/dB shape of \(c.name)")
        #expect(o.shape == g.outputShape && dO.shape == g.outputShape, "O/dO shape of \(c.name)")
        guard x.values.count == g.inputCount, f.values.count == g.filterCount, b.values.count == g.outputChannels,
              dO.values.count == g.outputCount else { return }

        // Σ|terms| per element, for the bound; the reference's own values are checked against PyTorch too.
        let reference = try ReferenceResults(g, input: x.values, filter: f.values, bias: b.values,
                                             outputGradient: dO.values)
        let terms = ErrorBound.termCounts(g)
        func compare(_ label: String, o engineO: [Double], dX engineDX: [Double]?, dF engineDF: [Double]?,
                     dB engineDB: [Double]?) {
            let context = CheckContext(geometry: g, plan: "\(label) vs PyTorch, golden case \(c.name)", scalar: "Double")
            checkWithinBound(engineO, reference: o.values, magnitudes: reference.outputMagnitudes,
                             terms: terms.output, tensor: "O", shape: g.outputShape, context: context)
            checkWithinBound(engineDX ?? [], reference: dX.values, magnitudes: reference.inputGradientMagnitudes,
                             terms: terms.inputGradient, tensor: "dX", shape: g.inputShape, context: context)
            checkWithinBound(engineDF ?? [], reference: dF.values, magnitudes: reference.filterGradientMagnitudes,
                             terms: terms.filterGradient, tensor: "dF", shape: g.filterShape, context: context)
            checkWithinBound(engineDB ?? [], reference: dB.values, magnitudes: reference.biasGradientMagnitudes,
                             terms: terms.biasGradient, tensor: "dB", shape: g.biasShape, context: context)
            checkCloseToGolden(engineO, golden: o.values, tensor: "O", context: context)
            checkCloseToGolden(engineDX ?? [], golden: dX.values, tensor: "dX", context: context)
            checkCloseToGolden(engineDF ?? [], golden: dF.values, tensor: "dF", context: context)
            checkCloseToGolden(engineDB ?? [], golden: dB.values, tensor: "dB", context: context)
        }

        compare("reference", o: reference.output, dX: reference.inputGradient, dF: reference.filterGradient,
                dB: reference.biasGradient)
        for (algorithm, route) in allPlans(for: g) {
            for workers in [1, 2] {
                let engine = try makeEngine(workers: workers, algorithm: algorithm, inputGradientAlgorithm: route)
                let engineO = try engine.forward(g, input: x.values, filter: f.values, bias: b.values)
                let grads = try engine.backward(g, input: x.values, filter: f.values, outputGradient: dO.values)
                compare("\(algorithm)+\(route)×\(workers)", o: engineO, dX: grads.input, dF: grads.filter, dB: grads.bias)
            }
        }
    }
}

extension GoldenCase {
    /// The case's geometry, in `layout`.
    func geometry(layout: ConvLayout = .nchw) throws -> ConvGeometry {
        try ConvGeometry(
            batch: batch, inputChannels: inputChannels, inputHeight: inputHeight, inputWidth: inputWidth,
            outputChannels: outputChannels, kernelHeight: kernelHeight, kernelWidth: kernelWidth,
            strideHeight: strideHeight, strideWidth: strideWidth,
            padding: .explicit(Padding(top: padTop, bottom: padBottom, left: padLeft, right: padRight)),
            dilationHeight: dilationHeight, dilationWidth: dilationWidth, groups: groups, layout: layout)
    }
}
