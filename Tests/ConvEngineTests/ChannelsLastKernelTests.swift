// The channels-last lowering kernels (Sources/ConvEngine/Lowering/ChannelsLastLowering.swift) on their own: im2col
// of NHWC against the index formula it implements, col2im as its exact adjoint, the lazy-zeroing bound of the input
// gradient, and the per-position tap rules of Axis against enumeration, on random geometries with padding, stride,
// dilation and groups.
import Testing
@testable import ConvEngine

@Suite("Channels-last lowering kernels")
struct ChannelsLastKernelTests {
    /// A random valid geometry: every feature the lowering handles (asymmetric padding, stride, dilation, groups),
    /// small enough for the brute-force loops.
    static func randomGeometry(_ rng: inout SeededGenerator) -> ConvGeometry {
        while true {
            let groups = rng.int(1...3)
            let c = groups * rng.int(1...4), k = groups * rng.int(1...3)
            let g = try? ConvGeometry(n: rng.int(1...3), c: c, h: rng.int(1...9), w: rng.int(1...9), k: k,
                                      r: rng.int(1...4), s: rng.int(1...4), stride: (rng.int(1...3), rng.int(1...3)),
                                      pad: (rng.int(0...3), rng.int(0...3), rng.int(0...3), rng.int(0...3)),
                                      dilation: (rng.int(1...3), rng.int(1...3)), groups: groups)
            if let g { return g }
        }
    }

    /// Column entry `(pos, (r·S + s)·C/G + c)` of group `grp` by the formula of ``ChannelsLastLowering``, read from
    /// the NHWC tensor `x` (0 in the padding).
    static func entry(_ g: ConvGeometry, _ x: [Double], group grp: Int, position pos: Int, column: Int) -> Double {
        let Cg = g.inputChannelsPerGroup, S = g.kernelWidth, P = g.outputHeight, Q = g.outputWidth
        let c = column % Cg, s = (column / Cg) % S, r = column / (Cg * S)
        let n = pos / (P * Q), p = (pos / Q) % P, q = pos % Q
        let h = p * g.strideHeight - g.padding.top + r * g.dilationHeight
        let w = q * g.strideWidth - g.padding.left + s * g.dilationWidth
        guard h >= 0 && h < g.inputHeight && w >= 0 && w < g.inputWidth else { return 0 }
        return x[((n * g.inputHeight + h) * g.inputWidth + w) * g.inputChannels + grp * Cg + c]
    }

    /// A random range of output positions over the whole batch (crossing rows and images).
    static func randomPositions(_ g: ConvGeometry, _ rng: inout SeededGenerator) -> Range<Int> {
        let total = g.batch * g.columnColumns
        let lo = rng.int(0...(total - 1))
        return lo..<rng.int((lo + 1)...total)
    }

    @Test("im2col of NHWC equals the index formula, padding zero, on random geometries and position ranges")
    func im2colMatchesFormula() {
        var rng = SeededGenerator(seed: 0xC1A5_7001)
        let cases = TestScale.pick(normal: 300, small: 60, full: 3000)
        for _ in 0..<cases {
            let g = Self.randomGeometry(&rng)
            let lowering = ChannelsLastLowering(g)
            let x = rng.array(g.inputCount)
            let positions = Self.randomPositions(g, &rng)
            let width = lowering.rowLength
            #expect(width == g.columnRows)
            let ld = width + rng.int(0...3)
            for grp in 0..<g.groups {
                // Filled with NaN first: every entry must be overwritten.
                var col = [Double](repeating: .nan, count: positions.count * ld)
                x.withUnsafeBufferPointer { xp in
                    col.withUnsafeMutableBufferPointer { cp in
                        lowering.im2col(xp.baseAddress! + grp * g.inputChannelsPerGroup, positions: positions,
                                        into: cp.baseAddress!, ld: ld)
                    }
                }
                var mismatches = 0
                for i in 0..<positions.count {
                    for j in 0..<width {
                        let expected = Self.entry(g, x, group: grp, position: positions.lowerBound + i, column: j)
                        if col[i * ld + j].bitPattern != expected.bitPattern { mismatches += 1 }
                    }
                    // The gap between rows is not the lowering's to write.
                    for j in width..<ld where !col[i * ld + j].isNaN { mismatches += 1 }
                }
                #expect(mismatches == 0, "\(g) group \(grp) positions \(positions) ld \(ld): \(mismatches) entries")
            }
        }
    }

    @Test("col2im is im2col's adjoint: ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩ exactly, in dyadic values")
    func adjointIdentity() {
        var rng = SeededGenerator(seed: 0xC1A5_7002)
        let cases = TestScale.pick(normal: 300, small: 60, full: 3000)
        for _ in 0..<cases {
            let g = Self.randomGeometry(&rng)
            let lowering = ChannelsLastLowering(g)
            // Few significant bits: every product and sum below is exact in Double, so the two sides are equal.
            let x = rng.dyadicArray(g.inputCount, denominator: 16)
            let positions = Self.randomPositions(g, &rng)
            let ld = lowering.rowLength + rng.int(0...2)
            let c = rng.dyadicArray(positions.count * ld, denominator: 16)
            let grp = rng.int(0...(g.groups - 1))
            var col = [Double](repeating: 0, count: c.count)
            // col2im adds into what is there: start from a random tensor and subtract it afterwards.
            let start = rng.dyadicArray(g.inputCount, denominator: 16)
            var back = start
            x.withUnsafeBufferPointer { xp in
                col.withUnsafeMutableBufferPointer { cp in
                    lowering.im2col(xp.baseAddress! + grp * g.inputChannelsPerGroup, positions: positions,
                                    into: cp.baseAddress!, ld: ld)
                }
            }
            c.withUnsafeBufferPointer { cp in
                back.withUnsafeMutableBufferPointer { bp in
                    lowering.col2im(cp.baseAddress!, positions: positions, ld: ld,
                                    into: bp.baseAddress! + grp * g.inputChannelsPerGroup)
                }
            }
            var lhs = 0.0
            for i in 0..<positions.count {
                for j in 0..<lowering.rowLength { lhs += col[i * ld + j] * c[i * ld + j] }
            }
            var rhs = 0.0
            var otherGroups = true
            let Cg = g.inputChannelsPerGroup
            for e in 0..<g.inputCount {
                let added = back[e] - start[e]
                rhs += x[e] * added
                // Channels of the other groups are left alone.
                if (e % g.inputChannels) / Cg != grp && added != 0 { otherGroups = false }
            }
            #expect(lhs == rhs, "\(g) group \(grp) positions \(positions): \(lhs) vs \(rhs)")
            #expect(otherGroups, "\(g) group \(grp): col2im wrote into another group's channels")
        }
    }

    @Test("inputRowsEnd grows with the position and bounds every input row col2im adds into")
    func lazyZeroingBound() {
        var rng = SeededGenerator(seed: 0xC1A5_7003)
        let cases = TestScale.pick(normal: 200, small: 40, full: 2000)
        for _ in 0..<cases {
            let g = Self.randomGeometry(&rng)
            let lowering = ChannelsLastLowering(g)
            let total = g.batch * g.columnColumns
            let rowSize = g.inputWidth * g.inputChannels
            var previous = 0
            for last in 1...total {
                let end = lowering.inputRowsEnd(through: (last - 1)..<last)
                #expect(end >= previous, "\(g): end \(end) after \(previous) at position \(last - 1)")
                previous = end
                // col2im of this one position (all ones) must leave every row at or past `end` untouched.
                let ld = lowering.rowLength
                let ones = [Double](repeating: 1, count: ld)
                var image = [Double](repeating: 0, count: g.inputCount)
                ones.withUnsafeBufferPointer { op in
                    image.withUnsafeMutableBufferPointer { ip in
                        for grp in 0..<g.groups {
                            lowering.col2im(op.baseAddress!, positions: (last - 1)..<last, ld: ld,
                                            into: ip.baseAddress! + grp * g.inputChannelsPerGroup)
                        }
                    }
                }
                let beyond = image[min(image.count, end * rowSize)...].contains { $0 != 0 }
                #expect(!beyond, "\(g): position \(last - 1) adds past input row \(end)")
            }
        }
    }

    @Test("validTaps, interiorOutputs, tapsReaching and inputsReachedByAllTaps equal enumeration")
    func tapRules() {
        for extent in 1...9 {
            for kernel in 1...4 {
                for stride in 1...3 {
                    for dilation in 1...3 {
                        for before in 0...3 {
                            for after in 0...3 {
                                let padded = extent + before + after
                                guard (kernel - 1) * dilation < padded else { continue }
                                let outputs = (padded - (kernel - 1) * dilation - 1) / stride + 1
                                let axis = Axis(extent: extent, kernel: kernel, outputs: outputs, stride: stride,
                                                dilation: dilation, padBefore: before, padAfter: after)
                                func reads(_ o: Int, _ t: Int) -> Bool {
                                    let i = o * stride + t * dilation - before
                                    return i >= 0 && i < extent
                                }
                                var interior: [Int] = []
                                for o in 0..<outputs {
                                    let taps = (0..<kernel).filter { reads(o, $0) }
                                    let range = axis.validTaps(output: o)
                                    #expect(Array(range) == taps, "\(axis) output \(o)")
                                    if taps.count == kernel { interior.append(o) }
                                }
                                #expect(Array(axis.interiorOutputs) == interior, "\(axis)")
                                guard stride == 1 else { continue }
                                for i in 0..<extent {
                                    let taps = (0..<kernel).filter { t in
                                        let o = i + before - t * dilation
                                        return o >= 0 && o < outputs
                                    }
                                    let range = axis.tapsReaching(input: i)
                                    #expect(Array(range) == taps, "\(axis) input \(i)")
                                    #expect(axis.inputsReachedByAllTaps.contains(i) == (taps.count == kernel),
                                            "\(axis) input \(i) reached by all taps")
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
