// Adjoint identities (bias aside): the forward pass without bias is linear in X and in F, and the input and
// filter gradients are its adjoints, so for any X, F and dO
//
//     ⟨conv(X, F), dO⟩ = ⟨X, dX(F, dO)⟩ = ⟨F, dF(X, dO)⟩.
//
// All three are sums of the same products dO·F·X (one per kernel tap that reads the image), in different
// orders, so each side is within (L + count)·ε·T of the exact value, T = Σ|dO·F·X| = Σᵢ |dOᵢ|·Mᵢ (Mᵢ the
// forward's Σ|terms|), L the terms per element of the inner result and count the length of the outer dot
// product. The tests allow the sum of the two sides' bounds, times MATH.md's constant.
import Testing
import ConvEngine

@Suite("Adjoint identities")
struct AdjointTests {
    /// Random valid geometries (the sweep's generator, another seed), small enough for the reference.
    static func geometries(seed: UInt64, count: Int) -> [ConvGeometry] {
        var rng = SeededGenerator(seed: seed)
        var result: [ConvGeometry] = []
        while result.count < count {
            if let g = Sweep.drawGeometry(&rng), g.forwardFLOPs <= 400_000 { result.append(g) }
        }
        return result
    }

    /// The allowed |lhs - rhs| for two sides with (terms + count) of `a` and `b`, scale `t`.
    static func tolerance(_ a: Int, _ b: Int, scale t: Double) -> Double {
        ErrorBound.bound(terms: a + b, magnitude: t, scalar: Double.self)
    }

    @Test("Reference: ⟨conv(X,F), dO⟩ = ⟨X, dX(dO)⟩ = ⟨F, dF(X,dO)⟩ on random geometries")
    func reference() throws {
        let reference = ReferenceConvolution()
        var worst = 0.0
        for (i, g) in Self.geometries(seed: 0xAD_0001, count: 60).enumerated() {
            var rng = SeededGenerator(seed: 0xAD_1000 + UInt64(i))
            let x = rng.array(g.inputCount), f = rng.array(g.filterCount), dO = rng.array(g.outputCount)
            let (o, m) = try reference.forwardWithMagnitudes(g, input: x, filter: f, bias: nil)
            let grads = try reference.backward(g, input: x, filter: f, outputGradient: dO)
            let scale = zip(dO, m).reduce(0) { $0 + abs($1.0) * $1.1 }
            let terms = ErrorBound.termCounts(g)
            let forwardSide = dot(o, dO).value
            let inputSide = dot(x, grads.input!).value
            let filterSide = dot(f, grads.filter!).value
            let forwardTerms = terms.output + g.outputCount
            let inputTerms = terms.inputGradient + g.inputCount
            let filterTerms = terms.filterGradient + g.filterCount
            let tolX = Self.tolerance(forwardTerms, inputTerms, scale: scale)
            let tolF = Self.tolerance(forwardTerms, filterTerms, scale: scale)
            #expect(abs(forwardSide - inputSide) <= tolX,
                    "⟨O,dO⟩ = \(forwardSide) vs ⟨X,dX⟩ = \(inputSide) (tolerance \(tolX)) — geometry \(g)")
            #expect(abs(forwardSide - filterSide) <= tolF,
                    "⟨O,dO⟩ = \(forwardSide) vs ⟨F,dF⟩ = \(filterSide) (tolerance \(tolF)) — geometry \(g)")
            worst = max(worst, abs(forwardSide - inputSide) / tolX, abs(forwardSide - filterSide) / tolF)
        }
        print("adjoint (reference): worst fraction of tolerance \(worst)")
    }

    // im2col and col2im are internal, so their adjointness (⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩) is checked
    // through the public API: without bias the engine's forward is X ↦ F·im2col(X) per image and group, and its
    // col2im input gradient is C ↦ col2im(Fᵀ·C), so ⟨forward(X), C⟩ = ⟨X, inputGradient(C)⟩ holds exactly when
    // col2im is im2col's adjoint (every element added back where it was read, padding dropped, overlaps
    // summed). The full-convolution route is held to the same identity, and ⟨F, filterGradient(X, C)⟩ (which
    // uses im2col transposed) to the same value.
    @Test("Engine, every plan: ⟨forward(X), C⟩ = ⟨X, inputGradient(C)⟩ = ⟨F, filterGradient(X, C)⟩ (im2col/col2im adjointness)")
    func engine() throws {
        var worst = 0.0
        for (i, g) in Self.geometries(seed: 0xAD_0002, count: 60).enumerated() {
            var rng = SeededGenerator(seed: 0xAD_2000 + UInt64(i))
            let x = rng.array(g.inputCount), f = rng.array(g.filterCount), c = rng.array(g.outputCount)
            let (_, m) = try ReferenceConvolution().forwardWithMagnitudes(g, input: x, filter: f, bias: nil)
            let scale = zip(c, m).reduce(0) { $0 + abs($1.0) * $1.1 }
            let terms = ErrorBound.termCounts(g)
            let forwardTerms = terms.output + g.outputCount
            let tolX = Self.tolerance(forwardTerms, terms.inputGradient + g.inputCount, scale: scale)
            let tolF = Self.tolerance(forwardTerms, terms.filterGradient + g.filterCount, scale: scale)
            for (algorithm, route) in allPlans(for: g) {
                let engine = try makeEngine(workers: 1 + i % 2, algorithm: algorithm, inputGradientAlgorithm: route)
                let forwardSide = dot(try engine.forward(g, input: x, filter: f), c).value
                let inputSide = dot(x, try engine.inputGradient(g, filter: f, outputGradient: c)).value
                let filterSide = dot(f, try engine.filterGradient(g, input: x, outputGradient: c)).value
                let plan = "\(algorithm)+\(route)×\(engine.workers)"
                #expect(abs(forwardSide - inputSide) <= tolX,
                        "\(plan): ⟨forward(X),C⟩ = \(forwardSide) vs ⟨X,inputGradient(C)⟩ = \(inputSide) (tolerance \(tolX)) — geometry \(g)")
                #expect(abs(forwardSide - filterSide) <= tolF,
                        "\(plan): ⟨forward(X),C⟩ = \(forwardSide) vs ⟨F,filterGradient(X,C)⟩ = \(filterSide) (tolerance \(tolF)) — geometry \(g)")
                worst = max(worst, abs(forwardSide - inputSide) / tolX, abs(forwardSide - filterSide) / tolF)
            }
        }
        print("adjoint (engine): worst fraction of tolerance \(worst)")
    }
}
