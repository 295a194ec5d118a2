// The layouts' randomized sweep: geometries drawn from a fixed seed (strides, asymmetric padding, dilation,
// groups, depthwise, 1×1, 3×3 at stride 1 for Winograd, batch 1–4), each in all four layouts (NCHW or NHWC
// activations × K×C/G×R×S or K×R×S×C/G filter), run with every ConvAlgorithm forced — whatever type the registry
// lists for it in that layout, native or through the conversion fallback — with both input-gradient routes, and
// with the automatic plan, on 1–3 workers: forward, all three gradients and a rotating subset of them, every
// element compared with the reference computed in the same layout, within the error bound (the transform bound for
// Winograd). Outputs start as NaN. Float and Double alternate by geometry. The transposed, 1-D, transposed 1-D and
// 3-D operations get a smaller sweep of the same kind.
import Foundation
import Testing
import ConvEngine

enum LayoutSweep {
    static let seed: UInt64 = 0x1A_7005_5EED
    static var count: Int { TestScale.pick(normal: 90, small: 8, full: 600) }
    static let subsets: [GradientSet] = [[.input], [.filter], [.bias], [.input, .filter], [.input, .bias], [.filter, .bias]]

    /// `count` valid draws; every sixth is pointwise, depthwise or a Winograd-shaped 3×3, the rest anything.
    static func geometries(count: Int) -> [ConvGeometry] {
        var rng = SeededGenerator(seed: seed)
        var result: [ConvGeometry] = []
        while result.count < count {
            if let g = draw(&rng, kind: result.count % 6) { result.append(g) }
        }
        return result
    }

    static func draw(_ rng: inout SeededGenerator, kind: Int) -> ConvGeometry? {
        let n = rng.int(1...4)
        var groups = rng.pick([1, 1, 1, 2, 3])
        var c = groups * rng.int(1...3), k = groups * rng.int(1...3)
        var (r, s) = (rng.int(1...4), rng.int(1...3))
        var (sh, sw) = (rng.int(1...3), rng.int(1...2))
        var (dh, dw) = (rng.chance(0.6) ? 1 : rng.int(2...3), rng.chance(0.6) ? 1 : 2)
        var pad = Padding(top: rng.int(0...2), bottom: rng.int(0...3), left: rng.int(0...3), right: rng.int(0...1))
        switch kind {
        case 0:  // 1×1, stride 1, unpadded: pointwise
            (r, s, sh, sw, dh, dw, pad) = (1, 1, 1, 1, 1, 1, .zero)
        case 1:  // depthwise, channel multiplier 1–2
            groups = rng.int(2...5); c = groups; k = groups * rng.int(1...2)
        case 2:  // 3×3, stride 1, dilation 1: Winograd applies
            (r, s, sh, sw, dh, dw) = (3, 3, 1, 1, 1, 1)
        default: break
        }
        let h = rng.int(1...9), w = rng.int(1...9)
        return try? ConvGeometry(
            batch: n, inputChannels: c, inputHeight: h, inputWidth: w, outputChannels: k, kernelHeight: r,
            kernelWidth: s, strideHeight: sh, strideWidth: sw, padding: .explicit(pad), dilationHeight: dh,
            dilationWidth: dw, groups: groups)
    }
}

/// What a layout sweep found.
struct LayoutTally: Sendable {
    var runs = 0
    var casesPerPlan: [String: Int] = [:]
    var worstFloat = 0.0, worstDouble = 0.0

    mutating func merge(_ o: LayoutTally) {
        runs += o.runs
        casesPerPlan.merge(o.casesPerPlan, uniquingKeysWith: +)
        worstFloat = max(worstFloat, o.worstFloat)
        worstDouble = max(worstDouble, o.worstDouble)
    }

    mutating func note<T>(_ worst: Double, _: T.Type) {
        if T.self == Float.self { worstFloat = max(worstFloat, worst) } else { worstDouble = max(worstDouble, worst) }
    }
}

/// Forward, backward with all three gradients and backward with `subset`, through the buffer API with every
/// destination starting as NaN, each result checked against `reference` (results of the subset call only where
/// computed). Returns the worst fraction of the bound.
func checkLayoutRun<T: ConvScalar>(
    _ engine: ConvolutionEngine, _ g: ConvGeometry, _ p: Problem, bias: Bool, subset: GradientSet,
    _ reference: ReferenceResults, _ workspace: ConvWorkspace<T>, context: String
) throws -> Double {
    let x: [T] = converted(p.input, to: T.self), f: [T] = converted(p.filter, to: T.self)
    let b: [T]? = bias ? converted(p.bias, to: T.self) : nil, dO: [T] = converted(p.outputGradient, to: T.self)
    var o = [T](repeating: .nan, count: g.outputCount)
    var dX: [T]? = [T](repeating: .nan, count: g.inputCount), dF: [T]? = [T](repeating: .nan, count: g.filterCount)
    var dB: [T]? = [T](repeating: .nan, count: g.outputChannels)
    var sX: [T]? = subset.contains(.input) ? [T](repeating: .nan, count: g.inputCount) : nil
    var sF: [T]? = subset.contains(.filter) ? [T](repeating: .nan, count: g.filterCount) : nil
    var sB: [T]? = subset.contains(.bias) ? [T](repeating: .nan, count: g.outputChannels) : nil
    try x.withUnsafeBufferPointer { xb in
        try f.withUnsafeBufferPointer { fb in
            try dO.withUnsafeBufferPointer { dOb in
                try o.withUnsafeMutableBufferPointer { ob in
                    try withOptionalBuffer(b) { bb in
                        try engine.forward(g, input: xb, filter: fb, bias: bb, output: ob, workspace: workspace)
                    }
                }
                try withMutableBuffers(&dX, &dF, &dB) { dx, df, db in
                    try engine.backward(g, input: xb, filter: fb, outputGradient: dOb, inputGradient: dx,
                                        filterGradient: df, biasGradient: db, workspace: workspace)
                }
                try withMutableBuffers(&sX, &sF, &sB) { dx, df, db in
                    try engine.backward(g, input: subset.contains(.filter) ? xb : nil,
                                        filter: subset.contains(.input) ? fb : nil, outputGradient: dOb,
                                        inputGradient: dx, filterGradient: df, biasGradient: db, workspace: workspace)
                }
            }
        }
    }
    var worst = reference.check(ConvResults(output: o, inputGradient: dX!, filterGradient: dF!, biasGradient: dB!),
                                geometry: g, context: context)
    var skip: Set<String> = ["O"]
    if sX == nil { skip.insert("dX") }
    if sF == nil { skip.insert("dF") }
    if sB == nil { skip.insert("dB") }
    worst = max(worst, reference.check(ConvResults(output: o, inputGradient: sX ?? [], filterGradient: sF ?? [],
                                                   biasGradient: sB ?? []),
                                       geometry: g, context: context + ", subset \(subset.rawValue)", skip: skip))
    return worst
}

@Suite("Layouts: randomized sweep of every plan in every layout against the reference")
struct LayoutSweepTests {
    @Test("2-D: every algorithm forced (both routes) and the automatic plan, four layouts, 1–3 workers, Float and Double")
    func twoDimensional() async throws {
        let geometries = LayoutSweep.geometries(count: LayoutSweep.count)
        pinBLASThreadsOnce()
        var total = LayoutTally()
        await withTaskGroup(of: LayoutTally.self) { group in
            for shard in 0..<2 {
                group.addTask {
                    let fw = ConvWorkspace<Float>(), dw = ConvWorkspace<Double>()
                    var tally = LayoutTally()
                    for (i, g) in geometries.enumerated() where i % 2 == shard {
                        tally.merge(i % 2 == 0 ? Self.run(i, g, fw) : Self.run(i, g, dw))
                    }
                    return tally
                }
            }
            for await tally in group { total.merge(tally) }
        }
        print("""
            layout sweep: \(geometries.count) geometries × 4 layouts, \(total.runs) plan runs; cases per plan and layout: \
            \(total.casesPerPlan.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            layout sweep: worst fraction of the bound: Float \(total.worstFloat), Double \(total.worstDouble)
            """)
        let least = TestScale.pick(normal: 2, small: 1)
        for layout in allLayouts {
            for algorithm in ConvAlgorithm.allCases {
                for route in InputGradientAlgorithm.allCases {
                    let key = "\(algorithm)+\(route) \(layout)"
                    #expect(total.casesPerPlan[key, default: 0] >= least, "\(key) ran on too few geometries")
                }
            }
            #expect(total.casesPerPlan["automatic \(layout)", default: 0] == geometries.count)
        }
        #expect(total.worstFloat <= 1 && total.worstDouble <= 1)
    }

    /// One geometry in the four layouts, every plan, in `T`.
    static func run<T: ConvScalar>(_ index: Int, _ base: ConvGeometry, _ workspace: ConvWorkspace<T>) -> LayoutTally {
        var tally = LayoutTally()
        var rng = SeededGenerator(seed: LayoutSweep.seed, index: index)
        let useBias = index % 4 != 1
        for layout in allLayouts {
            let g = base.withLayout(layout)
            let label = "layout sweep case \(index), \(g), \(T.self)"
            do {
                let problem = Problem(g, rng: &rng).rounded(to: T.self)
                let reference = try ReferenceResults(g, input: problem.input, filter: problem.filter,
                                                     bias: useBias ? problem.bias : nil,
                                                     outputGradient: problem.outputGradient)
                var plans: [(ConvAlgorithm?, InputGradientAlgorithm?)] = [(nil, nil)]
                plans += ConvAlgorithm.allCases.filter { $0.supports(g) }.flatMap { a in
                    InputGradientAlgorithm.allCases.map { (Optional(a), Optional($0)) }
                }
                for (j, (algorithm, route)) in plans.enumerated() {
                    let workers = 1 + (index + j) % 3
                    // Every other plan with a tiny tile budget: conversion chunks of one image per worker (so the
                    // batch runs in several chunks) and the algorithms' smallest tiles.
                    let engine = try ConvolutionEngine(workers: workers, algorithm: algorithm,
                                                       inputGradientAlgorithm: route,
                                                       tileBudgetBytes: j % 2 == 0 ? 64 : ConvolutionEngine.defaultTileBudgetBytes)
                    let plan = try engine.plan(for: g, scalar: T.self)
                    checkConversion(plan, g, context: label)
                    let bounded = algorithm == nil ? reference.bounded(for: engine, geometry: g, scalar: T.self)
                        : reference.bounded(for: plan.algorithm, route: plan.inputGradientAlgorithm, geometry: g)
                    let worst = try checkLayoutRun(engine, g, problem, bias: useBias,
                                                   subset: LayoutSweep.subsets[(index + j) % LayoutSweep.subsets.count],
                                                   bounded, workspace, context: "\(label), plan \(plan)")
                    tally.note(worst, T.self)
                    tally.runs += 1
                    let key = algorithm.map { "\($0)+\(plan.inputGradientAlgorithm)" } ?? "automatic"
                    tally.casesPerPlan["\(key) \(layout)", default: 0] += 1
                }
            } catch {
                Issue.record("unexpected error \(error) — \(label)")
            }
        }
        return tally
    }

    /// The plan says when it converts, and converts only what differs: nothing in NCHW; with NCHW activations and
    /// a K×R×S×C/G filter (no algorithm reads that pair natively), the filter alone.
    static func checkConversion(_ plan: ConvPlan, _ g: ConvGeometry, context: String) {
        switch (g.layout.activations, g.layout.filter) {
        case (.channelsFirst, .channelsFirst):
            #expect(plan.layoutConversion == nil, "\(context): \(plan)")
        case (.channelsFirst, .channelsLast):
            #expect(plan.layoutConversion?.convertsFilter == true && plan.layoutConversion?.convertsActivations == false,
                    "\(context): \(plan)")
        default:
            // Native channels-last algorithms need no conversion; every other plan says which one it uses.
            if let conversion = plan.layoutConversion {
                #expect(plan.description.hasSuffix(conversion.description), "\(context): \(plan)")
                #expect(conversion.convertsActivations || conversion.convertsFilter, "\(context): \(plan)")
            }
        }
    }

    @Test("Transposed, 1-D and transposed 1-D: every algorithm forced and the automatic plan, four layouts")
    func mappedFamily() async throws {
        pinBLASThreadsOnce()
        let count = TestScale.pick(normal: 8, small: 2, full: 60)
        var transposed: [(TransposedConvGeometry, UInt64)] = []
        var rng = SeededGenerator(seed: LayoutSweep.seed ^ 0x7)
        while transposed.count < count {
            if let g = TransposedSweep.draw(&rng, index: transposed.count) { transposed.append((g, rng.next())) }
        }
        var oneD: [(ConvGeometry1D, UInt64)] = [], transposed1D: [(TransposedConvGeometry1D, UInt64)] = []
        while oneD.count < count {
            let groups = rng.pick([1, 2])
            if let g = try? ConvGeometry1D(batch: rng.int(1...3), inputChannels: groups * rng.int(1...3),
                                           inputLength: rng.int(3...12), outputChannels: groups * rng.int(1...3),
                                           kernelLength: rng.int(1...4), stride: rng.int(1...3),
                                           padding: Padding1D(left: rng.int(0...2), right: rng.int(0...2)),
                                           dilation: rng.int(1...2), groups: groups) {
                oneD.append((g, rng.next()))
            }
        }
        while transposed1D.count < count {
            let stride = rng.int(1...3), dilation = rng.int(1...3)
            if let g = try? TransposedConvGeometry1D(
                batch: rng.int(1...3), inputChannels: rng.int(1...4), inputLength: rng.int(2...8),
                outputChannels: rng.int(1...4), kernelLength: rng.int(1...4), stride: stride,
                padding: Padding1D(left: rng.int(0...1), right: rng.int(0...1)),
                outputPadding: rng.int(0...(max(stride, dilation) - 1)), dilation: dilation) {
                transposed1D.append((g, rng.next()))
            }
        }
        var tally = FamilyTally()
        for layout in allLayouts {
            tally.merge(await runFamilySweep(transposed.map { ($0.0.withLayout(layout), $0.1) }))
            tally.merge(await runFamilySweep(oneD.map { ($0.0.withLayout(layout), $0.1) }))
            tally.merge(await runFamilySweep(transposed1D.map { ($0.0.withLayout(layout), $0.1) }))
            // The automatic plan of each, on two workers, in Double, with a tiny tile budget: conversion chunks of
            // two images.
            let engine = try ConvolutionEngine(workers: 2, tileBudgetBytes: 64)
            let workspace = ConvWorkspace<Double>()
            tally.worstDouble = max(tally.worstDouble, try Self.automatic(transposed, layout, engine, workspace))
            tally.worstDouble = max(tally.worstDouble, try Self.automatic(oneD, layout, engine, workspace))
            tally.worstDouble = max(tally.worstDouble, try Self.automatic(transposed1D, layout, engine, workspace))
        }
        reportFamilySweep("layout family", tally,
                          expected: ["tiledIm2col+col2im", "tiledIm2col+fullConvolution", "im2col+col2im"],
                          least: 4 * count)
        #expect(tally.cases == 4 * 3 * count)
    }

    /// The automatic plan on `cases` in `layout`; the worst fraction of the bound.
    static func automatic<G: FamilyGeometry>(_ cases: [(G, UInt64)], _ layout: ConvLayout, _ engine: ConvolutionEngine,
                                             _ workspace: ConvWorkspace<Double>) throws -> Double {
        var worst = 0.0
        for (i, (base, seed)) in cases.enumerated() {
            let g = base.withLayout(layout)
            var rng = SeededGenerator(seed: seed)
            let problem = FamilyProblem(g, useBias: true, rng: &rng)
            let plan = try g.mappedPlan(engine)
            let reference = g.bounded(try FamilyReference(g, problem), plan: plan.plan, operands: problem)
            worst = max(worst, checkFamilyPlan(g, engine, problem, reference, subset: LayoutSweep.subsets[i % 6], workspace,
                                               context: "\(G.operation) automatic, \(g), plan \(plan)"))
        }
        return worst
    }

    @Test("3-D: every 3-D algorithm forced and the automatic plan, four layouts, under a workspace limit too")
    func volume() throws {
        pinBLASThreadsOnce()
        let geometries = VolumeSweep.geometries(seed: LayoutSweep.seed ^ 0x3D, count: TestScale.pick(normal: 12, small: 2, full: 80))
        var worst = 0.0, runs = 0
        for (i, base) in geometries.enumerated() {
            for layout in allLayouts {
                let g = base.withLayout(layout)
                var rng = SeededGenerator(seed: LayoutSweep.seed, index: 1000 + i)
                let x = rng.values(g.inputCount), f = rng.values(g.filterCount), b = rng.values(g.outputChannels)
                let dO = rng.values(g.outputCount)
                let subset = LayoutSweep.subsets[i % 6]
                let reference = try VolumeReference(g, input: x, filter: f, bias: b, outputGradient: dO)
                let xf = roundedThrough(x, Float.self), ff = roundedThrough(f, Float.self)
                let bf = roundedThrough(b, Float.self), dOf = roundedThrough(dO, Float.self)
                let referenceF = try VolumeReference(g, input: xf, filter: ff, bias: bf, outputGradient: dOf)
                for algorithm in [nil] + ConvAlgorithm3D.allCases.map(Optional.some) {
                    let workers = 1 + (i + runs) % 3
                    var engines = [try makeVolumeEngine(workers: workers, algorithm: algorithm),
                                   try makeVolumeEngine(workers: workers, algorithm: algorithm, tileBudgetBytes: 64)]
                    let need = try engines[0].workspaceBytes(for: g, scalar: Double.self)
                    if let tight = try? makeVolumeEngine(workers: workers, algorithm: algorithm, workspaceLimit: need / 3),
                       (try? tight.plan(for: g, scalar: Double.self)) != nil {
                        engines.append(tight)
                    }
                    for engine in engines {
                        let plan = try engine.plan(for: g, scalar: Double.self)
                        #expect((plan.layoutConversion == nil) == (layout == .nchw), "\(g): \(plan)")
                        let context = "3-D layout case \(i), \(g), plan \(plan)"
                            + (engine.workspaceLimit.map { ", limit \($0) B" } ?? "")
                        let ws = ConvWorkspace<Double>()
                        let d = try runVolume(engine, g, x: x, f: f, b: b, dO: dO, workspace: ws)
                        worst = max(worst, reference.check(d, geometry: g, context: context + ", Double"))
                        #expect(ws.peakElementCount * 8 <= engine.workspaceLimit ?? Int.max, "\(context): workspace limit")
                        let s = try runVolume(engine, g, x: x, f: f, b: b, dO: dO, gradients: subset, workspace: ws)
                        var names: Set<String> = ["O"]
                        if subset.contains(.input) { names.insert("dX") }
                        if subset.contains(.filter) { names.insert("dF") }
                        if subset.contains(.bias) { names.insert("dB") }
                        worst = max(worst, reference.check(s, geometry: g, context: context + ", subset", only: names))
                        let fl = try runVolume(engine, g, x: converted(x, to: Float.self), f: converted(f, to: Float.self),
                                               b: converted(b, to: Float.self), dO: converted(dO, to: Float.self),
                                               workspace: ConvWorkspace<Float>())
                        worst = max(worst, referenceF.check(fl, geometry: g, context: context + ", Float"))
                        runs += 1
                    }
                }
            }
        }
        print("layout sweep 3-D: \(geometries.count) geometries × 4 layouts, \(runs) plan runs, worst fraction of the bound \(worst)")
        #expect(worst <= 1)
    }
}
