// The 3-D randomized sweep: geometries drawn from a fixed seed (sizes, strides 1–3, paddings 0–3 per face and
// asymmetric, dilation 1–3, groups, depthwise, batch 1–4), every 3-D algorithm forced, 1–3 workers, the
// automatic tile and forced small tiles (a one-byte tile budget: one output plane per tile; and a workspace limit
// of a quarter of the need, which halves the tile), forward and all three gradients plus a random subset, in
// Float and Double, each element compared with the reference (computed in Double on the same inputs, rounded to
// Float for the Float runs) within MATH.md's bound with the engine scalar's ε.
import Foundation
import Testing
import ConvEngine

@Suite("3-D convolution: randomized sweep against the reference")
struct VolumeSweepTests {
    static let seed: UInt64 = 0x3D_5EED_C0DE
    static let geometryCount = TestScale.pick(normal: 200, small: 20, full: 2000)
    static let subsets: [GradientSet] = [[.input], [.filter], [.bias], [.input, .filter], [.input, .bias], [.filter, .bias]]

    @Test("Every 3-D algorithm forced, forward and gradients, Float and Double, within MATH.md's bound")
    func sweep() async throws {
        let geometries = VolumeSweep.geometries(seed: Self.seed, count: Self.geometryCount)
        pinBLASThreadsOnce()
        // Two shards, one per core, each with its own workspaces reused across its geometries.
        var total = Tally()
        await withTaskGroup(of: Tally.self) { group in
            for shard in 0..<2 {
                group.addTask {
                    let fw = ConvWorkspace<Float>(), dw = ConvWorkspace<Double>()
                    var tally = Tally()
                    for (i, g) in geometries.enumerated() where i % 2 == shard {
                        tally.merge(Self.run(i, g, fw, dw))
                    }
                    return tally
                }
            }
            for await tally in group { total.merge(tally) }
        }
        print("""
            volume sweep: seed 0x\(String(Self.seed, radix: 16)), \(geometries.count) geometries, \
            \(total.runs) engine runs (algorithm × workers × tile × scalar)
            volume sweep: geometries per algorithm: \(total.perAlgorithm.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            volume sweep: runs per algorithm: \(total.runsPerAlgorithm.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            volume sweep: tiles seen: \(total.tiles.sorted().joined(separator: ", "))
            volume sweep: worst fraction of the bound: Float \(total.worstFloat), Double \(total.worstDouble)
            """)
        for algorithm in ConvAlgorithm3D.allCases {
            #expect(total.perAlgorithm["\(algorithm)", default: 0] == geometries.count, "\(algorithm) ran on every geometry")
        }
        #expect(total.tiles.contains("partial"), "some plan used tiles of fewer planes than E")
        #expect(total.worstFloat <= 1 && total.worstDouble <= 1)
    }

    struct Tally: Sendable {
        var runs = 0
        var perAlgorithm: [String: Int] = [:]
        var runsPerAlgorithm: [String: Int] = [:]
        var tiles: Set<String> = []
        var worstFloat = 0.0, worstDouble = 0.0

        mutating func merge(_ o: Tally) {
            runs += o.runs
            perAlgorithm.merge(o.perAlgorithm, uniquingKeysWith: +)
            runsPerAlgorithm.merge(o.runsPerAlgorithm, uniquingKeysWith: +)
            tiles.formUnion(o.tiles)
            worstFloat = max(worstFloat, o.worstFloat)
            worstDouble = max(worstDouble, o.worstDouble)
        }
    }

    static func run(_ index: Int, _ g: ConvGeometry3D, _ fw: ConvWorkspace<Float>, _ dw: ConvWorkspace<Double>) -> Tally {
        var tally = Tally()
        var rng = SeededGenerator(seed: seed, index: index)
        let x = rng.values(g.inputCount), f = rng.values(g.filterCount), b = rng.values(g.outputChannels)
        let dO = rng.values(g.outputCount)
        let useBias = index % 4 != 1
        let subset = rng.pick(subsets)
        let workerCounts = index % 3 == 0 ? [1, 2, 3] : [1, 2]
        let label = "volume sweep seed 0x\(String(seed, radix: 16)) case \(index), geometry \(g)"
        do {
            let xf = roundedThrough(x, Float.self), ff = roundedThrough(f, Float.self)
            let bf = roundedThrough(b, Float.self), dOf = roundedThrough(dO, Float.self)
            let refD = try VolumeReference(g, input: x, filter: f, bias: useBias ? b : nil, outputGradient: dO)
            let refF = try VolumeReference(g, input: xf, filter: ff, bias: useBias ? bf : nil, outputGradient: dOf)
            for algorithm in ConvAlgorithm3D.allCases {
                tally.perAlgorithm["\(algorithm)", default: 0] += 1
                for workers in workerCounts {
                    var engines = [try makeVolumeEngine(workers: workers, algorithm: algorithm),
                                   try makeVolumeEngine(workers: workers, algorithm: algorithm, tileBudgetBytes: 1)]
                    let need = try engines[0].workspaceBytes(for: g, scalar: Double.self)
                    if workers == 1, let tight = try? makeVolumeEngine(workers: 1, algorithm: algorithm,
                                                                         workspaceLimit: need / 4),
                       (try? tight.plan(for: g, scalar: Double.self)) != nil,
                       (try? tight.plan(for: g, scalar: Float.self)) != nil {
                        engines.append(tight)
                    }
                    for engine in engines {
                        let plan = try engine.plan(for: g, scalar: Double.self)
                        #expect(plan.algorithm == algorithm)
                        tally.tiles.insert(plan.planesPerTile < g.outputDepth ? "partial" : "whole")
                        let context = "\(label), plan \(plan)"
                            + (engine.workspaceLimit.map { ", workspaceLimit \($0) B" } ?? "")
                        // Double: all gradients, then the subset. Under a limit, a fresh workspace shows the
                        // call's own peak.
                        let ws = engine.workspaceLimit == nil ? dw : ConvWorkspace<Double>()
                        let d = try runVolume(engine, g, x: x, f: f, b: useBias ? b : nil, dO: dO, workspace: ws)
                        tally.worstDouble = max(tally.worstDouble, refD.check(d, geometry: g, context: context + ", Double"))
                        #expect(ws.peakElementCount * 8 <= engine.workspaceLimit ?? Int.max, "\(context): workspace limit")
                        let s = try runVolume(engine, g, x: x, f: f, b: useBias ? b : nil, dO: dO, gradients: subset,
                                              workspace: ws)
                        var names: Set<String> = ["O"]
                        if subset.contains(.input) { names.insert("dX") }
                        if subset.contains(.filter) { names.insert("dF") }
                        if subset.contains(.bias) { names.insert("dB") }
                        tally.worstDouble = max(tally.worstDouble, refD.check(s, geometry: g,
                                                context: context + ", Double, subset \(subset.rawValue)", only: names))
                        // Float.
                        let fl = try runVolume(engine, g, x: converted(x, to: Float.self), f: converted(f, to: Float.self),
                                               b: useBias ? converted(b, to: Float.self) : nil,
                                               dO: converted(dO, to: Float.self), workspace: fw)
                        tally.worstFloat = max(tally.worstFloat, refF.check(fl, geometry: g, context: context + ", Float"))
                        tally.runs += 2
                        tally.runsPerAlgorithm["\(algorithm)", default: 0] += 2
                    }
                }
            }
        } catch {
            Issue.record("unexpected error \(error) — \(label)")
        }
        return tally
    }
}
