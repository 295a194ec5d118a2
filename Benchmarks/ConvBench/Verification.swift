import ConvEngine
import Foundation

/// The four results a run produces.
enum Field: String, Codable, CaseIterable, Sendable {
    case output = "O", inputGradient = "dX", filterGradient = "dF", biasGradient = "dB"

    static let forward: [Field] = [.output]
    static let backward: [Field] = [.inputGradient, .filterGradient, .biasGradient]
}

/// Randomly sampled elements of O, dX, dF and dB recomputed straight from MATH.md's definitions in Double
/// (no im2col, no BLAS), each with `Σ|terms|`, the scale of MATH.md's error bound.
///
/// The inputs are the layer's own (Float inputs converted exactly to Double). Products of two Float values
/// are exact in Double and the sums are compensated (Neumaier), so the reference's own error is far below
/// even Double's bound. Samples are drawn once per layer and reused for every thread count and precision.
struct ReferenceSamples: Sendable {
    struct Samples: Sendable {
        var indices: [Int]
        var values: [Double]
        var magnitudes: [Double]
        /// MATH.md's `L`: products summed into one element (from ``ErrorBound/termCounts(_:)``).
        var terms: Int
        /// Elements of the whole result (the sample covers all of them when this is ≤ the sample size).
        var total: Int
    }

    private var byField: [Field: Samples] = [:]

    subscript(field: Field) -> Samples { byField[field]! }  // Safe: init fills every field.

    /// Draws `count` distinct indices per field (all of them when the field is smaller; always the first
    /// and last element) and computes their reference values.
    init(_ t: LayerTensors<Double>, count: Int, rng: inout SeededGenerator) {
        let g = t.geometry
        let L = ErrorBound.termCounts(g)
        let loops = DefinitionLoops(g: g, x: t.input.readOnly, f: t.filter.readOnly, b: t.bias.readOnly,
                                    dO: t.outputGradient.readOnly)
        self.init(count: count, fields: [(.output, g.outputCount, L.output),
                                         (.inputGradient, g.inputCount, L.inputGradient),
                                         (.filterGradient, g.filterCount, L.filterGradient),
                                         (.biasGradient, g.biasCount, L.biasGradient)],
                  rng: &rng, element: { loops.element($0, $1) })
    }

    /// Draws `count` distinct indices of each of `fields` (field, elements of the whole result, MATH.md's `L`)
    /// as above and evaluates `element(field, index)` → `(value, Σ|terms|)` at each, in parallel.
    init(count: Int, fields: [(Field, Int, Int)], rng: inout SeededGenerator,
         element: @escaping @Sendable (Field, Int) -> (Double, Double)) {
        for (field, total, terms) in fields {
            let indices = Self.draw(count, from: total, rng: &rng)
            var values = [Double](repeating: 0, count: indices.count)
            var magnitudes = [Double](repeating: 0, count: indices.count)
            values.withUnsafeMutableBufferPointer { v in
                magnitudes.withUnsafeMutableBufferPointer { m in
                    let out = SendableBox((v, m))
                    let chunks = min(Machine.processors, max(1, indices.count / 64))
                    DispatchQueue.concurrentPerform(iterations: chunks) { w in
                        for j in imageShare(indices.count, worker: w, of: chunks) {
                            let (value, magnitude) = element(field, indices[j])
                            out.value.0[j] = value
                            out.value.1[j] = magnitude
                        }
                    }
                }
            }
            byField[field] = Samples(indices: indices, values: values, magnitudes: magnitudes, terms: terms, total: total)
        }
    }

    private static func draw(_ count: Int, from total: Int, rng: inout SeededGenerator) -> [Int] {
        if total <= count { return Array(0..<total) }
        var chosen: Set<Int> = [0, total - 1]
        while chosen.count < count { chosen.insert(Int.random(in: 0..<total, using: &rng)) }
        return chosen.sorted()
    }

    /// These samples with the bound `plan` is checked with: unchanged for the algorithms that sum the exact
    /// products; for a Winograd algorithm, O (and dX on the col2im route, and dF by transform) get the
    /// transform bound's Mag (``ReferenceConvolution/winogradForwardMagnitudes(_:tileSize:input:filter:bias:at:)``)
    /// and its `L = Cs + 4α + 8` (``ErrorBound/termCounts(_:plan:)``). Mag is the same number in every layout: for an
    /// NHWC row it is computed on NCHW copies of the tensors, at the sampled elements' NCHW positions.
    func bounded(for plan: ConvPlan, _ t: LayerTensors<Double>) throws -> ReferenceSamples {
        guard let m = plan.algorithm.winogradTileSize else { return self }
        let g = t.geometry, L = ErrorBound.termCounts(g, plan: plan)
        let nchw = g.withLayout(.nchw), orders = g.orders
        var copy = self
        var o = self[.output]
        o.magnitudes = try orders.input.withChannelsFirst(t.input.readOnly) { x in
            try orders.filter.withChannelsFirst(t.filter.readOnly) { f in
                try ReferenceConvolution().winogradForwardMagnitudes(
                    nchw, tileSize: m, input: x, filter: f, bias: t.bias.readOnly,
                    at: o.indices.map { orders.output.channelsFirst(stored: $0) })
            }
        }
        o.terms = L.output
        copy.byField[.output] = o
        if plan.inputGradientAlgorithm == .col2im {
            var dX = self[.inputGradient]
            dX.magnitudes = try orders.filter.withChannelsFirst(t.filter.readOnly) { f in
                try orders.output.withChannelsFirst(t.outputGradient.readOnly) { dO in
                    try ReferenceConvolution().winogradInputGradientMagnitudes(
                        nchw, tileSize: m, filter: f, outputGradient: dO,
                        at: dX.indices.map { orders.input.channelsFirst(stored: $0) })
                }
            }
            dX.terms = L.inputGradient
            copy.byField[.inputGradient] = dX
        }
        if plan.filterGradientAlgorithm == .winograd {
            var dF = self[.filterGradient]
            dF.magnitudes = try orders.input.withChannelsFirst(t.input.readOnly) { x in
                try orders.output.withChannelsFirst(t.outputGradient.readOnly) { dO in
                    try ReferenceConvolution().winogradFilterGradientMagnitudes(
                        nchw, tileSize: m, input: x, outputGradient: dO,
                        at: dF.indices.map { orders.filter.channelsFirst(stored: $0) })
                }
            }
            dF.terms = L.filterGradient
            copy.byField[.filterGradient] = dF
        }
        return copy
    }

    /// Checks the sampled elements of `fields` in `t`'s outputs against MATH.md's bound for `T`.
    func check<T: ConvScalar>(_ t: LayerTensors<T>, fields: [Field]) -> [FieldCheck] {
        check(fields: fields) { field in
            switch field {
            case .output: return t.output
            case .inputGradient: return t.inputGradient
            case .filterGradient: return t.filterGradient
            case .biasGradient: return t.biasGradient
            }
        }
    }

    /// Checks the sampled elements of `fields` in the tensors `results` returns per field against MATH.md's
    /// bound for `T`.
    func check<T: ConvScalar>(fields: [Field], results: (Field) -> Tensor<T>) -> [FieldCheck] {
        fields.map { field in
            let s = self[field]
            let result = results(field)
            var worst = FieldCheck(field: field, precision: Precision(T.self), checked: s.indices.count,
                                   total: s.total, terms: s.terms, worstFraction: -1, worstIndex: 0,
                                   value: 0, reference: 0)
            for (j, i) in s.indices.enumerated() {
                let value = Double(result.buffer[i])
                var fraction = ErrorBound.fraction(value: value, reference: s.values[j], terms: s.terms,
                                                   magnitude: s.magnitudes[j], scalar: T.self)
                if fraction.isNaN { fraction = .infinity }
                if fraction > worst.worstFraction {
                    worst.worstFraction = fraction
                    worst.worstIndex = i
                    worst.value = value
                    worst.reference = s.values[j]
                }
            }
            worst.worstFraction = max(worst.worstFraction, 0)
            return worst
        }
    }
}

/// The verdict on one result in one precision: the worst sampled element as a fraction of MATH.md's bound
/// (`c·L·(ε·Σ|terms| + η)`, ``ErrorBound``); above 1 is a failure.
struct FieldCheck: Codable, Sendable {
    var field: Field
    var precision: Precision
    var checked: Int
    var total: Int
    var terms: Int
    var worstFraction: Double
    var worstIndex: Int
    var value: Double
    var reference: Double

    var passed: Bool { worstFraction <= 1 }
}

/// The element types the benchmark runs in.
enum Precision: String, Codable, Sendable, CaseIterable {
    case float, double

    init<T: ConvScalar>(_: T.Type) { self = T.self == Float.self ? .float : .double }
}

/// MATH.md's definitions, one element at a time, in Double, reading and indexing every tensor in the geometry's
/// layout through ``TensorOrder`` (the benchmark's own index arithmetic).
private struct DefinitionLoops: @unchecked Sendable {
    let g: ConvGeometry
    let x, f, b, dO: UnsafeBufferPointer<Double>
    /// Where X (and dX), F (and dF), O (and dO) keep element (image or filter, channel, position).
    let xo, fo, oo: TensorOrder

    init(g: ConvGeometry, x: UnsafeBufferPointer<Double>, f: UnsafeBufferPointer<Double>, b: UnsafeBufferPointer<Double>,
         dO: UnsafeBufferPointer<Double>) {
        self.g = g
        self.x = x; self.f = f; self.b = b; self.dO = dO
        (xo, fo, oo) = g.orders
    }

    /// `(value, Σ|terms|)` of element `i` of `field`.
    func element(_ field: Field, _ i: Int) -> (Double, Double) {
        switch field {
        case .output: return output(i)
        case .inputGradient: return inputGradient(i)
        case .filterGradient: return filterGradient(i)
        case .biasGradient: return biasGradient(i)
        }
    }

    // O[n,k,p,q] = B[k] + Σ_{c,r,s} F[k,c,r,s] · X[n, g(k)*Cg + c, p*sh - pt + r*dh, q*sw - pl + s*dw]
    private func output(_ i: Int) -> (Double, Double) {
        let Q = g.outputWidth, S = g.kernelWidth
        let (n, k, position) = oo.coordinates(i)
        let p = position / Q, q = position % Q
        let Cg = g.inputChannelsPerGroup, Kg = g.outputChannelsPerGroup
        var sum = Neumaier(b[k])
        var magnitude = abs(b[k])
        for c in 0..<Cg {
            let channel = (k / Kg) * Cg + c
            for r in 0..<g.kernelHeight {
                for s in 0..<S {
                    let term = f[fo.index(k, c, r * S + s)]
                        * xAt(n, channel, p * g.strideHeight - g.padding.top + r * g.dilationHeight,
                              q * g.strideWidth - g.padding.left + s * g.dilationWidth)
                    sum.add(term)
                    magnitude += abs(term)
                }
            }
        }
        return (sum.value, magnitude)
    }

    // dX[n,c',h,w] = Σ_{k in g(c')} Σ_{r,s} Σ_{(p,q): p*sh - pt + r*dh = h, q*sw - pl + s*dw = w} dO[n,k,p,q] · F[k, c'-g(c')Cg, r, s]
    private func inputGradient(_ i: Int) -> (Double, Double) {
        let W = g.inputWidth, S = g.kernelWidth
        let (n, c, position) = xo.coordinates(i)
        let h = position / W, w = position % W
        let Cg = g.inputChannelsPerGroup, Kg = g.outputChannelsPerGroup, group = c / Cg
        let P = g.outputHeight, Q = g.outputWidth
        var sum = Neumaier(0)
        var magnitude = 0.0
        for k in group * Kg..<(group + 1) * Kg {
            for r in 0..<g.kernelHeight {
                let ph = h + g.padding.top - r * g.dilationHeight
                guard ph >= 0, ph % g.strideHeight == 0, ph / g.strideHeight < P else { continue }
                let p = ph / g.strideHeight
                for s in 0..<S {
                    let qw = w + g.padding.left - s * g.dilationWidth
                    guard qw >= 0, qw % g.strideWidth == 0, qw / g.strideWidth < Q else { continue }
                    let q = qw / g.strideWidth
                    let term = dO[oo.index(n, k, p * Q + q)] * f[fo.index(k, c - group * Cg, r * S + s)]
                    sum.add(term)
                    magnitude += abs(term)
                }
            }
        }
        return (sum.value, magnitude)
    }

    // dF[k,c,r,s] = Σ_{n,p,q} dO[n,k,p,q] · X[n, g(k)*Cg + c, p*sh - pt + r*dh, q*sw - pl + s*dw]
    private func filterGradient(_ i: Int) -> (Double, Double) {
        let S = g.kernelWidth, Cg = g.inputChannelsPerGroup
        let (k, c, tap) = fo.coordinates(i)
        let r = tap / S, s = tap % S
        let channel = (k / g.outputChannelsPerGroup) * Cg + c
        let P = g.outputHeight, Q = g.outputWidth
        var sum = Neumaier(0)
        var magnitude = 0.0
        for n in 0..<g.batch {
            for p in 0..<P {
                let h = p * g.strideHeight - g.padding.top + r * g.dilationHeight
                guard h >= 0, h < g.inputHeight else { continue }  // padding rows: every term is 0
                for q in 0..<Q {
                    let term = dO[oo.index(n, k, p * Q + q)]
                        * xAt(n, channel, h, q * g.strideWidth - g.padding.left + s * g.dilationWidth)
                    sum.add(term)
                    magnitude += abs(term)
                }
            }
        }
        return (sum.value, magnitude)
    }

    // dB[k] = Σ_{n,p,q} dO[n,k,p,q]
    private func biasGradient(_ k: Int) -> (Double, Double) {
        let PQ = g.outputHeight * g.outputWidth
        var sum = Neumaier(0)
        var magnitude = 0.0
        for n in 0..<g.batch {
            for j in 0..<PQ {
                let v = dO[oo.index(n, k, j)]
                sum.add(v)
                magnitude += abs(v)
            }
        }
        return (sum.value, magnitude)
    }

    /// X[n, c, h, w], or 0 in the padding.
    @inline(__always)
    private func xAt(_ n: Int, _ c: Int, _ h: Int, _ w: Int) -> Double {
        guard h >= 0, h < g.inputHeight, w >= 0, w < g.inputWidth else { return 0 }
        return x[xo.index(n, c, h * g.inputWidth + w)]
    }
}

/// Neumaier's compensated sum: the error does not grow with the number of terms.
struct Neumaier {
    private var sum: Double
    private var compensation = 0.0
    init(_ first: Double) { sum = first }

    @inline(__always)
    mutating func add(_ v: Double) {
        let t = sum + v
        if abs(sum) >= abs(v) { compensation += (sum - t) + v } else { compensation += (v - t) + sum }
        sum = t
    }

    var value: Double { sum + compensation }
}
