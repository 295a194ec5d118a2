// Adjoint identities of the 3-D lowerings and of the engine, in Double:
//   - ⟨vol2col(x), c⟩ = ⟨x, col2vol(c)⟩ and ⟨lowerPlanes(x), c⟩ = ⟨x, addPlanes(c)⟩ for the kernels themselves,
//     on whole volumes and on tiles of output planes: col2vol must add every element back where vol2col read it;
//   - ⟨conv(x), y⟩ = ⟨x, dX(y)⟩ = ⟨F, dF(x, y)⟩ through the public API, for every 3-D algorithm forced.
// Both sides of each identity sum the same products in different orders, so they agree within MATH.md's bound
// with L = the terms of both sides and Σ|terms| = Σ|products|.
import Testing
@testable import ConvEngine

@Suite("3-D convolution: adjoint identities")
struct VolumeAdjointTests {
    @Test("⟨vol2col(x), c⟩ = ⟨x, col2vol(c)⟩ and ⟨lowerPlanes(x), c⟩ = ⟨x, addPlanes(c)⟩, whole volumes and tiles")
    func loweringKernels() {
        var worst = 0.0, cases = 0
        for (i, g) in VolumeSweep.geometries(seed: 0x3D_AD_0001, count: TestScale.pick(normal: 80, small: 10)).enumerated() {
            var rng = SeededGenerator(seed: 0x3D_AD_1000 + UInt64(i))
            let lowering = VolumeLowering(g)
            let volume = g.inputChannelsPerGroup * g.inputDepth * g.inputHeight * g.inputWidth
            let x = rng.array(volume)
            let E = g.outputDepth, PQ = g.outputHeight * g.outputWidth
            // The whole volume, and a tile of planes inside it.
            let lo = rng.int(0...(E - 1)), hi = rng.int((lo + 1)...E)
            for planes in [0..<E, lo..<hi] {
                let ld = planes.count * PQ
                for kind in ["vol2col", "planes"] {
                    let span = kind == "vol2col" ? planes : lowering.depth.inputSpan(of: planes)
                    let rows = kind == "vol2col" ? g.columnRows : g.inputChannelsPerGroup * lowering.tapsPerPlane
                    let colLD = kind == "vol2col" ? ld : span.count * PQ
                    let c = rng.array(rows * colLD)
                    var col = [Double](repeating: .nan, count: rows * colLD)
                    var back = [Double](repeating: 0, count: volume)
                    x.withUnsafeBufferPointer { xp in
                        col.withUnsafeMutableBufferPointer { cp in
                            guard let xb = xp.baseAddress, let cb = cp.baseAddress else { return }
                            if kind == "vol2col" { lowering.vol2col(xb, planes: planes, into: cb, ld: colLD) }
                            else { lowering.lowerPlanes(xb, inputPlanes: span, into: cb, ld: colLD) }
                        }
                    }
                    c.withUnsafeBufferPointer { cp in
                        back.withUnsafeMutableBufferPointer { bp in
                            guard let cb = cp.baseAddress, let bb = bp.baseAddress else { return }
                            if kind == "vol2col" { lowering.col2vol(cb, planes: planes, ld: colLD, into: bb) }
                            else { lowering.addPlanes(cb, inputPlanes: span, ld: colLD, into: bb) }
                        }
                    }
                    let lhs = dot(col, c), rhs = dot(x, back)
                    let tolerance = ErrorBound.bound(terms: col.count + c.count, magnitude: lhs.magnitude, scalar: Double.self)
                    #expect(!col.contains { $0.isNaN }, "\(kind) left an element unwritten — \(g), planes \(planes)")
                    #expect(abs(lhs.value - rhs.value) <= tolerance,
                            "\(kind): ⟨L(x), c⟩ = \(lhs.value), ⟨x, Lᵀ(c)⟩ = \(rhs.value) (tolerance \(tolerance)) — \(g), planes \(planes)")
                    worst = max(worst, abs(lhs.value - rhs.value) / tolerance)
                    cases += 1
                }
            }
        }
        print("volume adjoint (kernels): \(cases) cases, worst fraction of tolerance \(worst)")
    }

    @Test("Every 3-D algorithm: ⟨conv(X), Y⟩ = ⟨X, dX(Y)⟩ = ⟨F, dF(X, Y)⟩")
    func engine() throws {
        var worst = 0.0, runs: [String: Int] = [:]
        for (i, g) in VolumeSweep.geometries(seed: 0x3D_AD_0002, count: TestScale.pick(normal: 40, small: 6)).enumerated() {
            var rng = SeededGenerator(seed: 0x3D_AD_2000 + UInt64(i))
            let x = rng.array(g.inputCount), f = rng.array(g.filterCount), y = rng.array(g.outputCount)
            let (_, m) = try ReferenceConvolution().forwardWithMagnitudes(g, input: x, filter: f, bias: nil)
            let scale = zip(y, m).reduce(0) { $0 + abs($1.0) * $1.1 }
            let terms = ErrorBound.termCounts(g)
            let forwardTerms = terms.output + g.outputCount
            let tolX = ErrorBound.bound(terms: forwardTerms + terms.inputGradient + g.inputCount, magnitude: scale,
                                        scalar: Double.self)
            let tolF = ErrorBound.bound(terms: forwardTerms + terms.filterGradient + g.filterCount, magnitude: scale,
                                        scalar: Double.self)
            for algorithm in ConvAlgorithm3D.allCases {
                let engine = try makeVolumeEngine(workers: 1 + i % 2, algorithm: algorithm,
                                                  tileBudgetBytes: i % 3 == 0 ? 1 : ConvolutionEngine.defaultTileBudgetBytes)
                let forwardSide = dot(try engine.forward(g, input: x, filter: f), y).value
                let grads = try engine.backward(g, input: x, filter: f, outputGradient: y, gradients: [.input, .filter])
                let inputSide = dot(x, grads.input!).value, filterSide = dot(f, grads.filter!).value
                let context = "\(algorithm), \(try engine.plan(for: g, scalar: Double.self)) — \(g)"
                #expect(abs(forwardSide - inputSide) <= tolX, "⟨O,Y⟩ = \(forwardSide) vs ⟨X,dX⟩ = \(inputSide) — \(context)")
                #expect(abs(forwardSide - filterSide) <= tolF, "⟨O,Y⟩ = \(forwardSide) vs ⟨F,dF⟩ = \(filterSide) — \(context)")
                worst = max(worst, abs(forwardSide - inputSide) / tolX, abs(forwardSide - filterSide) / tolF)
                runs["\(algorithm)", default: 0] += 1
            }
        }
        print("volume adjoint (engine): runs per algorithm \(runs.sorted { $0.key < $1.key }), worst fraction \(worst)")
    }
}
