// IEEE edge cases, for every plan (algorithm × input-gradient route × 1/2/3 workers) and for the reference:
//  - the documented non-finite rule (ConvolutionEngine's doc comment): padding taps are multiplied literally, so an
//    infinite filter value gives NaN (0·∞) at outputs whose window covers padding, and NaN/±∞ in X, F, B or dO
//    propagate to every result that sums them — checked on a worked example by hand, and against the reference's
//    NaN/Inf pattern with NaN, +∞, -∞ and +∞/-∞ together injected into each of X, F, B and dO. The
//    full-convolution route to dX is exempt (documented: it is for finite data) and skipped there.
//  - subnormal inputs (no flush to zero): within MATH.md's bound of the Double reference, underflow term included;
//  - Float inputs scaled so that results are near 1e36, and so that products are subnormal: within the bound;
//  - Float results that overflow: ±∞ with the sign of the Double reference.
// These are the promises of ConvNumerics.strict: the Winograd algorithms are left out (their documented
// behaviour is tested in WinogradTests).
import Foundation
import Testing
import ConvEngine

/// A backend to check: an engine plan, or the reference itself.
struct IEEEBackend: CustomStringConvertible {
    let backend: any ConvolutionBackend
    let plan: TestPlan?

    var description: String { plan.map { "\($0)" } ?? "reference" }
    /// The full-convolution route, which is exempt from the non-finite rule for the input gradient.
    var exemptInputGradient: Bool { plan?.inputGradient == .fullConvolution }

    static func all(for g: ConvGeometry) throws -> [IEEEBackend] {
        // The strict mode's algorithms: the transform algorithms mix a tile's inputs (WinogradTests pins down theirs).
        try TestPlan.all(for: g).filter { $0.algorithm.numerics == .strict }.map { IEEEBackend(backend: try $0.engine(), plan: $0) }
            + [IEEEBackend(backend: ReferenceConvolution(), plan: nil)]
    }
}

struct IEEETests {
    static func geometries() throws -> [ConvGeometry] {
        [
            try ConvGeometry(batch: 2, inputChannels: 2, inputHeight: 5, inputWidth: 6, outputChannels: 3,
                             kernelHeight: 3, kernelWidth: 3, padding: 1),
            try ConvGeometry(batch: 2, inputChannels: 4, inputHeight: 7, inputWidth: 7, outputChannels: 4,
                             kernelHeight: 3, kernelWidth: 2, strideHeight: 2, strideWidth: 2,
                             padding: .explicit(Padding(top: 2, bottom: 1, left: 0, right: 1)),
                             dilationHeight: 2, dilationWidth: 1, groups: 2),
            try ConvGeometry(batch: 2, inputChannels: 3, inputHeight: 6, inputWidth: 6, outputChannels: 6,
                             kernelHeight: 3, kernelWidth: 3, padding: 1, groups: 3),
            try ConvGeometry(batch: 2, inputChannels: 3, inputHeight: 4, inputWidth: 4, outputChannels: 2,
                             kernelHeight: 1, kernelWidth: 1),
            try ConvGeometry(batch: 1, inputChannels: 2, inputHeight: 4, inputWidth: 5, outputChannels: 2,
                             kernelHeight: 2, kernelWidth: 2, strideHeight: 2, strideWidth: 2),
            try ConvGeometry(batch: 1, inputChannels: 1, inputHeight: 3, inputWidth: 3, outputChannels: 1,
                             kernelHeight: 3, kernelWidth: 3, padding: 2, dilationHeight: 2, dilationWidth: 2),
        ]
    }

    /// Compares every result with the Double reference: where the reference's magnitude is beyond `T`'s range
    /// by 1 %, the result must be the infinity of its sign; within 1 % of the limit it is not judged (rounding
    /// decides); elsewhere MATH.md's bound applies (NaN only matches NaN, ∞ only the same ∞).
    /// Returns a description of the first failure.
    static func compare<T: ConvScalar>(_ r: ConvResults<T>, _ reference: ReferenceResults, _ g: ConvGeometry,
                                       skip: Set<String> = []) -> String? {
        let terms = termCountsInOrder(g)
        let limit = Double(T.greatestFiniteMagnitude)
        for (index, (name, values)) in r.named.enumerated() where !skip.contains(name) {
            let ref = reference.values.named[index].1, mag = reference.magnitudes.named[index].1
            for i in values.indices {
                let v = Double(values[i])
                if ref[i].isFinite && abs(ref[i]) >= 1.01 * limit {
                    if !(v.isInfinite && v.sign == ref[i].sign) {
                        return "\(name)[\(i)] = \(v), expected \(ref[i].sign == .minus ? "-" : "+")∞ (Double reference \(ref[i]))"
                    }
                } else if ref[i].isFinite && abs(ref[i]) > 0.99 * limit {
                    continue
                } else if ErrorBound.fraction(value: v, reference: ref[i], terms: terms[index], magnitude: mag[i],
                                              scalar: T.self) > 1 {
                    return "\(name)[\(i)] = \(v), reference \(ref[i]) (Σ|terms| \(mag[i]), L \(terms[index]))"
                }
            }
        }
        return nil
    }

    /// Runs every backend on (x, f, b, dO) in `T` and compares with the Double reference on the same (rounded) values.
    static func checkAll<T: ConvScalar>(_: T.Type, _ g: ConvGeometry, x: [Double], f: [Double], b: [Double], dO: [Double],
                                        nonFiniteIn tensor: String? = nil, _ what: String) throws -> Int {
        let xt = x.map { T($0) }, ft = f.map { T($0) }, bt = b.map { T($0) }, dOt = dO.map { T($0) }
        let reference = try ReferenceResults(g, input: xt.map { Double($0) }, filter: ft.map { Double($0) }, bias: bt.map { Double($0) },
                                         outputGradient: dOt.map { Double($0) })
        var runs = 0
        for backend in try IEEEBackend.all(for: g) {
            let r = try runAll(backend.backend, g, x: xt, f: ft, b: bt, dO: dOt, workspace: ConvWorkspace<T>())
            // The full-convolution route is exempt from the rule for non-finite filters and output gradients.
            let skip: Set<String> = backend.exemptInputGradient && (tensor == "F" || tensor == "dO") ? ["dX"] : []
            if let failure = compare(r, reference, g, skip: skip) {
                Issue.record("\(what) \(T.self) \(g) \(backend): \(failure)")
            }
            runs += 1
        }
        return runs
    }

    // MARK: The rule on a worked example

    /// One channel, 3×3 input of ones, 3×3 kernel, padding 1. The filter's top-left tap is +∞: outputs in the top
    /// row or left column read padding there (0·∞ = NaN); the others read a one (+∞).
    @Test(arguments: [false, true])
    func infiniteFilterTapGivesNaNExactlyWherePaddingIsRead(double: Bool) throws {
        if double { try workedExample(Double.self) } else { try workedExample(Float.self) }
    }

    func workedExample<T: ConvScalar>(_: T.Type) throws {
        pinBLASThreadsOnce()
        let g = try ConvGeometry(batch: 1, inputChannels: 1, inputHeight: 3, inputWidth: 3, outputChannels: 1,
                                 kernelHeight: 3, kernelWidth: 3, padding: 1)
        let ones = [T](repeating: 1, count: 9)
        var f = [T](repeating: 0.5, count: 9); f[0] = .infinity
        var dO = [T](repeating: 1, count: 9); dO[0] = .infinity; dO[4] = 0
        let nan = T.nan, inf = T.infinity
        // O[p,q]: tap (0,0) reads X[p-1, q-1], padding when p == 0 or q == 0.
        let expectedO: [T] = [nan, nan, nan, nan, inf, inf, nan, inf, inf]
        // dF[r,s] = Σ dO[p,q]·X[p-1+r, q-1+s]: dO[0,0] = ∞ meets padding when r == 0 or s == 0; elsewhere ∞·1 = ∞.
        let expectedDF: [T] = [nan, nan, nan, nan, inf, inf, nan, inf, inf]
        // dX[h,w] = Σ F[r,s]·dO[h+1-r, w+1-s] over real output positions only: F[0,0] = ∞ meets dO[h+1, w+1]
        // (h, w ≤ 1), which is 0 for dX[0,0] (∞·0 = NaN); dO[0,0] = ∞ reaches dX[0,1], dX[1,0], dX[1,1] (∞);
        // the rest sum halves of the finite dO (dO[1,1] = 0 among them).
        let expectedDX: [T] = [nan, inf, 1.5, inf, inf, 2.5, 1.5, 2.5, 1.5]
        for backend in try IEEEBackend.all(for: g) {
            let o = try backend.backend.forward(g, input: ones, filter: f, bias: [0])
            let grads = try backend.backend.backward(g, input: ones, filter: f, outputGradient: dO)
            let same = { (a: [T], b: [T]) in elementsMatch(a, b) { ($0.isNaN && $1.isNaN) || $0 == $1 } }
            #expect(same(o, expectedO), "\(backend) O = \(o)")
            #expect(same(grads.filter!, expectedDF), "\(backend) dF = \(grads.filter!)")
            if !backend.exemptInputGradient {
                #expect(same(grads.input!, expectedDX), "\(backend) dX = \(grads.input!)")
            }
            #expect(grads.bias!.count == 1 && grads.bias![0] == .infinity, "\(backend) dB = \(grads.bias!)")
        }
    }

    // MARK: The rule against the reference, every tensor, every special value

    @Test(arguments: [false, true])
    func nonFiniteValuesFollowTheReferencePattern(double: Bool) throws {
        pinBLASThreadsOnce()
        var rng = SeededGenerator(seed: 0x1EEE)
        var runs = 0
        let specials: [(String, [Double])] = [("NaN", [.nan]), ("+∞", [.infinity]), ("-∞", [-.infinity]),
                                              ("+∞ and -∞", [.infinity, -.infinity])]
        for g in try Self.geometries() {
            for tensor in ["X", "F", "B", "dO"] {
                for (label, values) in specials {
                    var x = rng.values(g.inputCount), f = rng.values(g.filterCount)
                    var b = rng.values(g.outputChannels), dO = rng.values(g.outputCount)
                    func inject(_ a: inout [Double]) {
                        // First element (a corner: next to padding), then random ones.
                        for (j, v) in values.enumerated() {
                            a[j == 0 ? 0 : rng.int(0...(a.count - 1))] = v
                        }
                        if rng.chance(0.5) { a[rng.int(0...(a.count - 1))] = values[0] }
                    }
                    switch tensor {
                    case "X": inject(&x)
                    case "F": inject(&f)
                    case "B": inject(&b)
                    default: inject(&dO)
                    }
                    let what = "\(label) in \(tensor)"
                    runs += double ? try Self.checkAll(Double.self, g, x: x, f: f, b: b, dO: dO, nonFiniteIn: tensor, what)
                        : try Self.checkAll(Float.self, g, x: x, f: f, b: b, dO: dO, nonFiniteIn: tensor, what)
                }
            }
        }
        #expect(runs > 0)
        print("ieee: non-finite rule, \(runs) backend runs in \(double ? "Double" : "Float") (NaN, +∞, -∞, ±∞ in X, F, B, dO)")
    }

    // MARK: Subnormals, scaling, overflow

    @Test(arguments: [false, true])
    func subnormalInputsAreNotFlushed(double: Bool) throws {
        pinBLASThreadsOnce()
        var rng = SeededGenerator(seed: 0x5AB)
        var runs = 0, nonzeroSubnormalResults = 0
        // Scale that makes values subnormal: below the smallest normal number of the type.
        let tiny = double ? Double.leastNormalMagnitude / 8 : Double(Float.leastNormalMagnitude) / 8
        for g in try Self.geometries() {
            for tensor in ["X", "F", "B", "dO"] {
                var x = rng.values(g.inputCount), f = rng.values(g.filterCount)
                var b = rng.values(g.outputChannels).map { $0 * tiny }, dO = rng.values(g.outputCount)
                switch tensor {
                case "X": x = x.map { $0 * tiny }; f = f.map { $0 * 0.5 }
                case "F": f = f.map { $0 * tiny }
                case "B": b = b.map { $0 * 4 }   // subnormal bias with normal-size products is checked with X/F below
                default: dO = dO.map { $0 * tiny }
                }
                runs += double ? try Self.checkAll(Double.self, g, x: x, f: f, b: b, dO: dO, "subnormal \(tensor)")
                    : try Self.checkAll(Float.self, g, x: x, f: f, b: b, dO: dO, "subnormal \(tensor)")
                // Evidence that the results really are subnormal (a flush to zero would fail the bound above).
                let engine = try TestPlan(algorithm: .im2col, inputGradient: .col2im, workers: 1).engine()
                if double {
                    let o = try engine.forward(g, input: x, filter: f, bias: b)
                    nonzeroSubnormalResults += o.filter { $0 != 0 && abs($0) < Double.leastNormalMagnitude }.count
                } else {
                    let o = try engine.forward(g, input: x.map { Float($0) }, filter: f.map { Float($0) }, bias: b.map { Float($0) })
                    nonzeroSubnormalResults += o.filter { $0 != 0 && abs($0) < Float.leastNormalMagnitude }.count
                }
            }
        }
        #expect(nonzeroSubnormalResults > 0)
        print("ieee: subnormal inputs, \(runs) backend runs in \(double ? "Double" : "Float"), "
              + "\(nonzeroSubnormalResults) subnormal outputs seen, all within the bound (no flush to zero)")
    }

    /// Float inputs scaled so the results are near 1e36, and so the products are subnormal (each product then
    /// carries an absolute rounding error up to half the smallest subnormal: MATH.md's η term).
    @Test func scaledFloatInputsStayWithinTheBound() throws {
        pinBLASThreadsOnce()
        var rng = SeededGenerator(seed: 0x5CA1E)
        var runs = 0
        // (scale of X, F, B, dO, name): products X·F and dO·X, dO·F near 1e36, or in the subnormal range.
        let cases: [(Double, Double, Double, Double, String)] = [
            (1e18, 1e18, 1e36, 1e18, "results near 1e36"),
            (1e-20, 1e-20, 1e-40, 1e-20, "products subnormal (1e-40)"),
            (1e-25, 1e-16, 1e-41, 1e-19, "products subnormal, mixed scales"),
            (1e-22, 1e-22, 0, 1e-23, "products below the smallest subnormal"),
        ]
        for g in try Self.geometries() {
            for (sx, sf, sb, sdO, name) in cases {
                let x = rng.values(g.inputCount).map { $0 * sx }, f = rng.values(g.filterCount).map { $0 * sf }
                let b = rng.values(g.outputChannels).map { $0 * sb }, dO = rng.values(g.outputCount).map { $0 * sdO }
                runs += try Self.checkAll(Float.self, g, x: x, f: f, b: b, dO: dO, name)
            }
        }
        #expect(runs > 0)
        print("ieee: scaled Float inputs (near 1e36, subnormal products), \(runs) backend runs within the bound")
    }

    /// Float results beyond the largest Float: products that overflow (1e20·1e20), and sums that overflow though
    /// every product fits (2e37 each). All terms have one sign, so the Double reference says which sign.
    @Test func floatOverflowGivesInfinityOfTheRightSign() throws {
        pinBLASThreadsOnce()
        var rng = SeededGenerator(seed: 0x0F0F)
        var runs = 0, infinities = 0
        let big = try ConvGeometry(batch: 2, inputChannels: 3, inputHeight: 6, inputWidth: 6, outputChannels: 2,
                                   kernelHeight: 3, kernelWidth: 3, padding: 1)
        for g in try Self.geometries() + [big] {
            let positive = { (n: Int, s: Double) in (0..<n).map { _ in s * rng.double(0.9...1) } }
            // (X, F, B, dO): signs chosen so each result's terms share one sign.
            let cases: [([Double], [Double], [Double], [Double], String)] = [
                (positive(g.inputCount, 1e20), positive(g.filterCount, -1e20), positive(g.outputChannels, 1),
                 positive(g.outputCount, 1e20), "products overflow"),
                (positive(g.inputCount, 2e18), positive(g.filterCount, 1e19), positive(g.outputChannels, 1e38),
                 positive(g.outputCount, -6e37), "sums overflow"),
            ]
            for (x, f, b, dO, name) in cases {
                runs += try Self.checkAll(Float.self, g, x: x, f: f, b: b, dO: dO, name)
                let o = try ReferenceConvolution().forward(g, input: x.map { Float($0) }, filter: f.map { Float($0) },
                                                           bias: b.map { Float($0) })
                infinities += o.filter(\.isInfinite).count
            }
        }
        #expect(infinities > 0)
        print("ieee: Float overflow, \(runs) backend runs; results beyond Float's range are ±∞ of the Double reference's sign")
    }
}
