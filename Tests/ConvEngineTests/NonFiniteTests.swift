// The documented non-finite rule (ConvolutionEngine, ReferenceConvolution): padding taps read as zero and are
// multiplied like any other, so an infinite filter tap gives NaN (0·∞) where its window covers padding, and
// NaN in X reaches exactly the results that sum it. Expected patterns are worked out by hand below; every
// plan and the reference must follow them (the full-convolution route is documented as finite-data only and
// is left out of the input-gradient check with an infinite filter).
import Testing
import ConvEngine

@Suite("Non-finite values follow the definition")
struct NonFiniteTests {
    static func backends(for g: ConvGeometry, routes: [InputGradientAlgorithm]) throws -> [(String, any ConvolutionBackend)] {
        var result: [(String, any ConvolutionBackend)] = [("reference", ReferenceConvolution())]
        // The strict mode's algorithms (the transform algorithms' documented rule is tested in WinogradTests).
        for algorithm in ConvAlgorithm.allCases where algorithm.supports(g) && algorithm.numerics == .strict {
            for route in routes {
                for workers in [1, 2] {
                    result.append(("\(algorithm)+\(route)×\(workers)",
                                   try makeEngine(workers: workers, algorithm: algorithm, inputGradientAlgorithm: route)))
                }
            }
        }
        return result
    }

    /// "nan", "+inf", "-inf" or "finite" per element.
    static func kinds(_ values: [Double]) -> [String] {
        values.map { $0.isNaN ? "nan" : $0 == .infinity ? "+inf" : $0 == -.infinity ? "-inf" : "finite" }
    }

    @Test("+∞ in the top-left filter tap, padding 1: NaN where that tap reads padding, +∞ elsewhere; dX by col2im")
    func infiniteFilter() throws {
        // 1 channel, 3×3 input (all positive), 3×3 kernel, padding 1 → 3×3 output.
        let g = try ConvGeometry(n: 1, c: 1, h: 3, w: 3, k: 1, r: 3, s: 3, pad: (1, 1, 1, 1))
        let x: [Double] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
        var f = [Double](repeating: 0.5, count: 9)
        f[0] = .infinity
        let dO: [Double] = [1, 2, 1, 3, 1, 2, 1, 1, 2]  // all positive
        // O[p,q]: the top-left tap reads X[p-1, q-1], padding when p = 0 or q = 0 (0·∞ = NaN), else X·∞ = +∞.
        let expectedO = ["nan", "nan", "nan",
                         "nan", "+inf", "+inf",
                         "nan", "+inf", "+inf"]
        // dX[h,w]: the top-left tap contributes dO[h+1, w+1]·∞ when h+1 ≤ 2 and w+1 ≤ 2, i.e. h, w ∈ {0, 1}.
        let expectedDX = ["+inf", "+inf", "finite",
                          "+inf", "+inf", "finite",
                          "finite", "finite", "finite"]
        let reference = try ReferenceResults(g, input: x, filter: f, bias: nil, outputGradient: dO)
        for (label, backend) in try Self.backends(for: g, routes: [.col2im]) {
            let o = try backend.forward(g, input: x, filter: f)
            let dX = try backend.inputGradient(g, filter: f, outputGradient: dO)
            #expect(Self.kinds(o) == expectedO, "\(label): O")
            #expect(Self.kinds(dX) == expectedDX, "\(label): dX")
            // The finite elements agree with the reference within the bound.
            let context = CheckContext(geometry: g, plan: label, scalar: "Double")
            checkWithinBound(dX, reference: reference.inputGradient, magnitudes: reference.inputGradientMagnitudes,
                             terms: ErrorBound.termCounts(g).inputGradient, tensor: "dX", shape: g.inputShape, context: context)
        }
    }

    @Test("NaN in one input pixel reaches exactly the outputs and filter-gradient taps that read it")
    func nanInput() throws {
        // 1 channel, 5×5 input with NaN at (0, 0), 3×3 kernel, padding 1 → 5×5 output.
        let g = try ConvGeometry(n: 1, c: 1, h: 5, w: 5, k: 1, r: 3, s: 3, pad: (1, 1, 1, 1))
        var rng = SeededGenerator(seed: 0x0AA0)
        var x = rng.array(25)
        x[0] = .nan
        let f = rng.array(9), b = [0.25], dO = rng.array(25)
        // O[p,q] reads X[p-1+r, q-1+s]; it reads X[0,0] when p-1+r = 0 and q-1+s = 0 for some taps r, s,
        // i.e. p ≤ 1 and q ≤ 1.
        var expectedO = [String](repeating: "finite", count: 25)
        for p in 0...1 { for q in 0...1 { expectedO[p * 5 + q] = "nan" } }
        // dF[r,s] sums dO[p,q]·X[p-1+r, q-1+s]; it reads X[0,0] at p = 1-r ≥ 0, q = 1-s ≥ 0, i.e. r ≤ 1, s ≤ 1.
        var expectedDF = [String](repeating: "finite", count: 9)
        for r in 0...1 { for s in 0...1 { expectedDF[r * 3 + s] = "nan" } }
        for (label, backend) in try Self.backends(for: g, routes: InputGradientAlgorithm.allCases) {
            let o = try backend.forward(g, input: x, filter: f, bias: b)
            let grads = try backend.backward(g, input: x, filter: f, outputGradient: dO)
            #expect(Self.kinds(o) == expectedO, "\(label): O")
            #expect(Self.kinds(grads.filter ?? []) == expectedDF, "\(label): dF")
            #expect(Self.kinds(grads.input ?? []) == [String](repeating: "finite", count: 25), "\(label): dX needs no X")
            #expect(Self.kinds(grads.bias ?? []) == ["finite"], "\(label): dB needs no X")
        }
    }
}
