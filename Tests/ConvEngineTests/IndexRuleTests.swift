// The shared index rules of one spatial axis (Sources/ConvEngine/Lowering/Axis.swift) against brute-force
// enumeration: every rule is restated here as the loop over positions it summarises, on small ranges (negative
// offsets and indices included), and validRange, phaseLength, gcd and floorMod also on values near Int.max,
// where the closed forms must not overflow (the brute force then runs in Int128).
import Testing
@testable import ConvEngine

@Suite("Axis index rules")
struct IndexRuleTests {
    /// The positions `o` in `0..<count` whose index `o·stride + offset` is in `0..<extent`, by enumeration in Int128.
    static func bruteValid(offset: Int, stride: Int, extent: Int, count: Int) -> [Int] {
        (0..<count).filter { o in
            let index = Int128(o) * Int128(stride) + Int128(offset)
            return index >= 0 && index < Int128(extent)
        }
    }

    /// Checks `range` against the brute-force positions: equal when there are any (they are always contiguous),
    /// empty and within `0...count` when there are none.
    static func expectSame(_ range: Range<Int>, _ brute: [Int], count: Int, _ what: @autoclosure () -> String,
                           sourceLocation: SourceLocation = #_sourceLocation) {
        if let first = brute.first, let last = brute.last {
            #expect(brute == Array(first...last), "not contiguous: \(what())", sourceLocation: sourceLocation)
            #expect(range == first..<(last + 1), "\(what()): \(range), brute force \(first)..<\(last + 1)",
                    sourceLocation: sourceLocation)
        } else {
            #expect(range.isEmpty && range.lowerBound >= 0 && range.upperBound <= count,
                    "\(what()): \(range), brute force empty", sourceLocation: sourceLocation)
        }
    }

    @Test("validRange on small offsets, strides, extents and counts")
    func validRangeSmall() {
        var checked = 0
        for offset in -25...25 {
            for stride in 1...7 {
                for extent in 1...13 {
                    for count in 0...12 {
                        let range = Axis.validRange(offset: offset, stride: stride, extent: extent, count: count)
                        Self.expectSame(range, Self.bruteValid(offset: offset, stride: stride, extent: extent, count: count),
                                        count: count, "validRange(offset: \(offset), stride: \(stride), extent: \(extent), count: \(count))")
                        checked += 1
                    }
                }
            }
        }
        #expect(checked == 51 * 7 * 13 * 13)
    }

    /// Values near the top of Int: a valid geometry has `extent + padBefore ≤ Int.max` and the offset of a tap is
    /// `t·dilation − padBefore` with `t·dilation` below the padded extent, so offsets go from `−(Int.max − extent)`
    /// up to `Int.max − 1`.
    @Test("validRange near Int.max does not overflow")
    func validRangeExtreme() {
        let big: [Int] = [1, 2, 3, Int(Int32.max), Int(Int32.max) + 1, 1 << 31, 1 << 62, Int.max / 2, Int.max / 2 + 1,
                          Int.max - 2, Int.max - 1, Int.max]
        var checked = 0
        for extent in big {
            for stride in big {
                let lowest = -(Int.max - extent)
                let offsets = Set([lowest, lowest + 1, lowest / 2, -Int.max / 2, -(1 << 62), -(1 << 31), -2, -1, 0, 1,
                                   extent - 1, extent, Int.max / 2, Int.max - 2, Int.max - 1]).filter { $0 >= lowest }
                for offset in offsets {
                    for count in [0, 1, 2, 3, 5] {
                        let range = Axis.validRange(offset: offset, stride: stride, extent: extent, count: count)
                        Self.expectSame(range, Self.bruteValid(offset: offset, stride: stride, extent: extent, count: count),
                                        count: count, "validRange(offset: \(offset), stride: \(stride), extent: \(extent), count: \(count))")
                        checked += 1
                    }
                }
            }
        }
        #expect(checked > 1_000)
    }

    /// Every axis of every small geometry (kernel 1–3, stride 1–3, dilation 1–3, padding 0–2 on each side).
    static func smallAxes() -> [Axis] {
        var axes: [Axis] = []
        for extent in 1...6 {
            for kernel in 1...3 {
                for stride in 1...3 {
                    for dilation in 1...3 {
                        for before in 0...2 {
                            for after in 0...2 {
                                guard let g = try? ConvGeometry(
                                    batch: 1, inputChannels: 1, inputHeight: extent, inputWidth: 1, outputChannels: 1,
                                    kernelHeight: kernel, kernelWidth: 1, strideHeight: stride,
                                    padding: .explicit(Padding(top: before, bottom: after, left: 0, right: 0)),
                                    dilationHeight: dilation) else { continue }
                                axes.append(g.heightAxis)
                            }
                        }
                    }
                }
            }
        }
        return axes
    }

    @Test("tapOffset and validOutputs(tap:) against the reference's index rule, on every small geometry's axis")
    func validOutputsOfEveryTap() {
        let axes = Self.smallAxes()
        #expect(axes.count > 1_000)
        for axis in axes {
            #expect(axis.paddedExtent == axis.extent + axis.padBefore + axis.padAfter)
            for t in 0..<axis.kernel {
                // The reference reads input index p·stride − padBefore + t·dilation for output p.
                #expect(axis.tapOffset(t) == 0 * axis.stride - axis.padBefore + t * axis.dilation, "\(axis) tap \(t)")
                let brute = (0..<axis.outputs).filter { p in
                    let index = p * axis.stride - axis.padBefore + t * axis.dilation
                    return index >= 0 && index < axis.extent
                }
                Self.expectSame(axis.validOutputs(tap: t), brute, count: axis.outputs, "\(axis) tap \(t)")
            }
        }
    }

    @Test("inputSpan(of:) is the clamped span of every index the outputs read")
    func inputSpan() {
        for axis in Self.smallAxes() {
            for lo in 0...axis.outputs {
                for hi in lo...axis.outputs {
                    let span = axis.inputSpan(of: lo..<hi)
                    var reads: [Int] = []
                    for p in lo..<hi {
                        for t in 0..<axis.kernel { reads.append(p * axis.stride - axis.padBefore + t * axis.dilation) }
                    }
                    let inImage = reads.filter { $0 >= 0 && $0 < axis.extent }
                    let what = "\(axis) outputs \(lo)..<\(hi): \(span)"
                    guard let first = reads.min(), let last = reads.max() else {
                        #expect(span.isEmpty, "\(what), no reads")
                        continue
                    }
                    let clampedLo = max(0, first), clampedHi = min(axis.extent, last + 1)
                    if clampedLo < clampedHi {
                        #expect(span == clampedLo..<clampedHi, "\(what), brute force \(clampedLo)..<\(clampedHi)")
                    } else {
                        #expect(span.isEmpty, "\(what), brute force empty")
                    }
                    #expect(inImage.allSatisfy { span.contains($0) }, "\(what) misses a read index")
                }
            }
        }
    }

    /// An axis with the given stride and dilation (the other fields do not enter the phase rules).
    static func axis(stride: Int, dilation: Int = 1, kernel: Int = 1) -> Axis {
        Axis(extent: 1, kernel: kernel, outputs: 1, stride: stride, dilation: dilation, padBefore: 0, padAfter: 0)
    }

    @Test("phase(of:), phaseCount(_:of:) and phaseLength(of:) against enumeration")
    func phases() {
        for stride in 1...7 {
            let axis = Self.axis(stride: stride)
            for index in -40...40 {
                let (phase, element) = axis.phase(of: index)
                let brute = (-50...50).compactMap { e -> (Int, Int)? in
                    let r = index - e * stride
                    return (0..<stride).contains(r) ? (r, e) : nil
                }
                #expect(brute.count == 1 && brute[0] == (phase, element),
                        "stride \(stride) index \(index): (\(phase), \(element)), brute force \(brute)")
            }
            for count in -3...30 {
                let brute = (0..<max(0, count)).filter { $0 % stride == 0 }.count
                #expect(axis.phaseLength(of: count) == brute, "stride \(stride) phaseLength(of: \(count))")
                for phase in 0..<stride {
                    let members = (0..<max(0, count)).filter { $0 % stride == phase }.count
                    #expect(axis.phaseCount(phase, of: count) == members, "stride \(stride) phaseCount(\(phase), of: \(count))")
                }
            }
        }
        // Near Int.max: ceil(count / stride) without overflow.
        for stride in [1, 2, 3, Int(Int32.max), 1 << 62, Int.max - 1, Int.max] {
            let axis = Self.axis(stride: stride)
            for count in [1, 2, Int(Int32.max) + 1, 1 << 62, Int.max - 1, Int.max] {
                let exact = (Int128(count) + Int128(stride) - 1) / Int128(stride)
                #expect(Int128(axis.phaseLength(of: count)) == exact, "stride \(stride) phaseLength(of: \(count))")
                #expect(Int128(axis.phaseCount(0, of: count)) == exact, "stride \(stride) phaseCount(0, of: \(count))")
            }
        }
    }

    @Test("tapPhasePeriod is the first tap after 0 that reads phase 0 again")
    func tapPhasePeriod() {
        for stride in 1...12 {
            for dilation in 1...12 {
                let axis = Self.axis(stride: stride, dilation: dilation)
                let brute = (1...stride).first { ($0 * dilation) % stride == 0 }
                #expect(axis.tapPhasePeriod == brute, "stride \(stride) dilation \(dilation)")
                // Taps t and t + period read the same phase, for every t.
                for t in 0..<(2 * stride) {
                    #expect(axis.phase(of: axis.tapOffset(t)).phase == axis.phase(of: axis.tapOffset(t + axis.tapPhasePeriod)).phase)
                }
            }
        }
    }

    /// `windowsAreDisjoint` is the span rule `(kernel − 1)·dilation < stride`: the windows' spans do not overlap.
    /// It implies that no index is read by two (tap, output) pairs, and is equivalent to it at dilation 1; at a
    /// larger dilation the taps of neighbouring windows can interleave without meeting (stride 2, dilation 3,
    /// kernel 2 reads 0, 3 | 2, 5 | …), where it is conservatively false.
    @Test("windowsAreDisjoint: the windows' spans are disjoint, so no index is read twice")
    func windowsAreDisjoint() {
        for stride in 1...6 {
            for dilation in 1...4 {
                for kernel in 1...4 {
                    let axis = Self.axis(stride: stride, dilation: dilation, kernel: kernel)
                    // Enough outputs for any repeat to show: (o₁ − o₂)·stride = (t₂ − t₁)·dilation needs |o₁ − o₂| ≤ 12.
                    var seen = Set<Int>(), repeated = false
                    for o in 0..<16 {
                        for t in 0..<kernel where !seen.insert(o * stride + t * dilation).inserted { repeated = true }
                    }
                    // Window o spans o·stride ... o·stride + (kernel − 1)·dilation; window o + 1 starts at (o + 1)·stride.
                    let spansDisjoint = (0..<15).allSatisfy { o in o * stride + (kernel - 1) * dilation < (o + 1) * stride }
                    let what = "stride \(stride) dilation \(dilation) kernel \(kernel)"
                    #expect(axis.windowsAreDisjoint == spansDisjoint, "\(what)")
                    if axis.windowsAreDisjoint { #expect(!repeated, "\(what): disjoint, yet an index is read twice") }
                    if dilation == 1 { #expect(axis.windowsAreDisjoint == !repeated, "\(what)") }
                }
            }
        }
    }

    @Test("gcd and floorMod against enumeration, and near Int.max / Int.min")
    func gcdAndFloorMod() {
        for a in 1...40 {
            for b in 1...40 {
                let brute = (1...min(a, b)).last { a % $0 == 0 && b % $0 == 0 }
                #expect(gcd(a, b) == brute, "gcd(\(a), \(b))")
            }
        }
        for (a, b, expected) in [(Int.max, Int.max, Int.max), (Int.max, Int.max - 1, 1), (1 << 62, 1 << 40, 1 << 40),
                                 (Int.max, 1, 1), (1, Int.max, 1), (3 * (1 << 40), 9 * (1 << 20), 3 * (1 << 20))] {
            #expect(gcd(a, b) == expected, "gcd(\(a), \(b))")
        }
        for a in -60...60 {
            for m in 1...9 {
                let brute = (0..<m).filter { (a - $0) % m == 0 }
                #expect([floorMod(a, m)] == brute, "floorMod(\(a), \(m))")
            }
        }
        for a in [Int.min, Int.min + 1, -Int.max / 2, -1, 0, 1, Int.max - 1, Int.max] {
            for m in [1, 2, 3, Int(Int32.max), 1 << 62, Int.max - 1, Int.max] {
                var exact = Int128(a) % Int128(m)
                if exact < 0 { exact += Int128(m) }
                #expect(Int128(floorMod(a, m)) == exact, "floorMod(\(a), \(m))")
            }
        }
    }
}
