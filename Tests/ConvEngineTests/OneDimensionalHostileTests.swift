// Hostile inputs for the 1-D convolution and the 1-D transposed convolution: every geometry error, naming the
// 1-D types' own fields (`inputLength`, `kernelLength`, `padding.left`, `outputPadding`, …); random hostile
// fields (a valid geometry obeying its formulas, or a ConvError, never a trap); and the calls' errors (wrong
// lengths, missing operands, overlaps, inapplicable algorithms, workspace caps) on the engine and the reference.
import Foundation
import Testing
import ConvEngine

@Suite("1-D convolutions: hostile inputs")
struct OneDimensionalHostileTests {
    @Test("1-D convolution: every geometry error, with the field it names")
    func convolutionErrors() {
        var tally = HostileTally(seed: 0)
        func make(_ n: Int = 1, _ c: Int = 2, _ l: Int = 5, _ k: Int = 2, _ s: Int = 3, stride: Int = 1,
                  pad: Padding1D = .zero, d: Int = 1, g: Int = 1) throws {
            _ = try ConvGeometry1D(batch: n, inputChannels: c, inputLength: l, outputChannels: k, kernelLength: s,
                                   stride: stride, padding: pad, dilation: d, groups: g)
        }
        for (field, body) in [
            ("batch", { try make(0) }), ("inputChannels", { try make(1, -1) }), ("inputLength", { try make(1, 2, 0) }),
            ("outputChannels", { try make(1, 2, 5, 0) }), ("kernelLength", { try make(1, 2, 5, 2, 0) }),
            ("stride", { try make(stride: 0) }), ("dilation", { try make(d: Int.min) }), ("groups", { try make(g: 0) }),
        ] as [(String, () throws -> Void)] {
            tally.expectError(0, field, { if case .nonPositive(field, _) = $0 { return true }; return false }, body)
        }
        expectGeometryError(.negativePadding(field: "padding.left", value: -1), &tally, "left") {
            try make(pad: Padding1D(left: -1, right: 0))
        }
        expectGeometryError(.negativePadding(field: "padding.right", value: -3), &tally, "right") {
            try make(pad: Padding1D(left: 0, right: -3))
        }
        expectGeometryError(.notDivisibleByGroups(field: "inputChannels", value: 3, groups: 2), &tally, "groups") {
            try make(1, 3, 5, 2, g: 2)
        }
        expectGeometryError(.kernelLargerThanPaddedInput(axis: "length", paddedInput: 5, dilatedKernel: 7), &tally,
                            "kernel") { try make(d: 3) }
        tally.expectError(0, "huge dilation", hostileIsKind("sizeOverflow")) { try make(d: Int.max) }
        tally.expectError(0, "huge padding", hostileIsKind("sizeOverflow")) { try make(pad: Padding1D(Int.max)) }
        tally.expectError(0, "BLAS dimension", hostileIsKind("blasDimensionTooLarge")) { try make(1, 1 << 31, 1, 1, 1) }
        #expect(tally.issues == 0)
    }

    @Test("1-D transposed convolution: every geometry error, with the field it names")
    func transposedErrors() {
        var tally = HostileTally(seed: 0)
        func make(_ n: Int = 1, _ cin: Int = 2, _ l: Int = 5, _ cout: Int = 2, _ s: Int = 3, stride: Int = 1,
                  pad: Padding1D = .zero, op: Int = 0, d: Int = 1, g: Int = 1) throws {
            _ = try TransposedConvGeometry1D(batch: n, inputChannels: cin, inputLength: l, outputChannels: cout,
                                             kernelLength: s, stride: stride, padding: pad, outputPadding: op,
                                             dilation: d, groups: g)
        }
        for (field, body) in [
            ("batch", { try make(0) }), ("inputChannels", { try make(1, 0) }), ("inputLength", { try make(1, 2, -5) }),
            ("outputChannels", { try make(1, 2, 5, 0) }), ("kernelLength", { try make(1, 2, 5, 2, 0) }),
            ("stride", { try make(stride: 0) }), ("dilation", { try make(d: 0) }), ("groups", { try make(g: -1) }),
        ] as [(String, () throws -> Void)] {
            tally.expectError(0, field, { if case .nonPositive(field, _) = $0 { return true }; return false }, body)
        }
        expectGeometryError(.negativePadding(field: "padding.right", value: -1), &tally, "right") {
            try make(pad: Padding1D(left: 0, right: -1))
        }
        expectGeometryError(.negativePadding(field: "outputPadding", value: -1), &tally, "output padding") {
            try make(op: -1)
        }
        expectGeometryError(.notDivisibleByGroups(field: "outputChannels", value: 3, groups: 2), &tally, "groups") {
            try make(1, 2, 5, 3, g: 2)
        }
        for (stride, d, op) in [(1, 1, 1), (2, 1, 2), (2, 3, 3)] {
            tally.expectError(0, "output padding \(op)", {
                if case .invalidArgument("outputPadding", _) = $0 { return true }; return false
            }) { try make(stride: stride, op: op, d: d) }
        }
        // Lo = (1 − 1)·1 − 2 − 2 + 1·(3 − 1) + 0 + 1 = −1.
        expectGeometryError(.nonPositive(field: "outputLength", value: -1), &tally, "padding larger than the output") {
            try make(1, 2, 1, pad: Padding1D(2))
        }
        tally.expectError(0, "huge stride", hostileIsKind("sizeOverflow")) { try make(stride: Int.max) }
        tally.expectError(0, "huge batch", hostileIsKind("sizeOverflow")) { try make(1 << 62) }
        tally.expectError(0, "BLAS dimension", hostileIsKind("blasDimensionTooLarge")) { try make(1, 1 << 31, 1, 1, 1) }
        #expect(tally.issues == 0)
    }

    @Test("Random hostile fields: a valid geometry obeying its formulas, or a ConvError; never a trap")
    func hostileFields() {
        pinBLASThreadsOnce()
        var tally = HostileTally(seed: 0x1D_4057)
        var rng = SeededGenerator(seed: 0x1D_4057)
        for i in 0..<TestScale.pick(normal: 1_500, small: 200) {
            let p = rng.hostility()
            let (n, c, l, k, s) = (rng.hostileField(1...4, p), rng.hostileField(1...6, p), rng.hostileField(1...12, p),
                                   rng.hostileField(1...6, p), rng.hostileField(1...5, p))
            let (stride, d, op) = (rng.hostileField(1...3, p), rng.hostileField(1...3, p), rng.hostileField(0...2, p))
            let pad = Padding1D(left: rng.hostileField(0...3, p), right: rng.hostileField(0...3, p))
            let groups = rng.chance(0.7) ? 1 : rng.hostileField(1...3, p)
            if i % 2 == 0 {
                do {
                    let g = try ConvGeometry1D(batch: n, inputChannels: c, inputLength: l, outputChannels: k,
                                               kernelLength: s, stride: stride, padding: pad, dilation: d, groups: groups)
                    let q = (Int128(l) + Int128(pad.left) + Int128(pad.right) - Int128(d) * Int128(s - 1) - 1) / Int128(stride) + 1
                    if Int128(g.outputLength) != q || Int128(g.outputCount) != Int128(n) * Int128(k) * q
                        || g.planar.outputWidth != g.outputLength || g.planar.outputHeight != 1 {
                        tally.fail(i, "sizes of \(g) do not follow the formulas")
                    }
                    hostileRunValid(g, flops: g.planar.forwardFLOPs, i, &tally, &rng)
                } catch {
                    tally.error(error); tally.outcome("refused")
                }
            } else {
                do {
                    let g = try TransposedConvGeometry1D(batch: n, inputChannels: c, inputLength: l, outputChannels: k,
                                                         kernelLength: s, stride: stride, padding: pad, outputPadding: op,
                                                         dilation: d, groups: groups)
                    let lo = Int128(l - 1) * Int128(stride) - Int128(pad.left) - Int128(pad.right)
                        + Int128(d) * Int128(s - 1) + Int128(op) + 1
                    if Int128(g.outputLength) != lo || op >= max(stride, d) || g.planar.outputWidth != g.outputLength {
                        tally.fail(i, "sizes of \(g) do not follow the formulas")
                    }
                    hostileRunValid(g, flops: g.planar.associated.forwardFLOPs, i, &tally, &rng)
                } catch {
                    tally.error(error); tally.outcome("refused")
                }
            }
        }
        print("1-D hostile fields: " + tally.outcomes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
              + "; errors " + tally.errors.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        #expect(tally.issues == 0)
        #expect(tally.outcomes["valid, ran", default: 0] >= TestScale.pick(normal: 20, small: 2))
        for kind in ["nonPositive", "negativePadding", "notDivisibleByGroups", "kernelLargerThanPaddedInput",
                     "invalidArgument", "sizeOverflow"] {
            #expect(tally.errors[kind, default: 0] > 0, "\(kind) never provoked")
        }
    }

    @Test("Wrong lengths, missing operands, overlaps, inapplicable algorithms and workspace caps")
    func calls() throws {
        var tally = HostileTally(seed: 0)
        let conv = try ConvGeometry1D(batch: 2, inputChannels: 4, inputLength: 9, outputChannels: 2, kernelLength: 3,
                                      stride: 2, padding: Padding1D(left: 1, right: 0), dilation: 2, groups: 2)
        let transposed = try TransposedConvGeometry1D(batch: 2, inputChannels: 2, inputLength: 4, outputChannels: 4,
                                                      kernelLength: 2, stride: 1, padding: 1, outputPadding: 2,
                                                      dilation: 3, groups: 2)
        try hostileCalls(conv, &tally, caseIndex: 0)
        try hostileCalls(transposed, &tally, caseIndex: 1)
        tally.expectError(0, "Winograd forced on a 1-D convolution", hostileIsKind("algorithmNotApplicable")) {
            _ = try ConvolutionEngine(workers: 1, algorithm: .winograd4x4).plan(for: conv)
        }
        tally.expectError(1, "pointwise forced on a 1-D transposed convolution with a kernel of 2",
                          hostileIsKind("algorithmNotApplicable")) {
            _ = try ConvolutionEngine(workers: 1, algorithm: .pointwise).backward(
                transposed, input: [Double](repeating: 0, count: transposed.inputCount), filter: nil,
                outputGradient: [Double](repeating: 0, count: transposed.outputCount), gradients: .filter)
        }
        #expect(try ConvolutionEngine(workers: 1).plan(for: transposed).isStaged)
        #expect(tally.issues == 0)
        for kind in ["bufferLength", "missingBuffer", "overlappingBuffers", "algorithmNotApplicable", "workspaceCapTooSmall"] {
            #expect(tally.errors[kind, default: 0] > 0, "\(kind) never provoked")
        }
    }
}
