// Identities the transposed convolutions must satisfy, in Double:
//
//   adjoint: ⟨conv_transpose(X), Y⟩ = ⟨X, conv(Y)⟩ with conv the associated convolution, computed by the
//            2-D (or 1-D) convolution's own reference: the transposed reference, written from its definition,
//            checked against the convolution's reference, written from another;
//   self-adjoint: ⟨conv_transpose(X), dO⟩ = ⟨X, dX(dO)⟩ = ⟨W, dW(X, dO)⟩, for the reference and for every
//            forced plan of the engine;
//   finite differences: the reference's gradients equal central differences of L = Σ dO·O.
//
// The tolerances are AdjointTests' (the sum of both sides' bounds, scale Σ|dOᵢ|·Mᵢ) and FiniteDifferenceTests'.
import Testing
import ConvEngine

/// ⟨a, b⟩ of two sides with `aTerms` and `bTerms` (terms per element plus the outer length) agree within
/// MATH.md's bound at scale `t`; returns the fraction of the tolerance used.
@discardableResult
func expectSidesAgree(_ a: Double, _ b: Double, aTerms: Int, bTerms: Int, scale t: Double, _ what: String,
                      sourceLocation: SourceLocation = #_sourceLocation) -> Double {
    let tolerance = ErrorBound.bound(terms: aTerms + bTerms, magnitude: t, scalar: Double.self)
    #expect(abs(a - b) <= tolerance, "\(what): \(a) vs \(b) (tolerance \(tolerance))", sourceLocation: sourceLocation)
    return abs(a - b) / tolerance
}

/// The self-adjoint identity of `g` for `engine` (nil: the reference): ⟨O(X), dO⟩ = ⟨X, dX⟩ = ⟨W, dW⟩.
func checkSelfAdjoint<G: FamilyGeometry>(_ g: G, engine: ConvolutionEngine?, seed: UInt64) throws -> Double {
    var rng = SeededGenerator(seed: seed)
    let x = rng.array(g.inputCount), f = rng.array(g.filterCount), dO = rng.array(g.outputCount)
    let (_, m) = try g.referenceForward(x, f, nil)
    let scale = zip(dO, m).reduce(0) { $0 + abs($1.0) * $1.1 }
    var o = [Double](repeating: 0, count: g.outputCount)
    var dX: [Double]? = [Double](repeating: 0, count: g.inputCount)
    var dF: [Double]? = [Double](repeating: 0, count: g.filterCount)
    var none: [Double]? = nil
    if let engine {
        let ws = ConvWorkspace<Double>()
        try x.withUnsafeBufferPointer { xb in
            try f.withUnsafeBufferPointer { fb in
                try dO.withUnsafeBufferPointer { dOb in
                    try o.withUnsafeMutableBufferPointer { try g.forward(engine, xb, fb, nil, $0, ws) }
                    try withMutableBuffers(&dX, &dF, &none) { dx, df, _ in try g.backward(engine, xb, fb, dOb, dx, df, nil, ws) }
                }
            }
        }
    } else {
        o = try g.referenceForward(x, f, nil).output
        let grads = try g.referenceBackward(x, f, dO).gradients
        dX = grads.input; dF = grads.filter
    }
    let t = g.termCounts
    let what = "\(engine.map { "engine \((try? g.mappedPlan($0).description) ?? "?")" } ?? "reference") on \(g)"
    let forwardSide = dot(o, dO).value
    return max(
        expectSidesAgree(forwardSide, dot(x, dX!).value, aTerms: t.output + g.outputCount,
                         bTerms: t.inputGradient + g.inputCount, scale: scale, "⟨O,dO⟩ vs ⟨X,dX⟩, \(what)"),
        expectSidesAgree(forwardSide, dot(f, dF!).value, aTerms: t.output + g.outputCount,
                         bTerms: t.filterGradient + g.filterCount, scale: scale, "⟨O,dO⟩ vs ⟨W,dW⟩, \(what)"))
}

/// The reference's gradients of `g` against central differences of L = Σ dO·O (dyadic data, h = 1/8, so every
/// sum is exact and an indexing mistake cannot hide in the tolerance).
func checkFiniteDifferences<G: FamilyGeometry>(_ g: G, seed: UInt64) throws {
    var rng = SeededGenerator(seed: seed)
    let x = rng.dyadicArray(g.inputCount), f = rng.dyadicArray(g.filterCount)
    let b = rng.dyadicArray(g.biasCount), dO = rng.dyadicArray(g.outputCount)
    let (grads, mags) = try g.referenceBackward(x, f, dO)
    let t = g.termCounts
    let lossTerms = Double(t.output + g.outputCount), eps = Double.ulpOfOne, h = 0.125
    func loss(_ x: [Double], _ f: [Double], _ b: [Double]) throws -> (value: Double, scale: Double) {
        let (o, m) = try g.referenceForward(x, f, b)
        var value = 0.0, scale = 0.0
        for i in o.indices { value += dO[i] * o[i]; scale += abs(dO[i]) * m[i] }
        return (value, scale)
    }
    func check(_ name: String, _ values: [Double], _ gradient: [Double], _ magnitudes: [Double], terms: Int,
               shape: [Int], _ perturbed: ([Double]) throws -> (value: Double, scale: Double)) throws {
        for i in values.indices {
            var plus = values, minus = values
            plus[i] += h; minus[i] -= h
            let lp = try perturbed(plus), lm = try perturbed(minus)
            let difference = (lp.value - lm.value) / (2 * h)
            let tolerance = 2 * (lossTerms * eps * (lp.scale + lm.scale) / (2 * h) + Double(terms) * eps * magnitudes[i])
            if !(abs(difference - gradient[i]) <= tolerance) {
                Issue.record("\(name)\(multiIndex(i, shape: shape)): reference \(gradient[i]), central difference \(difference) (tolerance \(tolerance)) — \(g)")
                return
            }
        }
    }
    try check("dX", x, grads.input!, mags.input!, terms: t.inputGradient, shape: g.inputShape) { try loss($0, f, b) }
    try check("dW", f, grads.filter!, mags.filter!, terms: t.filterGradient, shape: g.filterShape) { try loss(x, $0, b) }
    try check("dB", b, grads.bias!, mags.bias!, terms: t.biasGradient, shape: g.biasShape) { try loss(x, f, $0) }
}

@Suite("Transposed convolutions: adjoint identities and finite differences")
struct TransposedIdentityTests {
    @Test("Reference and engine: ⟨conv_transpose2d(X), Y⟩ = ⟨X, conv2d(Y)⟩ with the associated convolution computed as a convolution")
    func adjointOfTheAssociatedConvolution() throws {
        var worst = 0.0
        for (i, (g, _)) in TransposedSweep.cases(count: 40).enumerated() {
            var rng = SeededGenerator(seed: 0x7AD_0000 + UInt64(i))
            let x = rng.array(g.inputCount), w = rng.array(g.filterCount), y = rng.array(g.outputCount)
            let (o, m) = try ReferenceConvolution().forwardWithMagnitudes(g, input: x, filter: w)
            // The associated convolution reads Y (N×Cout×Ho×Wo) with the weight as its filter; its output has P×Q
            // positions, of which the first H×W pair with X (any extra rows or columns pair with zeros).
            let a = g.associated
            let c = try ReferenceConvolution().forward(a, input: y, filter: w)
            var xExtended = [Double](repeating: 0, count: a.outputCount)
            for n in 0..<g.batch { for ci in 0..<g.inputChannels { for h in 0..<g.inputHeight { for ww in 0..<g.inputWidth {
                xExtended[((n * g.inputChannels + ci) * a.outputHeight + h) * a.outputWidth + ww] =
                    x[((n * g.inputChannels + ci) * g.inputHeight + h) * g.inputWidth + ww]
            } } } }
            let scale = zip(y, m).reduce(0) { $0 + abs($1.0) * $1.1 }
            worst = max(worst, expectSidesAgree(
                dot(o, y).value, dot(xExtended, c).value, aTerms: ErrorBound.termCounts(g).output + g.outputCount,
                bTerms: ErrorBound.termCounts(a).output + a.outputCount, scale: scale, "transposed vs associated, \(g)"))
            // The same identity between the engine's two operations (the strict numerics: no transform algorithm).
            let engine = try ConvolutionEngine(workers: 1 + i % 2, numerics: .strict)
            let engineSide = try engine.forward(a, input: y, filter: w)
            worst = max(worst, expectSidesAgree(
                dot(try engine.forward(g, input: x, filter: w), y).value, dot(xExtended, engineSide).value,
                aTerms: ErrorBound.termCounts(g).output + g.outputCount,
                bTerms: ErrorBound.termCounts(a).output + a.outputCount, scale: scale, "engine: transposed vs associated, \(g)"))
        }
        print("transposed adjoint (reference and engine vs the associated convolution): worst fraction of tolerance \(worst)")
    }

    @Test("Reference: ⟨conv_transpose1d(X), Y⟩ = ⟨X, conv1d(Y)⟩ with the 1-D convolution's own reference")
    func adjointOfTheAssociatedConvolution1D() throws {
        var worst = 0.0
        for (i, (g, _)) in OneDimensionalSweep.transposed(count: 40).enumerated() {
            var rng = SeededGenerator(seed: 0x7AD_1000 + UInt64(i))
            let x = rng.array(g.inputCount), w = rng.array(g.filterCount), y = rng.array(g.outputCount)
            let (o, m) = try ReferenceConvolution().forwardWithMagnitudes(g, input: x, filter: w)
            let a = try ConvGeometry1D(batch: g.batch, inputChannels: g.outputChannels, inputLength: g.outputLength,
                                       outputChannels: g.inputChannels, kernelLength: g.kernelLength, stride: g.stride,
                                       padding: g.padding, dilation: g.dilation, groups: g.groups)
            let c = try ReferenceConvolution().forward(a, input: y, filter: w)
            // conv1d(Y) has L + ⌊outputPadding/stride⌋ positions; the first L pair with X.
            var xExtended = [Double](repeating: 0, count: a.outputCount)
            for n in 0..<g.batch { for ci in 0..<g.inputChannels { for l in 0..<g.inputLength {
                xExtended[(n * g.inputChannels + ci) * a.outputLength + l] = x[(n * g.inputChannels + ci) * g.inputLength + l]
            } } }
            let scale = zip(y, m).reduce(0) { $0 + abs($1.0) * $1.1 }
            worst = max(worst, expectSidesAgree(
                dot(o, y).value, dot(xExtended, c).value, aTerms: ErrorBound.termCounts(g).output + g.outputCount,
                bTerms: ErrorBound.termCounts(a).output + a.outputCount, scale: scale, "1-D transposed vs conv1d, \(g)"))
        }
        print("1-D transposed adjoint (reference vs conv1d): worst fraction of tolerance \(worst)")
    }

    @Test("Reference and every forced engine plan: ⟨O(X), dO⟩ = ⟨X, dX(dO)⟩ = ⟨W, dW(X, dO)⟩")
    func selfAdjoint() throws {
        pinBLASThreadsOnce()
        var worst = 0.0
        let cases2D = TransposedSweep.cases(count: 16), cases1D = OneDimensionalSweep.transposed(count: 16)
        for (i, (g, _)) in cases2D.enumerated() {
            worst = max(worst, try checkSelfAdjoint(g, engine: nil, seed: 0x5A_0000 + UInt64(i)))
            for (a, route) in allPlans(for: g.associated) {
                let engine = try makeEngine(workers: 1 + i % 2, algorithm: a, inputGradientAlgorithm: route)
                guard (try? engine.plan(for: g)) != nil, a.winogradTileSize == nil else { continue }
                worst = max(worst, try checkSelfAdjoint(g, engine: engine, seed: 0x5A_0000 + UInt64(i)))
            }
        }
        for (i, (g, _)) in cases1D.enumerated() {
            worst = max(worst, try checkSelfAdjoint(g, engine: nil, seed: 0x5A_1000 + UInt64(i)))
            for (a, route) in allPlans(for: g.planar.associated) {
                let engine = try makeEngine(workers: 1 + i % 2, algorithm: a, inputGradientAlgorithm: route)
                guard (try? engine.plan(for: g)) != nil else { continue }
                worst = max(worst, try checkSelfAdjoint(g, engine: engine, seed: 0x5A_1000 + UInt64(i)))
            }
        }
        print("transposed self-adjoint (reference and engine plans): worst fraction of tolerance \(worst)")
    }

    static let geometries: [TransposedConvGeometry] = {
        // Safe: all valid (checked by hand); a mistake here fails the test loudly.
        try! [
            TransposedConvGeometry(batch: 1, inputChannels: 1, inputHeight: 2, inputWidth: 2, outputChannels: 1,
                                   kernelHeight: 2, kernelWidth: 2),
            TransposedConvGeometry(batch: 2, inputChannels: 2, inputHeight: 3, inputWidth: 2, outputChannels: 3,
                                   kernelHeight: 3, kernelWidth: 2, strideHeight: 2, strideWidth: 1,
                                   padding: Padding(top: 1, bottom: 0, left: 0, right: 1), outputPaddingHeight: 1,
                                   dilationWidth: 2),
            TransposedConvGeometry(batch: 1, inputChannels: 4, inputHeight: 2, inputWidth: 3, outputChannels: 2,
                                   kernelHeight: 2, kernelWidth: 3, strideHeight: 1, strideWidth: 2,
                                   padding: Padding(top: 0, bottom: 1, left: 1, right: 0), outputPaddingWidth: 1, groups: 2),
            // sh ≤ output padding < dh: the staged case.
            TransposedConvGeometry(batch: 2, inputChannels: 2, inputHeight: 2, inputWidth: 2, outputChannels: 2,
                                   kernelHeight: 2, kernelWidth: 2, strideHeight: 1, strideWidth: 2,
                                   padding: Padding(top: 0, bottom: 1, left: 1, right: 0), outputPaddingHeight: 2,
                                   outputPaddingWidth: 2, dilationHeight: 3, dilationWidth: 3, groups: 2),
            // Padding larger than the kernel reach: output rows that no window reaches get the bias only.
            TransposedConvGeometry(batch: 1, inputChannels: 2, inputHeight: 3, inputWidth: 3, outputChannels: 1,
                                   kernelHeight: 1, kernelWidth: 1, strideHeight: 3, strideWidth: 3,
                                   padding: Padding(1), outputPaddingHeight: 2, outputPaddingWidth: 1),
        ]
    }()

    @Test("dL/dX, dL/dW, dL/dB of the transposed reference equal central differences",
          arguments: TransposedIdentityTests.geometries.indices)
    func finiteDifferences(_ index: Int) throws {
        try checkFiniteDifferences(Self.geometries[index], seed: 0x7F_D000 + UInt64(index))
    }

    @Test("dL/dX, dL/dW, dL/dB of the 1-D transposed reference equal central differences")
    func finiteDifferences1D() throws {
        let geometries = try [
            TransposedConvGeometry1D(batch: 2, inputChannels: 2, inputLength: 4, outputChannels: 3, kernelLength: 3,
                                     stride: 2, padding: Padding1D(left: 1, right: 0), outputPadding: 1),
            TransposedConvGeometry1D(batch: 1, inputChannels: 4, inputLength: 3, outputChannels: 2, kernelLength: 2,
                                     stride: 1, padding: Padding1D(left: 0, right: 2), outputPadding: 2, dilation: 3,
                                     groups: 2),
        ]
        for (i, g) in geometries.enumerated() { try checkFiniteDifferences(g, seed: 0x7F_D100 + UInt64(i)) }
    }
}
