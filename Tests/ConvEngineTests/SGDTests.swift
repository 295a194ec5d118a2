// The SGD step F -= α·dF, B -= α·dB, against values worked out by hand (all exactly representable).
import Testing
import ConvEngine

@Suite("SGD step")
struct SGDTests {
    @Test("step: parameters -= α·gradient (Double and Float)")
    func step() throws {
        // α = 0.5: [1, 2, -3, 4] - 0.5·[2, -4, 1, 0.5] = [1-1, 2+2, -3-0.5, 4-0.25] = [0, 4, -3.5, 3.75]
        let sgd = try SGD(learningRate: 0.5)
        var f: [Double] = [1, 2, -3, 4]
        try sgd.step(&f, gradient: [2, -4, 1, 0.5])
        #expect(f == [0, 4, -3.5, 3.75])
        // A second step uses the updated values: [0, 4, -3.5, 3.75] - 0.5·[2, 2, 2, 2] = [-1, 3, -4.5, 2.75]
        try sgd.step(&f, gradient: [2, 2, 2, 2])
        #expect(f == [-1, 3, -4.5, 2.75])
        // Float, α = 0.25: [1, 1, -2] - 0.25·[4, -8, 2] = [0, 3, -2.5]
        var g: [Float] = [1, 1, -2]
        try SGD(learningRate: 0.25).step(&g, gradient: [4, -8, 2])
        #expect(g == [0, 3, -2.5])
        // α = 0 changes nothing; a negative α steps uphill: [1] - (-2)·[3] = [7].
        var h: [Double] = [1.5, -2]
        try SGD(learningRate: 0).step(&h, gradient: [10, 10])
        #expect(h == [1.5, -2])
        var u: [Double] = [1]
        try SGD(learningRate: -2).step(&u, gradient: [3])
        #expect(u == [7])
    }

    @Test("update: filter -= α·dF and bias -= α·dB; a missing gradient leaves its parameters alone")
    func update() throws {
        let sgd = try SGD(learningRate: 0.5)
        var filter: [Double] = [1, -1, 2, 0]
        var bias: [Double] = [0.25, -1]
        try sgd.update(filter: &filter, bias: &bias, with: Gradients(filter: [1, 1, -2, 4], bias: [1, -2]))
        // [1-0.5, -1-0.5, 2+1, 0-2] and [0.25-0.5, -1+1]
        #expect(filter == [0.5, -1.5, 3, -2])
        #expect(bias == [-0.25, 0])
        try sgd.update(filter: &filter, bias: &bias, with: Gradients(filter: nil, bias: [2, 2]))
        #expect(filter == [0.5, -1.5, 3, -2])
        #expect(bias == [-1.25, -1])
        try sgd.update(filter: &filter, bias: &bias, with: Gradients(filter: [2, 0, 0, 0], bias: nil))
        #expect(filter == [-0.5, -1.5, 3, -2])
        #expect(bias == [-1.25, -1])
    }

    @Test("Mismatched lengths throw .gradientLength naming the gradient and its parameters, and change nothing")
    func mismatchedLengths() throws {
        let sgd = try SGD(learningRate: 0.5)
        var p: [Double] = [1, 2, 3]
        #expect(throws: ConvError.gradientLength(gradient: "gradient", parameters: "parameters", expected: 3, actual: 2)) { try sgd.step(&p, gradient: [1, 1]) }
        #expect(throws: ConvError.gradientLength(gradient: "gradient", parameters: "parameters", expected: 3, actual: 4)) { try sgd.step(&p, gradient: [1, 1, 1, 1]) }
        #expect(throws: ConvError.gradientLength(gradient: "gradient", parameters: "parameters", expected: 3, actual: 0)) { try sgd.step(&p, gradient: []) }
        #expect(p == [1, 2, 3])
        var filter: [Float] = [1, 2], bias: [Float] = [1]
        #expect(throws: ConvError.gradientLength(gradient: "gradients.bias", parameters: "bias", expected: 1, actual: 2)) {
            try sgd.update(filter: &filter, bias: &bias, with: Gradients(filter: [1, 2], bias: [1, 2]))
        }
        #expect(throws: ConvError.gradientLength(gradient: "gradients.filter", parameters: "filter", expected: 2, actual: 1)) {
            try sgd.update(filter: &filter, bias: &bias, with: Gradients(filter: [1], bias: nil))
        }
        // The message names both and says what a step needs (no "geometry": an optimiser step has none).
        let message = "\(ConvError.gradientLength(gradient: "gradients.filter", parameters: "filter", expected: 9, actual: 4))"
        #expect(message == "gradients.filter has 4 elements but filter has 9: an optimiser step needs one gradient element per parameter")
    }

    @Test("Overlapping parameter and gradient buffers throw; a non-finite learning rate is rejected")
    func invalid() throws {
        let sgd = try SGD(learningRate: 0.5)
        let memory = UnsafeMutableBufferPointer<Double>.allocate(capacity: 4)
        defer { memory.deallocate() }
        memory.initialize(repeating: 1)
        #expect(throws: ConvError.overlappingBuffers(output: "parameters", other: "gradient")) {
            try sgd.step(UnsafeMutableBufferPointer(rebasing: memory[0..<3]),
                         gradient: UnsafeBufferPointer(UnsafeMutableBufferPointer(rebasing: memory[1..<4])))
        }
        #expect(Array(memory) == [1, 1, 1, 1])
        for rate in [Double.nan, .infinity, -.infinity] {
            #expect(throws: ConvError.self, "learning rate \(rate)") { _ = try SGD(learningRate: rate) }
        }
    }
}
