// The reference in every layout is the channels-first reference on permuted data, exactly: the same products
// summed in the same order, only read from other addresses. A check of the oracle itself, with no engine
// involved, so the layout sweeps can trust it.
import Testing
import ConvEngine

@Suite("Layouts: the reference reads every layout")
struct LayoutReferenceTests {
    static let geometries: [ConvGeometry] = {
        var rng = SeededGenerator(seed: 0x1A_70_07)
        var result: [ConvGeometry] = []
        while result.count < TestScale.pick(normal: 24, small: 6, full: 120) {
            let groups = rng.pick([1, 1, 2, 3])
            let c = groups * rng.int(1...3), k = groups * rng.int(1...3)
            let r = rng.int(1...3), s = rng.int(1...3)
            guard let g = try? ConvGeometry(
                batch: rng.int(1...3), inputChannels: c, inputHeight: rng.int(1...7), inputWidth: rng.int(1...7),
                outputChannels: k, kernelHeight: r, kernelWidth: s,
                strideHeight: rng.int(1...2), strideWidth: rng.int(1...3),
                padding: .explicit(Padding(top: rng.int(0...2), bottom: rng.int(0...1), left: rng.int(0...1), right: rng.int(0...2))),
                dilationHeight: rng.int(1...2), dilationWidth: rng.int(1...2), groups: groups)
            else { continue }
            result.append(g)
        }
        return result
    }()

    @Test("2-D: every result and Σ|terms| of every layout equals the channels-first one permuted, bit for bit")
    func twoDimensional() throws {
        var rng = SeededGenerator(seed: 0x2D)
        let reference = ReferenceConvolution()
        for base in Self.geometries {
            let x = rng.values(base.inputCount), f = rng.values(base.filterCount)
            let b = rng.values(base.outputChannels), dO = rng.values(base.outputCount)
            let (o, om) = try reference.forwardWithMagnitudes(base, input: x, filter: f, bias: b)
            let (grads, mags) = try reference.backwardWithMagnitudes(base, input: x, filter: f, outputGradient: dO)
            for layout in allLayouts where layout != .nchw {
                let g = base.withLayout(layout), move = LayoutMover(g: g)
                let (lo, lom) = try reference.forwardWithMagnitudes(g, input: move.input(x), filter: move.filter(f), bias: b)
                let (lg, lm) = try reference.backwardWithMagnitudes(g, input: move.input(x), filter: move.filter(f),
                                                                    outputGradient: move.output(dO))
                let context = "\(g)"
                #expect(sameBits(move.outputBack(lo), o), "O \(context)")
                #expect(sameBits(move.outputBack(lom), om), "Σ|O| \(context)")
                #expect(sameBits(move.inputBack(lg.input!), grads.input!), "dX \(context)")
                #expect(sameBits(move.inputBack(lm.input!), mags.input!), "Σ|dX| \(context)")
                #expect(sameBits(move.filterBack(lg.filter!), grads.filter!), "dF \(context)")
                #expect(sameBits(move.filterBack(lm.filter!), mags.filter!), "Σ|dF| \(context)")
                #expect(sameBits(lg.bias!, grads.bias!), "dB \(context)")
                #expect(sameBits(lm.bias!, mags.bias!), "Σ|dB| \(context)")
            }
        }
    }
}
