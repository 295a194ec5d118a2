// The optimisers against PyTorch itself: six float32 steps of torch.optim.SGD, Adam and AdamW (CPU,
// foreach=False) from PyTorchOptimizerTrace.swift (made by Golden/make_optimizer_trace.py).
//
// PyTorch's vectorised kernels fuse some multiply-adds and its float32 sqrt is not always correctly
// rounded, so the runs are not bit-identical; both are within the reference's rounding bound of the exact
// rule, so they must be within twice that bound of each other.
import Testing
import ConvEngine

@Suite("Optimisers against a PyTorch trace")
struct OptimizerTraceTests {
    /// The rule a trace case names, with PyTorch's defaults for what it leaves out.
    func rule(_ c: PyTorchOptimizerTrace.Case) -> ReferenceOptimizer.Rule {
        let h = c.hyperparameters
        switch c.optimizer {
        case "SGD":
            return .sgd(learningRate: h["lr"]!, momentum: h["momentum"] ?? 0, dampening: h["dampening"] ?? 0,
                        nesterov: h["nesterov"] == 1, weightDecay: h["weight_decay"] ?? 0)
        default:
            let decoupled = c.optimizer == "AdamW"
            return .adam(learningRate: h["lr"] ?? 1e-3, beta1: h["betas"] ?? 0.9, beta2: h["betas1"] ?? 0.999,
                         epsilon: h["eps"] ?? 1e-8, weightDecay: h["weight_decay"] ?? (decoupled ? 1e-2 : 0),
                         amsgrad: h["amsgrad"] == 1, decoupled: decoupled)
        }
    }

    @Test("The trace holds the nine cases, six steps each")
    func traceShape() {
        #expect(PyTorchOptimizerTrace.cases.count == 9)
        for c in PyTorchOptimizerTrace.cases {
            #expect(c.gradients.count == 6 && c.values.count == 6, "\(c.name)")
            #expect(c.initial.count == 6 && c.gradients.allSatisfy { $0.count == 6 } && c.values.allSatisfy { $0.count == 6 })
        }
    }

    @Test("Each step agrees with PyTorch's, and the written-out rule with both", arguments: PyTorchOptimizerTrace.cases)
    func step(_ c: PyTorchOptimizerTrace.Case) throws {
        let rule = rule(c)
        let optimizer = try rule.optimizer()
        var p = try Parameter<Float>(name: "w", shape: [6], value: c.initial)
        var reference = ReferenceOptimizer(rule, initial: widened(c.initial))
        for k in 0..<c.gradients.count {
            p.gradient = c.gradients[k]
            try optimizer.step(&p)
            reference.step(gradient: widened(c.gradients[k]))
            let bound = reference.bound(unitRoundoff: unitRoundoff(Float.self))
            let torch = widened(c.values[k])
            let missTorch = firstOutOfBound(c.values[k], reference.value, bound)
            #expect(missTorch == nil, "\(c.name) step \(k + 1), PyTorch vs the rule: \(missTorch ?? "")")
            let miss = firstOutOfBound(p.value, torch, bound.map { 2 * $0 })
            #expect(miss == nil, "\(c.name) step \(k + 1), ConvEngine vs PyTorch: \(miss ?? "")")
        }
    }
}
