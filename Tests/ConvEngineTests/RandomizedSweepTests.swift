// The randomized sweep: geometries drawn from a fixed seed, every plan the engine has (each algorithm that
// supports the geometry × both input-gradient routes × 1, 2 and sometimes 3 workers), forward and all three
// gradients, in Float and Double, each compared element by element with the reference computed in Double on
// the same inputs (rounded to Float for the Float run), within MATH.md's bound with the engine scalar's ε.
// With one worker, each plan whose tiles can shrink also runs under a workspace limit of a quarter of its
// need, so the tiled paths (bands of rows, several images per tile) are held to the reference as well.
// Outputs start as NaN (an element not written cannot pass), the buffer API is used with one workspace per
// shard reused across all geometries, and a second backward call computes a random subset of the gradients.
//
// A failure names the sweep seed, the case's own data seed, the geometry, the plan, the tensor and the first
// element outside the bound. Set CONVENGINE_SWEEP_SEED (decimal or 0x…) to explore other seeds.
import Foundation
import Testing
import ConvEngine

/// One geometry of the sweep and how it is run.
struct SweepCase: Sendable {
    var index: Int
    var geometry: ConvGeometry
    /// Seeds the problem's data (X, F, B, dO), so a case can be rerun alone.
    var dataSeed: UInt64
    var workerCounts: [Int]
    /// Whether the forward pass gets a bias (the no-bias path is run on a quarter of the cases).
    var useBias: Bool
    /// A proper, non-empty subset of the gradients for a second backward call (the first computes all three).
    var subset: GradientSet
}

enum Sweep {
    /// The fixed seed of the sweep (overridable with the environment variable CONVENGINE_SWEEP_SEED).
    static let defaultSeed: UInt64 = 0xC0DE_5EED_2D_C0DE
    /// Valid geometries the sweep runs.
    static let geometryCount = 480

    static var seed: UInt64 {
        guard let text = ProcessInfo.processInfo.environment["CONVENGINE_SWEEP_SEED"] else { return defaultSeed }
        if text.hasPrefix("0x") { return UInt64(text.dropFirst(2), radix: 16) ?? defaultSeed }
        return UInt64(text) ?? defaultSeed
    }

    static let subsets: [GradientSet] = [[.input], [.filter], [.bias], [.input, .filter], [.input, .bias], [.filter, .bias]]

    /// Draws geometries until `count` are valid; returns them and how many invalid draws were skipped.
    static func cases(seed: UInt64, count: Int) -> (cases: [SweepCase], skipped: Int) {
        var rng = SeededGenerator(seed: seed)
        var cases: [SweepCase] = []
        var skipped = 0
        while cases.count < count {
            guard let g = drawGeometry(&rng) else { skipped += 1; continue }
            let i = cases.count
            cases.append(SweepCase(index: i, geometry: g, dataSeed: rng.next(),
                                   workerCounts: i % 4 == 0 ? [1, 2, 3] : [1, 2],
                                   useBias: i % 4 != 1, subset: rng.pick(subsets)))
        }
        return (cases, skipped)
    }

    /// One random draw; `nil` when the draw is not a valid geometry (the initializer threw).
    static func drawGeometry(_ rng: inout SeededGenerator) -> ConvGeometry? {
        let n = rng.int(1...4)
        var c = rng.int(1...8)
        var groups = 1, k = 1
        switch rng.int(0...9) {
        case 0...3:  // ungrouped
            k = rng.int(1...8)
        case 4...6:  // depthwise, channel multiplier 1–3
            groups = c
            k = c * rng.pick([1, 1, 2, 3])
        default:     // grouped but not depthwise: 1 < G < C
            c = rng.pick([4, 6, 8])
            groups = rng.pick((2..<c).filter { c % $0 == 0 })
            k = groups * rng.int(1...3)
        }
        func side() -> Int { rng.chance(0.5) ? rng.int(1...6) : rng.int(1...20) }
        // A random rectangular kernel R ≠ S (both 1–5) besides the named ones.
        let randomR = rng.int(1...5), randomS = rng.int(1...4)
        let kernels = [(1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (1, 3), (3, 1), (5, 2),
                       (randomR, randomS >= randomR ? randomS + 1 : randomS)]

        var h: Int, w: Int, r: Int, s: Int
        var sh = 1, sw = 1, dh = 1, dw = 1
        var pad = Padding.zero
        let mode = rng.int(0...99)
        if mode < 13 {
            // Pointwise: 1×1 kernel, stride 1, no padding (dilation is irrelevant for one tap).
            (r, s) = (1, 1)
            h = side(); w = rng.chance(0.4) ? h : side()
            dh = rng.int(1...3); dw = rng.int(1...3)
        } else if mode < 24 {
            // Output 1×1: the padded input is the dilated kernel plus less than one stride.
            (r, s) = rng.pick(kernels)
            sh = rng.int(1...3); sw = rng.int(1...3)
            dh = rng.int(1...3); dw = rng.int(1...3)
            let reachH = dh * (r - 1) + 1, reachW = dw * (s - 1) + 1
            let pt = rng.int(0...min(3, reachH - 1)), pb = rng.int(0...min(3, reachH - 1 - pt))
            let pl = rng.int(0...min(3, reachW - 1)), pr = rng.int(0...min(3, reachW - 1 - pl))
            pad = Padding(top: pt, bottom: pb, left: pl, right: pr)
            h = reachH - pt - pb + rng.int(0...(sh - 1))
            w = reachW - pl - pr + rng.int(0...(sw - 1))
        } else {
            (r, s) = rng.pick(kernels)
            h = side(); w = rng.chance(0.4) ? h : side()
            sh = rng.int(1...3); sw = rng.chance(0.5) ? sh : rng.int(1...3)
            if rng.chance(0.5) {
                dh = rng.int(1...3); dw = rng.chance(0.5) ? dh : rng.int(1...3)
            }
            switch rng.int(0...2) {
            case 0: pad = .zero
            case 1:
                let ph = rng.int(0...3)
                pad = Padding(height: ph, width: rng.chance(0.5) ? ph : rng.int(0...3))
            default:
                pad = Padding(top: rng.int(0...3), bottom: rng.int(0...3), left: rng.int(0...3), right: rng.int(0...3))
            }
        }
        return try? ConvGeometry(batch: n, inputChannels: c, inputHeight: h, inputWidth: w, outputChannels: k,
                                 kernelHeight: r, kernelWidth: s, strideHeight: sh, strideWidth: sw,
                                 padding: .explicit(pad), dilationHeight: dh, dilationWidth: dw, groups: groups)
    }

    /// Every coverage bucket the issue names, each of which must see at least 20 geometries.
    static let requiredBuckets: [String] =
        (1...4).map { "batch \($0)" }
        + ["input square", "input not square", "input side 1", "input side ≥ 16"]
        + (1...8).map { "channels \($0)" }
        + ["groups > 1 (not depthwise)", "depthwise (groups = C > 1)", "depthwise, K = m·C with m ≥ 2"]
        + ["kernel 1×1", "kernel 5×5", "kernel square 2–4", "kernel 1×3", "kernel 3×1", "kernel 5×2", "kernel other rectangular"]
        + ["stride 1", "stride 2", "stride 3", "stride h ≠ w"]
        + ["padding none", "padding 3 on some side", "padding asymmetric", "padding wider than the dilated kernel"]
        + ["dilation 1", "dilation 2", "dilation 3", "dilation h ≠ w"]
        + ["input smaller than the dilated kernel", "output 1×1", "pointwise geometry", "workers 3", "no bias"]

    /// Tile shapes of the tiled algorithm (see ConvPlan.tile), counted per geometry.
    static let tileBuckets = ["tile: bands of rows", "tile: several images"]

    /// The buckets `c` falls into.
    static func buckets(_ c: SweepCase) -> [String] {
        let g = c.geometry
        let (h, w, r, s) = (g.inputHeight, g.inputWidth, g.kernelHeight, g.kernelWidth)
        let reachH = g.dilationHeight * (r - 1) + 1, reachW = g.dilationWidth * (s - 1) + 1
        let p = g.padding
        var b = ["batch \(g.batch)", "channels \(g.inputChannels)"]
        b.append(h == w ? "input square" : "input not square")
        if h == 1 || w == 1 { b.append("input side 1") }
        if max(h, w) >= 16 { b.append("input side ≥ 16") }
        if g.groups > 1 && g.groups < g.inputChannels { b.append("groups > 1 (not depthwise)") }
        if g.groups == g.inputChannels && g.inputChannels > 1 {
            b.append("depthwise (groups = C > 1)")
            if g.outputChannels >= 2 * g.inputChannels { b.append("depthwise, K = m·C with m ≥ 2") }
        }
        switch (r, s) {
        case (1, 1): b.append("kernel 1×1")
        case (5, 5): b.append("kernel 5×5")
        case (1, 3): b.append("kernel 1×3")
        case (3, 1): b.append("kernel 3×1")
        case (5, 2): b.append("kernel 5×2")
        case _ where r == s: b.append("kernel square 2–4")
        default: b.append("kernel other rectangular")
        }
        for v in 1...3 where g.strideHeight == v || g.strideWidth == v { b.append("stride \(v)") }
        if g.strideHeight != g.strideWidth { b.append("stride h ≠ w") }
        if p == .zero { b.append("padding none") }
        if max(p.top, p.bottom, p.left, p.right) == 3 { b.append("padding 3 on some side") }
        if p.top != p.bottom || p.left != p.right { b.append("padding asymmetric") }
        if max(p.top, p.bottom) > reachH - 1 || max(p.left, p.right) > reachW - 1 {
            b.append("padding wider than the dilated kernel")
        }
        for v in 1...3 where g.dilationHeight == v || g.dilationWidth == v { b.append("dilation \(v)") }
        if g.dilationHeight != g.dilationWidth { b.append("dilation h ≠ w") }
        if h < reachH || w < reachW { b.append("input smaller than the dilated kernel") }
        if g.outputHeight == 1 && g.outputWidth == 1 { b.append("output 1×1") }
        if g.isPointwise { b.append("pointwise geometry") }
        if c.workerCounts.contains(3) { b.append("workers 3") }
        if !c.useBias { b.append("no bias") }
        return b
    }
}

/// What one case (or a whole shard) found.
struct SweepTally: Sendable {
    var worstFloat = 0.0
    var worstDouble = 0.0
    var geometries = 0
    var engineRuns = 0
    var planGeometries: [String: Int] = [:]
    var buckets: [String: Int] = [:]
    /// Per case: which tile shapes its plans used (counted into `buckets` by `merge`).
    var tileKinds: Set<String> = []

    mutating func merge(_ other: SweepTally) {
        for kind in other.tileKinds { buckets[kind, default: 0] += 1 }
        worstFloat = max(worstFloat, other.worstFloat)
        worstDouble = max(worstDouble, other.worstDouble)
        geometries += other.geometries
        engineRuns += other.engineRuns
        planGeometries.merge(other.planGeometries, uniquingKeysWith: +)
        buckets.merge(other.buckets, uniquingKeysWith: +)
    }
}

@Suite("Randomized sweep against the reference")
struct RandomizedSweepTests {
    @Test("Every plan, forward and gradients, Float and Double, within MATH.md's bound")
    func sweep() async throws {
        let seed = Sweep.seed
        let (cases, skipped) = Sweep.cases(seed: seed, count: Sweep.geometryCount)
        pinBLASThreadsOnce()
        // Two shards, one per core; each has its own workspaces (a workspace is not thread-safe), reused
        // across all of its geometries, which also exercises growing and reusing one workspace.
        let shards = 2
        var total = SweepTally()
        await withTaskGroup(of: SweepTally.self) { group in
            for shard in 0..<shards {
                group.addTask {
                    let floatWorkspace = ConvWorkspace<Float>(), doubleWorkspace = ConvWorkspace<Double>()
                    var tally = SweepTally()
                    for c in cases where c.index % shards == shard {
                        tally.merge(Self.run(c, sweepSeed: seed, floatWorkspace, doubleWorkspace))
                    }
                    return tally
                }
            }
            for await tally in group { total.merge(tally) }
        }

        print("""
            sweep: seed 0x\(String(seed, radix: 16)), \(total.geometries) geometries run \
            (\(skipped) invalid draws skipped), \(total.engineRuns) engine runs (plan × workers × scalar)
            sweep: worst |engine - reference| as a fraction of MATH.md's bound: \
            Float \(total.worstFloat), Double \(total.worstDouble)
            sweep: geometries per plan: \(total.planGeometries.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            sweep: coverage: \((Sweep.requiredBuckets + Sweep.tileBuckets).map { "\($0) \(total.buckets[$0, default: 0])" }.joined(separator: ", "))
            """)
        #expect(total.geometries == Sweep.geometryCount)
        for bucket in Sweep.requiredBuckets + Sweep.tileBuckets {
            #expect(total.buckets[bucket, default: 0] >= 20, "coverage of '\(bucket)' (sweep seed 0x\(String(seed, radix: 16)))")
        }
        for algorithm in ConvAlgorithm.allCases {
            for route in InputGradientAlgorithm.allCases {
                // The Winograd algorithms run only 3×3 kernels at stride 1 and dilation 1 (about 3% of the draws);
                // WinogradTests sweeps those geometries on its own.
                let least = algorithm.winogradTileSize == nil ? 20 : TestScale.pick(normal: 8, small: 1)
                #expect(total.planGeometries["\(algorithm)+\(route)", default: 0] >= least,
                        "plan \(algorithm)+\(route) ran on too few geometries")
            }
        }
        #expect(total.worstFloat <= 1 && total.worstDouble <= 1)
    }

    /// Runs every plan of one case in Float and Double.
    static func run(_ c: SweepCase, sweepSeed: UInt64,
                    _ floatWorkspace: ConvWorkspace<Float>, _ doubleWorkspace: ConvWorkspace<Double>) -> SweepTally {
        let g = c.geometry
        var tally = SweepTally()
        tally.geometries = 1
        for bucket in Sweep.buckets(c) { tally.buckets[bucket, default: 0] += 1 }
        var rng = SeededGenerator(seed: c.dataSeed)
        let problem = Problem(g, rng: &rng)
        let floatProblem = problem.rounded(to: Float.self)
        let label = "sweep seed 0x\(String(sweepSeed, radix: 16)) case \(c.index)"
        do {
            let doubleReference = try ReferenceResults(g, input: problem.input, filter: problem.filter,
                                                       bias: c.useBias ? problem.bias : nil,
                                                       outputGradient: problem.outputGradient)
            let floatReference = try ReferenceResults(g, input: floatProblem.input, filter: floatProblem.filter,
                                                      bias: c.useBias ? floatProblem.bias : nil,
                                                      outputGradient: floatProblem.outputGradient)
            for (algorithm, route) in allPlans(for: g) {
                tally.planGeometries["\(algorithm)+\(route)", default: 0] += 1
                // Winograd plans are checked with the transform bound.
                let doubleBound = doubleReference.bounded(for: algorithm, route: route, geometry: g)
                let floatBound = floatReference.bounded(for: algorithm, route: route, geometry: g)
                for workers in c.workerCounts {
                    var engines = [try makeEngine(workers: workers, algorithm: algorithm, inputGradientAlgorithm: route)]
                    if workers == 1, let tight = try tightEngine(engines[0], g) { engines.append(tight) }
                    // A forced band of half the output rows, so the banded tiles run on every tiled geometry.
                    if workers <= 2, algorithm == .tiledIm2col || algorithm == .shiftedGEMM || algorithm == .kernelRowGEMM,
                       g.outputHeight >= 2 {
                        engines.append(try ConvolutionEngine(workers: workers, algorithm: algorithm,
                                                             inputGradientAlgorithm: route,
                                                             tileRows: g.outputHeight / 2))
                    }
                    for engine in engines {
                        for scalarPlan in [try engine.plan(for: g, scalar: Float.self), try engine.plan(for: g, scalar: Double.self)] {
                            if case .rows = scalarPlan.tile { tally.tileKinds.insert("tile: bands of rows") }
                            if case .images(let n) = scalarPlan.tile, n > 1 { tally.tileKinds.insert("tile: several images") }
                        }
                        let plan = "\(try engine.plan(for: g, scalar: Double.self))"
                            + (engine.workspaceLimit.map { " workspaceLimit \($0) B" } ?? "") + " (\(label))"
                        tally.worstFloat = max(tally.worstFloat, checkPlan(
                            engine, c, floatProblem, floatBound, floatWorkspace,
                            CheckContext(seed: c.dataSeed, geometry: g, plan: plan, scalar: "Float")))
                        tally.worstDouble = max(tally.worstDouble, checkPlan(
                            engine, c, problem, doubleBound, doubleWorkspace,
                            CheckContext(seed: c.dataSeed, geometry: g, plan: plan, scalar: "Double")))
                        tally.engineRuns += 2
                    }
                }
            }
        } catch {
            Issue.record("unexpected error \(error) — \(label), data seed 0x\(String(c.dataSeed, radix: 16)), geometry \(g)")
        }
        return tally
    }

    /// The same engine with a workspace limit of a quarter of what its plan needs, when the engine can honour
    /// it by shrinking its tiles (`nil` when the plan would not change or no plan fits), so the tiled paths
    /// with small tiles run on the sweep's small geometries too.
    static func tightEngine(_ engine: ConvolutionEngine, _ g: ConvGeometry) throws -> ConvolutionEngine? {
        let needed = try engine.workspaceBytes(for: g, scalar: Double.self)
        guard needed >= 64 else { return nil }
        let tight = try ConvolutionEngine(workers: engine.workers, algorithm: engine.algorithm,
                                          inputGradientAlgorithm: engine.inputGradientAlgorithm,
                                          workspaceLimit: needed / 4)
        guard let plan = try? tight.plan(for: g, scalar: Double.self), (try? tight.plan(for: g, scalar: Float.self)) != nil,
              plan != (try engine.plan(for: g, scalar: Double.self)) else { return nil }
        return tight
    }

    /// Forward, backward with all three gradients and backward with the case's subset, through the buffer API
    /// with a reused workspace. Every destination starts as NaN, so an element the engine fails to write (or
    /// accumulates into instead of overwriting) cannot pass. Returns the worst fraction of the bound.
    static func checkPlan<T: ConvScalar>(
        _ engine: ConvolutionEngine, _ c: SweepCase, _ problem: Problem, _ reference: ReferenceResults,
        _ workspace: ConvWorkspace<T>, _ context: CheckContext
    ) -> Double {
        let g = c.geometry
        let counts = reference.termCounts(g)
        let terms = (output: counts[0], inputGradient: counts[1], filterGradient: counts[2], biasGradient: counts[3])
        let x: [T] = converted(problem.input, to: T.self), f: [T] = converted(problem.filter, to: T.self)
        let b: [T] = converted(problem.bias, to: T.self), dO: [T] = converted(problem.outputGradient, to: T.self)
        var worst = 0.0
        do {
            var o = [T](repeating: .nan, count: g.outputCount)
            var dX: [T]? = [T](repeating: .nan, count: g.inputCount)
            var dF: [T]? = [T](repeating: .nan, count: g.filterCount)
            var dB: [T]? = [T](repeating: .nan, count: g.outputChannels)
            var sX: [T]? = c.subset.contains(.input) ? [T](repeating: .nan, count: g.inputCount) : nil
            var sF: [T]? = c.subset.contains(.filter) ? [T](repeating: .nan, count: g.filterCount) : nil
            var sB: [T]? = c.subset.contains(.bias) ? [T](repeating: .nan, count: g.outputChannels) : nil
            try x.withUnsafeBufferPointer { xb in
                try f.withUnsafeBufferPointer { fb in
                    try b.withUnsafeBufferPointer { bb in
                        try dO.withUnsafeBufferPointer { dOb in
                            try o.withUnsafeMutableBufferPointer { ob in
                                try engine.forward(g, input: xb, filter: fb, bias: c.useBias ? bb : nil,
                                                   output: ob, workspace: workspace)
                            }
                            try withMutableBuffers(&dX, &dF, &dB) { dx, df, db in
                                try engine.backward(g, input: xb, filter: fb, outputGradient: dOb,
                                                    inputGradient: dx, filterGradient: df, biasGradient: db,
                                                    workspace: workspace)
                            }
                            // Only the buffers the subset needs: X for dF, F for dX.
                            try withMutableBuffers(&sX, &sF, &sB) { dx, df, db in
                                try engine.backward(g, input: c.subset.contains(.filter) ? xb : nil,
                                                    filter: c.subset.contains(.input) ? fb : nil,
                                                    outputGradient: dOb,
                                                    inputGradient: dx, filterGradient: df, biasGradient: db,
                                                    workspace: workspace)
                            }
                        }
                    }
                }
            }
            worst = max(worst, checkWithinBound(o, reference: reference.output, magnitudes: reference.outputMagnitudes,
                                                terms: terms.output, tensor: "O", shape: g.outputShape, context: context))
            for (name, values) in [("dX", dX), ("dX (subset \(c.subset.rawValue))", sX)] {
                guard let values else { continue }
                worst = max(worst, checkWithinBound(values, reference: reference.inputGradient,
                                                    magnitudes: reference.inputGradientMagnitudes,
                                                    terms: terms.inputGradient, tensor: name, shape: g.inputShape,
                                                    context: context))
            }
            for (name, values) in [("dF", dF), ("dF (subset \(c.subset.rawValue))", sF)] {
                guard let values else { continue }
                worst = max(worst, checkWithinBound(values, reference: reference.filterGradient,
                                                    magnitudes: reference.filterGradientMagnitudes,
                                                    terms: terms.filterGradient, tensor: name, shape: g.filterShape,
                                                    context: context))
            }
            for (name, values) in [("dB", dB), ("dB (subset \(c.subset.rawValue))", sB)] {
                guard let values else { continue }
                worst = max(worst, checkWithinBound(values, reference: reference.biasGradient,
                                                    magnitudes: reference.biasGradientMagnitudes,
                                                    terms: terms.biasGradient, tensor: name, shape: g.biasShape,
                                                    context: context))
            }
        } catch {
            Issue.record("unexpected error \(error) — \(context)")
            return .infinity
        }
        return worst
    }
}
