// The PyTorch goldens (Golden/ and Golden/Family/) in channels-last: every tensor permuted to NHWC (NLC, NDHWC)
// and every weight to OHWI (K×k…×C/G; Cin×k…×Cout/G for a transposed one) by the tests' own index formulas, run
// through the engine in that layout — every plan forced on one and two workers, and the automatic plan — and
// compared with PyTorch's results permuted the same way: element by element within the error bound (Σ|terms| from
// the reference in the same layout) and within 1e-10 of max|PyTorch| per tensor.
import Foundation
import Testing
import ConvEngine

@Suite("Layouts: PyTorch goldens in NHWC")
struct LayoutGoldenTests {
    @Test("2-D goldens in NHWC with an OHWI filter: every plan and the reference match PyTorch", arguments: GoldenTests.cases)
    func twoDimensional(_ c: GoldenCase) throws {
        let g = try c.geometry(layout: .nhwc)
        let move = LayoutMover(g: g)
        let x = move.input(try c.array("X").values), f = move.filter(try c.array("F").values)
        let b = try c.array("B").values, dO = move.output(try c.array("dO").values)
        let golden = ConvResults(output: move.output(try c.array("O").values),
                                 inputGradient: move.input(try c.array("dX").values),
                                 filterGradient: move.filter(try c.array("dF").values),
                                 biasGradient: try c.array("dB").values)
        guard x.count == g.inputCount, f.count == g.filterCount, dO.count == g.outputCount else {
            Issue.record("golden \(c.name): tensor sizes do not match the geometry")
            return
        }
        let reference = try ReferenceResults(g, input: x, filter: f, bias: b, outputGradient: dO)
        var engines: [(String, ConvolutionEngine)] = [("automatic", try makeEngine(workers: 2))]
        for (algorithm, route) in allPlans(for: g) {
            for workers in [1, 2] {
                engines.append(("\(algorithm)+\(route)×\(workers)",
                                try makeEngine(workers: workers, algorithm: algorithm, inputGradientAlgorithm: route)))
            }
        }
        compareWithGolden(golden, reference.magnitudes, termCountsInOrder(g),
                          ("reference", reference.values), context: "2-D golden \(c.name) in \(g)")
        for (label, engine) in engines {
            let o = try engine.forward(g, input: x, filter: f, bias: b)
            let grads = try engine.backward(g, input: x, filter: f, outputGradient: dO)
            let plan = try engine.plan(for: g, scalar: Double.self)
            // Winograd is checked against its transform bound.
            let bounded = reference.bounded(for: plan.algorithm, route: plan.inputGradientAlgorithm, geometry: g)
            compareWithGolden(golden, bounded.magnitudes, bounded.termCounts(g),
                              (label, ConvResults(output: o, inputGradient: grads.input ?? [],
                                                  filterGradient: grads.filter ?? [], biasGradient: grads.bias ?? [])),
                              context: "2-D golden \(c.name) in \(g), plan \(plan)")
        }
    }

    @Test("Family goldens in NLC / NHWC / NDHWC with a channels-last weight: every plan and the reference match PyTorch",
          arguments: FamilyGoldenTests.cases)
    func family(_ c: FamilyGoldenCase) throws {
        let g = try c.geometry().withLayout(.nhwc)
        let pixels = { (size: [Int]) in size.reduce(1, *) }
        func activations(_ values: [Double], channels: Int, size: [Int]) -> [Double] {
            ConvEngineTests.activations(values, batch: c.batch, channels: channels, pixels: pixels(size), to: .channelsLast)
        }
        let w = c.weightShape
        func weight(_ values: [Double]) -> [Double] {
            filter(values, filters: w[0], channelsPerGroup: w[1], taps: pixels(Array(w.dropFirst(2))), to: .channelsLast)
        }
        let x = activations(try c.array("X").values, channels: c.inputChannels, size: c.inputSize)
        let f = weight(try c.array("W").values), b = try c.array("B").values
        let dO = activations(try c.array("dO").values, channels: c.outputChannels, size: c.outputSize)
        let golden = ConvResults(
            output: activations(try c.array("O").values, channels: c.outputChannels, size: c.outputSize),
            inputGradient: activations(try c.array("dX").values, channels: c.inputChannels, size: c.inputSize),
            filterGradient: weight(try c.array("dW").values), biasGradient: try c.array("dB").values)
        guard x.count == g.inputCount, f.count == g.filterCount, dO.count == g.outputCount else {
            Issue.record("family golden \(c.name): tensor sizes do not match the geometry")
            return
        }
        let reference = try g.referenceResults(input: x, filter: f, bias: b, outputGradient: dO)
        compareWithGolden(golden, reference.magnitudes, g.termCountsInOrder, ("reference", reference.values),
                          context: "family golden \(c.name) in \(g)")
        pinBLASThreadsOnce()
        let engines = try [("automatic", ConvolutionEngine(workers: 2))] + g.testEngines(workers: 1) + g.testEngines(workers: 2)
        for (label, engine) in engines {
            let results = try g.run(engine, input: x, filter: f, bias: b, outputGradient: dO)
            compareWithGolden(golden, reference.magnitudes, g.termCountsInOrder, (label, results),
                              context: "family golden \(c.name) in \(g)")
        }
    }
}

/// One run's four results against PyTorch's (permuted into the run's layout): within the bound of `magnitudes`
/// and `terms` element by element, and within 1e-10 of max|PyTorch| per tensor.
private func compareWithGolden(_ golden: ConvResults<Double>, _ magnitudes: ConvResults<Double>, _ terms: [Int],
                               _ run: (label: String, results: ConvResults<Double>), context: String,
                               sourceLocation: SourceLocation = #_sourceLocation) {
    let label = "\(run.label) vs PyTorch, \(context)"
    for (i, (name, actual)) in run.results.named.enumerated() {
        let expected = golden.named[i].1
        checkWithinBound(actual, reference: expected, magnitudes: magnitudes.named[i].1, terms: terms[i],
                         tensor: name, shape: [expected.count], context: label, sourceLocation: sourceLocation)
        checkCloseToGolden(actual, golden: expected, tensor: name, context: label, sourceLocation: sourceLocation)
    }
}
