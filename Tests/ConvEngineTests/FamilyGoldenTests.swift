// The convolution family against an oracle nobody here wrote: PyTorch float64 results (Golden/Family/, made by
// Golden/Family/make_family_goldens.py) of conv_transpose2d, conv1d, conv_transpose1d and conv3d, forward and all
// three gradients. The engine (every plan of the convolution the operation runs on, or every 3-D algorithm; 1 and
// 2 workers) and the
// reference are compared with them as GoldenTests compares the 2-D cases: element by element within MATH.md's
// bound (Σ|terms| from the reference), and within 1e-10 of max|PyTorch| per tensor.
import Foundation
import Testing
import ConvEngine

@Suite("PyTorch golden cases of the convolution family")
struct FamilyGoldenTests {
    /// The manifest's cases (empty if it cannot be read, which `manifest()` then reports).
    static let cases: [FamilyGoldenCase] = (try? FamilyGoldenManifest.load().cases) ?? []

    @Test("The manifest reads, covers the four operations and every file is present")
    func manifest() throws {
        let manifest = try FamilyGoldenManifest.load()
        #expect(manifest.generator == "make_family_goldens.py")
        #expect(Set(manifest.cases.map(\.name)).count == manifest.cases.count, "case names are unique")
        for operation in ["conv_transpose2d", "conv1d", "conv_transpose1d", "conv3d"] {
            #expect(manifest.cases.filter { $0.operation == operation }.count >= 5, "cases of \(operation)")
        }
        for c in manifest.cases {
            for tensor in ["X", "W", "B", "dO", "O", "dX", "dW", "dB"] {
                let path = familyGoldenDirectory.appendingPathComponent("\(c.name)_\(tensor).npy").path
                #expect(FileManager.default.fileExists(atPath: path), "\(path) is missing")
            }
        }
    }

    @Test("Engine (every plan) and reference match PyTorch", arguments: FamilyGoldenTests.cases)
    func goldenCase(_ c: FamilyGoldenCase) throws {
        let g = try c.geometry()
        #expect(g.outputSize == c.outputSize, "output size of \(c.name)")

        let x = try c.array("X"), w = try c.array("W"), b = try c.array("B"), dO = try c.array("dO")
        let pytorch = [try c.array("O"), try c.array("dX"), try c.array("dW"), try c.array("dB")]
        let inputShape = [c.batch, c.inputChannels] + c.inputSize
        let outputShape = [c.batch, c.outputChannels] + c.outputSize
        // In the order of ConvResults.named: O, dX, dW (the filter gradient), dB.
        let shapes = [outputShape, inputShape, c.weightShape, [c.outputChannels]]
        let names = ["O", "dX", "dW", "dB"]
        #expect(x.shape == inputShape && w.shape == c.weightShape && b.shape == [c.outputChannels]
                && dO.shape == outputShape, "operand shapes of \(c.name)")
        for (i, t) in pytorch.enumerated() { #expect(t.shape == shapes[i], "\(names[i]) shape of \(c.name)") }
        guard x.values.count == g.inputCount, w.values.count == g.filterCount, b.values.count == g.biasCount,
              dO.values.count == g.outputCount else { return }

        // Σ|terms| per element, for the bound; the reference's own values are checked against PyTorch too.
        let reference = try g.referenceResults(input: x.values, filter: w.values, bias: b.values,
                                               outputGradient: dO.values)
        let terms = g.termCountsInOrder
        func compare(_ label: String, _ results: ConvResults<Double>) {
            let context = "\(label) vs PyTorch, family golden case \(c.name) (\(c.operation), geometry \(g))"
            for (i, (_, actual)) in results.named.enumerated() {
                checkWithinBound(actual, reference: pytorch[i].values, magnitudes: reference.magnitudes.named[i].1,
                                 terms: terms[i], tensor: names[i], shape: shapes[i], context: context)
                checkCloseToGolden(actual, golden: pytorch[i].values, tensor: names[i], context: context)
            }
        }

        compare("reference", reference.values)
        for workers in [1, 2] {
            let engines = try g.testEngines(workers: workers)
            #expect(engines.count >= 2, "plans forced on \(c.name): \(engines.map(\.0))")
            for (plan, engine) in engines {
                let results = try g.run(engine, input: x.values, filter: w.values, bias: b.values,
                                        outputGradient: dO.values)
                compare("\(plan)×\(workers)", results)
            }
        }
    }
}

/// What the golden test needs of a family geometry: the four results of the reference (with Σ|terms|) and of an
/// engine, the bound's term counts, and the plans to force. Each geometry calls its own overloads of the
/// library's operations, which have no common protocol.
protocol FamilyGoldenOperation: ConvolutionShape {
    /// The spatial output size, one entry per axis (depth, height, width; length for 1-D).
    var outputSize: [Int] { get }
    /// ``ErrorBound/termCounts`` of the geometry in the order of ``ConvResults/named`` (O, dX, dF, dB).
    var termCountsInOrder: [Int] { get }
    /// An engine of `workers` workers per plan to force, named: every plan of the convolution the operation runs
    /// on (``allPlans(for:)``), or every ``ConvAlgorithm3D``.
    func testEngines(workers: Int) throws -> [(String, ConvolutionEngine)]
    /// ``ReferenceConvolution``'s results and Σ|terms| in Double.
    func referenceResults(input: [Double], filter: [Double], bias: [Double], outputGradient: [Double]) throws
        -> (values: ConvResults<Double>, magnitudes: ConvResults<Double>)
    /// The engine's forward pass and backward pass with all three gradients (array API).
    func run(_ engine: ConvolutionEngine, input: [Double], filter: [Double], bias: [Double],
             outputGradient: [Double]) throws -> ConvResults<Double>
    /// The same operation in another memory layout (the layout goldens).
    func withLayout(_ layout: ConvLayout) -> Self
}

/// The shared bodies of ``FamilyGoldenOperation``, given the geometry's own reference and engine calls.
private func referencePair(
    forward: () throws -> (output: [Double], magnitudes: [Double]),
    backward: () throws -> (gradients: Gradients<Double>, magnitudes: Gradients<Double>)
) throws -> (values: ConvResults<Double>, magnitudes: ConvResults<Double>) {
    let (o, mo) = try forward()
    let (grads, mags) = try backward()
    guard let dX = grads.input, let dF = grads.filter, let dB = grads.bias,
          let mX = mags.input, let mF = mags.filter, let mB = mags.bias else {
        throw FamilyGoldenError(description: "the reference returned no gradient for a requested one")
    }
    return (ConvResults(output: o, inputGradient: dX, filterGradient: dF, biasGradient: dB),
            ConvResults(output: mo, inputGradient: mX, filterGradient: mF, biasGradient: mB))
}

private func engineResults(output: [Double], gradients: Gradients<Double>) throws -> ConvResults<Double> {
    guard let dX = gradients.input, let dF = gradients.filter, let dB = gradients.bias else {
        throw FamilyGoldenError(description: "the engine returned no gradient for a requested one")
    }
    return ConvResults(output: output, inputGradient: dX, filterGradient: dF, biasGradient: dB)
}

private func inOrder(_ t: ErrorBound.TermCounts) -> [Int] {
    [t.output, t.inputGradient, t.filterGradient, t.biasGradient]
}

/// An engine per plan of `g` (``allPlans(for:)``) with `workers` workers.
private func planEngines(_ g: ConvGeometry, workers: Int) throws -> [(String, ConvolutionEngine)] {
    try allPlans(for: g).map { a, route in
        ("\(a)+\(route)", try makeEngine(workers: workers, algorithm: a, inputGradientAlgorithm: route))
    }
}

extension TransposedConvGeometry: FamilyGoldenOperation {
    var outputSize: [Int] { [outputHeight, outputWidth] }
    var termCountsInOrder: [Int] { inOrder(ErrorBound.termCounts(self)) }
    func testEngines(workers: Int) throws -> [(String, ConvolutionEngine)] { try planEngines(associated, workers: workers) }

    func referenceResults(input: [Double], filter: [Double], bias: [Double], outputGradient: [Double]) throws
        -> (values: ConvResults<Double>, magnitudes: ConvResults<Double>) {
        let r = ReferenceConvolution()
        return try referencePair(
            forward: { try r.forwardWithMagnitudes(self, input: input, filter: filter, bias: bias) },
            backward: { try r.backwardWithMagnitudes(self, input: input, filter: filter, outputGradient: outputGradient) })
    }

    func run(_ engine: ConvolutionEngine, input: [Double], filter: [Double], bias: [Double],
             outputGradient: [Double]) throws -> ConvResults<Double> {
        try engineResults(output: engine.forward(self, input: input, filter: filter, bias: bias),
                          gradients: engine.backward(self, input: input, filter: filter, outputGradient: outputGradient))
    }
}

extension ConvGeometry1D: FamilyGoldenOperation {
    var outputSize: [Int] { [outputLength] }
    var termCountsInOrder: [Int] { inOrder(ErrorBound.termCounts(self)) }
    func testEngines(workers: Int) throws -> [(String, ConvolutionEngine)] { try planEngines(planar, workers: workers) }

    func referenceResults(input: [Double], filter: [Double], bias: [Double], outputGradient: [Double]) throws
        -> (values: ConvResults<Double>, magnitudes: ConvResults<Double>) {
        let r = ReferenceConvolution()
        return try referencePair(
            forward: { try r.forwardWithMagnitudes(self, input: input, filter: filter, bias: bias) },
            backward: { try r.backwardWithMagnitudes(self, input: input, filter: filter, outputGradient: outputGradient) })
    }

    func run(_ engine: ConvolutionEngine, input: [Double], filter: [Double], bias: [Double],
             outputGradient: [Double]) throws -> ConvResults<Double> {
        try engineResults(output: engine.forward(self, input: input, filter: filter, bias: bias),
                          gradients: engine.backward(self, input: input, filter: filter, outputGradient: outputGradient))
    }
}

extension TransposedConvGeometry1D: FamilyGoldenOperation {
    var outputSize: [Int] { [outputLength] }
    var termCountsInOrder: [Int] { inOrder(ErrorBound.termCounts(self)) }
    func testEngines(workers: Int) throws -> [(String, ConvolutionEngine)] {
        try planEngines(planar.associated, workers: workers)
    }

    func referenceResults(input: [Double], filter: [Double], bias: [Double], outputGradient: [Double]) throws
        -> (values: ConvResults<Double>, magnitudes: ConvResults<Double>) {
        let r = ReferenceConvolution()
        return try referencePair(
            forward: { try r.forwardWithMagnitudes(self, input: input, filter: filter, bias: bias) },
            backward: { try r.backwardWithMagnitudes(self, input: input, filter: filter, outputGradient: outputGradient) })
    }

    func run(_ engine: ConvolutionEngine, input: [Double], filter: [Double], bias: [Double],
             outputGradient: [Double]) throws -> ConvResults<Double> {
        try engineResults(output: engine.forward(self, input: input, filter: filter, bias: bias),
                          gradients: engine.backward(self, input: input, filter: filter, outputGradient: outputGradient))
    }
}

extension ConvGeometry3D: FamilyGoldenOperation {
    var outputSize: [Int] { [outputDepth, outputHeight, outputWidth] }
    // termCountsInOrder: VolumeTestSupport's.
    func testEngines(workers: Int) throws -> [(String, ConvolutionEngine)] {
        pinBLASThreadsOnce()
        return try ConvAlgorithm3D.allCases.map { ("\($0)", try ConvolutionEngine(workers: workers, volumeAlgorithm: $0)) }
    }

    func referenceResults(input: [Double], filter: [Double], bias: [Double], outputGradient: [Double]) throws
        -> (values: ConvResults<Double>, magnitudes: ConvResults<Double>) {
        let r = ReferenceConvolution()
        return try referencePair(
            forward: { try r.forwardWithMagnitudes(self, input: input, filter: filter, bias: bias) },
            backward: { try r.backwardWithMagnitudes(self, input: input, filter: filter, outputGradient: outputGradient) })
    }

    func run(_ engine: ConvolutionEngine, input: [Double], filter: [Double], bias: [Double],
             outputGradient: [Double]) throws -> ConvResults<Double> {
        try engineResults(output: engine.forward(self, input: input, filter: filter, bias: bias),
                          gradients: engine.backward(self, input: input, filter: filter, outputGradient: outputGradient))
    }
}
