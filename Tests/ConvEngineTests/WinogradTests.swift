// The Winograd algorithms (winograd2x2, winograd4x4), forced, against the Double reference with the transform
// bound (ErrorBound.termCounts(_:algorithm:), Mag from ReferenceConvolution.winograd*Magnitudes) across a sweep
// of their geometries; their documented non-finite behaviour; and the numerics setting of the automatic plan.
import Foundation
import Testing
import ConvEngine

@Suite("Winograd F(2×2, 3×3) and F(4×4, 3×3)")
struct WinogradTests {
    static let algorithms: [ConvAlgorithm] = [.winograd2x2, .winograd4x4]

    /// A random 3×3 stride-1 geometry: sizes 1…40 (small channels on large images, so the reference stays
    /// quick), each padding 0…2 on its own, groups 1…3, C/G or K/G often 1, batch 1…5.
    static func geometry(_ rng: inout SeededGenerator) -> ConvGeometry? {
        let groups = rng.pick([1, 1, 2, 3])
        let large = rng.chance(0.3)
        let h = large ? rng.int(17...40) : rng.int(1...16), w = large ? rng.int(17...40) : rng.int(1...16)
        let cg = rng.chance(0.25) ? 1 : rng.int(1...(large ? 3 : 9)), kg = rng.chance(0.25) ? 1 : rng.int(1...(large ? 3 : 9))
        let pad = (rng.int(0...2), rng.int(0...2), rng.int(0...2), rng.int(0...2))
        return try? ConvGeometry(n: rng.int(1...(large ? 2 : 5)), c: cg * groups, h: h, w: w, k: kg * groups,
                                 r: 3, s: 3, pad: pad, groups: groups)
    }

    /// Geometries every run includes: a 1×1 image padded to a 1×1 output, C = 1, K = 1, sizes not divisible by m,
    /// asymmetric padding, groups, and a layer with enough channels for the GEMMs to block.
    static let fixed: [ConvGeometry] = try! [
        ConvGeometry(n: 1, c: 1, h: 1, w: 1, k: 1, r: 3, s: 3, pad: (1, 1, 1, 1)),
        ConvGeometry(n: 3, c: 1, h: 7, w: 5, k: 4, r: 3, s: 3, pad: (0, 2, 1, 0)),
        ConvGeometry(n: 2, c: 5, h: 9, w: 11, k: 1, r: 3, s: 3, pad: (2, 0, 0, 2)),
        ConvGeometry(n: 5, c: 6, h: 13, w: 10, k: 9, r: 3, s: 3, pad: (1, 1, 1, 1), groups: 3),
        ConvGeometry(n: 1, c: 2, h: 40, w: 37, k: 2, r: 3, s: 3, pad: (2, 1, 0, 1)),
        ConvGeometry(n: 2, c: 48, h: 12, w: 12, k: 40, r: 3, s: 3, pad: (1, 1, 1, 1)),
        ConvGeometry(n: 4, c: 8, h: 3, w: 3, k: 8, r: 3, s: 3),
    ]

    @Test("Forced, every element within the transform bound: forward, input gradient (both routes), filter gradient (both ways), Float and Double")
    func sweep() throws {
        pinBLASThreadsOnce()
        var rng = SeededGenerator(seed: 0x3143_0014)
        var geometries = Self.fixed
        let count = TestScale.pick(normal: 24, small: 6, full: 400)
        while geometries.count < Self.fixed.count + count {
            if let g = Self.geometry(&rng) { geometries.append(g) }
        }
        var worst: [String: Double] = [:], runs = 0
        for (index, g) in geometries.enumerated() {
            let problem = Problem(g, rng: &rng)
            let references = (double: try Self.reference(g, problem, Double.self), float: try Self.reference(g, problem, Float.self))
            for algorithm in Self.algorithms {
                #expect(algorithm.supports(g), "\(algorithm) must run \(g)")
                for route in InputGradientAlgorithm.allCases {
                  for way in FilterGradientAlgorithm.allCases {
                    let workers = rng.pick([1, 2, 3])
                    let engine = try makeEngine(workers: workers, algorithm: algorithm, inputGradientAlgorithm: route,
                                                filterGradientAlgorithm: way)
                    #expect(try engine.plan(for: g).filterGradientAlgorithm == way)
                    let label = "case \(index) \(algorithm)+\(route)+\(way) dF×\(workers)"
                    worst["\(algorithm) \(way) dF Double", default: 0] = max(worst["\(algorithm) \(way) dF Double", default: 0],
                        try Self.check(engine, g, problem, references.double, Double.self, label))
                    worst["\(algorithm) \(way) dF Float", default: 0] = max(worst["\(algorithm) \(way) dF Float", default: 0],
                        try Self.check(engine, g, problem, references.float, Float.self, label))
                    runs += 2
                  }
                }
            }
        }
        print("winograd: \(geometries.count) geometries, \(runs) runs; worst fraction of the transform bound: "
              + worst.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
    }

    /// The Double reference on `problem` rounded to `T`.
    static func reference<T: ConvScalar>(_ g: ConvGeometry, _ problem: Problem, _: T.Type) throws -> ReferenceResults {
        let p = problem.rounded(to: T.self)
        return try ReferenceResults(g, input: p.input, filter: p.filter, bias: p.bias, outputGradient: p.outputGradient)
    }

    /// One forward + backward run of `engine` in `T`, checked with the bound its plan calls for.
    static func check<T: ConvScalar>(_ engine: ConvolutionEngine, _ g: ConvGeometry, _ problem: Problem,
                                     _ reference: ReferenceResults, _: T.Type, _ label: String) throws -> Double {
        let p = problem.rounded(to: T.self)
        let r = try runAll(engine, g, x: converted(p.input, to: T.self), f: converted(p.filter, to: T.self),
                           b: converted(p.bias, to: T.self), dO: converted(p.outputGradient, to: T.self),
                           workspace: ConvWorkspace<T>())
        return reference.bounded(for: engine, geometry: g, scalar: T.self)
            .check(r, geometry: g, context: CheckContext(geometry: g, plan: label, scalar: "\(T.self)"))
    }

    @Test("The transform bound is needed: Mag exceeds Σ|terms|, and the errors stay far inside the bound")
    func boundScale() throws {
        pinBLASThreadsOnce()
        let g = try ConvGeometry(n: 1, c: 64, h: 16, w: 16, k: 8, r: 3, s: 3, pad: (1, 1, 1, 1))
        var rng = SeededGenerator(seed: 0xB0B0)
        let p = Problem(g, rng: &rng).rounded(to: Float.self)
        let reference = try ReferenceResults(g, input: p.input, filter: p.filter, bias: p.bias, outputGradient: p.outputGradient)
        let scale = reference.output.map(abs).max()!
        for algorithm in Self.algorithms {
            let bounded = reference.bounded(for: algorithm, route: .col2im, geometry: g)
            let ratio = zip(bounded.outputMagnitudes, reference.outputMagnitudes).map { $0 / $1 }.reduce(0, +)
                / Double(g.outputCount)
            #expect(ratio > 1, "\(algorithm): Mag / Σ|terms| = \(ratio)")
            let engine = try makeEngine(workers: 1, algorithm: algorithm)
            let o = try engine.forward(g, input: converted(p.input, to: Float.self), filter: converted(p.filter, to: Float.self),
                                       bias: converted(p.bias, to: Float.self))
            let relative = zip(o, reference.output).map { abs(Double($0) - $1) }.max()! / scale
            let fraction = bounded.check(ConvResults(output: o, inputGradient: [], filterGradient: [], biasGradient: []),
                                         geometry: g, context: "\(algorithm)", skip: ["dX", "dF", "dB"])
            print("winograd: \(algorithm) Float, 64 channels: max error / max|O| \(relative), mean Mag/Σ|terms| \(ratio), "
                  + "worst fraction of the bound \(fraction)")
            #expect(relative < (algorithm == .winograd2x2 ? 1e-5 : 1e-4))
        }
    }

    @Test("Non-finite: a NaN in X reaches the outputs the definition says, and at most the tiles that read it")
    func nanSpreadsWithinTiles() throws {
        pinBLASThreadsOnce()
        let g = try ConvGeometry(n: 1, c: 2, h: 11, w: 10, k: 3, r: 3, s: 3, pad: (1, 1, 1, 1))
        var rng = SeededGenerator(seed: 0x0A0A)
        for (y, x) in [(0, 0), (5, 4), (10, 9), (3, 8)] {
            var input = rng.array(g.inputCount)
            input[(1 * g.inputHeight + y) * g.inputWidth + x] = .nan  // channel 1
            let f = rng.array(g.filterCount)
            for algorithm in Self.algorithms {
                let m = algorithm.winogradTileSize!
                let o = try makeEngine(workers: 1, algorithm: algorithm).forward(g, input: input, filter: f)
                for k in 0..<g.outputChannels {
                    for p in 0..<g.outputHeight {
                        for q in 0..<g.outputWidth {
                            // The definition: O[p, q] reads X[p − 1 + r, q − 1 + s] for r, s in 0...2.
                            let defined = (p - 1...p + 1).contains(y) && (q - 1...q + 1).contains(x)
                            // The tile of (p, q) reads rows (p/m)·m − 1 … + m + 1 (columns likewise).
                            let ty = (p / m) * m - 1, tx = (q / m) * m - 1
                            let tile = (ty...(ty + m + 1)).contains(y) && (tx...(tx + m + 1)).contains(x)
                            let value = o[(k * g.outputHeight + p) * g.outputWidth + q]
                            if defined { #expect(value.isNaN, "\(algorithm) NaN at \(y),\(x): O[\(k),\(p),\(q)] = \(value)") }
                            if !tile { #expect(value.isFinite, "\(algorithm) NaN at \(y),\(x): O[\(k),\(p),\(q)] = \(value)") }
                        }
                    }
                }
            }
        }
    }

    @Test("Numerics: strict never plans Winograd, default plans F(2×2), fast F(4×4); forcing works in any mode")
    func numericsModes() throws {
        pinBLASThreadsOnce()
        let res3 = try ConvGeometry(batch: 8, inputChannels: 128, inputHeight: 28, inputWidth: 28, outputChannels: 128,
                                    kernelHeight: 3, kernelWidth: 3, padding: 1)
        let res2 = try ConvGeometry(batch: 8, inputChannels: 64, inputHeight: 56, inputWidth: 56, outputChannels: 64,
                                    kernelHeight: 3, kernelWidth: 3, padding: 1)
        #expect(try ConvolutionEngine(workers: 1, numerics: .strict).plan(for: res3).algorithm.numerics == .strict)
        #expect(try ConvolutionEngine(workers: 1).plan(for: res3).algorithm == .winograd2x2)
        #expect(try ConvolutionEngine(workers: 1).plan(for: res2).algorithm == .winograd2x2)
        // 32 input channels: too few for F(2×2)'s GEMMs (the rule's measurement), enough for F(4×4)'s.
        let fashion = try ConvGeometry(n: 64, c: 32, h: 14, w: 14, k: 64, r: 3, s: 3, pad: (1, 1, 1, 1))
        #expect(try ConvolutionEngine(workers: 1).plan(for: fashion).algorithm.numerics == .strict)
        #expect(try ConvolutionEngine(workers: 1, numerics: .fast).plan(for: fashion).algorithm == .winograd4x4)
        let narrow = try ConvGeometry(n: 2, c: 16, h: 28, w: 28, k: 16, r: 3, s: 3, pad: (1, 1, 1, 1))
        #expect(try ConvolutionEngine(workers: 1, numerics: .fast).plan(for: narrow).algorithm.numerics == .strict)
        #expect(try ConvolutionEngine(workers: 1, numerics: .fast).plan(for: res3).algorithm == .winograd4x4)
        #expect(try ConvolutionEngine(workers: 1, numerics: .fast).plan(for: res2).algorithm == .winograd4x4)
        let small = try ConvGeometry(n: 1, c: 2, h: 6, w: 6, k: 2, r: 3, s: 3, pad: (1, 1, 1, 1))
        let forced = try ConvolutionEngine(workers: 1, algorithm: .winograd4x4, numerics: .strict)
        #expect(try forced.plan(for: small).algorithm == .winograd4x4)
        #expect(ConvNumerics.strict < .default && ConvNumerics.default < .fast)
        for g in [try ConvGeometry(n: 1, c: 2, h: 6, w: 6, k: 2, r: 5, s: 5),
                  try ConvGeometry(n: 1, c: 2, h: 6, w: 6, k: 2, r: 3, s: 3, stride: (2, 1)),
                  try ConvGeometry(n: 1, c: 2, h: 9, w: 9, k: 2, r: 3, s: 3, dilation: (1, 2))] {
            for algorithm in Self.algorithms {
                #expect(!algorithm.supports(g))
                let error = thrownError { _ = try ConvolutionEngine(workers: 1, algorithm: algorithm).plan(for: g) }
                #expect(error.map(errorKind) == "algorithmNotApplicable")
            }
        }
    }

    @Test("Workspace: independent of the batch, under a limit a smaller block or workspaceCapTooSmall")
    func workspace() throws {
        for algorithm in Self.algorithms {
            let engine = try makeEngine(workers: 2, algorithm: algorithm)
            let sizes = try [1, 3, 64].map { n in
                try engine.workspaceElementCount(for: ConvGeometry(n: n, c: 64, h: 28, w: 28, k: 64, r: 3, s: 3,
                                                                   pad: (1, 1, 1, 1)))
            }
            #expect(Set(sizes).count == 1, "\(algorithm): \(sizes)")
            let g = try ConvGeometry(n: 2, c: 64, h: 28, w: 28, k: 64, r: 3, s: 3, pad: (1, 1, 1, 1))
            let full = try engine.workspaceBytes(for: g)
            let capped = try makeEngine(workers: 2, algorithm: algorithm, workspaceLimit: full / 2)
            #expect(try capped.workspaceBytes(for: g) <= full / 2)
            let tiny = try makeEngine(workers: 2, algorithm: algorithm, workspaceLimit: 1024)
            #expect(thrownError { _ = try tiny.plan(for: g) }.map(errorKind) == "workspaceCapTooSmall")
        }
    }
}
