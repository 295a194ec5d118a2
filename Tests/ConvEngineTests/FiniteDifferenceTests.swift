// The reference's gradients checked by central finite differences of L = Σ dO·O in Double, so the oracle the
// rest of the suite trusts is itself checked against the forward definition.
//
// Tolerance. O is affine in each single element of X, F and B (the convolution is bilinear in X and F), so
// (L(v+h) - L(v-h)) / 2h equals ∂L/∂v exactly in exact arithmetic, for any h: there is no truncation error,
// only rounding. fl(L) = fl(Σ dO·O) differs from L by at most (L_O + |O|)·ε·Σᵢ|dOᵢ|·Mᵢ (first order), with
// L_O = C/G·R·S + 1 the terms per output, Mᵢ = Σ|terms| of Oᵢ and |O| the number of outputs; the difference
// quotient inherits (err₊ + err₋)/2h, and the reference gradient its own MATH.md bound. The test allows twice
// the sum. (With the dyadic data used here — multiples of 1/64, h = 1/8 — every sum is in fact exact, so an
// indexing mistake cannot hide in the tolerance.)
import Testing
import ConvEngine

@Suite("Reference checked by finite differences")
struct FiniteDifferenceTests {
    static let geometries: [ConvGeometry] = {
        // Safe: all valid (checked by hand); a mistake here fails every test of the suite loudly.
        try! [
            ConvGeometry(n: 1, c: 1, h: 3, w: 3, k: 1, r: 2, s: 2),                                        // textbook
            ConvGeometry(n: 2, c: 2, h: 5, w: 4, k: 3, r: 3, s: 2, stride: (2, 1), pad: (1, 0, 2, 1), dilation: (1, 2)),
            ConvGeometry(n: 1, c: 4, h: 4, w: 5, k: 4, r: 2, s: 3, stride: (1, 2), pad: (0, 1, 1, 0), groups: 2),
            ConvGeometry(n: 2, c: 2, h: 4, w: 4, k: 4, r: 3, s: 3, pad: (1, 1, 1, 1), dilation: (2, 2), groups: 2), // depthwise ×2
            ConvGeometry(n: 1, c: 2, h: 3, w: 3, k: 2, r: 1, s: 1, stride: (2, 2), pad: (1, 0, 0, 2)),      // padding wider than a 1×1
            ConvGeometry(n: 1, c: 1, h: 2, w: 3, k: 2, r: 3, s: 2, pad: (2, 2, 1, 3), dilation: (2, 3)),   // input smaller than the kernel
            ConvGeometry(n: 3, c: 3, h: 4, w: 3, k: 3, r: 3, s: 3, stride: (3, 3), pad: (2, 2, 0, 0), groups: 3),
        ]
    }()

    static let h = 0.125

    /// L = Σ dO·O and its rounding scale Σ|dOᵢ|·Mᵢ.
    static func loss(_ g: ConvGeometry, _ x: [Double], _ f: [Double], _ b: [Double], _ dO: [Double]) throws
        -> (value: Double, scale: Double) {
        let (o, m) = try ReferenceConvolution().forwardWithMagnitudes(g, input: x, filter: f, bias: b)
        var value = 0.0, scale = 0.0
        for i in o.indices { value += dO[i] * o[i]; scale += abs(dO[i]) * m[i] }
        return (value, scale)
    }

    @Test("dL/dX, dL/dF, dL/dB of the reference equal central differences of L = Σ dO·O",
          arguments: FiniteDifferenceTests.geometries.indices)
    func centralDifferences(_ index: Int) throws {
        let g = Self.geometries[index]
        var rng = SeededGenerator(seed: 0xF1D1_0000 + UInt64(index))
        let x = rng.dyadicArray(g.inputCount), f = rng.dyadicArray(g.filterCount)
        let b = rng.dyadicArray(g.outputChannels), dO = rng.dyadicArray(g.outputCount)
        let (grads, mags) = try ReferenceConvolution().backwardWithMagnitudes(g, input: x, filter: f, outputGradient: dO)
        let terms = ErrorBound.termCounts(g)
        let lossTerms = Double(terms.output + g.outputCount)
        let eps = Double.ulpOfOne, h = Self.h

        /// Checks one gradient: `perturb(v, i)` returns the loss with element i of the parameter set to v.
        func check(_ name: String, _ values: [Double], _ gradient: [Double], _ gradientMagnitudes: [Double],
                   gradientTerms: Int, shape: [Int], loss: (_ changed: [Double]) throws -> (value: Double, scale: Double)) throws {
            for i in values.indices {
                var plus = values, minus = values
                plus[i] += h; minus[i] -= h
                let lp = try loss(plus), lm = try loss(minus)
                let difference = (lp.value - lm.value) / (2 * h)
                let tolerance = 2 * (lossTerms * eps * (lp.scale + lm.scale) / (2 * h)
                                     + Double(gradientTerms) * eps * gradientMagnitudes[i])
                if !(abs(difference - gradient[i]) <= tolerance) {
                    Issue.record("""
                        \(name)\(multiIndex(i, shape: shape)): reference \(gradient[i]), central difference \(difference) \
                        (tolerance \(tolerance)) — geometry \(g)
                        """)
                    return
                }
            }
        }
        try check("dX", x, grads.input!, mags.input!, gradientTerms: terms.inputGradient, shape: g.inputShape) {
            try Self.loss(g, $0, f, b, dO)
        }
        try check("dF", f, grads.filter!, mags.filter!, gradientTerms: terms.filterGradient, shape: g.filterShape) {
            try Self.loss(g, x, $0, b, dO)
        }
        try check("dB", b, grads.bias!, mags.bias!, gradientTerms: terms.biasGradient, shape: g.biasShape) {
            try Self.loss(g, x, f, $0, dO)
        }
    }
}
