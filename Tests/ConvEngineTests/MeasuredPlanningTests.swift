// Measured planning: the winner is one of the applicable candidates the numerics mode allows, timed once per
// geometry and shared by the engine's copies and threads. (Which candidate wins depends on the machine, so no
// test names it; every candidate is an algorithm the other suites force and check against the reference.)
import Dispatch
import Testing
import ConvEngine

@Suite("Measured planning")
struct MeasuredPlanningTests {
    static func geometry() throws -> ConvGeometry {
        try ConvGeometry(batch: 2, inputChannels: 32, inputHeight: 12, inputWidth: 12, outputChannels: 32,
                         kernelHeight: 3, kernelWidth: 3, padding: 1)
    }

    @Test("the plan is the fastest measured candidate; candidates are the applicable algorithms the mode allows",
          arguments: [ConvNumerics.strict, .default, .fast], [ConvPlanning.measureForward, .measureTraining])
    func winnerIsFastestCandidate(numerics: ConvNumerics, planning: ConvPlanning) throws {
        pinBLASThreadsOnce()
        let g = try Self.geometry()
        let engine = try ConvolutionEngine(workers: 1, numerics: numerics, planning: planning)
        #expect(engine.measuredTimings(for: g) == nil)
        let plan = try engine.plan(for: g)
        let timings = try #require(engine.measuredTimings(for: g))
        let expected = Set(ConvAlgorithm.allCases.filter { $0.supports(g) && $0.numerics <= numerics })
        #expect(Set(timings.map(\.algorithm)) == expected)
        #expect(plan.algorithm == timings[0].algorithm)
        #expect(zip(timings, timings.dropFirst()).allSatisfy { $0.seconds <= $1.seconds })
        #expect(timings.allSatisfy { $0.seconds > 0 && $0.seconds.isFinite })
        // Later calls reuse the measurement; a copy of the engine shares it; Double is measured separately.
        let copy = engine
        #expect(try copy.plan(for: g) == plan && copy.measuredTimings(for: g) == timings)
        #expect(engine.measuredTimings(for: g, scalar: Double.self) == nil)
    }

    @Test("the rule and forced algorithms measure nothing")
    func ruleMeasuresNothing() throws {
        let g = try Self.geometry()
        let rule = try ConvolutionEngine(workers: 1)
        _ = try rule.plan(for: g)
        #expect(rule.measuredTimings(for: g) == nil)
        let forced = try ConvolutionEngine(workers: 1, algorithm: .im2col, planning: .measureForward)
        #expect(try forced.plan(for: g).algorithm == .im2col && forced.measuredTimings(for: g) == nil)
    }

    @Test("concurrent first calls measure once and agree")
    func concurrentFirstCalls() throws {
        pinBLASThreadsOnce()
        let g = try Self.geometry()
        let engine = try ConvolutionEngine(workers: 1, planning: .measureForward)
        let plans = PlanSlots(count: 4)
        DispatchQueue.concurrentPerform(iterations: 4) { i in plans.set(i, try? engine.plan(for: g)) }
        let first = try #require(plans.get(0))
        for i in 1..<4 { #expect(plans.get(i) == first) }
        #expect(engine.measuredTimings(for: g)?.first?.algorithm == first.algorithm)
    }

    @Test("candidates whose workspace is over the limit are not measured")
    func workspaceLimit() throws {
        let g = try Self.geometry()
        // 64 KiB: the im2col column matrix of one image (288 × 144 floats = 162 KiB) does not fit.
        let engine = try ConvolutionEngine(workers: 1, numerics: .strict, planning: .measureForward,
                                           workspaceLimit: 64 << 10)
        _ = try? engine.plan(for: g)
        let timings = engine.measuredTimings(for: g) ?? []
        #expect(!timings.contains { $0.algorithm == .im2col })
        for t in timings {
            let forced = try ConvolutionEngine(workers: 1, algorithm: t.algorithm, workspaceLimit: 64 << 10)
            #expect(try forced.workspaceBytes(for: g) <= 64 << 10, "\(t.algorithm)")
        }
    }
}

/// Plans written by concurrent iterations, one slot each (a serial queue as the lock).
private final class PlanSlots: @unchecked Sendable {
    private var slots: [ConvPlan?]
    private let queue = DispatchQueue(label: "MeasuredPlanningTests.slots")
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ plan: ConvPlan?) { queue.sync { slots[i] = plan } }
    func get(_ i: Int) -> ConvPlan? { queue.sync { slots[i] } }
}
