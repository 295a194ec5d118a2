/// The per-step `Double` scalars PyTorch computes in Python before its tensor ops: `γ / (1 − β₁ᵗ)` and
/// `(1 − β₂ᵗ) ** 0.5`.
internal struct AdamStepScalars {
    let stepSize: Double
    let biasCorrection2Root: Double
}

/// ``Adam``'s update on arrays of equal length (`vMax` used only with amsgrad), dispatched to a concrete
/// element type so that the loop is specialised inside the library even when the caller is generic.
internal func applyAdam<T: ConvScalar>(_ adam: Adam, _ scalars: AdamStepScalars, to value: inout [T], gradient: [T],
                                       m: inout [T], v: inout [T], vMax: inout [T]?) {
    guard !value.isEmpty else { return }
    func run(_ p: UnsafeMutableBufferPointer<T>, _ g: UnsafeBufferPointer<T>, _ m: UnsafeMutableBufferPointer<T>,
             _ v: UnsafeMutableBufferPointer<T>, _ vMax: UnsafeMutableBufferPointer<T>?) {
        switch ScalarKind.of(T.self) {
        case .float:
            AdamKernel<Float>(adam, scalars).run(retype(p, Float.self), retype(g, Float.self), retype(m, Float.self),
                                                 retype(v, Float.self), retype(vMax, Float.self))
        case .double:
            AdamKernel<Double>(adam, scalars).run(retype(p, Double.self), retype(g, Double.self),
                                                  retype(m, Double.self), retype(v, Double.self),
                                                  retype(vMax, Double.self))
        }
    }
    value.withUnsafeMutableBufferPointer { p in
        gradient.withUnsafeBufferPointer { g in
            m.withUnsafeMutableBufferPointer { m in
                v.withUnsafeMutableBufferPointer { v in
                    if adam.amsgrad, vMax != nil {
                        // Safe: checked non-nil just above; `!` mutates the array in place.
                        vMax!.withUnsafeMutableBufferPointer { vm in run(p, g, m, v, vm) }
                    } else {
                        run(p, g, m, v, nil)
                    }
                }
            }
        }
    }
}

/// Adam's element loop with its scalars rounded to `U`, each operation in the order of PyTorch's
/// `_single_tensor_adam` (the tensor op each line mirrors is named beside it).
private struct AdamKernel<U: ConvScalar> {
    let lerpWeight: U            // 1 − β₁, computed in Double
    let beta2: U
    let oneMinusBeta2: U         // computed in Double
    let epsilon: U
    let weightDecay: U           // coupled: g + λ·θ
    let decayFactor: U           // decoupled: 1 − γλ, computed in Double
    let coupled: Bool
    let decoupled: Bool
    let negativeStepSize: U
    let biasCorrection2Root: U

    init(_ adam: Adam, _ scalars: AdamStepScalars) {
        lerpWeight = U(1 - adam.betas.0)
        beta2 = U(adam.betas.1)
        oneMinusBeta2 = U(1 - adam.betas.1)
        epsilon = U(adam.epsilon)
        weightDecay = U(adam.weightDecay)
        decayFactor = U(1 - adam.learningRate * adam.weightDecay)
        coupled = adam.weightDecay != 0 && !adam.decoupledWeightDecay
        decoupled = adam.weightDecay != 0 && adam.decoupledWeightDecay
        negativeStepSize = U(-scalars.stepSize)
        biasCorrection2Root = U(scalars.biasCorrection2Root)
    }

    /// All buffers have the same, non-zero length.
    func run(_ value: UnsafeMutableBufferPointer<U>, _ gradient: UnsafeBufferPointer<U>,
             _ mean: UnsafeMutableBufferPointer<U>, _ meanSquare: UnsafeMutableBufferPointer<U>,
             _ maxMeanSquare: UnsafeMutableBufferPointer<U>?) {
        // Safe: the caller checked the lengths equal and non-zero, so the base addresses exist.
        let p = value.baseAddress!, g = gradient.baseAddress!, m = mean.baseAddress!, v = meanSquare.baseAddress!
        let vMax = maxMeanSquare?.baseAddress
        // ATen's lerp takes `self + w·(end − self)` for |w| < 0.5 and `end − (end − self)·(1 − w)` otherwise.
        let smallWeight = abs(lerpWeight) < 0.5
        let oneMinusWeight = 1 - lerpWeight
        for i in 0..<value.count {
            var grad = g[i]
            if decoupled { p[i] = p[i] * decayFactor }                  // param.mul_(1 - lr * weight_decay)
            if coupled { grad = grad + weightDecay * p[i] }             // grad.add(param, alpha=weight_decay)
            let difference = grad - m[i]                                // exp_avg.lerp_(grad, 1 - beta1)
            m[i] = smallWeight ? m[i] + lerpWeight * difference : grad - difference * oneMinusWeight
            v[i] = v[i] * beta2 + oneMinusBeta2 * grad * grad           // mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            var second = v[i]
            if let vMax {                                               // torch.maximum: NaN from either side wins
                let current = vMax[i]
                second = current.isNaN || current >= second ? current : second
                vMax[i] = second
            }
            let denominator = second.squareRoot() / biasCorrection2Root + epsilon   // (sqrt() / bc2_sqrt).add_(eps)
            p[i] = p[i] + negativeStepSize * m[i] / denominator         // addcdiv_(exp_avg, denom, value=-step_size)
        }
    }
}
