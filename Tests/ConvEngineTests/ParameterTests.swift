// Parameter, OptimizerState and ParameterContainer: construction, gradient clearing, state kept per
// parameter and reused in place, stepping a container, and the typed errors of bad shapes, lengths,
// hyperparameters and mixed-up states.
import Testing
import ConvEngine

/// A container of two parameters, as a layer would be.
final class TwoParameters: ParameterContainer {
    var weight: Parameter<Float>
    var bias: Parameter<Float>
    init(weight: [Float], bias: [Float]) throws {
        self.weight = try Parameter(name: "weight", shape: [weight.count], value: weight)
        self.bias = try Parameter(name: "bias", shape: [bias.count], value: bias)
    }
    var parameterNames: [String] { ["weight", "bias"] }
    func updateParameters(_ body: (inout Parameter<Float>) throws(ConvError) -> Void) throws(ConvError) {
        try body(&weight)
        try body(&bias)
    }
}

@Suite("Parameters and optimiser state")
struct ParameterTests {
    @Test("A parameter has its shape's count, a zero gradient and an empty state; zeroGradient() clears in place")
    func construction() throws {
        var p = try Parameter<Double>(name: "weight", shape: [2, 3, 1, 1], value: [1, 2, 3, 4, 5, 6])
        #expect(p.name == "weight" && p.shape == [2, 3, 1, 1] && p.count == 6)
        #expect(p.gradient == [0, 0, 0, 0, 0, 0])
        #expect(p.optimizerState.isEmpty && p.optimizerState.stepCount == 0)
        let scalar = try Parameter<Float>(name: "scale", shape: [], value: [2])
        #expect(scalar.count == 1)
        let empty = try Parameter<Float>(name: "none", shape: [0, 3], value: [])
        #expect(empty.count == 0 && empty.gradient.isEmpty)

        p.gradient = [1, -1, 2, -2, 3, -3]
        let storage = p.gradient.withUnsafeBufferPointer { $0.baseAddress }
        p.zeroGradient()
        #expect(p.gradient == [0, 0, 0, 0, 0, 0])
        #expect(p.gradient.withUnsafeBufferPointer { $0.baseAddress } == storage, "cleared in place")
        p.gradient = [1]
        p.zeroGradient()
        #expect(p.gradient == [0, 0, 0, 0, 0, 0], "a gradient of the wrong length is replaced by count zeros")
    }

    @Test("Bad shapes and value counts throw typed errors naming the parameter")
    func constructionErrors() {
        #expect(throws: ConvError.invalidArgument(name: "w.value", reason: "shape [2, 3] holds 6 elements, got 5 values")) {
            _ = try Parameter<Float>(name: "w", shape: [2, 3], value: [1, 2, 3, 4, 5])
        }
        #expect(throws: ConvError.invalidArgument(name: "w.shape", reason: "dimension -1 of [2, -1] is negative")) {
            _ = try Parameter<Float>(name: "w", shape: [2, -1], value: [])
        }
        #expect(throws: ConvError.sizeOverflow(quantity: "element count of w.shape [4611686018427387904, 4]")) {
            _ = try Parameter<Float>(name: "w", shape: [1 << 62, 4], value: [])
        }
    }

    @Test("State buffers are created on the first step and reused in place after; the value is updated in place")
    func buffersReused() throws {
        func address<T>(_ a: [T]?) -> UnsafePointer<T>? { a?.withUnsafeBufferPointer { $0.baseAddress } }
        var p = try Parameter<Float>(name: "w", shape: [64], value: Array(repeating: 1, count: 64))
        p.gradient = Array(repeating: 0.5, count: 64)
        let sgd = try SGD(learningRate: 0.1, momentum: 0.9)
        let value = address(p.value)
        try sgd.step(&p)
        let buffer = address(p.optimizerState.momentumBuffer)
        #expect(buffer != nil)
        for _ in 0..<3 { try sgd.step(&p) }
        #expect(address(p.optimizerState.momentumBuffer) == buffer)
        #expect(address(p.value) == value)
        #expect(p.optimizerState.stepCount == 4)

        var q = try Parameter<Double>(name: "w", shape: [64], value: Array(repeating: 1, count: 64))
        q.gradient = Array(repeating: 0.5, count: 64)
        let adam = try Adam(amsgrad: true)
        try adam.step(&q)
        let moments = [address(q.optimizerState.firstMoment), address(q.optimizerState.secondMoment),
                       address(q.optimizerState.maxSecondMoment)]
        for _ in 0..<3 { try adam.step(&q) }
        #expect([address(q.optimizerState.firstMoment), address(q.optimizerState.secondMoment),
                 address(q.optimizerState.maxSecondMoment)] == moments)
    }

    @Test("Each parameter keeps its own state: interleaved steps give what each gets stepped alone")
    func stateIndependence() throws {
        let optimizers: [any Optimizer] = [try SGD(learningRate: 0.1, momentum: 0.9, nesterov: true), try Adam(), try AdamW()]
        for optimizer in optimizers {
            var a = try Parameter<Float>(name: "a", shape: [3], value: [1, 2, 3])
            var b = try Parameter<Float>(name: "b", shape: [3], value: [-1, 0.5, 4])
            var aAlone = a, bAlone = b
            let gradientsA: [[Float]] = [[1, -1, 0.5], [0.25, 2, -1], [3, 0, 1]]
            let gradientsB: [[Float]] = [[-2, 1, 1], [0.5, 0.5, 0.5]]
            // a three times, b twice, interleaved a b a b a.
            for k in 0..<3 {
                a.gradient = gradientsA[k]; try optimizer.step(&a)
                if k < 2 { b.gradient = gradientsB[k]; try optimizer.step(&b) }
            }
            for g in gradientsA { aAlone.gradient = g; try optimizer.step(&aAlone) }
            for g in gradientsB { bAlone.gradient = g; try optimizer.step(&bAlone) }
            #expect(a.value == aAlone.value, "\(optimizer)")
            #expect(b.value == bAlone.value, "\(optimizer)")
            #expect(a.optimizerState.stepCount == 3 && b.optimizerState.stepCount == 2)
        }
    }

    @Test("Stepping a container steps every parameter in order; a failing one stops there")
    func container() throws {
        let layer = try TwoParameters(weight: [1, 2], bias: [3])
        layer.weight.gradient = [2, 4]
        layer.bias.gradient = [-2]
        let sgd = try SGD(learningRate: 0.5)
        try sgd.step(layer)
        #expect(layer.weight.value == [0, 0])
        #expect(layer.bias.value == [4])
        #expect(layer.parameterNames == ["weight", "bias"])

        layer.bias.gradient = [1, 1]
        #expect(throws: ConvError.gradientLength(gradient: "bias.gradient", parameters: "bias.value", expected: 1, actual: 2)) {
            try sgd.step(layer)
        }
        #expect(layer.weight.value == [-1, -2], "the weight, before the bias, was stepped")
        #expect(layer.bias.value == [4])
    }

    @Test("A step with a gradient or value of the wrong length, or another optimiser's state, throws and changes nothing")
    func stepErrors() throws {
        var p = try Parameter<Float>(name: "w", shape: [3], value: [1, 2, 3])
        p.gradient = [1, 1]
        for optimizer in [try SGD(learningRate: 0.1, momentum: 0.9), try Adam(), try AdamW()] as [any Optimizer] {
            #expect(throws: ConvError.gradientLength(gradient: "w.gradient", parameters: "w.value", expected: 3, actual: 2)) {
                try optimizer.step(&p)
            }
        }
        #expect(p.value == [1, 2, 3] && p.optimizerState.isEmpty)

        p.gradient = [1, 1, 1]
        p.value = [1, 2]
        #expect(throws: ConvError.invalidArgument(name: "w.value", reason: "has 2 elements, shape [3] holds 3")) {
            try SGD(learningRate: 0.1).step(&p)
        }

        // SGD's state cannot feed Adam, and the other way round.
        p.value = [1, 2, 3]
        try SGD(learningRate: 0.1, momentum: 0.9).step(&p)
        let afterSGD = p.value
        #expect(throws: ConvError.self) { try Adam().step(&p) }
        #expect(p.value == afterSGD && p.optimizerState.stepCount == 1)
        do {
            try Adam().step(&p)
        } catch {
            #expect("\(error)".contains("holds SGD state"), "\(error)")
        }
        p.optimizerState = OptimizerState()
        try Adam().step(&p)
        #expect(throws: ConvError.self) { try SGD(learningRate: 0.1).step(&p) }

        // A state taken from a parameter of another size.
        var small = try Parameter<Float>(name: "s", shape: [2], value: [1, 2])
        small.optimizerState = p.optimizerState
        small.gradient = [1, 1]
        #expect(throws: ConvError.invalidArgument(name: "s.optimizerState", reason: "firstMoment has 3 elements, the parameter 2")) {
            try Adam().step(&small)
        }
    }

    @Test("The stateless SGD forms cannot keep momentum: they throw instead of silently dropping it")
    func statelessMomentum() throws {
        let sgd = try SGD(learningRate: 0.1, momentum: 0.9)
        var values: [Float] = [1, 2]
        #expect(throws: ConvError.self) { try sgd.step(&values, gradient: [1, 1]) }
        var filter: [Float] = [1], bias: [Float] = [1]
        #expect(throws: ConvError.self) { try sgd.update(filter: &filter, bias: &bias, with: Gradients(filter: [1], bias: [1])) }
        #expect(values == [1, 2] && filter == [1] && bias == [1])
    }

    @Test("Hyperparameters out of PyTorch's ranges throw invalidArgument naming them")
    func hyperparameterErrors() {
        func name(_ body: () throws(ConvError) -> Void) -> String? {
            do { try body(); return nil } catch {
                if case let .invalidArgument(name, _) = error { return name }
                return "\(error)"
            }
        }
        // SGD (PyTorch: lr < 0, momentum < 0, weight_decay < 0, nesterov without momentum or with dampening).
        #expect(name { () throws(ConvError) in _ = try SGD(learningRate: -0.1, momentum: 0.9) } == "learningRate")
        #expect(name { () throws(ConvError) in _ = try SGD(learningRate: 0.1, momentum: -0.5) } == "momentum")
        #expect(name { () throws(ConvError) in _ = try SGD(learningRate: 0.1, weightDecay: -1e-4) } == "weightDecay")
        #expect(name { () throws(ConvError) in _ = try SGD(learningRate: 0.1, nesterov: true) } == "nesterov")
        #expect(name { () throws(ConvError) in _ = try SGD(learningRate: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true) } == "nesterov")
        #expect(name { () throws(ConvError) in _ = try SGD(learningRate: 0.1, momentum: .nan) } == "momentum")
        #expect(name { () throws(ConvError) in _ = try SGD(learningRate: 0.1, dampening: .infinity) } == "dampening")
        #expect(name { () throws(ConvError) in _ = try SGD(learningRate: 0.1, momentum: 0.9, dampening: -0.5) } == nil, "PyTorch does not restrict dampening")
        #expect(name { () throws(ConvError) in _ = try SGD(learningRate: 0, momentum: 0.9, nesterov: true) } == nil)
        // Adam and AdamW (PyTorch: 0 ≤ lr, 0 ≤ eps, 0 ≤ β < 1, 0 ≤ weight_decay).
        for decoupled in [false, true] {
            func adam(lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8,
                      wd: Double = 0) throws(ConvError) {
                if decoupled { _ = try AdamW(learningRate: lr, betas: betas, epsilon: eps, weightDecay: wd) }
                else { _ = try Adam(learningRate: lr, betas: betas, epsilon: eps, weightDecay: wd) }
            }
            #expect(name { () throws(ConvError) in try adam(lr: -1e-3) } == "learningRate")
            #expect(name { () throws(ConvError) in try adam(eps: -1e-8) } == "epsilon")
            #expect(name { () throws(ConvError) in try adam(betas: (1, 0.999)) } == "betas.0")
            #expect(name { () throws(ConvError) in try adam(betas: (-0.1, 0.999)) } == "betas.0")
            #expect(name { () throws(ConvError) in try adam(betas: (0.9, 1)) } == "betas.1")
            #expect(name { () throws(ConvError) in try adam(betas: (0.9, .nan)) } == "betas.1")
            #expect(name { () throws(ConvError) in try adam(wd: -0.01) } == "weightDecay")
            #expect(name { () throws(ConvError) in try adam(lr: .infinity) } == "learningRate")
            #expect(name { () throws(ConvError) in try adam(lr: 0, betas: (0, 0), eps: 0, wd: 0) } == nil)
        }
        let message = "\(ConvError.invalidArgument(name: "betas.0", reason: "must be in [0.0, 1.0), got 1.0"))"
        #expect(name { () throws(ConvError) in _ = try Adam(betas: (1, 0.999)) } == "betas.0")
        #expect(throws: ConvError.invalidArgument(name: "betas.0", reason: "must be in [0.0, 1.0), got 1.0")) {
            _ = try Adam(betas: (1, 0.999))
        }
        #expect(message == "invalid betas.0: must be in [0.0, 1.0), got 1.0")
    }
}
