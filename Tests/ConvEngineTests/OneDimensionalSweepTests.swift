// The 1-D convolution's and the 1-D transposed convolution's randomized sweeps: geometries drawn from a fixed
// seed (lengths, strides 1–3, asymmetric paddings 0–3, dilations 1–3, every valid output padding, groups,
// depthwise, batch 1–4), each run with every plan forced — each ConvAlgorithm that can run the 2-D convolution it
// maps onto × both input-gradient routes — in Float and Double, every element of the forward pass, all three
// gradients and a random subset compared with the direct-loop reference within MATH.md's bound.
import Foundation
import Testing
import ConvEngine

enum OneDimensionalSweep {
    static var count: Int { TestScale.pick(normal: 90, small: 14, full: 500) }

    static func channels(_ rng: inout SeededGenerator) -> (c: Int, k: Int, groups: Int) {
        switch rng.int(0...9) {
        case 0...4: return (rng.int(1...6), rng.int(1...6), 1)
        case 5...7:
            let g = rng.int(1...6)
            return (g, g * rng.pick([1, 1, 2, 3]), g)
        default:
            let g = rng.pick([2, 3])
            return (g * rng.int(1...2), g * rng.int(1...3), g)
        }
    }

    static func convolutions(count: Int) -> [(ConvGeometry1D, UInt64)] {
        var rng = SeededGenerator(seed: 0x1D_C0_5EED)
        var cases: [(ConvGeometry1D, UInt64)] = []
        while cases.count < count {
            let (c, k, groups) = channels(&rng)
            var s = rng.int(1...5), stride = rng.int(1...3), dilation = rng.chance(0.5) ? 1 : rng.int(1...3)
            var pad = Padding1D(left: rng.int(0...3), right: rng.int(0...3))
            if cases.count % 8 == 0 { s = 1; stride = 1; pad = .zero }  // pointwise
            if cases.count % 8 == 1 { stride = 1; dilation = 1 }         // the shifted GEMM applies
            let g = try? ConvGeometry1D(batch: rng.int(1...4), inputChannels: c, inputLength: rng.int(1...24),
                                        outputChannels: k, kernelLength: s, stride: stride, padding: pad,
                                        dilation: dilation, groups: groups)
            if let g { cases.append((g, rng.next())) }
        }
        return cases
    }

    static func transposed(count: Int) -> [(TransposedConvGeometry1D, UInt64)] {
        var rng = SeededGenerator(seed: 0x1D_7A_5EED)
        var cases: [(TransposedConvGeometry1D, UInt64)] = []
        while cases.count < count {
            // Transposed: the groups divide the output channels of the associated convolution's input side.
            let (cout, cin, groups) = channels(&rng)
            var s = rng.int(1...5), stride = rng.int(1...3), dilation = rng.chance(0.5) ? 1 : rng.int(1...3)
            var pad = Padding1D(left: rng.int(0...3), right: rng.int(0...3))
            if cases.count % 8 == 0 { s = 1; stride = 1; pad = .zero }   // pointwise
            if cases.count % 8 == 1 { stride = rng.int(1...2); dilation = 3; if s == 1 { s = 2 } }  // staged possible
            let op = rng.int(0...(max(stride, dilation) - 1))
            let g = try? TransposedConvGeometry1D(batch: rng.int(1...4), inputChannels: cin, inputLength: rng.int(1...12),
                                                  outputChannels: cout, kernelLength: s, stride: stride, padding: pad,
                                                  outputPadding: op, dilation: dilation, groups: groups)
            if let g { cases.append((g, rng.next())) }
        }
        return cases
    }

    /// The plans a 1-D operation can run: no Winograd (its kernel has one row).
    static let plans = ["tiledIm2col", "im2col", "kernelRowGEMM", "shiftedGEMM", "pointwise", "depthwiseDirect"]
        .flatMap { ["\($0)+col2im", "\($0)+fullConvolution"] }
}

@Suite("1-D convolutions: randomized sweeps against the reference")
struct OneDimensionalSweepTests {
    @Test("1-D convolution: every plan forced, forward and gradients, Float and Double, within MATH.md's bound")
    func convolution() async throws {
        let cases = OneDimensionalSweep.convolutions(count: OneDimensionalSweep.count)
        let tally = await runFamilySweep(cases)
        reportFamilySweep("1-D", tally, expected: OneDimensionalSweep.plans, least: TestScale.pick(normal: 4, small: 1))
        #expect(tally.cases == cases.count)
    }

    @Test("1-D transposed convolution: every plan forced, forward and gradients, Float and Double, within MATH.md's bound")
    func transposed() async throws {
        let cases = OneDimensionalSweep.transposed(count: OneDimensionalSweep.count)
        let tally = await runFamilySweep(cases)
        let least = TestScale.pick(normal: 4, small: 1)
        reportFamilySweep("1-D transposed", tally, expected: OneDimensionalSweep.plans, least: least)
        #expect(tally.cases == cases.count)
        #expect(tally.staged >= least, "the staged case ran on too few cases")
        // Every valid output padding is drawn, up to 2 (stride or dilation 3); the small sweep is too short to
        // be sure of it.
        if !TestScale.isSmall { #expect(cases.contains { $0.0.outputPadding == 2 }) }
    }
}
