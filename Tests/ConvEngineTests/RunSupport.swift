// Helpers for running engines in tests: OpenBLAS pinned to one thread once per process, the plans to force on a
// geometry, one forward+backward call set through the buffer API, and the buffer plumbing around optional arrays.
import Foundation
import Testing
import ConvEngine

// MARK: - BLAS threads

/// Makes sure OpenBLAS has been set to one thread before a test runs a GEMM.
///
/// The library pins OpenBLAS to one thread, once per process, the first time an engine with more than one
/// worker is made, and never changes it again. Swift Testing runs tests in parallel, so without this the
/// first tests would run single-worker engines with multi-threaded BLAS while another test's engine flips
/// the setting, and bit-for-bit comparisons could differ in the last bits (NOTES.md). Every test that runs
/// an engine calls this first (through ``makeEngine(workers:algorithm:inputGradientAlgorithm:workspaceLimit:)``,
/// ``TestPlan/engine(workspaceLimit:)`` or directly); the test suite never calls `BLAS.setThreadCount` itself.
func pinBLASThreadsOnce() {
    _ = blasPinned
}

private let blasPinned: Bool = {
    // Safe: 2 is a valid worker count; making the engine is what pins BLAS (documented in ConvolutionEngine).
    _ = try! ConvolutionEngine(workers: 2)
    return true
}()

/// An engine, after ``pinBLASThreadsOnce()``.
func makeEngine(workers: Int, algorithm: ConvAlgorithm? = nil, inputGradientAlgorithm: InputGradientAlgorithm? = nil,
                workspaceLimit: Int? = nil, filterGradientAlgorithm: FilterGradientAlgorithm? = nil) throws -> ConvolutionEngine {
    pinBLASThreadsOnce()
    return try ConvolutionEngine(workers: workers, algorithm: algorithm, inputGradientAlgorithm: inputGradientAlgorithm,
                                 workspaceLimit: workspaceLimit, filterGradientAlgorithm: filterGradientAlgorithm)
}

// MARK: - Plans

/// Every (algorithm, input-gradient route) pair a test should force on `g`: each algorithm that supports it ×
/// both input-gradient routes.
func allPlans(for g: ConvGeometry) -> [(ConvAlgorithm, InputGradientAlgorithm)] {
    ConvAlgorithm.allCases.filter { $0.supports(g) }.flatMap { a in InputGradientAlgorithm.allCases.map { (a, $0) } }
}

/// One way to run a call: forced algorithm, input-gradient route and worker count.
struct TestPlan: Sendable, CustomStringConvertible, Hashable {
    var algorithm: ConvAlgorithm
    var inputGradient: InputGradientAlgorithm
    var workers: Int

    func engine(workspaceLimit: Int? = nil) throws -> ConvolutionEngine {
        try makeEngine(workers: workers, algorithm: algorithm, inputGradientAlgorithm: inputGradient,
                       workspaceLimit: workspaceLimit)
    }

    var description: String { "\(algorithm)+\(inputGradient)×\(workers)" }

    /// ``allPlans(for:)`` × `workers`.
    static func all(for g: ConvGeometry, workers: [Int] = [1, 2, 3]) -> [TestPlan] {
        allPlans(for: g).flatMap { (a, route) in workers.map { TestPlan(algorithm: a, inputGradient: route, workers: $0) } }
    }
}

// MARK: - Running a problem

/// Runs forward and backward (all gradients) through the buffer API with the caller's workspace.
func runAll<T: ConvScalar>(
    _ backend: some ConvolutionBackend, _ g: ConvGeometry, x: [T], f: [T], b: [T]?, dO: [T],
    workspace: ConvWorkspace<T>
) throws -> ConvResults<T> {
    var o = [T](repeating: 0, count: g.outputCount)
    var dX: [T]? = [T](repeating: 0, count: g.inputCount)
    var dF: [T]? = [T](repeating: 0, count: g.filterCount)
    var dB: [T]? = [T](repeating: 0, count: g.outputChannels)
    try x.withUnsafeBufferPointer { xp in
        try f.withUnsafeBufferPointer { fp in
            try dO.withUnsafeBufferPointer { dOp in
                try o.withUnsafeMutableBufferPointer { op in
                    try withOptionalBuffer(b) { bp in
                        try backend.forward(g, input: xp, filter: fp, bias: bp, output: op, workspace: workspace)
                    }
                }
                try withMutableBuffers(&dX, &dF, &dB) { dXp, dFp, dBp in
                    try backend.backward(g, input: xp, filter: fp, outputGradient: dOp, inputGradient: dXp,
                                         filterGradient: dFp, biasGradient: dBp, workspace: workspace)
                }
            }
        }
    }
    return ConvResults(output: o, inputGradient: dX!, filterGradient: dF!, biasGradient: dB!)
}

// MARK: - Buffer helpers

/// Calls `body` with a buffer over `array`, or with nil.
func withOptionalBuffer<T, R>(_ array: [T]?, _ body: (UnsafeBufferPointer<T>?) throws -> R) rethrows -> R {
    if let array { return try array.withUnsafeBufferPointer { try body($0) } }
    return try body(nil)
}

/// Calls `body` with a mutable buffer over `array` (nil stays nil).
func withOptionalMutableBuffer<T, R>(_ array: inout [T]?, _ body: (UnsafeMutableBufferPointer<T>?) throws -> R) rethrows -> R {
    guard var a = array else { return try body(nil) }
    array = nil  // keep `a` uniquely referenced so the mutable buffer does not copy
    defer { array = a }
    return try a.withUnsafeMutableBufferPointer { try body($0) }
}

/// Calls `body` with mutable buffers over three optional arrays at once (nil stays nil).
func withMutableBuffers<T, R>(
    _ a: inout [T]?, _ b: inout [T]?, _ c: inout [T]?,
    _ body: (UnsafeMutableBufferPointer<T>?, UnsafeMutableBufferPointer<T>?, UnsafeMutableBufferPointer<T>?) throws -> R
) rethrows -> R {
    try withOptionalMutableBuffer(&a) { pa in
        try withOptionalMutableBuffer(&b) { pb in try withOptionalMutableBuffer(&c) { pc in try body(pa, pb, pc) } }
    }
}

/// The start of a workspace's memory, read by reflection (``ConvWorkspace`` does not expose it), so a test can
/// hand the engine an output buffer that overlaps the workspace. `nil` if the stored property is not found.
func workspaceStorage<T: ConvScalar>(_ workspace: ConvWorkspace<T>) -> UnsafeMutablePointer<T>? {
    for child in Mirror(reflecting: workspace).children {
        if let p = child.value as? UnsafeMutablePointer<T> { return p }
    }
    return nil
}
