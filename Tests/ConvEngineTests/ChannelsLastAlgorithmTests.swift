// The native channels-last algorithms (Sources/ConvEngine/Algorithms/ChannelsLast), each forced on NHWC geometries
// with either filter layout and compared element by element with the reference (which reads any layout) within
// MATH.md's bound: forward and every gradient, every subset of the gradients, the fused activation, the prepared
// filter, repeated calls at 1–3 workers, multi-tile schedules and workspace limits; and the automatic rule on
// channels-last geometries.
import Testing
@testable import ConvEngine

@Suite("Channels-last algorithms against the reference")
struct ChannelsLastAlgorithmTests {
    /// The algorithms with a native channels-last type.
    static let native: [ConvAlgorithm] = [.pointwise, .tiledIm2col, .im2col, .depthwiseDirect, .winograd2x2, .winograd4x4]

    /// Random channels-last geometries, a quarter each general (any stride, padding, dilation, groups), pointwise
    /// (1×1, stride 1, unpadded, groups), depthwise (any multiplier, channels past 32 for every vector width) and
    /// Winograd's (3×3, stride 1, any padding, channels past 8 for the transforms' tails), with either filter layout.
    static func geometries(seed: UInt64, count: Int) -> [ConvGeometry] {
        var rng = SeededGenerator(seed: seed)
        var result: [ConvGeometry] = []
        while result.count < count {
            let kind = result.count % 4
            let filterLayout: FilterLayout = rng.chance(0.5) ? .channelsLast : .channelsFirst
            let layout = ConvLayout(activations: .channelsLast, filter: filterLayout)
            let g: ConvGeometry?
            switch kind {
            case 0:
                let groups = rng.pick([1, 1, 2, 3])
                g = try? ConvGeometry(
                    batch: rng.int(1...3), inputChannels: groups * rng.int(1...5), inputHeight: rng.int(1...9),
                    inputWidth: rng.int(1...9), outputChannels: groups * rng.int(1...4), kernelHeight: rng.int(1...4),
                    kernelWidth: rng.int(1...4), strideHeight: rng.int(1...3), strideWidth: rng.int(1...3),
                    padding: .explicit(Padding(top: rng.int(0...2), bottom: rng.int(0...2), left: rng.int(0...2),
                                               right: rng.int(0...2))),
                    dilationHeight: rng.int(1...2), dilationWidth: rng.int(1...2), groups: groups, layout: layout)
            case 1:
                let groups = rng.pick([1, 1, 2, 4])
                g = try? ConvGeometry(
                    batch: rng.int(1...4), inputChannels: groups * rng.int(1...9), inputHeight: rng.int(1...8),
                    inputWidth: rng.int(1...8), outputChannels: groups * rng.int(1...9), kernelHeight: 1,
                    kernelWidth: 1, groups: groups, layout: layout)
            case 3:
                let groups = rng.pick([1, 1, 2])
                g = try? ConvGeometry(
                    batch: rng.int(1...3), inputChannels: groups * rng.int(1...11), inputHeight: rng.int(1...10),
                    inputWidth: rng.int(1...10), outputChannels: groups * rng.int(1...11), kernelHeight: 3,
                    kernelWidth: 3, padding: .explicit(Padding(top: rng.int(0...3), bottom: rng.int(0...2),
                                                               left: rng.int(0...2), right: rng.int(0...3))),
                    groups: groups, layout: layout)
            default:
                let c = rng.pick([1, 3, 8, 13, 40, 75])
                g = try? ConvGeometry(
                    batch: rng.int(1...3), inputChannels: c, inputHeight: rng.int(1...8), inputWidth: rng.int(1...8),
                    outputChannels: c * rng.pick([1, 1, 2, 3]), kernelHeight: rng.int(1...3), kernelWidth: rng.int(1...3),
                    strideHeight: rng.int(1...2), strideWidth: rng.int(1...2),
                    padding: .explicit(Padding(top: rng.int(0...2), bottom: rng.int(0...1), left: rng.int(0...1),
                                               right: rng.int(0...2))),
                    dilationHeight: rng.int(1...2), dilationWidth: rng.int(1...2), groups: c, layout: layout)
            }
            if let g { result.append(g) }
        }
        return result
    }

    /// The plans of one algorithm on `g`: 1–3 workers, the automatic tile and forced tiles of a row and of a few
    /// rows (several tiles per image, tiles across images).
    static func engines(_ algorithm: ConvAlgorithm, _ g: ConvGeometry) throws -> [(String, ConvolutionEngine)] {
        var result: [(String, ConvolutionEngine)] = []
        for workers in 1...3 {
            result.append(("\(algorithm)×\(workers)", try makeEngine(workers: workers, algorithm: algorithm)))
        }
        pinBLASThreadsOnce()
        for rows in [1, 3] {
            result.append(("\(algorithm)×2 tile \(rows) rows",
                           try ConvolutionEngine(workers: 2, algorithm: algorithm, tileRows: rows)))
        }
        return result
    }

    @Test("forced on NHWC: O, dX, dF, dB within the bound of the reference, repeats bit-identical (Float, Double)",
          arguments: [false, true])
    func forcedAgainstReference(double: Bool) throws {
        if double { try forced(Double.self, seed: 0xC1A5_0D) } else { try forced(Float.self, seed: 0xC1A5_0F) }
    }

    private func forced<T: ConvScalar>(_: T.Type, seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        var ran: Set<ConvAlgorithm> = []
        for g in Self.geometries(seed: seed, count: TestScale.pick(normal: 36, small: 9, full: 300)) {
            let problem = Problem(g, rng: &rng).rounded(to: T.self)
            let reference = try ReferenceResults(g, input: problem.input, filter: problem.filter, bias: problem.bias,
                                                 outputGradient: problem.outputGradient)
            let x = converted(problem.input, to: T.self), f = converted(problem.filter, to: T.self)
            let b = converted(problem.bias, to: T.self), dO = converted(problem.outputGradient, to: T.self)
            for algorithm in Self.native where algorithm.supports(g) {
                for (name, engine) in try Self.engines(algorithm, g) {
                    let context = CheckContext(geometry: g, plan: name, scalar: "\(T.self)")
                    let first = try runAll(engine, g, x: x, f: f, b: b, dO: dO, workspace: ConvWorkspace<T>())
                    reference.bounded(for: algorithm, route: .col2im, geometry: g).check(first, geometry: g, context: context)
                    let again = try runAll(engine, g, x: x, f: f, b: b, dO: dO, workspace: ConvWorkspace<T>())
                    if let d = firstBitDifference(again, first) { Issue.record("repeat differs: \(d) — \(context)") }
                    ran.insert(algorithm)
                }
            }
        }
        #expect(ran == Set(Self.native))
    }

    @Test("per-image algorithms: O and dX do not depend on the worker count; dB never does")
    func workerCountIndependence() throws {
        var rng = SeededGenerator(seed: 0xC1A5_1D)
        for g in Self.geometries(seed: 0xC1A5_1D, count: TestScale.pick(normal: 12, small: 3)) {
            let x = converted(rng.values(g.inputCount), to: Float.self), f = converted(rng.values(g.filterCount), to: Float.self)
            let b = converted(rng.array(g.outputChannels), to: Float.self), dO = converted(rng.values(g.outputCount), to: Float.self)
            for algorithm in Self.native where algorithm.supports(g) {
                let runs = try [1, 2, 3].map { workers in
                    try runAll(try makeEngine(workers: workers, algorithm: algorithm), g, x: x, f: f, b: b, dO: dO,
                               workspace: ConvWorkspace<Float>())
                }
                let perImage = [.pointwise, .im2col, .depthwiseDirect].contains(algorithm)
                for r in runs.dropFirst() {
                    let context = "\(algorithm) \(g)"
                    if perImage {
                        expectBitIdentical(r.output, runs[0].output, "O \(context)")
                        expectBitIdentical(r.inputGradient, runs[0].inputGradient, "dX \(context)")
                    }
                    expectBitIdentical(r.biasGradient, runs[0].biasGradient, "dB \(context)")
                }
            }
        }
    }

    @Test("non-finite values: each NHWC algorithm gives the reference's NaN and ±∞ pattern (padding multiplied)")
    func nonFinitePattern() throws {
        var rng = SeededGenerator(seed: 0xC1A5_1F)
        func kinds(_ v: [Double]) -> [String] {
            v.map { $0.isNaN ? "nan" : $0 == .infinity ? "+inf" : $0 == -.infinity ? "-inf" : "finite" }
        }
        // Padded geometries, so infinite taps meet padding: a general one, a pointwise one and a depthwise one.
        let geometries = [
            try ConvGeometry(batch: 2, inputChannels: 3, inputHeight: 6, inputWidth: 5, outputChannels: 4,
                             kernelHeight: 3, kernelWidth: 3, padding: 1, layout: .nhwc),
            try ConvGeometry(batch: 2, inputChannels: 5, inputHeight: 4, inputWidth: 3, outputChannels: 3,
                             kernelHeight: 1, kernelWidth: 1, layout: .nhwc),
            try ConvGeometry(batch: 2, inputChannels: 11, inputHeight: 7, inputWidth: 9, outputChannels: 11,
                             kernelHeight: 3, kernelWidth: 3, strideHeight: 1, strideWidth: 1, padding: 1,
                             groups: 11, layout: .nhwc),
            try ConvGeometry(batch: 2, inputChannels: 11, inputHeight: 7, inputWidth: 9, outputChannels: 22,
                             kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2, padding: 1,
                             groups: 11, layout: .nhwc),
        ]
        let reference = ReferenceConvolution()
        for g in geometries {
            // Small finite values, then one +∞ filter tap, one NaN pixel and one −∞ output gradient.
            var f = rng.array(g.filterCount), x = rng.array(g.inputCount), dO = rng.array(g.outputCount)
            f[rng.int(0...(g.filterCount - 1))] = .infinity
            x[rng.int(0...(g.inputCount - 1))] = .nan
            dO[rng.int(0...(g.outputCount - 1))] = -.infinity
            let b = rng.array(g.outputChannels)
            let o = try reference.forward(g, input: x, filter: f, bias: b)
            let grads = try reference.backward(g, input: x, filter: f, outputGradient: dO)
            // The transform algorithms spread a NaN or ±∞ within a tile (their documented rule, WinogradTests).
            for algorithm in Self.native where algorithm.supports(g) && algorithm.winogradTileSize == nil {
                for workers in [1, 2] {
                    let engine = try makeEngine(workers: workers, algorithm: algorithm, inputGradientAlgorithm: .col2im)
                    let eo = try engine.forward(g, input: x, filter: f, bias: b)
                    let eg = try engine.backward(g, input: x, filter: f, outputGradient: dO)
                    let context = "\(algorithm)×\(workers) \(g)"
                    #expect(kinds(eo) == kinds(o), "O \(context)")
                    #expect(kinds(eg.input!) == kinds(grads.input!), "dX \(context)")
                    #expect(kinds(eg.filter!) == kinds(grads.filter!), "dF \(context)")
                    #expect(kinds(eg.bias!) == kinds(grads.bias!), "dB \(context)")
                }
            }
        }
    }

    @Test("every subset of the gradients is bit for bit the same as computed together")
    func gradientSubsets() throws {
        var rng = SeededGenerator(seed: 0xC1A5_5B)
        let subsets: [GradientSet] = [.input, .filter, .bias, [.input, .filter], [.input, .bias], [.filter, .bias]]
        for g in Self.geometries(seed: 0xC1A5_5B, count: TestScale.pick(normal: 12, small: 3)) {
            let x = converted(rng.values(g.inputCount), to: Float.self), f = converted(rng.values(g.filterCount), to: Float.self)
            let dO = converted(rng.values(g.outputCount), to: Float.self)
            for algorithm in Self.native where algorithm.supports(g) {
                for workers in [1, 3] {
                    let engine = try makeEngine(workers: workers, algorithm: algorithm)
                    let all = try engine.backward(g, input: x, filter: f, outputGradient: dO)
                    for subset in subsets {
                        let part = try engine.backward(g, input: subset.contains(.filter) ? x : nil,
                                                       filter: subset.contains(.input) ? f : nil,
                                                       outputGradient: dO, gradients: subset)
                        let context = "\(algorithm)×\(workers) \(subset) \(g)"
                        if subset.contains(.input) { expectBitIdentical(part.input ?? [], all.input!, "dX \(context)") }
                        if subset.contains(.filter) { expectBitIdentical(part.filter ?? [], all.filter!, "dF \(context)") }
                        if subset.contains(.bias) { expectBitIdentical(part.bias ?? [], all.bias!, "dB \(context)") }
                    }
                }
            }
        }
    }

    @Test("fused activation is f of the plain forward pass, and the prepared filter gives the raw filter's bits")
    func activationAndPreparedFilter() throws {
        var rng = SeededGenerator(seed: 0xC1A5_AF)
        let activations: [Activation] = [.relu, .clamp(lower: -0.3, upper: 0.4), .leakyReLU(slope: 0.1)]
        for g in Self.geometries(seed: 0xC1A5_AF, count: TestScale.pick(normal: 12, small: 3)) {
            let x = converted(rng.values(g.inputCount), to: Float.self), f = converted(rng.values(g.filterCount), to: Float.self)
            let b = converted(rng.array(g.outputChannels), to: Float.self)
            for algorithm in Self.native where algorithm.supports(g) {
                for workers in [1, 2] {
                    let engine = try makeEngine(workers: workers, algorithm: algorithm)
                    let context = "\(algorithm)×\(workers) \(g)"
                    let plain = try engine.forward(g, input: x, filter: f, bias: b)
                    for a in activations {
                        let fused = try engine.forward(g, input: x, filter: f, bias: b, activation: a)
                        expectBitIdentical(fused, plain.map { activate($0, a) }, "\(a) \(context)")
                    }
                    // Prepared on another batch: the prepared form never depends on it.
                    let prepared = try engine.prepareFilter(try g.withBatch(g.batch + 1), filter: f)
                    #expect(prepared.isTransformed == (algorithm == .depthwiseDirect || algorithm.winogradTileSize != nil
                                                       || !ChannelsLastFilter(g).isTapMajor(g.layout.filter)),
                            "prepared form \(context)")
                    let viaPrepared = try engine.forward(g, input: x, filter: prepared, bias: b, activation: .identity)
                    expectBitIdentical(viaPrepared, plain, "prepared \(context)")
                }
            }
        }
    }

    @Test("under a workspace limit the tile shrinks, the workspace stays under it, and results stay within the bound")
    func workspaceLimits() throws {
        var rng = SeededGenerator(seed: 0xC1A5_3C)
        let geometries = [
            try ConvGeometry(batch: 3, inputChannels: 6, inputHeight: 12, inputWidth: 10, outputChannels: 5,
                             kernelHeight: 3, kernelWidth: 3, padding: 1, layout: .nhwc),
            try ConvGeometry(batch: 2, inputChannels: 4, inputHeight: 9, inputWidth: 11, outputChannels: 6,
                             kernelHeight: 3, kernelWidth: 2, strideHeight: 2, strideWidth: 1, groups: 2,
                             layout: ConvLayout(activations: .channelsLast, filter: .channelsFirst)),
        ]
        for g in geometries {
            let problem = Problem(g, rng: &rng).rounded(to: Float.self)
            let reference = try ReferenceResults(g, input: problem.input, filter: problem.filter, bias: problem.bias,
                                                 outputGradient: problem.outputGradient)
            let x = converted(problem.input, to: Float.self), f = converted(problem.filter, to: Float.self)
            let b = converted(problem.bias, to: Float.self), dO = converted(problem.outputGradient, to: Float.self)
            let unlimited = try makeEngine(workers: 2, algorithm: .tiledIm2col).workspaceBytes(for: g)
            var previous = unlimited
            for divisor in [2, 4, 8] {
                let limit = unlimited / divisor
                guard let engine = try? makeEngine(workers: 2, algorithm: .tiledIm2col, workspaceLimit: limit),
                      let bytes = try? engine.workspaceBytes(for: g) else { continue }
                #expect(bytes <= limit && bytes <= previous, "\(bytes) bytes under a limit of \(limit), \(g)")
                previous = bytes
                let results = try runAll(engine, g, x: x, f: f, b: b, dO: dO, workspace: ConvWorkspace<Float>())
                reference.check(results, geometry: g,
                                context: CheckContext(geometry: g, plan: "\(try engine.plan(for: g)) limit \(limit)",
                                                      scalar: "Float"))
            }
            #expect(previous < unlimited, "no limit shrank the tile of \(g)")
        }
    }

    @Test("the automatic rule on NHWC: pointwise, depthwise, Winograd (default mode), im2col, each native")
    func automaticRule() throws {
        let engine = try makeEngine(workers: 2)
        let cases: [(ConvGeometry, ConvAlgorithm)] = [
            (try ConvGeometry(batch: 2, inputChannels: 16, inputHeight: 8, inputWidth: 8, outputChannels: 8,
                              kernelHeight: 1, kernelWidth: 1, layout: .nhwc), .pointwise),
            (try ConvGeometry(batch: 2, inputChannels: 16, inputHeight: 8, inputWidth: 8, outputChannels: 16,
                              kernelHeight: 3, kernelWidth: 3, padding: 1, groups: 16, layout: .nhwc), .depthwiseDirect),
            (try ConvGeometry(batch: 2, inputChannels: 16, inputHeight: 8, inputWidth: 8, outputChannels: 8,
                              kernelHeight: 1, kernelWidth: 1, strideHeight: 2, strideWidth: 2, layout: .nhwc), .tiledIm2col),
            (try ConvGeometry(batch: 2, inputChannels: 3, inputHeight: 9, inputWidth: 9, outputChannels: 8,
                              kernelHeight: 5, kernelWidth: 5, strideHeight: 2, strideWidth: 2, padding: 2,
                              layout: ConvLayout(activations: .channelsLast, filter: .channelsFirst)), .tiledIm2col),
        ]
        let strict = try ConvolutionEngine(workers: 2, numerics: .strict)
        for (g, expected) in cases {
            for e in [engine, strict] {
                let plan = try e.plan(for: g)
                #expect(plan.algorithm == expected && plan.layoutConversion == nil, "\(plan) for \(g)")
            }
        }
        // ResNet's res3 3×3 layer: Winograd F(2×2) in the default mode, natively; the tiled im2col in strict mode.
        let res3 = try ConvGeometry(batch: 2, inputChannels: 128, inputHeight: 28, inputWidth: 28, outputChannels: 128,
                                    kernelHeight: 3, kernelWidth: 3, padding: 1, layout: .nhwc)
        let byDefault = try engine.plan(for: res3), byStrict = try strict.plan(for: res3)
        #expect(byDefault.algorithm == .winograd2x2 && byDefault.layoutConversion == nil, "\(byDefault)")
        #expect(byStrict.algorithm == .tiledIm2col && byStrict.layoutConversion == nil, "\(byStrict)")
    }
}
