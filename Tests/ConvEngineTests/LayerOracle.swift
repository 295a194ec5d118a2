// The reference side of the layer tests, per operation of the family: ReferenceConvolution's direct loops with
// Σ|terms| and ErrorBound's term counts, behind one protocol so each layer check is written once.
import ConvEngine

protocol LayerOracle: LayerGeometry {
    /// The reference forward pass (no activation) with Σ|terms| per output element.
    func layerReferenceForward(_ x: [Double], _ f: [Double], _ b: [Double]?) throws
        -> (output: [Double], magnitudes: [Double])
    /// The reference backward pass (all three gradients) with Σ|terms| per element.
    func layerReferenceBackward(_ x: [Double], _ f: [Double], _ dO: [Double]) throws
        -> (gradients: Gradients<Double>, magnitudes: Gradients<Double>)
    /// L per result.
    var layerTermCounts: ErrorBound.TermCounts { get }
}

extension ConvGeometry: LayerOracle {
    func layerReferenceForward(_ x: [Double], _ f: [Double], _ b: [Double]?) throws
        -> (output: [Double], magnitudes: [Double]) {
        try ReferenceConvolution().forwardWithMagnitudes(self, input: x, filter: f, bias: b)
    }
    func layerReferenceBackward(_ x: [Double], _ f: [Double], _ dO: [Double]) throws
        -> (gradients: Gradients<Double>, magnitudes: Gradients<Double>) {
        try ReferenceConvolution().backwardWithMagnitudes(self, input: x, filter: f, outputGradient: dO)
    }
    var layerTermCounts: ErrorBound.TermCounts { ErrorBound.termCounts(self) }
}

extension TransposedConvGeometry: LayerOracle {
    func layerReferenceForward(_ x: [Double], _ f: [Double], _ b: [Double]?) throws
        -> (output: [Double], magnitudes: [Double]) {
        try ReferenceConvolution().forwardWithMagnitudes(self, input: x, filter: f, bias: b)
    }
    func layerReferenceBackward(_ x: [Double], _ f: [Double], _ dO: [Double]) throws
        -> (gradients: Gradients<Double>, magnitudes: Gradients<Double>) {
        try ReferenceConvolution().backwardWithMagnitudes(self, input: x, filter: f, outputGradient: dO)
    }
    var layerTermCounts: ErrorBound.TermCounts { ErrorBound.termCounts(self) }
}

extension ConvGeometry1D: LayerOracle {
    func layerReferenceForward(_ x: [Double], _ f: [Double], _ b: [Double]?) throws
        -> (output: [Double], magnitudes: [Double]) {
        try ReferenceConvolution().forwardWithMagnitudes(self, input: x, filter: f, bias: b)
    }
    func layerReferenceBackward(_ x: [Double], _ f: [Double], _ dO: [Double]) throws
        -> (gradients: Gradients<Double>, magnitudes: Gradients<Double>) {
        try ReferenceConvolution().backwardWithMagnitudes(self, input: x, filter: f, outputGradient: dO)
    }
    var layerTermCounts: ErrorBound.TermCounts { ErrorBound.termCounts(self) }
}

extension TransposedConvGeometry1D: LayerOracle {
    func layerReferenceForward(_ x: [Double], _ f: [Double], _ b: [Double]?) throws
        -> (output: [Double], magnitudes: [Double]) {
        try ReferenceConvolution().forwardWithMagnitudes(self, input: x, filter: f, bias: b)
    }
    func layerReferenceBackward(_ x: [Double], _ f: [Double], _ dO: [Double]) throws
        -> (gradients: Gradients<Double>, magnitudes: Gradients<Double>) {
        try ReferenceConvolution().backwardWithMagnitudes(self, input: x, filter: f, outputGradient: dO)
    }
    var layerTermCounts: ErrorBound.TermCounts { ErrorBound.termCounts(self) }
}

extension ConvGeometry3D: LayerOracle {
    func layerReferenceForward(_ x: [Double], _ f: [Double], _ b: [Double]?) throws
        -> (output: [Double], magnitudes: [Double]) {
        try ReferenceConvolution().forwardWithMagnitudes(self, input: x, filter: f, bias: b)
    }
    func layerReferenceBackward(_ x: [Double], _ f: [Double], _ dO: [Double]) throws
        -> (gradients: Gradients<Double>, magnitudes: Gradients<Double>) {
        try ReferenceConvolution().backwardWithMagnitudes(self, input: x, filter: f, outputGradient: dO)
    }
    var layerTermCounts: ErrorBound.TermCounts { ErrorBound.termCounts(self) }
}

/// f on one value, in Double (the separate activation the fused one is compared with; ``Activation``'s table).
func activated(_ z: Double, _ a: Activation) -> Double {
    switch a {
    case .identity: return z
    case .relu: return max(z, 0)
    case .clamp(let lower, let upper): return min(max(z, lower), upper)
    case .leakyReLU(let slope): return z > 0 ? z : slope * z
    }
}

/// dL/dZ = dL/dO · f′ with f′ read from the activated output `y` (``Activation``'s table), computed in `T` as the
/// engine must (the leaky slope rounded to `T`, one product).
func preActivationGradient<T: ConvScalar>(output y: [T], outputGradient dO: [T], _ a: Activation) -> [T] {
    zip(y, dO).map { y, g in
        switch a {
        case .identity: return g
        case .relu: return y > 0 ? g : 0
        case .clamp(let lower, let upper): return y > T(lower) && y < T(upper) ? g : 0
        case .leakyReLU(let slope): return y > 0 ? g : T(slope) * g
        }
    }
}
