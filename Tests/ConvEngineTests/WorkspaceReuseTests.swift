// One ConvWorkspace reused across a sequence of different geometries and plans (growing and shrinking) gives
// results bit-identical to a fresh workspace per call: nothing left in the workspace by an earlier call leaks
// into a later one. BLAS runs single-threaded for the whole test process (see pinBLASThreadsOnce), so equal
// inputs and plans must give equal bits.
import Testing
import ConvEngine

@Suite("Workspace reuse")
struct WorkspaceReuseTests {
    /// Large, small, larger, smaller, with every kind of geometry in between.
    static let sequence: [ConvGeometry] = try! [
        ConvGeometry(n: 3, c: 6, h: 14, w: 12, k: 8, r: 3, s: 3, pad: (1, 1, 1, 1), groups: 2),
        ConvGeometry(n: 1, c: 1, h: 3, w: 3, k: 1, r: 2, s: 2),
        ConvGeometry(n: 4, c: 8, h: 17, w: 19, k: 8, r: 5, s: 5, stride: (2, 3), pad: (2, 1, 3, 0), dilation: (1, 2)),
        ConvGeometry(n: 2, c: 4, h: 9, w: 9, k: 8, r: 3, s: 3, pad: (1, 1, 1, 1), groups: 4),          // depthwise ×2
        ConvGeometry(n: 2, c: 5, h: 6, w: 7, k: 3, r: 1, s: 1),                                           // pointwise
        ConvGeometry(n: 1, c: 2, h: 2, w: 2, k: 2, r: 3, s: 3, pad: (2, 1, 0, 3), dilation: (2, 1)),
        ConvGeometry(n: 4, c: 8, h: 20, w: 20, k: 6, r: 5, s: 2, stride: (3, 1), pad: (3, 3, 0, 2), groups: 2),
        ConvGeometry(n: 1, c: 3, h: 5, w: 4, k: 6, r: 1, s: 3, pad: (0, 0, 1, 1), groups: 3),
    ]

    /// Forward, then backward with all three gradients, into fresh arrays, on `p` rounded to `T`.
    static func run<T: ConvScalar>(_ engine: ConvolutionEngine, _ g: ConvGeometry, _ p: Problem,
                                   _ workspace: ConvWorkspace<T>) throws -> ConvResults<T> {
        try runAll(engine, g, x: converted(p.input, to: T.self), f: converted(p.filter, to: T.self),
                   b: converted(p.bias, to: T.self), dO: converted(p.outputGradient, to: T.self), workspace: workspace)
    }

    static func check<T: ConvScalar>(_: T.Type) throws {
        pinBLASThreadsOnce()
        let shared = ConvWorkspace<T>()
        var rng = SeededGenerator(seed: 0x5EED_0005)
        let problems = sequence.map { Problem($0, rng: &rng) }
        var calls = 0
        // Twice through the sequence, so every geometry also meets a workspace that a larger one left dirty.
        for pass in 0..<2 {
            for (i, g) in sequence.enumerated() {
                for (algorithm, route) in allPlans(for: g) {
                    let engine = try makeEngine(workers: 2, algorithm: algorithm, inputGradientAlgorithm: route)
                    let reused = try run(engine, g, problems[i], shared)
                    let fresh = try run(engine, g, problems[i], ConvWorkspace<T>())
                    if let d = firstBitDifference(reused, fresh) {
                        Issue.record("\(T.self) pass \(pass) geometry \(g) plan \(algorithm)+\(route): with a reused workspace \(d)")
                    }
                    calls += 1
                }
            }
        }
        #expect(calls >= 2 * sequence.count * 2)
        #expect(shared.capacity >= shared.peakElementCount)
    }

    @Test("Float: reused workspace is bit-identical to fresh ones")
    func float() throws { try Self.check(Float.self) }

    @Test("Double: reused workspace is bit-identical to fresh ones")
    func double() throws { try Self.check(Double.self) }

    @Test("Repeated calls with one engine and workspace are bit-identical (fixed reduction order)")
    func repeatable() throws {
        pinBLASThreadsOnce()
        var rng = SeededGenerator(seed: 0x5EED_0006)
        for g in Self.sequence {
            let p = Problem(g, rng: &rng)
            for workers in [1, 2, 3] {
                let engine = try makeEngine(workers: workers)
                let ws = ConvWorkspace<Float>()
                let first = try Self.run(engine, g, p, ws)
                let second = try Self.run(engine, g, p, ws)
                if let d = firstBitDifference(first, second) {
                    Issue.record("\(g) ×\(workers): two identical calls differ: \(d)")
                }
            }
        }
    }

    @Test("A call uses no more workspace than workspaceElementCount(for:) promises")
    func sizing() throws {
        var rng = SeededGenerator(seed: 0x5EED_0007)
        for g in Self.sequence {
            let p = Problem(g, rng: &rng)
            for (algorithm, route) in allPlans(for: g) {
                for workers in [1, 2] {
                    let engine = try makeEngine(workers: workers, algorithm: algorithm, inputGradientAlgorithm: route)
                    let ws = ConvWorkspace<Double>()
                    _ = try Self.run(engine, g, p, ws)
                    let promised = try engine.workspaceElementCount(for: g, scalar: Double.self)
                    #expect(ws.peakElementCount <= promised, "\(g) \(algorithm)+\(route)×\(workers)")
                    #expect(try engine.workspaceBytes(for: g, scalar: Double.self) == promised * MemoryLayout<Double>.stride)
                }
            }
        }
    }
}
