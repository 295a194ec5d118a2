// The filter gradient by transform (FilterGradientAlgorithm.winograd): who offers it, the rule's choice, the
// workspace and its fallback under a limit, bit-identical repeats, and where a NaN goes. Its accuracy against the
// reference, forced on every Winograd geometry of the sweep, is in WinogradTests.
import Foundation
import Testing
import ConvEngine

@Suite("Winograd filter gradient by transform")
struct WinogradFilterGradientTests {
    static let res3 = try! ConvGeometry(n: 2, c: 128, h: 28, w: 28, k: 128, r: 3, s: 3, pad: (1, 1, 1, 1))

    @Test("Offered by the Winograd plans only; the rule picks it where Winograd is automatic; forcing works")
    func plans() throws {
        pinBLASThreadsOnce()
        let g = Self.res3
        #expect(try ConvolutionEngine(workers: 1).plan(for: g).filterGradientAlgorithm == .winograd)
        #expect(try ConvolutionEngine(workers: 1, numerics: .fast).plan(for: g).filterGradientAlgorithm == .winograd)
        #expect(try ConvolutionEngine(workers: 1, numerics: .strict).plan(for: g).filterGradientAlgorithm == .sumOfProducts)
        let small = try ConvGeometry(n: 1, c: 2, h: 6, w: 6, k: 2, r: 3, s: 3, pad: (1, 1, 1, 1))
        for algorithm in ConvAlgorithm.allCases where algorithm.supports(small) {
            let automatic = try makeEngine(workers: 1, algorithm: algorithm).plan(for: small)
            #expect(automatic.filterGradientAlgorithm == .sumOfProducts, "\(algorithm) on \(small)")
            let forced = thrownError {
                let plan = try makeEngine(workers: 1, algorithm: algorithm, filterGradientAlgorithm: .winograd).plan(for: small)
                #expect(plan.filterGradientAlgorithm == .winograd)
                #expect(plan.description.contains("+winograd dF"), "\(plan)")
            }
            if algorithm.winogradTileSize == nil {
                #expect(forced.map(errorKind) == "algorithmNotApplicable", "\(algorithm) forced to the winograd dF")
            } else {
                #expect(forced == nil, "\(algorithm): \(String(describing: forced))")
            }
        }
        // Channels-last Winograd computes dF by sum of products only.
        let nhwc = small.withLayout(.nhwc)
        let error = thrownError {
            _ = try makeEngine(workers: 1, algorithm: .winograd4x4, filterGradientAlgorithm: .winograd).plan(for: nhwc)
        }
        #expect(error.map(errorKind) == "algorithmNotApplicable")
        #expect(try makeEngine(workers: 1, filterGradientAlgorithm: .sumOfProducts).plan(for: g).filterGradientAlgorithm
                == .sumOfProducts)
    }

    @Test("Workspace: independent of the batch; under a limit the automatic plan falls back to sum of products")
    func workspace() throws {
        for algorithm in WinogradTests.algorithms {
            let engine = try makeEngine(workers: 2, algorithm: algorithm, filterGradientAlgorithm: .winograd)
            let sizes = try [1, 3, 64].map { n in
                try engine.workspaceElementCount(for: ConvGeometry(n: n, c: 64, h: 28, w: 28, k: 64, r: 3, s: 3,
                                                                   pad: (1, 1, 1, 1)))
            }
            #expect(Set(sizes).count == 1, "\(algorithm): \(sizes)")
            // Below the per-worker sums of dU (2·α²·64·64 elements), the automatic plan changes its way.
            let g = try ConvGeometry(n: 2, c: 64, h: 28, w: 28, k: 64, r: 3, s: 3, pad: (1, 1, 1, 1))
            let a = algorithm.winogradTileSize! + 2, sums = 2 * a * a * 64 * 64 * MemoryLayout<Float>.stride
            let automatic = try makeEngine(workers: 2, algorithm: algorithm, workspaceLimit: sums - 1)
            #expect(try automatic.plan(for: g).filterGradientAlgorithm == .sumOfProducts)
            #expect(try automatic.workspaceBytes(for: g) < sums)
            let forced = try makeEngine(workers: 2, algorithm: algorithm, workspaceLimit: sums - 1,
                                        filterGradientAlgorithm: .winograd)
            #expect(thrownError { _ = try forced.plan(for: g) }.map(errorKind) == "workspaceCapTooSmall")
        }
    }

    @Test("Repeats are bit-identical at 1, 2 and 3 workers, with one workspace reused")
    func repeats() throws {
        let g = try ConvGeometry(n: 3, c: 12, h: 13, w: 10, k: 9, r: 3, s: 3, pad: (1, 0, 2, 1))
        var rng = SeededGenerator(seed: 0xDF0D)
        let p = Problem(g, rng: &rng).rounded(to: Float.self)
        let x = converted(p.input, to: Float.self), f = converted(p.filter, to: Float.self)
        let b = converted(p.bias, to: Float.self), dO = converted(p.outputGradient, to: Float.self)
        let workspace = ConvWorkspace<Float>()
        for algorithm in WinogradTests.algorithms {
            for workers in [1, 2, 3] {
                let engine = try makeEngine(workers: workers, algorithm: algorithm, filterGradientAlgorithm: .winograd)
                let first = try runAll(engine, g, x: x, f: f, b: b, dO: dO, workspace: workspace)
                let again = try runAll(engine, g, x: x, f: f, b: b, dO: dO, workspace: workspace)
                if let d = firstBitDifference(again, first) { Issue.record("\(algorithm)×\(workers): repeat differs: \(d)") }
            }
        }
    }

    @Test("Non-finite: a NaN in X reaches dF of its input channel only, a NaN in dO dF of its output channel only")
    func nanStaysInItsChannelPair() throws {
        pinBLASThreadsOnce()
        let g = try ConvGeometry(n: 2, c: 3, h: 9, w: 10, k: 4, r: 3, s: 3, pad: (1, 1, 1, 1))
        var rng = SeededGenerator(seed: 0xDF0E)
        let Cg = g.inputChannelsPerGroup
        for algorithm in WinogradTests.algorithms {
            let engine = try makeEngine(workers: 2, algorithm: algorithm, filterGradientAlgorithm: .winograd)
            // X: image 1, channel 2, an interior position, so every tap of dF[·, 2] sums it.
            var x = rng.array(g.inputCount), dO = rng.array(g.outputCount)
            x[((1 * g.inputChannels + 2) * g.inputHeight + 4) * g.inputWidth + 5] = .nan
            var dF = try engine.backward(g, input: x, filter: rng.array(g.filterCount), outputGradient: dO,
                                         gradients: [.filter]).filter!
            for (i, v) in dF.enumerated() {
                let c = (i / 9) % Cg
                #expect(c == 2 ? v.isNaN : v.isFinite, "\(algorithm): X NaN, dF[\(i / 9 / Cg), \(c), \(i % 9)] = \(v)")
            }
            // dO: image 0, channel 1.
            x = rng.array(g.inputCount)
            dO[((0 * g.outputChannels + 1) * g.outputHeight + 3) * g.outputWidth + 6] = .nan
            let grads = try engine.backward(g, input: x, filter: rng.array(g.filterCount), outputGradient: dO,
                                            gradients: [.filter, .bias])
            dF = grads.filter!
            for (i, v) in dF.enumerated() {
                let k = i / 9 / Cg
                #expect(k == 1 ? v.isNaN : v.isFinite, "\(algorithm): dO NaN, dF[\(k), \((i / 9) % Cg), \(i % 9)] = \(v)")
            }
            for (k, v) in grads.bias!.enumerated() { #expect(k == 1 ? v.isNaN : v.isFinite, "\(algorithm): dB[\(k)] = \(v)") }
        }
    }
}
