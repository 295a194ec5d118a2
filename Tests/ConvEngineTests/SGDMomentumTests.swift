// SGD's PyTorch rule on Parameters: momentum (the buffer starts as the first gradient, undampened),
// dampening, Nesterov and weight decay, worked by hand on dyadic values (every intermediate exact in Float
// and Double, so the comparisons are exact) and against the rule written out in Double over several steps.
import Testing
import ConvEngine

@Suite("SGD with momentum, Nesterov and weight decay (PyTorch's rule)")
struct SGDMomentumTests {
    func parameter<T: ConvScalar>(_ values: [T]) throws -> Parameter<T> {
        try Parameter(name: "w", shape: [values.count], value: values)
    }

    /// Steps `parameter` once per gradient and returns its values after each step.
    func trajectory<T: ConvScalar>(_ sgd: SGD, _ start: [T], _ gradients: [[T]]) throws -> [[T]] {
        var p = try parameter(start)
        var out: [[T]] = []
        for g in gradients {
            p.gradient = g
            try sgd.step(&p)
            out.append(p.value)
        }
        return out
    }

    @Test("Momentum: b₁ = g₁ with no dampening, then b = μ·b + (1 − τ)·g; θ -= γ·b (Float and Double)")
    func momentumFirstStep() throws {
        // γ = 0.5, μ = 0.5, τ = 0.5, θ₀ = [1, -2]:
        //   g₁ = [2, 4]:  b = [2, 4] (the gradient itself),         θ = [1 - 1, -2 - 2]  = [0, -4]
        //   g₂ = [-2, 0]: b = 0.5·[2, 4] + 0.5·[-2, 0] = [0, 2],     θ = [0 - 0, -4 - 1]  = [0, -5]
        //   g₃ = [4, 2]:  b = 0.5·[0, 2] + 0.5·[4, 2] = [2, 2],      θ = [0 - 1, -5 - 1]  = [-1, -6]
        // A dampened first step (b₁ = 0.5·g₁) would give θ₁ = [0.5, -3].
        let sgd = try SGD(learningRate: 0.5, momentum: 0.5, dampening: 0.5)
        let expected: [[Double]] = [[0, -4], [0, -5], [-1, -6]]
        #expect(try trajectory(sgd, [1, -2] as [Double], [[2, 4], [-2, 0], [4, 2]]) == expected)
        #expect(try trajectory(sgd, [1, -2] as [Float], [[2, 4], [-2, 0], [4, 2]]) == expected.map { $0.map(Float.init) })

        var p = try parameter([1, -2] as [Double])
        p.gradient = [2, 4]
        try sgd.step(&p)
        #expect(p.optimizerState.momentumBuffer == [2, 4])
        #expect(p.optimizerState.stepCount == 1)
        #expect(p.gradient == [2, 4], "a step reads the gradient and leaves it for zeroGradient()")
    }

    @Test("Nesterov: θ -= γ·(g + μ·b)")
    func nesterov() throws {
        // γ = 0.5, μ = 0.5, θ₀ = [1, -2]:
        //   g₁ = [2, 4]:  b = [2, 4];                          g + μb = [3, 6];       θ = [-0.5, -5]
        //   g₂ = [-2, 0]: b = 0.5·[2, 4] + [-2, 0] = [-1, 2];  g + μb = [-2.5, 1];    θ = [0.75, -5.5]
        let sgd = try SGD(learningRate: 0.5, momentum: 0.5, nesterov: true)
        let expected: [[Float]] = [[-0.5, -5], [0.75, -5.5]]
        #expect(try trajectory(sgd, [1, -2] as [Float], [[2, 4], [-2, 0]]) == expected)
    }

    @Test("Weight decay adds λ·θ to the gradient, before the momentum buffer is made from it")
    func weightDecay() throws {
        // Plain, γ = 0.5, λ = 0.25: θ₀ = [4, -2], g = [1, 1]: g + λθ = [2, 0.5]; θ = [4 - 1, -2 - 0.25] = [3, -2.25].
        let plain = try SGD(learningRate: 0.5, weightDecay: 0.25)
        #expect(try trajectory(plain, [4, -2] as [Double], [[1, 1]]) == [[3, -2.25]])
        // The stateless array form applies it too.
        var bare: [Float] = [4, -2]
        try plain.step(&bare, gradient: [1, 1])
        #expect(bare == [3, -2.25])

        // With momentum, γ = 1, μ = 0.5, λ = 0.5, θ₀ = [2]:
        //   g₁ = 1: g + λθ = 2, b = 2 (the decayed gradient), θ = 0
        //   g₂ = 1: g + λθ = 1, b = 0.5·2 + 1 = 2,            θ = -2
        let sgd = try SGD(learningRate: 1, momentum: 0.5, weightDecay: 0.5)
        var p = try parameter([2] as [Double])
        p.gradient = [1]
        try sgd.step(&p)
        #expect(p.value == [0])
        #expect(p.optimizerState.momentumBuffer == [2])
        try sgd.step(&p)
        #expect(p.value == [-2])
        #expect(p.optimizerState.momentumBuffer == [2])
    }

    @Test("SGD(learningRate:) is plain SGD and the full initializer's defaults are PyTorch's (0, 0, false, 0)")
    func defaults() throws {
        let plain = try SGD(learningRate: 0.25)
        #expect(plain.momentum == 0 && plain.dampening == 0 && !plain.nesterov && plain.weightDecay == 0)
        let full = try SGD(learningRate: 0.25, momentum: 0)
        #expect(full.momentum == 0 && full.dampening == 0 && !full.nesterov && full.weightDecay == 0)
        // θ -= γ·g on a Parameter, no buffer kept.
        var p = try parameter([1, -1] as [Float])
        p.gradient = [4, 8]
        try plain.step(&p)
        #expect(p.value == [0, -3])
        #expect(p.optimizerState.momentumBuffer == nil)
    }

    static let rules: [ReferenceOptimizer.Rule] = [
        .sgd(learningRate: 0.01, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0),
        .sgd(learningRate: 0.01, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0),
        .sgd(learningRate: 0.03, momentum: 0.7, dampening: 0.1, nesterov: false, weightDecay: 0.01),
        .sgd(learningRate: 0.02, momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 5e-4),
    ]

    @Test("Eight steps on five parameters follow the rule written out in Double (Float and Double runs)",
          arguments: SGDMomentumTests.rules)
    func againstFormula(_ rule: ReferenceOptimizer.Rule) throws {
        try checkAgainstReference(rule, seed: 1601, Float.self)
        try checkAgainstReference(rule, seed: 1601, Double.self)
    }
}
