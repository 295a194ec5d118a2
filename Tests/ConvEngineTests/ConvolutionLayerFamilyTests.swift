// ConvolutionLayer for every operation of the family (Conv2DLayer, ConvTranspose2DLayer, Conv1DLayer,
// ConvTranspose1DLayer, Conv3DLayer): the fused forward pass against the reference plus a separate activation,
// the gradients against the reference applied to dL/dZ, accumulation until zeroGradients(), the batch following
// the input, PyTorch's default initialisation with fan_in from the weight shape, the engine's fused entry points,
// and typed errors. Conv2DLayerTests keeps checking the 2-D layer against the engine bit for bit.
import Testing
import ConvEngine

/// The five layer kinds, each with a small geometry that has groups, stride and padding (output padding for the
/// transposed ones), so every index rule of the operation is reached.
enum LayerKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case conv2D, convTranspose2D, conv1D, convTranspose1D, conv3D

    var testDescription: String { rawValue }

    static func conv2D() throws -> ConvGeometry {
        try ConvGeometry(batch: 1, inputChannels: 4, inputHeight: 7, inputWidth: 6, outputChannels: 6,
                         kernelHeight: 3, kernelWidth: 3, strideHeight: 2, padding: 1, groups: 2)
    }
    static func convTranspose2D() throws -> TransposedConvGeometry {
        try TransposedConvGeometry(batch: 1, inputChannels: 4, inputHeight: 5, inputWidth: 4, outputChannels: 6,
                                   kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2,
                                   padding: Padding(top: 1, bottom: 1, left: 1, right: 0),
                                   outputPaddingHeight: 1, outputPaddingWidth: 0, groups: 2)
    }
    static func conv1D() throws -> ConvGeometry1D {
        try ConvGeometry1D(batch: 1, inputChannels: 4, inputLength: 20, outputChannels: 6, kernelLength: 5,
                           stride: 2, padding: 2, dilation: 2, groups: 2)
    }
    static func convTranspose1D() throws -> TransposedConvGeometry1D {
        try TransposedConvGeometry1D(batch: 1, inputChannels: 4, inputLength: 9, outputChannels: 6, kernelLength: 4,
                                     stride: 3, padding: 1, outputPadding: 2, groups: 2)
    }
    static func conv3D() throws -> ConvGeometry3D {
        try ConvGeometry3D(batch: 1, inputChannels: 2, inputDepth: 5, inputHeight: 4, inputWidth: 6,
                           outputChannels: 4, kernelDepth: 3, kernelHeight: 2, kernelWidth: 3, strideHeight: 2,
                           padding: 1, groups: 2)
    }

    /// Runs `body` with this kind's geometry (the generic checks below take any ``LayerOracle``).
    func with(_ body: some LayerCheck) throws {
        switch self {
        case .conv2D: try body.run(Self.conv2D())
        case .convTranspose2D: try body.run(Self.convTranspose2D())
        case .conv1D: try body.run(Self.conv1D())
        case .convTranspose1D: try body.run(Self.convTranspose1D())
        case .conv3D: try body.run(Self.conv3D())
        }
    }
}

/// A check written once over every geometry.
protocol LayerCheck {
    func run<G: LayerOracle>(_ g: G) throws
}

/// The activations every check runs with; the clamp's bounds are inside the outputs' range, so both bounds bite.
let layerActivations: [Activation] = [.identity, .relu, .clamp(lower: -0.25, upper: 0.5), .leakyReLU(slope: 0.1)]

func makeLayer<G: LayerOracle>(_ g: G, _ activation: Activation, bias: Bool = true,
                               seed: UInt64 = 5) throws -> ConvolutionLayer<G, Float> {
    var rng = SeededGenerator(seed: seed)
    return try ConvolutionLayer<G, Float>(geometry: g, bias: bias, activation: activation,
                                          engine: makeEngine(workers: 2), generator: &rng)
}

@Suite("ConvolutionLayer (the family)")
struct ConvolutionLayerFamilyTests {
    /// Forward with each activation at batches 2, 1 and 3 (the batch follows the input, one layer throughout):
    /// each element within the bound of f(reference), the reference's Σ|terms| being those of Z (every f here
    /// is 1-Lipschitz, so |f(a) − f(b)| ≤ |a − b|).
    struct ForwardCheck: LayerCheck {
        func run<G: LayerOracle>(_ g1: G) throws {
            var rng = SeededGenerator(seed: 21)
            for activation in layerActivations {
                let layer = try makeLayer(g1, activation)
                for batch in [2, 1, 3] {
                    let g = try g1.withBatch(batch)
                    let x = converted(rng.values(g.inputCount), to: Float.self)
                    let y = try layer.forward(x)
                    #expect(try layer.outputCount(batch: batch) == g.outputCount)
                    let z = try g.layerReferenceForward(widened(x), widened(layer.weight.value),
                                                        widened(layer.bias!.value))
                    checkWithinBound(y, reference: z.output.map { activated($0, activation) },
                                     magnitudes: z.magnitudes,
                                     terms: g.layerTermCounts.output, tensor: "output", shape: [g.outputCount],
                                     context: "\(activation) batch \(batch) \(g)")
                }
            }
        }
    }

    @Test("forward = reference + separate activation, at whatever batch the input holds", arguments: LayerKind.allCases)
    func forward(_ kind: LayerKind) throws { try kind.with(ForwardCheck()) }

    /// Backward with each activation: dL/dZ from the saved output (the engine's own f(Z)), then dX, dF, dB within
    /// the bound of the reference's gradients for that dL/dZ.
    struct BackwardCheck: LayerCheck {
        func run<G: LayerOracle>(_ g1: G) throws {
            var rng = SeededGenerator(seed: 22)
            let g = try g1.withBatch(2)
            for activation in layerActivations {
                let layer = try makeLayer(g1, activation)
                let x = converted(rng.values(g.inputCount), to: Float.self)
                let dO = converted(rng.values(g.outputCount), to: Float.self)
                let y = try layer.forward(x)
                let dX = try #require(try layer.backward(dO))
                let dZ = preActivationGradient(output: y, outputGradient: dO, activation)
                let r = try g.layerReferenceBackward(widened(x), widened(layer.weight.value), widened(dZ))
                let t = g.layerTermCounts, context = "\(activation) \(g)"
                checkWithinBound(dX, reference: r.gradients.input!, magnitudes: r.magnitudes.input!,
                                 terms: t.inputGradient, tensor: "dX", shape: [g.inputCount], context: context)
                checkWithinBound(layer.weight.gradient, reference: r.gradients.filter!,
                                 magnitudes: r.magnitudes.filter!, terms: t.filterGradient, tensor: "dF",
                                 shape: g.weightShape, context: context)
                checkWithinBound(layer.bias!.gradient, reference: r.gradients.bias!, magnitudes: r.magnitudes.bias!,
                                 terms: t.biasGradient, tensor: "dB", shape: [g.biasCount], context: context)
            }
        }
    }

    @Test("backward: dX, dF and dB are the reference's for dL/dZ = dL/dO ⊙ f′(output)",
          arguments: LayerKind.allCases)
    func backward(_ kind: LayerKind) throws { try kind.with(BackwardCheck()) }

    /// Two backward calls of different batches (2, then 1) accumulate to exactly the sum of the two calls' own
    /// gradients (each measured alone after zeroGradients()); dX is not accumulated.
    struct AccumulationCheck: LayerCheck {
        func run<G: LayerOracle>(_ g1: G) throws {
            var rng = SeededGenerator(seed: 23)
            let layer = try makeLayer(g1, .leakyReLU(slope: 0.2))
            let ga = try g1.withBatch(2), gb = g1
            let xa = converted(rng.values(ga.inputCount), to: Float.self)
            let dOa = converted(rng.values(ga.outputCount), to: Float.self)
            let xb = converted(rng.values(gb.inputCount), to: Float.self)
            let dOb = converted(rng.values(gb.outputCount), to: Float.self)
            func alone(_ x: [Float], _ dO: [Float]) throws -> (dF: [Float], dB: [Float], dX: [Float]) {
                layer.zeroGradients()
                _ = try layer.forward(x)
                let dX = try layer.backward(dO) ?? []
                return (layer.weight.gradient, layer.bias!.gradient, dX)
            }
            let a = try alone(xa, dOa), b = try alone(xb, dOb)
            layer.zeroGradients()
            #expect(layer.weight.gradient.allSatisfy { $0 == 0 } && layer.bias!.gradient.allSatisfy { $0 == 0 })
            _ = try layer.forward(xa)
            _ = try layer.backward(dOa, computeInputGradient: false)
            _ = try layer.forward(xb)
            let dXb = try layer.backward(dOb)
            expectBitIdentical(layer.weight.gradient, zip(a.dF, b.dF).map { $0 + $1 }, "dF after two calls \(g1)")
            expectBitIdentical(layer.bias!.gradient, zip(a.dB, b.dB).map { $0 + $1 }, "dB after two calls \(g1)")
            expectBitIdentical(dXb ?? [], b.dX, "dX of the second call alone \(g1)")
        }
    }

    @Test("gradients accumulate over calls of different batches until zeroGradients()", arguments: LayerKind.allCases)
    func accumulation(_ kind: LayerKind) throws { try kind.with(AccumulationCheck()) }

    /// The buffer forms: the same results as the array forms, into caller-owned buffers, with no bias.
    struct BufferCheck: LayerCheck {
        func run<G: LayerOracle>(_ g1: G) throws {
            var rng = SeededGenerator(seed: 24)
            let g = try g1.withBatch(2)
            let viaBuffers = try makeLayer(g1, .relu, bias: false), viaArrays = try makeLayer(g1, .relu, bias: false)
            #expect(viaBuffers.bias == nil && viaBuffers.parameterNames == ["weight"])
            let x = converted(rng.values(g.inputCount), to: Float.self)
            let dO = converted(rng.values(g.outputCount), to: Float.self)
            var y = [Float](repeating: .nan, count: g.outputCount), dX = [Float](repeating: .nan, count: g.inputCount)
            try x.withUnsafeBufferPointer { x in
                try y.withUnsafeMutableBufferPointer { y in try viaBuffers.forward(x, output: y) }
                try y.withUnsafeBufferPointer { y in
                    try dO.withUnsafeBufferPointer { dO in
                        try dX.withUnsafeMutableBufferPointer { dX in
                            try viaBuffers.backward(input: x, output: y, outputGradient: dO, inputGradient: dX)
                        }
                    }
                }
            }
            expectBitIdentical(y, try viaArrays.forward(x), "output \(g)")
            expectBitIdentical(dX, try viaArrays.backward(dO) ?? [], "dX \(g)")
            expectBitIdentical(viaBuffers.weight.gradient, viaArrays.weight.gradient, "dF \(g)")
        }
    }

    @Test("buffer forms match the array forms; a layer without bias", arguments: LayerKind.allCases)
    func bufferForms(_ kind: LayerKind) throws { try kind.with(BufferCheck()) }

    /// The engine's fused entry points: the forward pass is the plain pass with f applied element by element,
    /// and the backward pass writes dL/dZ and then the plain backward pass's gradients of it — bit for bit.
    struct EngineCheck: LayerCheck {
        func run<G: LayerOracle>(_ g1: G) throws {
            var rng = SeededGenerator(seed: 25)
            let engine = try makeEngine(workers: 2), ws = ConvWorkspace<Float>()
            let g = try g1.withBatch(2)
            let x = converted(rng.values(g.inputCount), to: Float.self)
            let f = converted(rng.values(g.filterCount), to: Float.self)
            let b = converted(rng.values(g.biasCount), to: Float.self)
            let dO = converted(rng.values(g.outputCount), to: Float.self)
            let plain = try forward(engine, g, x, f, b, .identity, ws)
            for activation in layerActivations.dropFirst() {
                let y = try forward(engine, g, x, f, b, activation, ws)
                expectBitIdentical(y, plain.map { epilogue($0, activation) }, "fused forward \(activation) \(g)")
                let fused = try backward(engine, g, x, f, dO, (activation, y), ws)
                let dZ = preActivationGradient(output: y, outputGradient: dO, activation)
                expectBitIdentical(fused.dZ, dZ, "dL/dZ \(activation) \(g)")
                let separate = try backward(engine, g, x, f, dZ, nil, ws)
                expectBitIdentical(fused.dX, separate.dX, "dX \(activation) \(g)")
                expectBitIdentical(fused.dF, separate.dF, "dF \(activation) \(g)")
                expectBitIdentical(fused.dB, separate.dB, "dB \(activation) \(g)")
            }
        }

        /// ``Epilogue``'s f in Float, operation for operation (a zero result is +0 for ReLU and the clamp).
        func epilogue(_ x: Float, _ a: Activation) -> Float {
            switch a {
            case .identity: return x
            case .relu: return (x < 0 ? 0 * x : x) + 0
            case .clamp(let lower, let upper):
                let low = x < Float(lower) ? Float(lower) : x + 0
                return low > Float(upper) ? Float(upper) : low
            case .leakyReLU(let slope): return x < 0 ? Float(slope) * x : x
            }
        }

        func forward<G: LayerOracle>(_ engine: ConvolutionEngine, _ g: G, _ x: [Float], _ f: [Float], _ b: [Float],
                                     _ a: Activation, _ ws: ConvWorkspace<Float>) throws -> [Float] {
            var y = [Float](repeating: .nan, count: g.outputCount)
            try x.withUnsafeBufferPointer { x in
                try f.withUnsafeBufferPointer { f in
                    try b.withUnsafeBufferPointer { b in
                        try y.withUnsafeMutableBufferPointer { y throws(ConvError) in
                            try g.forward(on: engine, input: x, filter: f, bias: b, activation: a, output: y,
                                          workspace: ws)
                        }
                    }
                }
            }
            return y
        }

        func backward<G: LayerOracle>(_ engine: ConvolutionEngine, _ g: G, _ x: [Float], _ f: [Float], _ dO: [Float],
                                      _ a: (Activation, [Float])?, _ ws: ConvWorkspace<Float>) throws
            -> (dZ: [Float], dX: [Float], dF: [Float], dB: [Float]) {
            var dZ = [Float](repeating: .nan, count: g.outputCount), dX = [Float](repeating: .nan, count: g.inputCount)
            var dF = [Float](repeating: .nan, count: g.filterCount), dB = [Float](repeating: .nan, count: g.biasCount)
            try x.withUnsafeBufferPointer { x in
                try f.withUnsafeBufferPointer { f in
                    try dO.withUnsafeBufferPointer { dO in
                        try dZ.withUnsafeMutableBufferPointer { dZ in
                            try dX.withUnsafeMutableBufferPointer { dX in
                                try dF.withUnsafeMutableBufferPointer { dF in
                                    try dB.withUnsafeMutableBufferPointer { dB throws(ConvError) in
                                        if let (activation, y) = a {
                                            try y.withUnsafeBufferPointer { y throws(ConvError) in
                                                try g.backward(on: engine, input: x, filter: f, activation: activation,
                                                               output: y, outputGradient: dO, preActivationGradient: dZ,
                                                               inputGradient: dX, filterGradient: dF, biasGradient: dB,
                                                               workspace: ws)
                                            }
                                        } else {
                                            try g.backward(on: engine, input: x, filter: f, outputGradient: dO,
                                                           inputGradient: dX, filterGradient: dF, biasGradient: dB,
                                                           workspace: ws)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            return (dZ, dX, dF, dB)
        }
    }

    @Test("the engine's fused passes are the plain passes with f and f′ applied", arguments: LayerKind.allCases)
    func engineEntryPoints(_ kind: LayerKind) throws { try kind.with(EngineCheck()) }

    /// Wrong lengths, a backward pass before any forward pass, a rejected activation and an overlapping dL/dZ
    /// scratch throw the typed errors.
    struct ErrorCheck: LayerCheck {
        func run<G: LayerOracle>(_ g: G) throws {
            let layer = try makeLayer(g, .relu)
            #expect(throws: ConvError.missingBuffer(name: "the input of a forward(_:) call (call forward first)")) {
                _ = try layer.backward([Float](repeating: 0, count: g.outputCount))
            }
            #expect(throws: ConvError.bufferLength(name: "input", expected: g.inputCount, actual: g.inputCount + 1)) {
                _ = try layer.forward([Float](repeating: 0, count: g.inputCount + 1))
            }
            #expect(throws: ConvError.self) { _ = try layer.forward([]) }
            _ = try layer.forward([Float](repeating: 0.5, count: g.inputCount))
            #expect(throws: ConvError.bufferLength(name: "outputGradient", expected: g.outputCount, actual: 1)) {
                _ = try layer.backward([1])
            }
            #expect(throws: ConvError.bufferLength(name: "weight", expected: g.filterCount, actual: 1)) {
                _ = try ConvolutionLayer<G, Float>(geometry: g, weight: [1], bias: nil)
            }
            let weight = [Float](repeating: 0, count: g.filterCount)
            #expect(throws: ConvError.bufferLength(name: "bias", expected: g.biasCount, actual: 1)) {
                _ = try ConvolutionLayer<G, Float>(geometry: g, weight: weight, bias: [1])
            }
            #expect(throws: ConvError.invalidArgument(
                name: "activation",
                reason: "a leaky ReLU's slope must be finite and ≥ 0 (its derivative is read from the output), "
                    + "got -1.0")) {
                _ = try ConvolutionLayer<G, Float>(geometry: g, weight: weight, bias: nil,
                                                   activation: .leakyReLU(slope: -1))
            }
            // The engine's fused backward pass: dL/dZ may not share memory with dL/dO.
            let engine = try makeEngine(workers: 1)
            var shared = [Float](repeating: 1, count: g.outputCount)
            let x = [Float](repeating: 1, count: g.inputCount), y = [Float](repeating: 1, count: g.outputCount)
            #expect(throws: ConvError.overlappingBuffers(output: "preActivationGradient", other: "outputGradient")) {
                try x.withUnsafeBufferPointer { x in
                    try y.withUnsafeBufferPointer { y in
                    try shared.withUnsafeMutableBufferPointer { s throws(ConvError) in
                        try g.backward(on: engine, input: x, filter: nil, activation: .relu,
                                       output: y, outputGradient: UnsafeBufferPointer(s),
                                       preActivationGradient: s, inputGradient: nil, filterGradient: nil,
                                       biasGradient: nil, workspace: ConvWorkspace())
                    }
                    }
                }
            }
        }
    }

    @Test("wrong lengths and misuse throw typed errors", arguments: LayerKind.allCases)
    func errors(_ kind: LayerKind) throws { try kind.with(ErrorCheck()) }
}
