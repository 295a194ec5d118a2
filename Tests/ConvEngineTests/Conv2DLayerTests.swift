// Conv2DLayer: the batch follows the input, the passes are the engine's fused passes, gradients accumulate
// until zeroGradients(), and the parameters are reachable by name.
import Testing
import ConvEngine

@Suite("Conv2DLayer")
struct Conv2DLayerTests {
    static func geometry() throws -> ConvGeometry {
        try ConvGeometry(batch: 1, inputChannels: 3, inputHeight: 7, inputWidth: 6, outputChannels: 4,
                         kernelHeight: 3, kernelWidth: 3, padding: 1)
    }

    func layer(_ activation: Activation = .relu, bias: Bool = true, seed: UInt64 = 7) throws -> Conv2DLayer<Float> {
        var rng = SeededGenerator(seed: seed)
        return try Conv2DLayer<Float>(geometry: Self.geometry(), bias: bias, activation: activation,
                                      engine: makeEngine(workers: 2), generator: &rng)
    }

    @Test("forward is the engine's fused forward pass at whatever batch the input holds")
    func forwardFollowsTheBatch() throws {
        let conv = try layer()
        var rng = SeededGenerator(seed: 11)
        for batch in [1, 3, 2] {
            let g = try Self.geometry().withBatch(batch)
            let x = converted(rng.values(g.inputCount), to: Float.self)
            let y = try conv.forward(x)
            #expect(y.count == g.outputCount)
            #expect(try conv.outputCount(batch: batch) == g.outputCount)
            let expected = try EpilogueTests().forward(makeEngine(workers: 2), g, x, conv.weight.value,
                                                       conv.bias!.value, .relu)
            expectBitIdentical(y, expected, "batch \(batch)")
        }
    }

    @Test("backward adds dF and dB into the gradients until zeroGradients(); dX is the engine's")
    func gradientsAccumulate() throws {
        let conv = try layer(.leakyReLU(slope: 0.2))
        let g = try Self.geometry().withBatch(2)
        var rng = SeededGenerator(seed: 12)
        let x = converted(rng.values(g.inputCount), to: Float.self)
        let dO = converted(rng.values(g.outputCount), to: Float.self)
        let y = try conv.forward(x)
        let dX = try conv.backward(dO)
        let once = (conv.weight.gradient, conv.bias!.gradient)
        let engine = try makeEngine(workers: 2)
        let expected = try EpilogueTests().runBackward(engine, g, x, conv.weight.value, dO: dO,
                                                       activation: (.leakyReLU(slope: 0.2), y))
        expectBitIdentical(once.0, expected.dF, "dF after one call")
        expectBitIdentical(once.1, expected.dB, "dB after one call")
        expectBitIdentical(dX ?? [], expected.dX, "dX")
        // A second call adds the same values: d + d = 2d exactly.
        #expect(try conv.backward(dO, computeInputGradient: false) == nil)
        expectBitIdentical(conv.weight.gradient, once.0.map { $0 + $0 }, "dF after two calls")
        expectBitIdentical(conv.bias!.gradient, once.1.map { $0 + $0 }, "dB after two calls")
        conv.zeroGradients()
        #expect(conv.weight.gradient.allSatisfy { $0 == 0 } && conv.bias!.gradient.allSatisfy { $0 == 0 })
    }

    @Test("two micro-batches accumulate to the whole batch's gradients (within the reference's bound)")
    func microBatches() throws {
        let conv = try layer(.identity)
        let g = try Self.geometry().withBatch(4), half = try Self.geometry().withBatch(2)
        var rng = SeededGenerator(seed: 13)
        let x = converted(rng.values(g.inputCount), to: Float.self)
        let dO = converted(rng.values(g.outputCount), to: Float.self)
        for part in 0..<2 {
            let xs = Array(x[(part * half.inputCount)..<((part + 1) * half.inputCount)])
            let dOs = Array(dO[(part * half.outputCount)..<((part + 1) * half.outputCount)])
            _ = try conv.forward(xs)
            _ = try conv.backward(dOs, computeInputGradient: false)
        }
        let reference = try ReferenceResults(g, input: widened(x), filter: widened(conv.weight.value),
                                             bias: widened(conv.bias!.value), outputGradient: widened(dO))
        let terms = termCountsInOrder(g)
        checkWithinBound(conv.weight.gradient, reference: reference.filterGradient,
                         magnitudes: reference.filterGradientMagnitudes, terms: terms[2], tensor: "dF",
                         shape: g.filterShape, context: "two micro-batches of 2")
        checkWithinBound(conv.bias!.gradient, reference: reference.biasGradient,
                         magnitudes: reference.biasGradientMagnitudes, terms: terms[3], tensor: "dB",
                         shape: g.biasShape, context: "two micro-batches of 2")
    }

    @Test("parameters by name, PyTorch's default initialisation bounds, and an optimiser step through the container")
    func parameters() throws {
        let conv = try layer()
        #expect(conv.parameterNames == ["weight", "bias"])
        #expect(conv.weight.shape == [4, 3, 3, 3] && conv.bias!.shape == [4])
        let bound = Float(1 / (27.0).squareRoot())  // 1/√fan_in, fan_in = C/G·R·S = 27
        #expect(conv.weight.value.allSatisfy { abs($0) <= bound } && conv.bias!.value.allSatisfy { abs($0) <= bound })
        #expect(Set(conv.weight.value).count > 100)  // drawn, not constant
        var names: [String] = []
        try conv.updateParameters { p throws(ConvError) in names.append(p.name) }
        #expect(names == ["weight", "bias"])
        let noBias = try layer(bias: false)
        #expect(noBias.parameterNames == ["weight"] && noBias.bias == nil)
        // Same seed, same weights.
        #expect(try layer().weight.value == conv.weight.value)

        let x = [Float](repeating: 0.5, count: try Self.geometry().inputCount)
        let dO = [Float](repeating: 1, count: try conv.outputCount(batch: 1))
        _ = try conv.forward(x)
        _ = try conv.backward(dO)
        let before = conv.weight.value, gradient = conv.weight.gradient
        try SGD(learningRate: 0.5).step(conv)
        expectBitIdentical(conv.weight.value, zip(before, gradient).map { $0 - Float(0.5) * $1 }, "weight after SGD")
    }

    @Test("wrong sizes and a backward pass with no forward pass throw typed errors")
    func errors() throws {
        let conv = try layer()
        let g = try Self.geometry()
        #expect(throws: ConvError.missingBuffer(name: "the input of a forward(_:) call (call forward first)")) {
            _ = try conv.backward([Float](repeating: 0, count: g.outputCount))
        }
        #expect(throws: ConvError.self) { _ = try conv.forward([Float](repeating: 0, count: g.inputCount + 1)) }
        #expect(throws: ConvError.self) { _ = try conv.forward([]) }
        _ = try conv.forward([Float](repeating: 0, count: g.inputCount))
        #expect(throws: ConvError.bufferLength(name: "outputGradient", expected: g.outputCount, actual: 1)) {
            _ = try conv.backward([1])
        }
        #expect(throws: ConvError.bufferLength(name: "weight", expected: g.filterCount, actual: 1)) {
            _ = try Conv2DLayer<Float>(geometry: g, weight: [1], bias: nil)
        }
        #expect(throws: ConvError.self) {
            _ = try Conv2DLayer<Float>(geometry: g, weight: [Float](repeating: 0, count: g.filterCount), bias: nil,
                                       activation: .leakyReLU(slope: -1))
        }
    }
}
