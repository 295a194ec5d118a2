// PyTorch's optimiser rules written out in Double from the algorithm boxes of the torch.optim documentation
// (SGD, Adam, AdamW), independently of the library's kernels, with a magnitude track for error bounds.
//
// Adam's AMSGrad follows PyTorch's code rather than its documentation box: the code keeps the maximum of the
// raw second moment v and divides it by the current bias correction; the box takes the maximum of the
// corrected v̂. The optimisers under test follow the code, which is what PyTorch runs.
import Foundation
import Testing
import ConvEngine

struct ReferenceOptimizer {
    enum Rule {
        case sgd(learningRate: Double, momentum: Double, dampening: Double, nesterov: Bool, weightDecay: Double)
        case adam(learningRate: Double, beta1: Double, beta2: Double, epsilon: Double, weightDecay: Double,
                  amsgrad: Bool, decoupled: Bool)
    }

    let rule: Rule
    private(set) var value: [Double]
    /// A bound on the sum of |terms| each element of `value` has accumulated: with `u` the unit roundoff, a
    /// computation in lower precision stays within `c·steps·u·magnitude` of `value` (see `bound`).
    private(set) var magnitude: [Double]
    private(set) var steps = 0
    private var buffer: [Double]?, bufferMagnitude: [Double] = []
    private var m: [Double], v: [Double], vMax: [Double], mMagnitude: [Double]

    init(_ rule: Rule, initial: [Double]) {
        self.rule = rule
        value = initial
        magnitude = initial.map(abs)
        m = Array(repeating: 0, count: initial.count)
        v = m; vMax = m; mMagnitude = m
    }

    mutating func step(gradient: [Double]) {
        steps += 1
        switch rule {
        case let .sgd(lr, mu, tau, nesterov, lambda):
            var g = gradient, gMag = gradient.map(abs)
            if lambda != 0 {
                for i in g.indices { g[i] += lambda * value[i]; gMag[i] += lambda * magnitude[i] }
            }
            if mu != 0 {
                if var b = buffer {
                    for i in b.indices {
                        b[i] = mu * b[i] + (1 - tau) * g[i]
                        bufferMagnitude[i] = mu * bufferMagnitude[i] + abs(1 - tau) * gMag[i]
                    }
                    buffer = b
                } else {
                    buffer = g           // t = 1: b₁ = g₁
                    bufferMagnitude = gMag
                }
                let b = buffer!
                for i in g.indices {
                    if nesterov { g[i] += mu * b[i]; gMag[i] += mu * bufferMagnitude[i] } else { g[i] = b[i]; gMag[i] = bufferMagnitude[i] }
                }
            }
            for i in value.indices { value[i] -= lr * g[i]; magnitude[i] += lr * gMag[i] }
        case let .adam(lr, beta1, beta2, eps, lambda, amsgrad, decoupled):
            var g = gradient, gMag = gradient.map(abs)
            if lambda != 0 {
                if decoupled {
                    for i in value.indices { value[i] *= 1 - lr * lambda; magnitude[i] *= abs(1 - lr * lambda) }
                } else {
                    for i in g.indices { g[i] += lambda * value[i]; gMag[i] += lambda * magnitude[i] }
                }
            }
            let t = Double(steps)
            let correction1 = 1 - pow(beta1, t), correction2 = 1 - pow(beta2, t)
            for i in value.indices {
                m[i] = beta1 * m[i] + (1 - beta1) * g[i]
                mMagnitude[i] = beta1 * mMagnitude[i] + (1 - beta1) * gMag[i]
                v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
                vMax[i] = max(vMax[i], v[i])
                let second = (amsgrad ? vMax[i] : v[i]) / correction2
                let denominator = second.squareRoot() + eps
                value[i] -= lr * (m[i] / correction1) / denominator
                magnitude[i] += lr * (mMagnitude[i] / correction1) / denominator
            }
        }
    }

    /// The distance within which a run in a precision of unit roundoff `u` must stay of `value`, element by
    /// element: `c·steps·u·magnitude`. Each rounding of a step (about ten: the rounded hyperparameters and
    /// each product and sum) adds at most `u` times a quantity the magnitude track bounds, and the errors of
    /// earlier steps carry over with factors at most 1 (momentum, β, 1 − γλ); `c = 16` covers that count
    /// with room for Adam's division by a denominator that carries its own relative error of a few `u`.
    /// (Measured: ConvEngine and PyTorch float32 runs stay within a tenth of twice this bound.)
    func bound(unitRoundoff u: Double, c: Double = 16) -> [Double] {
        magnitude.map { c * Double(max(steps, 1)) * u * $0 }
    }
}

extension ReferenceOptimizer.Rule {
    /// The optimiser under test for the same rule.
    func optimizer() throws -> any Optimizer {
        switch self {
        case let .sgd(lr, mu, tau, nesterov, lambda):
            return try SGD(learningRate: lr, momentum: mu, dampening: tau, nesterov: nesterov, weightDecay: lambda)
        case let .adam(lr, beta1, beta2, eps, lambda, amsgrad, decoupled):
            return decoupled
                ? try AdamW(learningRate: lr, betas: (beta1, beta2), epsilon: eps, weightDecay: lambda, amsgrad: amsgrad)
                : try Adam(learningRate: lr, betas: (beta1, beta2), epsilon: eps, weightDecay: lambda, amsgrad: amsgrad)
        }
    }
}

/// The first element where `actual` is farther than `bound` from `expected`, as a message, or nil.
func firstOutOfBound<T: ConvScalar>(_ actual: [T], _ expected: [Double], _ bound: [Double]) -> String? {
    guard actual.count == expected.count else { return "\(actual.count) values, expected \(expected.count)" }
    for i in actual.indices where !(abs(Double(actual[i]) - expected[i]) <= bound[i]) {
        return "element \(i): \(actual[i]) vs \(expected[i]) (bound \(bound[i]))"
    }
    return nil
}

/// The unit roundoff of `T` (2⁻²⁴ for Float, 2⁻⁵³ for Double).
func unitRoundoff<T: ConvScalar>(_: T.Type) -> Double { Double(T.ulpOfOne) / 2 }

/// Steps a five-element `T` parameter eight times with `rule`'s optimiser (start values and gradients drawn
/// from `seed`) and checks every step against the reference within its bound.
func checkAgainstReference<T: ConvScalar>(_ rule: ReferenceOptimizer.Rule, seed: UInt64, _: T.Type) throws {
    var rng = SeededGenerator(seed: seed)
    let start = rng.array(5, in: -2...2)
    let gradients = (0..<8).map { _ in rng.array(5, in: -3...3) }
    let optimizer = try rule.optimizer()
    // The reference starts from the values rounded to T, so only the steps' rounding separates the two.
    var reference = ReferenceOptimizer(rule, initial: roundedThrough(start, T.self))
    var p = try Parameter(name: "w", shape: [5], value: converted(start, to: T.self))
    for (k, g) in gradients.enumerated() {
        p.gradient = converted(g, to: T.self)
        try optimizer.step(&p)
        reference.step(gradient: widened(p.gradient))
        let miss = firstOutOfBound(p.value, reference.value, reference.bound(unitRoundoff: unitRoundoff(T.self)))
        #expect(miss == nil, "\(rule) \(T.self) step \(k + 1): \(miss ?? "")")
    }
}
