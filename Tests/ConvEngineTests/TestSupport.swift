// Helpers shared by the test files: the test-scale switch, seeded random data, geometry shorthands, the
// reference results with their Σ|terms|, the element-wise comparison against MATH.md's error bound, bit-for-bit
// comparison and the ConvError kind of a thrown error. Running engines on buffers is in RunSupport.swift.
import Foundation
import Testing
import ConvEngine

// MARK: - Scale

/// How big the sweeps are, from `CONVENGINE_TEST_SCALE`: `small` (used by `make sanitize`, where every memory
/// access is instrumented) shrinks them roughly tenfold, `full` runs the long versions (minutes), anything else
/// (what `make test` runs) the default size.
enum TestScale {
    static let setting: String = ProcessInfo.processInfo.environment["CONVENGINE_TEST_SCALE"]?.lowercased() ?? ""
    static let isSmall: Bool = setting == "small"
    static let isFull: Bool = setting == "full"

    /// `normal` by default, `small` under `CONVENGINE_TEST_SCALE=small`, `full` (if given) under `=full`.
    static func pick(normal: Int, small: Int, full: Int? = nil) -> Int {
        isSmall ? small : isFull ? (full ?? normal) : normal
    }
}

// MARK: - Random numbers

/// The tests draw everything from the library's ``SeededGenerator`` (SplitMix64), so a printed seed reproduces
/// a failing case. The integer and real helpers below avoid the standard library's `random(in:using:)`, whose
/// algorithm may change between toolchains.
extension SeededGenerator {
    /// An independent stream for case `index` of a sweep seeded with `seed`.
    init(seed: UInt64, index: Int) {
        var mixer = SeededGenerator(seed: seed ^ (UInt64(truncatingIfNeeded: index) &* 0xD134_2543_DE82_EF95))
        self.init(seed: mixer.next())
    }

    /// Uniform in `range` (the modulo bias is below 2⁻⁵⁰ for the small ranges used here; any range works).
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        let span = UInt64(bitPattern: Int64(range.upperBound &- range.lowerBound)) &+ 1
        if span == 0 { return Int(truncatingIfNeeded: next()) }  // the whole Int range
        return range.lowerBound &+ Int(truncatingIfNeeded: next() % span)
    }

    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool { unit() < p }

    /// Uniform in [0, 1) with 53 random bits.
    mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform in `range`.
    mutating func double(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * unit()
    }

    /// One element of `choices`.
    mutating func pick<T>(_ choices: [T]) -> T { choices[int(0...(choices.count - 1))] }

    /// `count` values uniform in `range`.
    mutating func array(_ count: Int, in range: ClosedRange<Double> = -1...1) -> [Double] {
        (0..<count).map { _ in double(range) }
    }

    /// `count` values uniform in [-1, 1], about one in eight exactly zero (so 0·∞ also happens inside the image).
    mutating func values(_ count: Int) -> [Double] {
        (0..<count).map { _ in chance(0.125) ? 0 : double(-1...1) }
    }

    /// `count` dyadic values `i/denominator` in [-1, 1]: few significant bits, so sums and products of a
    /// handful of them are exact in Double (used where a test wants rounding out of the way).
    mutating func dyadicArray(_ count: Int, denominator: Int = 64) -> [Double] {
        (0..<count).map { _ in Double(int(-denominator...denominator)) / Double(denominator) }
    }
}

// MARK: - Scalars

/// `values` converted to the engine scalar `T` (rounded to nearest for `Float`).
func converted<T: ConvScalar>(_ values: [Double], to _: T.Type) -> [T] { values.map { T($0) } }

/// `values` widened to Double (exact).
func widened<T: ConvScalar>(_ values: [T]) -> [Double] { values.map { Double($0) } }

/// `values` rounded to `T` and widened back: the exact inputs a `T` run sees, for the Double reference.
func roundedThrough<T: ConvScalar>(_ values: [Double], _: T.Type) -> [Double] { values.map { Double(T($0)) } }

/// Σ aᵢ·bᵢ in Double, and Σ |aᵢ·bᵢ| (the scale of its rounding error).
func dot(_ a: [Double], _ b: [Double]) -> (value: Double, magnitude: Double) {
    precondition(a.count == b.count, "dot of \(a.count) and \(b.count) elements")
    var s = 0.0, m = 0.0
    for i in a.indices { s += a[i] * b[i]; m += abs(a[i] * b[i]) }
    return (s, m)
}

// MARK: - Geometry helpers

extension ConvGeometry {
    /// Shorthand for tests: explicit padding (top, bottom, left, right).
    init(n: Int, c: Int, h: Int, w: Int, k: Int, r: Int, s: Int, stride: (Int, Int) = (1, 1),
         pad: (Int, Int, Int, Int) = (0, 0, 0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1) throws {
        try self.init(batch: n, inputChannels: c, inputHeight: h, inputWidth: w, outputChannels: k,
                      kernelHeight: r, kernelWidth: s, strideHeight: stride.0, strideWidth: stride.1,
                      padding: .explicit(Padding(top: pad.0, bottom: pad.1, left: pad.2, right: pad.3)),
                      dilationHeight: dilation.0, dilationWidth: dilation.1, groups: groups)
    }

    var inputShape: [Int] { [batch, inputChannels, inputHeight, inputWidth] }
    var filterShape: [Int] { [outputChannels, inputChannelsPerGroup, kernelHeight, kernelWidth] }
    var biasShape: [Int] { [outputChannels] }
    var outputShape: [Int] { [batch, outputChannels, outputHeight, outputWidth] }
}

// MARK: - Reference results

/// The four results of one forward call and one backward call with all three gradients, in a fixed order.
struct ConvResults<T: ConvScalar>: Sendable {
    var output: [T]
    var inputGradient: [T]
    var filterGradient: [T]
    var biasGradient: [T]

    /// The results as (name, values) pairs: O, dX, dF, dB.
    var named: [(String, [T])] {
        [("O", output), ("dX", inputGradient), ("dF", filterGradient), ("dB", biasGradient)]
    }
}

/// The reference's four results on one problem, in Double, with Σ|terms| per element.
struct ReferenceResults: Sendable {
    var output: [Double], outputMagnitudes: [Double]
    var inputGradient: [Double], inputGradientMagnitudes: [Double]
    var filterGradient: [Double], filterGradientMagnitudes: [Double]
    var biasGradient: [Double], biasGradientMagnitudes: [Double]

    /// The operands the results were computed from (``bounded(for:route:geometry:)`` needs them for Mag).
    var operands: (input: [Double], filter: [Double], bias: [Double]?, outputGradient: [Double])
    /// L of each result in the order of ``ConvResults/named``, when not ``termCountsInOrder(_:)`` (a transform plan).
    var terms: [Int]? = nil

    /// Runs ``ReferenceConvolution`` in Double on `x`, `f`, `b`, `dO`.
    init(_ g: ConvGeometry, input x: [Double], filter f: [Double], bias b: [Double]?, outputGradient dO: [Double]) throws {
        operands = (x, f, b, dO)
        let reference = ReferenceConvolution()
        (output, outputMagnitudes) = try reference.forwardWithMagnitudes(g, input: x, filter: f, bias: b)
        let (grads, mags) = try reference.backwardWithMagnitudes(g, input: x, filter: f, outputGradient: dO)
        inputGradient = grads.input!; inputGradientMagnitudes = mags.input!
        filterGradient = grads.filter!; filterGradientMagnitudes = mags.filter!
        biasGradient = grads.bias!; biasGradientMagnitudes = mags.bias!
    }

    /// These results with the bound a run of `algorithm` and `route` is checked with: unchanged for the
    /// algorithms that sum the exact products; for a Winograd algorithm, the transform bound's Mag (computed
    /// by the reference, in Double) and `Cs + 4α + 8` for O, and for dX when `route` is ``InputGradientAlgorithm/col2im``
    /// (the full-convolution route sums products).
    ///
    /// `filterGradient`: how the run computed dF (`nil`: as an engine forcing `algorithm` plans it); with
    /// ``FilterGradientAlgorithm/winograd``, dF is checked with the transform bound too.
    func bounded(for algorithm: ConvAlgorithm, route: InputGradientAlgorithm, geometry g: ConvGeometry,
                 filterGradient: FilterGradientAlgorithm? = nil) -> ReferenceResults {
        guard let m = algorithm.winogradTileSize else { return self }
        var r = self
        let reference = ReferenceConvolution()
        let way = filterGradient
            ?? (try? ConvolutionEngine(workers: 1, algorithm: algorithm).plan(for: g).filterGradientAlgorithm) ?? .sumOfProducts
        var plan = ConvPlan(algorithm: algorithm, inputGradientAlgorithm: route, workers: 1, tile: .images(1))
        plan.filterGradientAlgorithm = way
        let t = ErrorBound.termCounts(g, plan: plan), sums = ErrorBound.termCounts(g)
        do {
            if way == .winograd {
                r.filterGradientMagnitudes = try reference.winogradFilterGradientMagnitudes(
                    g, tileSize: m, input: operands.input, outputGradient: operands.outputGradient)
            }
            r.outputMagnitudes = try reference.winogradForwardMagnitudes(g, tileSize: m, input: operands.input,
                                                                       filter: operands.filter, bias: operands.bias)
            if route == .col2im {
                r.inputGradientMagnitudes = try reference.winogradInputGradientMagnitudes(
                    g, tileSize: m, filter: operands.filter, outputGradient: operands.outputGradient)
            }
        } catch {
            Issue.record("transform magnitudes of \(algorithm) on \(g): \(error)")
        }
        r.terms = [t.output, route == .col2im ? t.inputGradient : sums.inputGradient, t.filterGradient, t.biasGradient]
        return r
    }

    /// ``bounded(for:route:geometry:)`` for the plan `backend` runs `g` with in `scalar` (unchanged for the
    /// reference, which sums the exact products).
    func bounded<T: ConvScalar>(for backend: any ConvolutionBackend, geometry g: ConvGeometry, scalar: T.Type) -> ReferenceResults {
        guard let engine = backend as? ConvolutionEngine, let plan = try? engine.plan(for: g, scalar: scalar) else { return self }
        return bounded(for: plan.algorithm, route: plan.inputGradientAlgorithm, geometry: g,
                       filterGradient: plan.filterGradientAlgorithm)
    }

    /// L of each result in the order of ``ConvResults/named``.
    func termCounts(_ g: ConvGeometry) -> [Int] { terms ?? termCountsInOrder(g) }

    /// The four results.
    var values: ConvResults<Double> {
        ConvResults(output: output, inputGradient: inputGradient, filterGradient: filterGradient, biasGradient: biasGradient)
    }
    /// Σ|terms| of each element of ``values``.
    var magnitudes: ConvResults<Double> {
        ConvResults(output: outputMagnitudes, inputGradient: inputGradientMagnitudes,
                    filterGradient: filterGradientMagnitudes, biasGradient: biasGradientMagnitudes)
    }
}

/// One random problem on a geometry: X, F, B, dO uniform in [-1, 1].
struct Problem: Sendable {
    var input: [Double], filter: [Double], bias: [Double], outputGradient: [Double]

    init(_ g: ConvGeometry, rng: inout SeededGenerator) {
        input = rng.array(g.inputCount)
        filter = rng.array(g.filterCount)
        bias = rng.array(g.outputChannels)
        outputGradient = rng.array(g.outputCount)
    }

    init(input: [Double], filter: [Double], bias: [Double], outputGradient: [Double]) {
        self.input = input; self.filter = filter; self.bias = bias; self.outputGradient = outputGradient
    }

    /// The same problem as a `T` run sees it (every value rounded to `T`), still stored in Double.
    func rounded<T: ConvScalar>(to _: T.Type) -> Problem {
        Problem(input: roundedThrough(input, T.self), filter: roundedThrough(filter, T.self),
                bias: roundedThrough(bias, T.self), outputGradient: roundedThrough(outputGradient, T.self))
    }
}

// MARK: - Comparison against the reference

/// What is being compared, printed with the first failing element so the case can be rerun.
struct CheckContext: Sendable, CustomStringConvertible {
    var seed: UInt64? = nil
    var geometry: ConvGeometry
    var plan: String
    var scalar: String

    var description: String {
        var parts: [String] = []
        if let seed { parts.append("seed 0x\(String(seed, radix: 16))") }
        parts.append("geometry \(geometry)")
        parts.append("plan \(plan)")
        parts.append("scalar \(scalar)")
        return parts.joined(separator: ", ")
    }
}

/// `index` of a row-major tensor of `shape` as a multi-index, e.g. `[0, 2, 1, 3]`.
func multiIndex(_ index: Int, shape: [Int]) -> [Int] {
    var rest = index
    var result = [Int](repeating: 0, count: shape.count)
    for axis in shape.indices.reversed() where shape[axis] > 0 {
        result[axis] = rest % shape[axis]
        rest /= shape[axis]
    }
    return result
}

/// L per result, in the order of ``ConvResults/named``.
func termCountsInOrder(_ g: ConvGeometry) -> [Int] {
    let t = ErrorBound.termCounts(g)
    return [t.output, t.inputGradient, t.filterGradient, t.biasGradient]
}

/// The shapes of the results, in the order of ``ConvResults/named``.
func resultShapesInOrder(_ g: ConvGeometry) -> [[Int]] { [g.outputShape, g.inputShape, g.filterShape, g.biasShape] }

/// The worst `|actual - reference| / bound` (MATH.md's bound with `T`'s epsilon) and the first element above 1,
/// or nil when all pass. Different lengths are a failure at element 0 with fraction `.infinity`; a NaN fraction
/// counts as `.infinity`.
func worstFraction<T: ConvScalar>(_ actual: [T], reference: [Double], magnitudes: [Double], terms: Int,
                                  constant: Double = ErrorBound.defaultConstant) -> (worst: Double, firstFailure: Int?) {
    guard actual.count == reference.count, magnitudes.count == reference.count else { return (.infinity, 0) }
    var worst = 0.0
    var first: Int?
    for i in actual.indices {
        let fraction = ErrorBound.fraction(value: Double(actual[i]), reference: reference[i], terms: terms,
                                           magnitude: magnitudes[i], scalar: T.self, constant: constant)
        // `!(fraction <= 1)` also catches a NaN fraction.
        if !(fraction <= 1) && first == nil { first = i }
        worst = fraction.isNaN ? .infinity : max(worst, fraction)
    }
    return (worst, first)
}

/// Compares `actual` (computed in `T`) element by element with `reference` using MATH.md's bound
/// (``ErrorBound/fraction(value:reference:terms:magnitude:scalar:constant:)`` with `T`'s epsilon), records
/// one issue naming the context, the tensor and the first failing element, and returns the largest fraction
/// of the bound seen (at most 1 when everything passes; `.infinity` for a length or finiteness mismatch).
@discardableResult
func checkWithinBound<T: ConvScalar>(
    _ actual: [T], reference: [Double], magnitudes: [Double], terms: Int,
    tensor: String, shape: [Int], context: some CustomStringConvertible,
    constant: Double = ErrorBound.defaultConstant,
    sourceLocation: SourceLocation = #_sourceLocation
) -> Double {
    guard actual.count == reference.count, magnitudes.count == reference.count else {
        Issue.record("\(tensor): \(actual.count) elements, reference \(reference.count), magnitudes \(magnitudes.count) — \(context)",
                     sourceLocation: sourceLocation)
        return .infinity
    }
    let (worst, firstFailure) = worstFraction(actual, reference: reference, magnitudes: magnitudes, terms: terms,
                                              constant: constant)
    if let i = firstFailure {
        let bound = ErrorBound.bound(terms: terms, magnitude: magnitudes[i], scalar: T.self, constant: constant)
        Issue.record("""
            \(tensor)\(multiIndex(i, shape: shape)) (flat \(i)) = \(actual[i]), reference \(reference[i]), \
            |diff| \(abs(Double(actual[i]) - reference[i])) > bound \(bound) (L = \(terms), Σ|terms| = \(magnitudes[i])) \
            — \(context)
            """, sourceLocation: sourceLocation)
    }
    return worst
}

/// The golden tests' second criterion beside the element-wise bound: `max|actual - golden|` over the tensor at most
/// `relative` (1e-10) of `max|golden|`, so a Double result that stays inside a loose bound on a few elements but
/// drifts from PyTorch as a whole is caught too. Records one issue naming the tensor, the worst element and the
/// context; returns the worst difference over `max|golden|` (`.infinity` for a length mismatch or a NaN).
@discardableResult
func checkCloseToGolden(_ actual: [Double], golden: [Double], tensor: String, context: some CustomStringConvertible,
                        relative: Double = 1e-10, sourceLocation: SourceLocation = #_sourceLocation) -> Double {
    guard actual.count == golden.count else {
        Issue.record("\(tensor): \(actual.count) elements, PyTorch \(golden.count) — \(context)", sourceLocation: sourceLocation)
        return .infinity
    }
    let scale = golden.map { abs($0) }.max() ?? 0
    var worst = 0.0, worstIndex = 0
    for i in actual.indices {
        let d = abs(actual[i] - golden[i])
        // `!(d <= worst)` also takes a NaN difference as the worst.
        if !(d <= worst) { worst = d.isNaN ? .infinity : d; worstIndex = i }
    }
    if worst > relative * scale {
        Issue.record("""
            \(tensor)[\(worstIndex)] = \(actual[worstIndex]), PyTorch \(golden[worstIndex]): max |diff| \(worst) \
            > \(relative) · max|PyTorch| (\(scale)) — \(context)
            """, sourceLocation: sourceLocation)
    }
    return scale > 0 ? worst / scale : (worst == 0 ? 0 : .infinity)
}

extension ReferenceResults {
    /// Checks one run's four results against these with
    /// ``checkWithinBound(_:reference:magnitudes:terms:tensor:shape:context:constant:sourceLocation:)``, one tensor
    /// at a time (O, dX, dF, dB; those named in `skip` are not compared). Returns the worst fraction of the bound.
    @discardableResult
    func check<T: ConvScalar>(_ results: ConvResults<T>, geometry g: ConvGeometry, context: some CustomStringConvertible,
                              skip: Set<String> = [], sourceLocation: SourceLocation = #_sourceLocation) -> Double {
        let terms = termCounts(g), shapes = resultShapesInOrder(g)
        let refs = values.named, mags = magnitudes.named
        var worst = 0.0
        for (i, (name, actual)) in results.named.enumerated() where !skip.contains(name) {
            worst = max(worst, checkWithinBound(actual, reference: refs[i].1, magnitudes: mags[i].1, terms: terms[i],
                                                tensor: name, shape: shapes[i], context: context,
                                                sourceLocation: sourceLocation))
        }
        return worst
    }

    /// ``check(_:geometry:context:skip:sourceLocation:)`` on four separate arrays.
    func checkRun<T: ConvScalar>(output: [T], inputGradient: [T], filterGradient: [T], biasGradient: [T],
                                 geometry g: ConvGeometry, context: CheckContext,
                                 sourceLocation: SourceLocation = #_sourceLocation) {
        check(ConvResults(output: output, inputGradient: inputGradient, filterGradient: filterGradient,
                          biasGradient: biasGradient), geometry: g, context: context, sourceLocation: sourceLocation)
    }
}

// MARK: - Bits and element-wise equality

extension ConvScalar {
    /// The raw bits, widened to 64 (Float and Double are the only conformers).
    var bits64: UInt64 {
        if let f = self as? Float { return UInt64(f.bitPattern) }
        if let d = self as? Double { return d.bitPattern }
        return 0
    }
}

/// True when `a` and `b` have the same length and `same` holds for every pair of elements. (A bare
/// `zip(a, b).allSatisfy` stops at the shorter array, so it passes on arrays of different lengths.)
func elementsMatch<A, B>(_ a: [A], _ b: [B], _ same: (A, B) -> Bool) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy(same)
}

/// True when `a` and `b` have the same length and every element has the same bit pattern.
func sameBits<T: ConvScalar>(_ a: [T], _ b: [T]) -> Bool { elementsMatch(a, b) { $0.bits64 == $1.bits64 } }

/// The first result in which `a` and `b` differ in length or in any element's bits, described; nil when identical.
func firstBitDifference<T: ConvScalar>(_ a: ConvResults<T>, _ b: ConvResults<T>) -> String? {
    for ((name, x), (_, y)) in zip(a.named, b.named) {  // both always have the same four results
        guard x.count == y.count else { return "\(name): \(x.count) vs \(y.count) elements" }
        if let i = x.indices.first(where: { x[$0].bits64 != y[$0].bits64 }) { return "\(name)[\(i)]: \(x[i]) vs \(y[i])" }
    }
    return nil
}

/// Element-wise bit-for-bit equality (the same NaN payload matches, 0 and -0 do not), recording the first mismatch.
func expectBitIdentical<T: ConvScalar>(_ actual: [T], _ expected: [T], _ what: String,
                                       sourceLocation: SourceLocation = #_sourceLocation) {
    guard actual.count == expected.count else {
        Issue.record("\(what): \(actual.count) elements, expected \(expected.count)", sourceLocation: sourceLocation)
        return
    }
    if let i = actual.indices.first(where: { actual[$0].bits64 != expected[$0].bits64 }) {
        Issue.record("\(what)[\(i)] = \(actual[i]), expected \(expected[i]) bit for bit", sourceLocation: sourceLocation)
    }
}

// MARK: - Errors

/// The error `body` throws, or nil.
func thrownError(_ body: () throws -> Void) -> (any Error)? {
    do { try body(); return nil } catch { return error }
}

/// The `ConvError` case name of `error` (`"bufferLength"`, …), or `"other: …"` for anything else. Read by
/// reflection, so that a new case added to `ConvError` does not break the tests.
func errorKind(_ error: any Error) -> String {
    guard let e = error as? ConvError else { return "other: \(type(of: error)) \(error)" }
    return Mirror(reflecting: e).children.first?.label ?? "\(e)"
}

/// Every case of `ConvError`, by name (what the hostile sweep must provoke at least once).
let allConvErrorKinds = [
    "nonPositive", "negativePadding", "notDivisibleByGroups", "kernelLargerThanPaddedInput",
    "samePaddingRequiresUnitStride", "sizeOverflow", "blasDimensionTooLarge", "bufferLength",
    "overlappingBuffers", "gradientLength", "missingBuffer", "algorithmNotApplicable", "workspaceCapTooSmall", "invalidArgument",
]

/// The folder of the golden files, next to this source file.
let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
