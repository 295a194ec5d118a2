// Adam and AdamW (PyTorch's rule) on Parameters: the first step worked by hand (exact with dyadic
// hyperparameters), the defaults, zero gradients, and several steps against the rule written out in Double.
import Testing
import ConvEngine

@Suite("Adam and AdamW (PyTorch's rule)")
struct AdamTests {
    @Test("First Adam step: m̂ = g and v̂ = g², so θ₁ = θ₀ − γ·sign(g) when ε = 0 (both lerp branches)")
    func firstStep() throws {
        // β = (0.5, 0.75): m = 0.5g, v = 0.25g², 1 − β₁ = 0.5, 1 − β₂ = 0.25, step size γ/0.5 = 2γ,
        // √v / √0.25 = |g|, so θ₁ = θ₀ − 2γ·0.5g/|g| = θ₀ − γ·sign(g): exact for γ = 0.5 and g = ±2ᵏ.
        // β₁ = 0.25 takes ATen lerp's other branch (weight 0.75 ≥ 0.5): m = g − g·0.25 = 0.75g, step size
        // γ/0.75, still θ₀ − γ·sign(g) (0.75g/0.75 may round: compared within 1 ulp below).
        for beta1 in [0.5, 0.25] {
            let adam = try Adam(learningRate: 0.5, betas: (beta1, 0.75), epsilon: 0)
            var p = try Parameter<Float>(name: "w", shape: [4], value: [1, -2, 0.25, 3])
            p.gradient = [2, -4, 0.5, -1]
            try adam.step(&p)
            let expected: [Float] = [0.5, -1.5, -0.25, 3.5]
            for i in 0..<4 {
                #expect(abs(p.value[i] - expected[i]) <= expected[i].ulp, "β₁ \(beta1) element \(i): \(p.value[i])")
            }
            #expect(p.optimizerState.stepCount == 1)
            #expect(p.optimizerState.firstMoment == [2, -4, 0.5, -1].map { Float(1 - beta1) * $0 })
            #expect(p.optimizerState.secondMoment == [1, 4, 0.0625, 0.25])
            #expect(p.optimizerState.maxSecondMoment == nil)
        }
    }

    @Test("First AdamW step shrinks θ by 1 − γλ first; Adam's λ goes into the gradient instead")
    func decoupledDecay() throws {
        // AdamW γ = 0.5, λ = 0.5: θ ← 0.75θ, then − γ·sign(g) as above: [0.75 − 0.5, −1.5 + 0.5] = [0.25, −1].
        let adamW = try AdamW(learningRate: 0.5, betas: (0.5, 0.75), epsilon: 0, weightDecay: 0.5)
        var p = try Parameter<Double>(name: "w", shape: [2], value: [1, -2])
        p.gradient = [2, -4]
        try adamW.step(&p)
        #expect(p.value == [0.25, -1])
        // Adam with λ = 0.5: g + λθ = [2.5, −5]: still the sign, so θ₁ = [0.5, −1.5], but the moments hold the
        // decayed gradient: m = 0.5·[2.5, −5].
        let adam = try Adam(learningRate: 0.5, betas: (0.5, 0.75), epsilon: 0, weightDecay: 0.5)
        var q = try Parameter<Double>(name: "w", shape: [2], value: [1, -2])
        q.gradient = [2, -4]
        try adam.step(&q)
        #expect(q.value == [0.5, -1.5])
        #expect(q.optimizerState.firstMoment == [1.25, -2.5])
    }

    @Test("Defaults are PyTorch's: Adam (1e-3, (0.9, 0.999), 1e-8, 0, false), AdamW weight decay 1e-2")
    func defaults() throws {
        let adam = try Adam()
        #expect(adam.learningRate == 1e-3 && adam.betas == (0.9, 0.999) && adam.epsilon == 1e-8)
        #expect(adam.weightDecay == 0 && !adam.amsgrad && !adam.decoupledWeightDecay)
        let adamW = try AdamW()
        #expect(adamW.adam.learningRate == 1e-3 && adamW.adam.betas == (0.9, 0.999) && adamW.adam.epsilon == 1e-8)
        #expect(adamW.adam.weightDecay == 1e-2 && !adamW.adam.amsgrad && adamW.adam.decoupledWeightDecay)
    }

    @Test("A zero gradient leaves θ unchanged while ε > 0 (m = v = 0: the update is 0/ε)")
    func zeroGradient() throws {
        var p = try Parameter<Float>(name: "w", shape: [3], value: [1, -2, 3])
        for _ in 0..<3 { try Adam().step(&p) }
        #expect(p.value == [1, -2, 3])
        #expect(p.optimizerState.stepCount == 3)
    }

    @Test("AMSGrad divides by the running maximum of v: after a large gradient, a small one moves θ less")
    func amsgrad() throws {
        // g₁ = 4 then g₂ = 0.01, β = (0.9, 0.999), ε = 0, γ = 1. v₁ = 0.001·16 and v₂ = 0.999·v₁ + 0.001·10⁻⁴ < v₁,
        // so AMSGrad's v̂₂ = v₁ while plain Adam uses v₂; m is the same, so the second steps differ by the factor
        // √(v₂ / v₁). (1 − 0.999 is 0.001 only to a few ulps in Double: relative tolerances of 1e-12.)
        let plain = try Adam(learningRate: 1, epsilon: 0)
        let ams = try Adam(learningRate: 1, epsilon: 0, amsgrad: true)
        var a = try Parameter<Double>(name: "w", shape: [1], value: [0])
        var b = try Parameter<Double>(name: "w", shape: [1], value: [0])
        a.gradient = [4]; b.gradient = [4]
        try plain.step(&a); try ams.step(&b)
        #expect(a.value == b.value, "max(0, v₁) = v₁: the first steps agree")
        let first = a.value[0]
        a.gradient = [0.01]; b.gradient = [0.01]
        try plain.step(&a); try ams.step(&b)
        let v1 = 0.001 * 16.0, v2 = 0.999 * v1 + 0.001 * 0.0001
        #expect(abs(b.optimizerState.maxSecondMoment![0] / v1 - 1) <= 1e-12)
        #expect(abs(b.optimizerState.secondMoment![0] / v2 - 1) <= 1e-12)
        #expect(abs((b.value[0] - first) / (a.value[0] - first) - (v2 / v1).squareRoot()) <= 1e-12)
    }

    static let rules: [ReferenceOptimizer.Rule] = [
        .adam(learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, amsgrad: false, decoupled: false),
        .adam(learningRate: 1e-2, beta1: 0.8, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.1, amsgrad: true, decoupled: false),
        .adam(learningRate: 3e-2, beta1: 0.3, beta2: 0.9, epsilon: 1e-8, weightDecay: 0, amsgrad: false, decoupled: false),
        .adam(learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 1e-2, amsgrad: false, decoupled: true),
        .adam(learningRate: 1e-2, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1, amsgrad: true, decoupled: true),
    ]

    @Test("Eight steps on five parameters follow the rule written out in Double (Float and Double runs)",
          arguments: AdamTests.rules)
    func againstFormula(_ rule: ReferenceOptimizer.Rule) throws {
        try checkAgainstReference(rule, seed: 1602, Float.self)
        try checkAgainstReference(rule, seed: 1602, Double.self)
    }
}
