// The array API's three flavours (fresh arrays, `inout` arrays with a kept workspace, one gradient alone) give
// the same bits as the buffer API, are within MATH.md's bound of the reference, and the `inout` flavour keeps
// the caller's arrays (same storage) and workspace (no growth) from the second call on.
import Testing
import ConvEngine

@Suite("Array API")
struct ArrayAPITests {
    static let geometries: [ConvGeometry] = try! [
        ConvGeometry(n: 2, c: 4, h: 9, w: 8, k: 6, r: 3, s: 2, stride: (2, 1), pad: (1, 0, 1, 1), groups: 2),
        ConvGeometry(n: 3, c: 5, h: 6, w: 7, k: 3, r: 1, s: 1),                                       // pointwise
        ConvGeometry(n: 2, c: 4, h: 7, w: 7, k: 4, r: 3, s: 3, pad: (1, 1, 1, 1), groups: 4),      // depthwise
    ]

    static func baseAddress<T>(_ a: [T]?) -> UnsafeRawPointer? {
        a?.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
    }

    @Test("inout forms: same bits as the buffer API, within the bound, same storage and workspace on repeat",
          arguments: 0..<geometries.count)
    func inoutForms(_ index: Int) throws {
        pinBLASThreadsOnce()
        let g = Self.geometries[index]
        var rng = SeededGenerator(seed: 0xA77A_0000 + UInt64(index))
        let p = Problem(g, rng: &rng).rounded(to: Float.self)
        let x = converted(p.input, to: Float.self), f = converted(p.filter, to: Float.self)
        let b = converted(p.bias, to: Float.self), dO = converted(p.outputGradient, to: Float.self)
        let engine = try ConvolutionEngine(workers: 2)
        let viaBuffers = try runAll(engine, g, x: x, f: f, b: b, dO: dO, workspace: ConvWorkspace<Float>())

        let workspace = ConvWorkspace<Float>()
        var output: [Float] = [1, 2, 3]  // the wrong length: resized on the first call
        var gradients = Gradients<Float>(input: nil, filter: [Float](repeating: 7, count: g.filterCount), bias: [])
        var outputStorage: UnsafeRawPointer?, gradientStorage: [UnsafeRawPointer?] = []
        var capacity = 0
        for call in 0..<3 {
            try engine.forward(g, input: x, filter: f, bias: b, output: &output, workspace: workspace)
            try engine.backward(g, input: x, filter: f, outputGradient: dO, into: &gradients, workspace: workspace)
            let storage = [Self.baseAddress(gradients.input), Self.baseAddress(gradients.filter),
                           Self.baseAddress(gradients.bias)]
            if call == 0 {
                outputStorage = Self.baseAddress(output); gradientStorage = storage; capacity = workspace.capacity
            } else {
                #expect(Self.baseAddress(output) == outputStorage, "call \(call): the output array was reallocated")
                #expect(storage == gradientStorage, "call \(call): a gradient array was reallocated")
                #expect(workspace.capacity == capacity, "call \(call): the workspace grew")
            }
            expectBitIdentical(output, viaBuffers.output, "output, call \(call)")
            expectBitIdentical(gradients.input ?? [], viaBuffers.inputGradient, "input gradient, call \(call)")
            expectBitIdentical(gradients.filter ?? [], viaBuffers.filterGradient, "filter gradient, call \(call)")
            expectBitIdentical(gradients.bias ?? [], viaBuffers.biasGradient, "bias gradient, call \(call)")
        }
        let reference = try ReferenceResults(g, input: p.input, filter: p.filter, bias: p.bias, outputGradient: p.outputGradient)
        reference.checkRun(output: output, inputGradient: gradients.input ?? [], filterGradient: gradients.filter ?? [],
                           biasGradient: gradients.bias ?? [], geometry: g,
                           context: CheckContext(geometry: g, plan: "array API inout", scalar: "Float"))

        // A subset: the fields of gradients not requested become nil, the requested one keeps its storage.
        let filterStorage = Self.baseAddress(gradients.filter)
        try engine.backward(g, input: x, filter: nil, outputGradient: dO, gradients: .filter, into: &gradients,
                            workspace: workspace)
        #expect(gradients.input == nil && gradients.bias == nil)
        #expect(Self.baseAddress(gradients.filter) == filterStorage)
        expectBitIdentical(gradients.filter ?? [], viaBuffers.filterGradient, "filter gradient alone")
    }

    @Test("fresh-array forms with and without a kept workspace, and one gradient alone, give the same bits")
    func freshForms() throws {
        pinBLASThreadsOnce()
        let g = Self.geometries[0]
        var rng = SeededGenerator(seed: 0xA77A_1000)
        let p = Problem(g, rng: &rng)
        let engine = try ConvolutionEngine(workers: 1)
        let workspace = ConvWorkspace<Double>()
        let o1 = try engine.forward(g, input: p.input, filter: p.filter, bias: p.bias)
        let o2 = try engine.forward(g, input: p.input, filter: p.filter, bias: p.bias, workspace: workspace)
        expectBitIdentical(o2, o1, "forward with a kept workspace")
        #expect(workspace.capacity > 0)
        let all = try engine.backward(g, input: p.input, filter: p.filter, outputGradient: p.outputGradient,
                                      workspace: workspace)
        expectBitIdentical(try engine.inputGradient(g, filter: p.filter, outputGradient: p.outputGradient,
                                                    workspace: workspace), all.input ?? [], "inputGradient")
        expectBitIdentical(try engine.filterGradient(g, input: p.input, outputGradient: p.outputGradient),
                           all.filter ?? [], "filterGradient")
        expectBitIdentical(try engine.biasGradient(g, outputGradient: p.outputGradient), all.bias ?? [],
                           "biasGradient")
    }

    @Test("a wrong length throws before anything is written, and leaves the caller's arrays as they were")
    func wrongLengthLeavesArrays() throws {
        let g = Self.geometries[0]
        let engine = try ConvolutionEngine(workers: 1)
        let workspace = ConvWorkspace<Float>()
        var output: [Float] = [5, 6]
        var gradients = Gradients<Float>(input: [1], filter: [2], bias: [3])
        let x = [Float](repeating: 1, count: g.inputCount), f = [Float](repeating: 1, count: g.filterCount)
        let shortX = [Float](repeating: 1, count: g.inputCount - 1)
        let dO = [Float](repeating: 1, count: g.outputCount)
        #expect(throws: ConvError.bufferLength(name: "input", expected: g.inputCount, actual: g.inputCount - 1)) {
            try engine.forward(g, input: shortX, filter: f, output: &output, workspace: workspace)
        }
        #expect(output == [5, 6])
        #expect(throws: ConvError.bufferLength(name: "input", expected: g.inputCount, actual: g.inputCount - 1)) {
            try engine.backward(g, input: shortX, filter: f, outputGradient: dO, into: &gradients, workspace: workspace)
        }
        #expect(throws: ConvError.missingBuffer(name: "filter")) {
            try engine.backward(g, input: x, filter: nil, outputGradient: dO, into: &gradients, workspace: workspace)
        }
        #expect(gradients.input == [1] && gradients.filter == [2] && gradients.bias == [3])
        #expect(workspace.capacity == 0)
    }

    @Test("engine, reference, workspace and SGD throw ConvError itself (typed throws: no cast needed)")
    func typedThrows() {
        let g = Self.geometries[1]
        let short = [Double](repeating: 0, count: 1), dO = [Double](repeating: 0, count: g.outputCount)
        // Each closure is `throws(ConvError)`: if an entry point threw `any Error`, this file would not compile.
        func kind(_ body: () throws(ConvError) -> Void) -> ConvError? {
            do throws(ConvError) { try body(); return nil } catch { return error }
        }
        #expect(kind { () throws(ConvError) in _ = try ConvolutionEngine().forward(g, input: short, filter: short) }
                == .bufferLength(name: "input", expected: g.inputCount, actual: 1))
        #expect(kind { () throws(ConvError) in _ = try ReferenceConvolution().backward(g, input: short, filter: nil, outputGradient: dO,
                                                               gradients: .filter) }
                == .bufferLength(name: "input", expected: g.inputCount, actual: 1))
        #expect(kind { () throws(ConvError) in _ = try ReferenceConvolution().forwardWithMagnitudes(g, input: short, filter: short) }
                == .bufferLength(name: "input", expected: g.inputCount, actual: 1))
        #expect(kind { () throws(ConvError) in _ = try ConvWorkspace<Float>(reserving: -1) } != nil)
        #expect(kind { () throws(ConvError) in _ = try SGD(learningRate: .infinity) }
                == .invalidArgument(name: "learningRate", reason: "inf is not finite"))
        var parameters: [Float] = [1, 2]
        #expect(kind { () throws(ConvError) in try SGD(learningRate: 0.1).step(&parameters, gradient: [1]) }
                == .gradientLength(gradient: "gradient", parameters: "parameters", expected: 2, actual: 1))
    }
}
