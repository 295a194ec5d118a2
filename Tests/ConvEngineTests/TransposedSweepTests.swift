// The transposed convolution's randomized sweep: geometries drawn from a fixed seed (sizes, strides 1–3,
// asymmetric paddings 0–3, dilations 1–3, every valid output padding, groups, depthwise, batch 1–4, with and
// without bias), each run with every plan forced — each ConvAlgorithm that can run its associated convolution ×
// both input-gradient routes — in Float and Double, forward, all three gradients and a random subset, every
// element compared with the direct-loop reference within MATH.md's bound (the transform bound for Winograd).
import Foundation
import Testing
import ConvEngine

enum TransposedSweep {
    static let seed: UInt64 = 0x7A_0005_ED_C0DE
    static var count: Int { TestScale.pick(normal: 110, small: 16, full: 600) }

    /// Draws until `count` valid geometries, each with its data seed.
    static func cases(count: Int) -> [(TransposedConvGeometry, UInt64)] {
        var rng = SeededGenerator(seed: seed)
        var cases: [(TransposedConvGeometry, UInt64)] = []
        while cases.count < count {
            if let g = draw(&rng, index: cases.count) { cases.append((g, rng.next())) }
        }
        return cases
    }

    /// One random draw, or nil when it is not a valid geometry.
    static func draw(_ rng: inout SeededGenerator, index: Int) -> TransposedConvGeometry? {
        let n = rng.int(1...4)
        var cin = rng.int(1...6), cout = rng.int(1...6), groups = 1
        switch rng.int(0...9) {
        case 0...4: break
        case 5...7:  // depthwise: one output channel per group (the associated convolution is depthwise)
            groups = rng.int(1...6); cout = groups; cin = groups * rng.pick([1, 1, 2, 3])
        default:
            groups = rng.pick([2, 3]); cin = groups * rng.int(1...2); cout = groups * rng.int(1...3)
        }
        var (r, s) = rng.pick([(1, 1), (2, 2), (3, 3), (4, 4), (1, 3), (3, 1), (5, 2), (rng.int(1...4), rng.int(1...4))])
        var sh = rng.int(1...3), sw = rng.chance(0.5) ? sh : rng.int(1...3)
        var dh = rng.chance(0.5) ? 1 : rng.int(1...3), dw = rng.chance(0.5) ? dh : rng.int(1...3)
        var pad = Padding(top: rng.int(0...3), bottom: rng.int(0...3), left: rng.int(0...3), right: rng.int(0...3))
        switch index % 10 {
        case 0:  // 1×1 at stride 1 without padding: the associated convolution is pointwise
            (r, s) = (1, 1); (sh, sw) = (1, 1); pad = .zero
        case 1:  // 3×3 at stride 1, dilation 1: the Winograd algorithms apply
            (r, s) = (3, 3); (sh, sw) = (1, 1); (dh, dw) = (1, 1)
            pad = Padding(top: rng.int(0...2), bottom: rng.int(0...2), left: rng.int(0...2), right: rng.int(0...2))
        case 2:  // dilation above the stride, so that output padding can reach the stride (the staged case)
            sh = rng.int(1...2); dh = 3; sw = rng.int(1...2); dw = rng.int(1...3)
            if r == 1 { r = 2 }
        default: break
        }
        let oph = rng.int(0...(max(sh, dh) - 1)), opw = rng.int(0...(max(sw, dw) - 1))
        let h = rng.int(1...6), w = rng.chance(0.4) ? h : rng.int(1...6)
        return try? TransposedConvGeometry(
            batch: n, inputChannels: cin, inputHeight: h, inputWidth: w, outputChannels: cout,
            kernelHeight: r, kernelWidth: s, strideHeight: sh, strideWidth: sw, padding: pad,
            outputPaddingHeight: oph, outputPaddingWidth: opw, dilationHeight: dh, dilationWidth: dw, groups: groups)
    }
}

@Suite("Transposed convolution: randomized sweep against the reference")
struct TransposedSweepTests {
    @Test("Every plan forced, forward and gradients, Float and Double, within MATH.md's bound")
    func sweep() async throws {
        let cases = TransposedSweep.cases(count: TransposedSweep.count)
        let tally = await runFamilySweep(cases)
        let general = ["tiledIm2col", "im2col", "kernelRowGEMM", "shiftedGEMM", "pointwise", "depthwiseDirect"]
        let least = TestScale.pick(normal: 4, small: 1)
        reportFamilySweep("transposed", tally,
                          expected: (general + ["winograd2x2", "winograd4x4"]).flatMap { ["\($0)+col2im", "\($0)+fullConvolution"] },
                          least: least)
        #expect(tally.cases == cases.count)
        #expect(tally.staged >= least, "the staged case (stride ≤ output padding < dilation) ran on too few cases")
        // Every valid output padding is drawn, up to 2 (stride or dilation 3); the small sweep is too short to
        // be sure of it.
        if !TestScale.isSmall { #expect(cases.contains { $0.0.outputPaddingHeight == 2 || $0.0.outputPaddingWidth == 2 }) }
    }
}
