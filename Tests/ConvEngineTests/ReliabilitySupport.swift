// Helpers for the reliability tests (Hostile*, Concurrency*, Determinism*, IEEE*, MemoryTests*): a seeded
// generator, the test-scale switch, plan enumeration, the reference in Double with Σ|terms|, element-wise
// comparison against MATH.md's bound, bit-for-bit comparison and the ConvError kind of a thrown error.
// Every name starts with `Rel`/`rel` so nothing collides with TestSupport.swift (owned by another file set).
import Foundation
import Testing
import ConvEngine

// MARK: - Scale

/// How big the reliability sweeps are. `CONVENGINE_TEST_SCALE=small` (used by `make sanitize`, where every
/// memory access is instrumented) shrinks them roughly tenfold; anything else runs the full size.
enum RelScale {
    static let isSmall: Bool = ProcessInfo.processInfo.environment["CONVENGINE_TEST_SCALE"]?.lowercased() == "small"

    /// `full` normally, `small` under `CONVENGINE_TEST_SCALE=small`.
    static func pick(full: Int, small: Int) -> Int { isSmall ? small : full }
}

// MARK: - Random numbers

/// SplitMix64: a seeded generator whose sequence depends only on the seed, so a printed seed (and case
/// number) reproduces a failure.
struct RelRNG: RandomNumberGenerator, Sendable {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    /// An independent stream for case `index` of a sweep seeded with `seed`.
    init(seed: UInt64, index: Int) {
        var mixer = RelRNG(seed: seed ^ (UInt64(truncatingIfNeeded: index) &* 0xD134_2543_DE82_EF95))
        state = mixer.next()
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `range` (small ranges: the modulo bias is negligible).
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        let span = UInt64(bitPattern: Int64(range.upperBound &- range.lowerBound)) &+ 1
        if span == 0 { return Int(truncatingIfNeeded: next()) }  // the whole Int range
        return range.lowerBound &+ Int(truncatingIfNeeded: next() % span)
    }

    mutating func chance(_ p: Double) -> Bool { unit() < p }

    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    mutating func double(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * unit()
    }

    mutating func pick<T>(_ choices: [T]) -> T { choices[int(0...(choices.count - 1))] }

    /// `count` values uniform in [-1, 1], about one in eight exactly zero (so 0·∞ also happens inside the image).
    mutating func values(_ count: Int) -> [Double] {
        (0..<count).map { _ in chance(0.125) ? 0 : double(-1...1) }
    }
}

// MARK: - BLAS threads and plans

/// Pins OpenBLAS to one thread (once per process) before any bit-for-bit comparison: the library does it when
/// the first engine with more than one worker is made, and the tests never change it afterwards.
func relPinBLAS() {
    _ = relPinned
}

private let relPinned: Bool = {
    // Safe: 2 is a valid worker count.
    _ = try! ConvolutionEngine(workers: 2)
    return true
}()

/// One way to run a call: forced algorithm, input-gradient route and worker count.
struct RelPlan: Sendable, CustomStringConvertible, Hashable {
    var algorithm: ConvAlgorithm
    var inputGradient: InputGradientAlgorithm
    var workers: Int

    func engine(workspaceLimit: Int? = nil) throws -> ConvolutionEngine {
        relPinBLAS()
        return try ConvolutionEngine(workers: workers, algorithm: algorithm, inputGradientAlgorithm: inputGradient,
                                     workspaceLimit: workspaceLimit)
    }

    var description: String { "\(algorithm)+\(inputGradient)×\(workers)" }
}

/// Every plan for `g`: each algorithm that supports it × both input-gradient routes × the worker counts.
func relPlans(for g: ConvGeometry, workers: [Int] = [1, 2, 3]) -> [RelPlan] {
    var plans: [RelPlan] = []
    for a in ConvAlgorithm.allCases where a.supports(g) {
        for ig in InputGradientAlgorithm.allCases {
            for w in workers { plans.append(RelPlan(algorithm: a, inputGradient: ig, workers: w)) }
        }
    }
    return plans
}

// MARK: - Running a problem

/// The four results of one call set (forward, then backward with all three gradients).
struct RelResults<T: ConvScalar>: Sendable {
    var output: [T]
    var inputGradient: [T]
    var filterGradient: [T]
    var biasGradient: [T]

    /// The results as (name, values) pairs, in a fixed order.
    var named: [(String, [T])] {
        [("O", output), ("dX", inputGradient), ("dF", filterGradient), ("dB", biasGradient)]
    }
}

/// Runs forward and backward (all gradients) through the buffer API with the caller's workspace.
func relRun<T: ConvScalar>(
    _ backend: some ConvolutionBackend, _ g: ConvGeometry, x: [T], f: [T], b: [T]?, dO: [T],
    workspace: ConvWorkspace<T>
) throws -> RelResults<T> {
    var o = [T](repeating: 0, count: g.outputCount)
    var dX = [T](repeating: 0, count: g.inputCount)
    var dF = [T](repeating: 0, count: g.filterCount)
    var dB = [T](repeating: 0, count: g.outputChannels)
    try x.withUnsafeBufferPointer { xp in
        try f.withUnsafeBufferPointer { fp in
            try dO.withUnsafeBufferPointer { dOp in
                try o.withUnsafeMutableBufferPointer { op in
                    if let b {
                        try b.withUnsafeBufferPointer { bp in
                            try backend.forward(g, input: xp, filter: fp, bias: bp, output: op, workspace: workspace)
                        }
                    } else {
                        try backend.forward(g, input: xp, filter: fp, bias: nil, output: op, workspace: workspace)
                    }
                }
                try dX.withUnsafeMutableBufferPointer { dXp in
                    try dF.withUnsafeMutableBufferPointer { dFp in
                        try dB.withUnsafeMutableBufferPointer { dBp in
                            try backend.backward(g, input: xp, filter: fp, outputGradient: dOp, inputGradient: dXp,
                                                 filterGradient: dFp, biasGradient: dBp, workspace: workspace)
                        }
                    }
                }
            }
        }
    }
    return RelResults(output: o, inputGradient: dX, filterGradient: dF, biasGradient: dB)
}

/// The reference's results in Double and Σ|terms| per element, on inputs given in Double.
struct RelReference: Sendable {
    var values: RelResults<Double>
    var magnitudes: RelResults<Double>

    init(_ g: ConvGeometry, x: [Double], f: [Double], b: [Double]?, dO: [Double]) throws {
        let r = ReferenceConvolution()
        let (o, mo) = try r.forwardWithMagnitudes(g, input: x, filter: f, bias: b)
        let (gr, mg) = try r.backwardWithMagnitudes(g, input: x, filter: f, outputGradient: dO)
        values = RelResults(output: o, inputGradient: gr.input!, filterGradient: gr.filter!, biasGradient: gr.bias!)
        magnitudes = RelResults(output: mo, inputGradient: mg.input!, filterGradient: mg.filter!, biasGradient: mg.bias!)
    }
}

/// L per result, in the order of ``RelResults/named``.
func relTermCounts(_ g: ConvGeometry) -> [Int] {
    let t = ErrorBound.termCounts(g)
    return [t.output, t.inputGradient, t.filterGradient, t.biasGradient]
}

/// The worst `|engine - reference| / bound` over `values`, and the first element above 1 (if any).
/// Non-finite values agree only when both are NaN or both the same infinity.
func relWorstFraction<T: ConvScalar>(
    _ values: [T], reference: [Double], magnitudes: [Double], terms: Int, scalar: T.Type = T.self
) -> (worst: Double, firstFailure: Int?) {
    var worst = 0.0
    var first: Int?
    for i in values.indices {
        let fr = ErrorBound.fraction(value: Double(values[i]), reference: reference[i], terms: terms,
                                     magnitude: magnitudes[i], scalar: T.self)
        worst = max(worst, fr)
        if fr > 1, first == nil { first = i }
    }
    return (worst, first)
}

/// Compares every result of `results` with the reference; records one issue per failing result.
/// Returns the worst fraction of the bound seen.
@discardableResult
func relExpectWithinBound<T: ConvScalar>(
    _ results: RelResults<T>, _ reference: RelReference, _ g: ConvGeometry, skip: Set<String> = [],
    _ context: @autoclosure () -> String, sourceLocation: SourceLocation = #_sourceLocation
) -> Double {
    let terms = relTermCounts(g)
    let refs = reference.values.named, mags = reference.magnitudes.named
    var worst = 0.0
    for (i, (name, values)) in results.named.enumerated() where !skip.contains(name) {
        let (w, first) = relWorstFraction(values, reference: refs[i].1, magnitudes: mags[i].1, terms: terms[i])
        worst = max(worst, w)
        if let first {
            let message = "\(context()): \(name)[\(first)] = \(values[first]), reference \(refs[i].1[first]) "
                + "(Σ|terms| \(mags[i].1[first]), L \(terms[i]))"
            Issue.record("\(message)", sourceLocation: sourceLocation)
        }
    }
    return worst
}

// MARK: - Bits

/// True when `a` and `b` have the same length and every element has the same bit pattern.
func relSameBits<T: ConvScalar>(_ a: [T], _ b: [T]) -> Bool {
    guard a.count == b.count else { return false }
    for i in a.indices where a[i].relBits != b[i].relBits { return false }
    return true
}

/// True when every result of `a` is bit-identical to the same result of `b`; otherwise the first difference.
func relFirstBitDifference<T: ConvScalar>(_ a: RelResults<T>, _ b: RelResults<T>) -> String? {
    for ((name, x), (_, y)) in zip(a.named, b.named) {
        guard x.count == y.count else { return "\(name): \(x.count) vs \(y.count) elements" }
        for i in x.indices where x[i].relBits != y[i].relBits {
            return "\(name)[\(i)]: \(x[i]) vs \(y[i])"
        }
    }
    return nil
}

extension ConvScalar {
    /// The raw bits, widened to 64 (Float and Double are the only conformers).
    var relBits: UInt64 {
        if let f = self as? Float { return UInt64(f.bitPattern) }
        if let d = self as? Double { return d.bitPattern }
        return 0
    }
}

// MARK: - Errors

/// The `ConvError` case name of `error` (`"bufferLength"`, …), or `"other: …"` for anything else. Read by
/// reflection, so that a new case added to `ConvError` does not break this file.
func relErrorKind(_ error: any Error) -> String {
    guard let e = error as? ConvError else { return "other: \(type(of: error)) \(error)" }
    return Mirror(reflecting: e).children.first?.label ?? "\(e)"
}

/// Every case of `ConvError`, by name (what the hostile sweep must provoke at least once).
let relAllConvErrorKinds = [
    "nonPositive", "negativePadding", "notDivisibleByGroups", "kernelLargerThanPaddedInput",
    "samePaddingRequiresUnitStride", "sizeOverflow", "blasDimensionTooLarge", "bufferLength",
    "overlappingBuffers", "missingBuffer", "algorithmNotApplicable", "workspaceCapTooSmall", "invalidArgument",
]
