// The 3-D workspace: independent of the batch, within the engine's workspace limit (the tile shrinks, or the
// plan throws workspaceCapTooSmall), reused without growing across calls; and the results reproducible bit for
// bit at a given worker count.
import Testing
import ConvEngine

@Suite("3-D convolution: workspace and determinism")
struct VolumeWorkspaceTests {
    static let benchmarkShape = try! ConvGeometry3D(n: 2, c: 64, d: 8, h: 28, w: 28, k: 64, t: 3, r: 3, s: 3,
                                                    pad: (1, 1, 1, 1, 1, 1))

    @Test("The workspace never depends on the batch")
    func independentOfBatch() throws {
        var geometries = VolumeSweep.geometries(seed: 0x3D_3055, count: 20)
        geometries.append(Self.benchmarkShape)
        for g in geometries {
            for algorithm in ConvAlgorithm3D.allCases + [nil] {
                for workers in [1, 2, 3] {
                    let engine = try makeVolumeEngine(workers: workers, algorithm: algorithm)
                    let counts = try [1, 2, 7, 64].map { try engine.workspaceElementCount(for: g.withBatch($0), scalar: Float.self) }
                    #expect(Set(counts).count == 1, "\(algorithm.map { "\($0)" } ?? "automatic") ×\(workers): \(counts) — \(g)")
                }
            }
        }
    }

    @Test("A workspace limit shrinks the tile, is never exceeded, and throws workspaceCapTooSmall when nothing fits")
    func limit() throws {
        let g = try ConvGeometry3D(n: 1, c: 16, d: 6, h: 12, w: 12, k: 16, t: 3, r: 3, s: 3, pad: (1, 1, 1, 1, 1, 1))
        pinBLASThreadsOnce()
        for algorithm in ConvAlgorithm3D.allCases {
            let free = try makeVolumeEngine(workers: 2, algorithm: algorithm, tileBudgetBytes: 64 << 20)
            let need = try free.workspaceBytes(for: g, scalar: Float.self)
            let freePlan = try free.plan(for: g, scalar: Float.self)
            // Just below the whole-volume tile's need: a smaller tile must be chosen (one that lowers fewer planes).
            let limit = need - 1
            let limited = try makeVolumeEngine(workers: 2, algorithm: algorithm, workspaceLimit: limit,
                                               tileBudgetBytes: 64 << 20)
            let plan = try limited.plan(for: g, scalar: Float.self)
            #expect(plan.planesPerTile < freePlan.planesPerTile, "\(algorithm): \(plan) under \(limit) B, \(freePlan) free")
            #expect(try limited.workspaceBytes(for: g, scalar: Float.self) <= limit)
            // Real calls on a fresh workspace stay under the limit.
            var rng = SeededGenerator(seed: 7)
            let x: [Float] = converted(rng.array(g.inputCount), to: Float.self)
            let f: [Float] = converted(rng.array(g.filterCount), to: Float.self)
            let dO: [Float] = converted(rng.array(g.outputCount), to: Float.self)
            let ws = ConvWorkspace<Float>()
            _ = try limited.forward(g, input: x, filter: f, workspace: ws)
            _ = try limited.backward(g, input: x, filter: f, outputGradient: dO, workspace: ws)
            #expect(ws.byteCount <= limit, "\(algorithm): workspace grew to \(ws.byteCount) B over the limit \(limit)")
            // Nothing fits one byte.
            let tiny = try makeVolumeEngine(workers: 1, algorithm: algorithm, workspaceLimit: 1)
            #expect(errorKind(thrownError { _ = try tiny.plan(for: g, scalar: Float.self) } ?? ConvError.sizeOverflow(quantity: "none"))
                    == "workspaceCapTooSmall")
        }
    }

    @Test("Bit-for-bit reproducible at a given worker count; the workspace does not grow on repeated calls")
    func determinism() throws {
        for (i, g) in VolumeSweep.geometries(seed: 0x3D_DE7, count: 12).enumerated() {
            var rng = SeededGenerator(seed: 0x3D_DE70 + UInt64(i))
            let x: [Float] = converted(rng.values(g.inputCount), to: Float.self)
            let f: [Float] = converted(rng.values(g.filterCount), to: Float.self)
            let b: [Float] = converted(rng.values(g.outputChannels), to: Float.self)
            let dO: [Float] = converted(rng.values(g.outputCount), to: Float.self)
            for algorithm in ConvAlgorithm3D.allCases {
                for workers in [2, 3] {
                    let engine = try makeVolumeEngine(workers: workers, algorithm: algorithm, tileBudgetBytes: 1)
                    let ws = ConvWorkspace<Float>()
                    let first = try runVolume(engine, g, x: x, f: f, b: b, dO: dO, workspace: ws)
                    let capacity = ws.capacity
                    let second = try runVolume(engine, g, x: x, f: f, b: b, dO: dO, workspace: ws)
                    #expect(firstBitDifference(first, second) == nil, "\(algorithm) ×\(workers) — \(g)")
                    #expect(ws.capacity == capacity)
                }
            }
        }
    }
}
