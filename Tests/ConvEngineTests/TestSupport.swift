// Helpers shared by the test files: a seeded generator, random tensors, the reference results with their
// Σ|terms|, and the element-wise comparison against MATH.md's error bound.
import Foundation
import Testing
import ConvEngine

// MARK: - Random numbers

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny seeded generator whose sequence depends only on the seed,
/// so a printed seed reproduces a failing case. The integer and real helpers below avoid the standard
/// library's `random(in:using:)`, whose algorithm may change between toolchains.
struct SplitMix64: RandomNumberGenerator, Sendable {
    private(set) var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `range` (the modulo bias is below 2⁻⁵⁰ for the small ranges used here).
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
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

// MARK: - BLAS threads

/// Makes sure OpenBLAS has been set to one thread before a test runs a GEMM.
///
/// The library pins OpenBLAS to one thread, once per process, the first time an engine with more than one
/// worker is made, and never changes it again. Swift Testing runs tests in parallel, so without this the
/// first tests would run single-worker engines with multi-threaded BLAS while another test's engine flips
/// the setting, and bit-for-bit comparisons could differ in the last bits (NOTES.md). Every test that runs
/// an engine calls this first (through ``makeEngine(workers:algorithm:inputGradientAlgorithm:)`` or directly);
/// the test suite never calls `BLAS.setThreadCount` itself.
func pinBLASThreadsOnce() {
    _ = blasPinned
}

private let blasPinned: Bool = {
    // Safe: 2 is a valid worker count; making the engine is what pins BLAS (documented in ConvolutionEngine).
    _ = try! ConvolutionEngine(workers: 2)
    return true
}()

/// An engine, after ``pinBLASThreadsOnce()``.
func makeEngine(workers: Int, algorithm: ConvAlgorithm? = nil,
                inputGradientAlgorithm: InputGradientAlgorithm? = nil) throws -> ConvolutionEngine {
    pinBLASThreadsOnce()
    return try ConvolutionEngine(workers: workers, algorithm: algorithm, inputGradientAlgorithm: inputGradientAlgorithm)
}

/// Every plan a test should run on `g`: each algorithm that supports it × both input-gradient routes.
func allPlans(for g: ConvGeometry) -> [(ConvAlgorithm, InputGradientAlgorithm)] {
    ConvAlgorithm.allCases.filter { $0.supports(g) }.flatMap { a in InputGradientAlgorithm.allCases.map { (a, $0) } }
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

/// The reference's four results on one problem, in Double, with Σ|terms| per element.
struct ReferenceResults: Sendable {
    var output: [Double], outputMagnitudes: [Double]
    var inputGradient: [Double], inputGradientMagnitudes: [Double]
    var filterGradient: [Double], filterGradientMagnitudes: [Double]
    var biasGradient: [Double], biasGradientMagnitudes: [Double]

    /// Runs ``ReferenceConvolution`` in Double on `x`, `f`, `b`, `dO`.
    init(_ g: ConvGeometry, input x: [Double], filter f: [Double], bias b: [Double]?, outputGradient dO: [Double]) throws {
        let reference = ReferenceConvolution()
        (output, outputMagnitudes) = try reference.forwardWithMagnitudes(g, input: x, filter: f, bias: b)
        let (grads, mags) = try reference.backwardWithMagnitudes(g, input: x, filter: f, outputGradient: dO)
        inputGradient = grads.input!; inputGradientMagnitudes = mags.input!
        filterGradient = grads.filter!; filterGradientMagnitudes = mags.filter!
        biasGradient = grads.bias!; biasGradientMagnitudes = mags.bias!
    }
}

/// One random problem on a geometry: X, F, B, dO uniform in [-1, 1].
struct Problem: Sendable {
    var input: [Double], filter: [Double], bias: [Double], outputGradient: [Double]

    init(_ g: ConvGeometry, rng: inout SplitMix64) {
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

extension ReferenceResults {
    /// Checks one engine run's output and its three gradients against these results with
    /// ``checkWithinBound(_:reference:magnitudes:terms:tensor:shape:context:constant:sourceLocation:)``, one tensor
    /// at a time (O, dX, dF, dB).
    func checkRun<T: ConvScalar>(output: [T], inputGradient: [T], filterGradient: [T], biasGradient: [T],
                                 geometry g: ConvGeometry, context: CheckContext,
                                 sourceLocation: SourceLocation = #_sourceLocation) {
        let terms = ErrorBound.termCounts(g)
        checkWithinBound(output, reference: self.output, magnitudes: outputMagnitudes, terms: terms.output,
                         tensor: "O", shape: g.outputShape, context: context, sourceLocation: sourceLocation)
        checkWithinBound(inputGradient, reference: self.inputGradient, magnitudes: inputGradientMagnitudes,
                         terms: terms.inputGradient, tensor: "dX", shape: g.inputShape, context: context,
                         sourceLocation: sourceLocation)
        checkWithinBound(filterGradient, reference: self.filterGradient, magnitudes: filterGradientMagnitudes,
                         terms: terms.filterGradient, tensor: "dF", shape: g.filterShape, context: context,
                         sourceLocation: sourceLocation)
        checkWithinBound(biasGradient, reference: self.biasGradient, magnitudes: biasGradientMagnitudes,
                         terms: terms.biasGradient, tensor: "dB", shape: g.biasShape, context: context,
                         sourceLocation: sourceLocation)
    }
}

/// Compares `actual` (computed in `T`) element by element with `reference` using MATH.md's bound
/// (``ErrorBound/fraction(value:reference:terms:magnitude:scalar:constant:)`` with `T`'s epsilon), records
/// one issue naming the context, the tensor and the first failing element, and returns the largest fraction
/// of the bound seen (at most 1 when everything passes; `.infinity` for a length or finiteness mismatch).
@discardableResult
func checkWithinBound<T: ConvScalar>(
    _ actual: [T], reference: [Double], magnitudes: [Double], terms: Int,
    tensor: String, shape: [Int], context: CheckContext,
    constant: Double = ErrorBound.defaultConstant,
    sourceLocation: SourceLocation = #_sourceLocation
) -> Double {
    guard actual.count == reference.count, magnitudes.count == reference.count else {
        Issue.record("\(tensor): \(actual.count) elements, reference \(reference.count), magnitudes \(magnitudes.count) — \(context)",
                     sourceLocation: sourceLocation)
        return .infinity
    }
    var worst = 0.0
    var firstFailure: Int? = nil
    for i in actual.indices {
        let fraction = ErrorBound.fraction(value: Double(actual[i]), reference: reference[i], terms: terms,
                                           magnitude: magnitudes[i], scalar: T.self, constant: constant)
        // `!(fraction <= 1)` also catches a NaN fraction.
        if !(fraction <= 1) && firstFailure == nil { firstFailure = i }
        if fraction.isNaN { worst = .infinity } else { worst = max(worst, fraction) }
    }
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

/// Element-wise exact equality (`==`, so NaN never matches), recording the first mismatch.
func expectBitIdentical<T: ConvScalar>(_ actual: [T], _ expected: [T], _ what: String,
                                       sourceLocation: SourceLocation = #_sourceLocation) {
    guard actual.count == expected.count else {
        Issue.record("\(what): \(actual.count) elements, expected \(expected.count)", sourceLocation: sourceLocation)
        return
    }
    if let i = actual.indices.first(where: { j in actual[j] != expected[j] && !(actual[j].isNaN && expected[j].isNaN) }) {
        Issue.record("\(what)[\(i)] = \(actual[i]), expected \(expected[i]) bit for bit", sourceLocation: sourceLocation)
    }
}

// MARK: - Buffer helpers

/// The error `body` throws, or nil.
func thrownError(_ body: () throws -> Void) -> (any Error)? {
    do { try body(); return nil } catch { return error }
}

/// Calls `body` with mutable buffers over three optional arrays at once (nil stays nil).
func withMutableBuffers<T, R>(
    _ a: inout [T]?, _ b: inout [T]?, _ c: inout [T]?,
    _ body: (UnsafeMutableBufferPointer<T>?, UnsafeMutableBufferPointer<T>?, UnsafeMutableBufferPointer<T>?) throws -> R
) rethrows -> R {
    func one(_ x: inout [T]?, _ f: (UnsafeMutableBufferPointer<T>?) throws -> R) rethrows -> R {
        guard var array = x else { return try f(nil) }
        x = nil
        defer { x = array }
        return try array.withUnsafeMutableBufferPointer { try f($0) }
    }
    return try one(&a) { pa in try one(&b) { pb in try one(&c) { pc in try body(pa, pb, pc) } } }
}

/// The start of a workspace's memory, read by reflection (``ConvWorkspace`` does not expose it), so a test can
/// hand the engine an output buffer that overlaps the workspace. `nil` if the stored property is not found.
func workspaceStorage<T: ConvScalar>(_ workspace: ConvWorkspace<T>) -> UnsafeMutablePointer<T>? {
    for child in Mirror(reflecting: workspace).children {
        if let p = child.value as? UnsafeMutablePointer<T> { return p }
    }
    return nil
}

/// The folder of the golden files, next to this source file.
let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
