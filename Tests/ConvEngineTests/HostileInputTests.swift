// Hostile input: tens of thousands of generated geometries, buffers and arguments driven through every public
// entry point. Each case either throws the typed error that names its problem (checked against an independent
// oracle computed in 128-bit integers) or, when valid and small, runs and matches the reference. Nothing may
// trap. The seed is printed; `CONVENGINE_HOSTILE_SEED=<n>` replays a sweep and `CONVENGINE_HOSTILE_CASE=<i>`
// runs only case i of it.
import Foundation
import Testing
@_spi(Tools) import ConvEngine
import ConvEngineNPY

// MARK: - Geometry specs and the oracle

/// The raw arguments of one `ConvGeometry.init` call, any of them hostile.
struct HostileSpec: CustomStringConvertible, Sendable {
    enum Pad: Sendable { case explicit(Int, Int, Int, Int), valid, same }

    /// batch, inputChannels, inputHeight, inputWidth, outputChannels, kernelHeight, kernelWidth,
    /// strideHeight, strideWidth, dilationHeight, dilationWidth, groups.
    var fields: [Int]
    var pad: Pad

    static let fieldNames = [
        "batch", "inputChannels", "inputHeight", "inputWidth", "outputChannels", "kernelHeight", "kernelWidth",
        "strideHeight", "strideWidth", "dilationHeight", "dilationWidth", "groups",
    ]
    static let padNames = ["padding.top", "padding.bottom", "padding.left", "padding.right"]

    var n: Int { fields[0] }
    var c: Int { fields[1] }
    var h: Int { fields[2] }
    var w: Int { fields[3] }
    var k: Int { fields[4] }
    var r: Int { fields[5] }
    var s: Int { fields[6] }
    var sh: Int { fields[7] }
    var sw: Int { fields[8] }
    var dh: Int { fields[9] }
    var dw: Int { fields[10] }
    var g: Int { fields[11] }

    /// Field `i` of the 16 mutable ones: the 12 integers, then top, bottom, left, right padding.
    mutating func set(_ i: Int, _ value: Int) {
        if i < 12 { fields[i] = value; return }
        var p: [Int]
        switch pad {
        case let .explicit(t, b, l, r): p = [t, b, l, r]
        case .valid, .same: p = [0, 0, 0, 0]
        }
        p[i - 12] = value
        pad = .explicit(p[0], p[1], p[2], p[3])
    }

    var paddingSpec: PaddingSpec {
        switch pad {
        case let .explicit(t, b, l, r): return .explicit(Padding(top: t, bottom: b, left: l, right: r))
        case .valid: return .valid
        case .same: return .same
        }
    }

    func make() throws(ConvError) -> ConvGeometry {
        try ConvGeometry(batch: n, inputChannels: c, inputHeight: h, inputWidth: w, outputChannels: k,
                         kernelHeight: r, kernelWidth: s, strideHeight: sh, strideWidth: sw, padding: paddingSpec,
                         dilationHeight: dh, dilationWidth: dw, groups: g)
    }

    var description: String {
        let p: String
        switch pad {
        case let .explicit(t, b, l, r): p = "explicit(\(t), \(b), \(l), \(r))"
        case .valid: p = "valid"
        case .same: p = "same"
        }
        return zip(Self.fieldNames, fields).map { "\($0): \($1)" }.joined(separator: ", ") + ", padding: \(p)"
    }
}

/// What the oracle allows a geometry to throw.
enum HostileExpect: CustomStringConvertible {
    case nonPositive(String, Int)
    case negativePadding(String, Int)
    case notDivisible(String, Int, Int)
    case kernelLarger(String, Int128, Int128)
    case sameStride(Int, Int)
    case overflow(String)
    case blas(String, Int128)

    var description: String {
        switch self {
        case let .nonPositive(f, v): return "nonPositive(\(f), \(v))"
        case let .negativePadding(f, v): return "negativePadding(\(f), \(v))"
        case let .notDivisible(f, v, g): return "notDivisible(\(f), \(v), \(g))"
        case let .kernelLarger(a, p, d): return "kernelLarger(\(a), \(p), \(d))"
        case let .sameStride(a, b): return "sameStride(\(a), \(b))"
        case let .overflow(q): return "overflow(\(q))"
        case let .blas(q, v): return "blas(\(q), \(v))"
        }
    }

    func matches(_ e: ConvError) -> Bool {
        switch (self, e) {
        case let (.nonPositive(f, v), .nonPositive(ef, ev)): return f == ef && v == ev
        case let (.negativePadding(f, v), .negativePadding(ef, ev)): return f == ef && v == ev
        case let (.notDivisible(f, v, g), .notDivisibleByGroups(ef, ev, eg)): return f == ef && v == ev && g == eg
        case let (.kernelLarger(a, p, d), .kernelLargerThanPaddedInput(ea, ep, ed)):
            return a == ea && p == Int128(ep) && d == Int128(ed)
        case let (.sameStride(a, b), .samePaddingRequiresUnitStride(ea, eb)): return a == ea && b == eb
        case (.overflow, .sizeOverflow): return true
        case let (.blas(_, v), .blasDimensionTooLarge(_, ev)): return v == Int128(ev) && ev > Int(Int32.max)
        default: return false
        }
    }
}

/// The oracle's verdict: errors that must be possible (`definite`: at least one is thrown), errors that may be
/// thrown (`possible`: library-internal byte sizes), and the exact derived sizes when valid.
struct HostileVerdict {
    var definite: [HostileExpect] = []
    var possible: [HostileExpect] = []
    var outputHeight: Int128 = 0, outputWidth: Int128 = 0
    var padding: (Int128, Int128, Int128, Int128) = (0, 0, 0, 0)
    var inputCount: Int128 = 0, filterCount: Int128 = 0, outputCount: Int128 = 0, forwardFLOPs: Int128 = 0

    var isValid: Bool { definite.isEmpty }
    func allows(_ e: ConvError) -> Bool { (definite + possible).contains { $0.matches(e) } }
}

/// Computes independently, in 128-bit integers, what `ConvGeometry.init` must do with `spec` (MATH.md's
/// sizes, the rules in ConvGeometry's documentation). Checks come in stages as a caller would read them:
/// first non-positive fields; then group divisibility, `same` at stride ≠ 1, negative padding and an
/// unrepresentable dilated kernel; then a kernel larger than the padded input; then counts and GEMM sizes.
func hostileOracle(_ spec: HostileSpec) -> HostileVerdict {
    var v = HostileVerdict()
    let intMax = Int128(Int.max), int32Max = Int128(Int32.max)
    for (name, value) in zip(HostileSpec.fieldNames, spec.fields) where value < 1 {
        v.definite.append(.nonPositive(name, value))
    }
    if !v.definite.isEmpty { return v }

    let I = { (x: Int) in Int128(x) }
    if spec.c % spec.g != 0 { v.definite.append(.notDivisible("inputChannels", spec.c, spec.g)) }
    if spec.k % spec.g != 0 { v.definite.append(.notDivisible("outputChannels", spec.k, spec.g)) }
    let reachH = I(spec.dh) * (I(spec.r) - 1) + 1, reachW = I(spec.dw) * (I(spec.s) - 1) + 1
    if reachH > intMax { v.definite.append(.overflow("dilated kernel height")) }
    if reachW > intMax { v.definite.append(.overflow("dilated kernel width")) }
    var pads: [Int128]
    switch spec.pad {
    case let .explicit(t, b, l, r):
        pads = [I(t), I(b), I(l), I(r)]
        for (name, value) in zip(HostileSpec.padNames, [t, b, l, r]) where value < 0 {
            v.definite.append(.negativePadding(name, value))
        }
    case .valid:
        pads = [0, 0, 0, 0]
    case .same:
        if spec.sh != 1 || spec.sw != 1 { v.definite.append(.sameStride(spec.sh, spec.sw)) }
        let th = reachH - 1, tw = reachW - 1
        pads = [th / 2, th - th / 2, tw / 2, tw - tw / 2]
    }
    if !v.definite.isEmpty { return v }
    v.padding = (pads[0], pads[1], pads[2], pads[3])

    let paddedH = I(spec.h) + pads[0] + pads[1], paddedW = I(spec.w) + pads[2] + pads[3]
    if paddedH > intMax { v.definite.append(.overflow("padded input height")) }
    if paddedW > intMax { v.definite.append(.overflow("padded input width")) }
    if paddedH < reachH { v.definite.append(.kernelLarger("height", paddedH, reachH)) }
    if paddedW < reachW { v.definite.append(.kernelLarger("width", paddedW, reachW)) }
    if !v.definite.isEmpty { return v }

    let P = (paddedH - reachH) / I(spec.sh) + 1, Q = (paddedW - reachW) / I(spec.sw) + 1
    v.outputHeight = P; v.outputWidth = Q
    // Products saturate at 2¹²⁰ (far above Int.max, so "does not fit" stays exact) instead of overflowing Int128.
    func mul(_ factors: Int128...) -> Int128 {
        var p: Int128 = 1
        for f in factors {
            let (r, o) = p.multipliedReportingOverflow(by: f)
            p = o || r > (1 << 120) ? (1 << 120) : r
        }
        return p
    }
    let cg = I(spec.c / spec.g), kg = I(spec.k / spec.g), R = I(spec.r), S = I(spec.s)
    v.inputCount = mul(I(spec.n), I(spec.c), I(spec.h), I(spec.w))
    v.filterCount = mul(I(spec.k), cg, R, S)
    v.outputCount = mul(I(spec.n), I(spec.k), P, Q)
    v.forwardFLOPs = mul(2, v.outputCount, cg, R, S)
    for (name, value) in [("input element count", v.inputCount), ("filter element count", v.filterCount),
                          ("output element count", v.outputCount), ("forward FLOPs", v.forwardFLOPs),
                          ("backward FLOPs", mul(2, v.forwardFLOPs))] where value > intMax {
        v.definite.append(.overflow(name))
    }
    // GEMM dimensions of the lowerings, every one of which a forced plan can reach.
    for (name, value) in [("C/G", cg), ("K/G", kg), ("C/G·R·S", mul(cg, R, S)), ("P·Q", mul(P, Q)),
                          ("H·W", mul(I(spec.h), I(spec.w))), ("K/G·R·S", mul(kg, R, S))] where value > int32Max {
        v.definite.append(.blas(name, value))
    }
    // Library-internal buffer sizes in bytes: an overflow there may be reported, but need not be.
    let zH = I(spec.h) + reachH - 1, zW = I(spec.w) + reachW - 1
    for (name, value) in [("column bytes", mul(cg, R, S, P, Q, 8)), ("full columns", mul(kg, R, S, I(spec.h), I(spec.w), 8)),
                          ("full array", mul(kg, zH, zW, 8)), ("full array height", zH), ("full array width", zW),
                          ("input bytes", mul(v.inputCount, 8)), ("output bytes", mul(v.outputCount, 8)),
                          ("filter bytes", mul(v.filterCount, 32))] where value > intMax {
        v.possible.append(.overflow(name))
    }
    return v
}

// MARK: - Generating specs

/// Values that are wrong for a size in every way the sweep tries.
let hostileBadValues: [Int] = [
    0, -1, -7, Int.min, Int.min + 1, Int.max, Int.max - 1, Int.max / 2 + 1, Int(Int32.max), Int(Int32.max) + 1,
    1 << 32, 1 << 40, 1 << 62, 3_037_000_500, 46_341,
]
/// Large positive values, for products that overflow.
let hostileLargeValues: [Int] = [1 << 16, 1 << 20, 46_341, 1 << 31, 1 << 32, 3_037_000_500, 1 << 40, Int.max / 3, Int.max]

struct HostileGenerator {
    var rng: SeededGenerator
    let index: Int

    /// A small geometry, valid unless `strict` is false and chance makes it not.
    mutating func small(strict: Bool) -> HostileSpec {
        let g = rng.pick([1, 1, 1, 2, 3])
        let c = g * rng.int(1...3), k = g * rng.int(1...3)
        let r = rng.int(1...4), s = rng.int(1...4)
        let sh = rng.pick([1, 1, 2, 3]), sw = rng.pick([1, 1, 2, 3])
        let dh = rng.pick([1, 1, 2, 3]), dw = rng.pick([1, 1, 2, 3])
        var h = rng.int(1...9), w = rng.int(1...9)
        let pad: HostileSpec.Pad
        switch rng.int(0...9) {
        case 0: pad = .valid
        case 1: pad = (sh == 1 && sw == 1) || !strict ? .same : .valid
        default: pad = .explicit(rng.int(0...3), rng.int(0...3), rng.int(0...3), rng.int(0...3))
        }
        if strict {
            // Make the padded input at least as large as the dilated kernel.
            h = max(h, dh * (r - 1) + 1)
            w = max(w, dw * (s - 1) + 1)
        }
        return HostileSpec(fields: [rng.int(1...3), c, h, w, k, r, s, sh, sw, dh, dw, g], pad: pad)
    }

    mutating func spec() -> HostileSpec {
        let round = index / 10
        switch index % 10 {
        case 0:
            return small(strict: false)
        case 1:
            // One field made invalid, systematically: 16 fields × every bad value.
            var spec = small(strict: true)
            spec.set(round % 16, hostileBadValues[(round / 16) % hostileBadValues.count])
            return spec
        case 2:
            // Several large or bad fields at once: products that overflow Int and Int32.
            var spec = small(strict: true)
            for _ in 0..<rng.int(2...4) {
                let field = rng.int(0...15)
                spec.set(field, rng.chance(0.7) ? rng.pick(hostileLargeValues) : rng.pick(hostileBadValues))
            }
            return spec
        case 3:
            // Huge padding with a stride or dilation that keeps the output a few positions: valid, and runnable.
            var spec = small(strict: true)
            // Up to Int.max - 64: padding + stride then overflows Int although every size of the geometry fits.
            let big = rng.pick([1 << 20, 1 << 31, 1 << 40, 1 << 61, Int.max / 4, Int.max / 2 - 16, Int.max / 2,
                                Int.max / 4 * 3, Int.max - 64])
            let axis = rng.int(0...2)  // 0 height, 1 width, 2 both
            for a in 0...1 where axis == 2 || axis == a {
                let padField = a == 0 ? 12 : 14
                spec.set(padField, big)
                spec.set(padField + 1, rng.pick([0, 0, 1, big]))
                if rng.chance(0.5) {
                    spec.set(a == 0 ? 7 : 8, big - rng.int(0...2))          // stride ≈ padding
                } else {
                    spec.set(a == 0 ? 5 : 6, 2)                              // kernel 2 …
                    spec.set(a == 0 ? 9 : 10, big)                           // … dilated across the padding
                    spec.set(a == 0 ? 7 : 8, rng.pick([1, big]))
                }
            }
            return spec
        case 4:
            // GEMM dimensions around OpenBLAS's 32-bit limit.
            var spec = small(strict: true)
            spec.pad = .valid
            let edge = Int(Int32.max) + rng.pick([-1, 0, 1, 2])
            switch rng.int(0...4) {
            case 0: spec.set(2, edge); spec.set(5, 1); spec.set(7, 1)                 // H (and P) near 2³¹
            case 1: spec.set(2, 46_341); spec.set(3, 46_341); spec.set(5, 1); spec.set(6, 1)  // H·W just over
            case 2: spec.set(1, 1 << 16); spec.set(11, 1); spec.set(5, 256); spec.set(6, 256)   // C·R·S = 2³²
                spec.set(2, 256); spec.set(3, 256)
            case 3: spec.set(4, edge); spec.set(11, 1)                                 // K/G near 2³¹
            default: spec.set(3, edge); spec.set(6, 1); spec.set(8, 1)                 // W (and Q) near 2³¹
            }
            return spec
        case 5:
            // `same` padding at every stride, including the stride-2 case it does not allow.
            var spec = small(strict: true)
            spec.pad = .same
            spec.set(7, rng.pick([1, 1, 2, 3])); spec.set(8, rng.pick([1, 1, 2]))
            return spec
        case 6:
            // Groups that do not divide the channels.
            var spec = small(strict: true)
            let g = rng.int(2...5)
            spec.set(11, g); spec.set(1, rng.int(1...12)); spec.set(4, rng.int(1...12))
            return spec
        case 7:
            // Padding larger than the input: valid, the outputs read mostly padding.
            var spec = small(strict: false)
            spec.set(2, rng.int(1...3)); spec.set(3, rng.int(1...3))
            spec.pad = .explicit(rng.int(3...9), rng.int(0...9), rng.int(3...9), rng.int(0...9))
            return spec
        case 8:
            // The dilated kernel against the padded input: just too large, exactly fitting, or fitting.
            var spec = small(strict: true)
            let r = rng.int(2...4), dh = rng.int(1...6), reach = dh * (r - 1) + 1
            let top = rng.int(0...2), bottom = rng.int(0...2)
            let h = max(1, reach - top - bottom + rng.pick([-1, -1, 0, 1]))
            spec.set(5, r); spec.set(9, dh); spec.set(2, h)
            spec.pad = .explicit(top, bottom, rng.int(0...1), rng.int(0...1))
            if rng.chance(0.5) { spec.set(6, r); spec.set(10, dh); spec.set(3, max(1, reach - rng.int(0...3))) }
            return spec
        default:
            // Counts near Int.max: the element counts and FLOPs, exactly at and just past the limit.
            var spec = small(strict: true)
            spec.pad = .valid
            spec.set(5, 1); spec.set(6, 1); spec.set(7, 1); spec.set(8, 1)
            spec.set(2, rng.pick([1 << 15, 46_340, 1 << 10])); spec.set(3, spec.h)
            let perImage = spec.h * spec.w
            let target = Int.max / 32 / perImage  // channels so that counts straddle the limit
            spec.set(0, rng.pick([1, 2, 64, 1 << 20]))
            spec.set(11, 1)
            spec.set(1, max(1, target / spec.n + rng.pick([-1, 0, 1, 1 << 8, target])))
            spec.set(4, rng.pick([1, spec.c, 3]))
            return spec
        }
    }
}

// MARK: - Tally

/// Counts of what the sweep did, by ConvError kind and by outcome.
struct HostileTally {
    var errors: [String: Int] = [:]
    var outcomes: [String: Int] = [:]
    var issues = 0
    let seed: UInt64

    mutating func error(_ e: any Error) { errors[errorKind(e), default: 0] += 1 }
    mutating func outcome(_ name: String) { outcomes[name, default: 0] += 1 }

    /// Records a failure with the seed and case that reproduce it (at most 25 per sweep).
    mutating func fail(_ caseIndex: Int, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        issues += 1
        if issues <= 25 {
            Issue.record("seed \(seed) case \(caseIndex): \(message)", sourceLocation: sourceLocation)
        }
    }

    /// Expects `body` to throw a ConvError accepted by `accept`; counts the kind.
    mutating func expectError(_ caseIndex: Int, _ what: String, _ accept: (ConvError) -> Bool,
                              sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
        do {
            try body()
            fail(caseIndex, "\(what): expected an error, none was thrown", sourceLocation: sourceLocation)
        } catch let e as ConvError {
            error(e)
            if !accept(e) { fail(caseIndex, "\(what): unexpected \(e)", sourceLocation: sourceLocation) }
        } catch {
            fail(caseIndex, "\(what): not a ConvError: \(error)", sourceLocation: sourceLocation)
        }
    }

    /// Expects `body` not to throw.
    mutating func expectSuccess(_ caseIndex: Int, _ what: String, sourceLocation: SourceLocation = #_sourceLocation,
                                _ body: () throws -> Void) {
        do { try body() } catch {
            self.error(error)
            fail(caseIndex, "\(what): unexpected \(error)", sourceLocation: sourceLocation)
        }
    }
}

func hostileIsLength(_ name: String, _ expected: Int, _ actual: Int) -> (ConvError) -> Bool {
    { $0 == .bufferLength(name: name, expected: expected, actual: actual) }
}

func hostileIsOverlap(_ a: String, _ b: String, eitherOrder: Bool = false) -> (ConvError) -> Bool {
    { $0 == .overlappingBuffers(output: a, other: b) || (eitherOrder && $0 == .overlappingBuffers(output: b, other: a)) }
}

func hostileIsKind(_ kinds: String...) -> (ConvError) -> Bool {
    { kinds.contains(errorKind($0)) }
}

// MARK: - The sweep

struct HostileInputTests {
    static let seed: UInt64 = {
        if let s = ProcessInfo.processInfo.environment["CONVENGINE_HOSTILE_SEED"], let v = UInt64(s) { return v }
        return 20_251_129
    }()
    static let onlyCase: Int? = ProcessInfo.processInfo.environment["CONVENGINE_HOSTILE_CASE"].flatMap { Int($0) }

    /// Indices of a sweep of `count` cases (or only the replayed one).
    static func indices(_ count: Int) -> [Int] {
        if let only = onlyCase { return only < count ? [only] : [] }
        return Array(0..<count)
    }

    @Test func hostileInputsThrowTypedErrorsAndNeverTrap() throws {
        pinBLASThreadsOnce()
        let start = Date()
        var tally = HostileTally(seed: Self.seed)
        let geometryCases = TestScale.pick(normal: 30_000, small: 3_000)
        let bufferCases = TestScale.pick(normal: 6_000, small: 600)
        print("hostile: seed \(Self.seed) (replay: CONVENGINE_HOSTILE_SEED=\(Self.seed) CONVENGINE_HOSTILE_CASE=<i>)")

        var phases: [String] = []
        func timed(_ name: String, _ body: (inout HostileTally) -> Void) {
            let t = Date()
            body(&tally)
            phases.append("\(name) \(String(format: "%.1f", Date().timeIntervalSince(t))) s")
        }
        timed("geometries") { geometrySweep(geometryCases, &$0) }
        timed("buffers") { bufferSweep(bufferCases, &$0) }
        timed("entry points") { entryPointCases(&$0) }
        timed("npy") { npySweep(TestScale.pick(normal: 4_000, small: 400), &$0) }
        print("hostile: phases " + phases.joined(separator: ", "))

        let seconds = Date().timeIntervalSince(start)
        let total = tally.outcomes.values.reduce(0, +)
        print("hostile: \(total) cases in \(String(format: "%.1f", seconds)) s")
        print("hostile: outcomes " + tally.outcomes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        print("hostile: errors thrown by kind " + allConvErrorKinds.map { "\($0)=\(tally.errors[$0] ?? 0)" }.joined(separator: " "))
        let others = tally.errors.filter { !allConvErrorKinds.contains($0.key) }
        if !others.isEmpty { print("hostile: other errors \(others)") }
        #expect(tally.issues == 0, "\(tally.issues) hostile cases failed (first 25 recorded above)")
        if Self.onlyCase == nil {
            for kind in allConvErrorKinds {
                #expect((tally.errors[kind] ?? 0) > 0, "ConvError.\(kind) was never provoked")
            }
        }
    }

    // MARK: Geometries

    func geometrySweep(_ count: Int, _ tally: inout HostileTally) {
        var runs = 0
        for i in Self.indices(count) {
            var gen = HostileGenerator(rng: SeededGenerator(seed: Self.seed, index: i), index: i)
            let spec = gen.spec()
            let verdict = hostileOracle(spec)
            let geometry: ConvGeometry
            do {
                geometry = try spec.make()
            } catch {
                tally.error(error)
                tally.outcome("geometry rejected")
                if verdict.isValid && !verdict.allows(error) {
                    tally.fail(i, "\(spec): valid per oracle, threw \(error)")
                } else if !verdict.allows(error) {
                    tally.fail(i, "\(spec): threw \(error), oracle allows \(verdict.definite + verdict.possible)")
                }
                continue
            }
            tally.outcome("geometry accepted")
            if !verdict.isValid {
                tally.fail(i, "\(spec): accepted as \(geometry), oracle expects \(verdict.definite)")
                continue
            }
            let g = geometry
            if Int128(g.outputHeight) != verdict.outputHeight || Int128(g.outputWidth) != verdict.outputWidth
                || Int128(g.inputCount) != verdict.inputCount || Int128(g.filterCount) != verdict.filterCount
                || Int128(g.outputCount) != verdict.outputCount || Int128(g.forwardFLOPs) != verdict.forwardFLOPs
                || Int128(g.padding.top) != verdict.padding.0 || Int128(g.padding.bottom) != verdict.padding.1
                || Int128(g.padding.left) != verdict.padding.2 || Int128(g.padding.right) != verdict.padding.3 {
                tally.fail(i, "\(spec): sizes \(g) differ from the oracle's P \(verdict.outputHeight) Q \(verdict.outputWidth)")
                continue
            }
            // Every valid geometry, whatever its size: wrong (empty) arrays are reported before anything is
            // allocated, and planning never traps.
            arrayAPIWithEmptyArrays(g, i, &tally)
            var rng = SeededGenerator(seed: Self.seed ^ 0xABCD, index: i)
            let plan = rng.pick(TestPlan.all(for: g))
            do {
                let engine = try plan.engine()
                _ = try engine.plan(for: g, scalar: Float.self)
                _ = try engine.workspaceElementCount(for: g, scalar: Double.self)
            } catch {
                tally.error(error)
                // A forced plan may refuse a huge valid geometry with the typed error for its own buffers or GEMMs.
                if !hostileIsKind("sizeOverflow", "workspaceCapTooSmall", "blasDimensionTooLarge")(error as? ConvError ?? .missingBuffer(name: "?")) {
                    tally.fail(i, "\(g) \(plan): planning threw \(error)")
                }
            }
            // Valid and small enough to run: run it (every huge-padding case, a share of the others).
            let small = g.inputCount <= 2_000 && g.outputCount <= 2_000 && g.filterCount <= 2_000
                && g.outputCount.multipliedReportingOverflow(by: g.columnRows).partialValue <= 40_000
                && g.inputCount * g.outputChannelsPerGroup * g.kernelHeight * g.kernelWidth <= 40_000
            let interesting = [3, 7].contains(i % 10) || ([5, 8].contains(i % 10) && (i / 10) % 2 == 0) || runs < i / 16
            if small && interesting {
                runs += 1
                runValid(g, plan: plan, i, &tally, rng: &rng)
            }
        }
    }

    /// The array API with empty arrays: a bufferLength error, even for geometries whose results would not fit
    /// in memory (the lengths are checked before the results are allocated).
    func arrayAPIWithEmptyArrays(_ g: ConvGeometry, _ i: Int, _ tally: inout HostileTally) {
        let engine = try! ConvolutionEngine(workers: 1)
        let empty: [Double] = []
        tally.expectError(i, "forward([])", hostileIsLength("input", g.inputCount, 0)) {
            _ = try engine.forward(g, input: empty, filter: empty, bias: nil)
        }
        tally.expectError(i, "backward([])", hostileIsLength("outputGradient", g.outputCount, 0)) {
            _ = try engine.backward(g, input: empty, filter: empty, outputGradient: empty)
        }
        tally.expectError(i, "reference forward([])", hostileIsLength("input", g.inputCount, 0)) {
            _ = try ReferenceConvolution().forward(g, input: empty, filter: empty, bias: empty)
        }
    }

    /// Runs a valid geometry on `plan` and on the automatic plan, comparing with the Double reference. The
    /// automatic plan must run every valid geometry this small. A forced plan whose scratch memory could never
    /// be allocated (for example the depthwise kernel's padded planes under huge padding) must refuse with the
    /// typed error instead of trapping.
    func runValid(_ g: ConvGeometry, plan: TestPlan, _ i: Int, _ tally: inout HostileTally, rng: inout SeededGenerator) {
        let x = rng.values(g.inputCount), f = rng.values(g.filterCount)
        let b = rng.values(g.outputChannels), dO = rng.values(g.outputCount)
        var reference: ReferenceResults?
        let engines: [(String, ConvolutionEngine?)] = [
            ("\(plan)", try? plan.engine()), ("automatic×\(plan.workers)", try? ConvolutionEngine(workers: plan.workers)),
        ]
        for (label, engine) in engines {
            guard let engine else { tally.fail(i, "\(label): engine not made"); continue }
            let automatic = engine.algorithm == nil
            let elements: Int
            do {
                elements = try engine.workspaceElementCount(for: g, scalar: Double.self)
            } catch {
                tally.error(error)
                if automatic { tally.fail(i, "\(g) \(label): the automatic plan cannot size its workspace: \(error)"); continue }
                tally.expectError(i, "\(g) \(label) with an unrepresentable workspace",
                                  hostileIsKind("sizeOverflow", "workspaceCapTooSmall", "blasDimensionTooLarge")) {
                    _ = try runAll(engine, g, x: x, f: f, b: b, dO: dO, workspace: ConvWorkspace<Double>())
                }
                tally.outcome("valid, forced plan refused (workspace overflows Int)")
                continue
            }
            let bytes = elements.multipliedReportingOverflow(by: 8)
            if bytes.overflow || UInt64(bytes.partialValue) > ProcessInfo.processInfo.physicalMemory {
                if automatic { tally.fail(i, "\(g) \(label): the automatic plan needs \(elements) workspace elements") }
                // A valid geometry whose workspace exceeds the machine's memory: a thrown error, not a trap.
                tally.expectError(i, "\(g) \(label) with a \(elements)-element workspace",
                                  hostileIsKind("workspaceCapTooSmall", "sizeOverflow")) {
                    _ = try runAll(engine, g, x: x, f: f, b: b, dO: dO, workspace: ConvWorkspace<Double>())
                }
                tally.outcome("valid, forced plan refused (workspace beyond memory)")
                continue
            }
            if elements > 4_000_000 { tally.outcome("valid, skipped (large workspace)"); continue }
            do {
                if reference == nil { reference = try ReferenceResults(g, input: x, filter: f, bias: b, outputGradient: dO) }
                let results = try runAll(engine, g, x: x, f: f, b: b, dO: dO, workspace: ConvWorkspace<Double>())
                if reference!.bounded(for: engine, geometry: g, scalar: Double.self)
                    .check(results, geometry: g, context: "seed \(Self.seed) case \(i) \(g) \(label)") > 1 {
                    tally.issues += 1
                }
                tally.outcome(automatic ? "valid, automatic plan ran and matched reference" : "valid, forced plan ran and matched reference")
            } catch {
                tally.error(error)
                tally.fail(i, "\(g) \(label): valid geometry threw \(error)")
            }
        }
    }

    // MARK: Buffers

    /// Small valid geometries with hostile buffers: one element short or long, missing, overlapping (carved
    /// from one allocation), and legal read-only aliasing; through the engine and the reference.
    func bufferSweep(_ count: Int, _ tally: inout HostileTally) {
        let actions = 34
        for i in Self.indices(count) {
            var rng = SeededGenerator(seed: Self.seed ^ 0xB0FF, index: i)
            var gen = HostileGenerator(rng: rng, index: i)
            let spec = gen.small(strict: true)
            guard let g = try? spec.make(), g.inputCount <= 600, g.outputCount <= 600, g.filterCount <= 600 else {
                tally.outcome("buffer case skipped (geometry)")
                continue
            }
            let plan = rng.pick(TestPlan.all(for: g))
            let backend: any ConvolutionBackend = rng.chance(0.75) ? (try! plan.engine()) : ReferenceConvolution()
            let action = i % actions
            tally.outcome("buffer case")
            bufferAction(action, g, backend, plan, i, &tally, &rng)
        }
    }

    func bufferAction(_ action: Int, _ g: ConvGeometry, _ backend: any ConvolutionBackend, _ plan: TestPlan, _ i: Int,
                      _ tally: inout HostileTally, _ rng: inout SeededGenerator) {
        let nX = g.inputCount, nF = g.filterCount, nB = g.outputChannels, nO = g.outputCount
        let d = rng.chance(0.5) ? 1 : -1
        let ws = ConvWorkspace<Double>()
        // Lengths of (input, filter, bias, output) for the forward cases, (input, filter, dO, dX, dF, dB) for backward.
        func forward(_ lx: Int, _ lf: Int, _ lb: Int?, _ lo: Int) throws {
            let x = [Double](repeating: 0.5, count: lx), f = [Double](repeating: 0.25, count: lf)
            var o = [Double](repeating: 0, count: lo)
            try x.withUnsafeBufferPointer { xp in
                try f.withUnsafeBufferPointer { fp in
                    try o.withUnsafeMutableBufferPointer { op in
                        if let lb {
                            let b = [Double](repeating: 1, count: lb)
                            try b.withUnsafeBufferPointer {
                                try backend.forward(g, input: xp, filter: fp, bias: $0, output: op, workspace: ws)
                            }
                        } else {
                            try backend.forward(g, input: xp, filter: fp, bias: nil, output: op, workspace: ws)
                        }
                    }
                }
            }
        }
        func backward(_ lx: Int?, _ lf: Int?, _ lo: Int, _ ldx: Int?, _ ldf: Int?, _ ldb: Int?) throws {
            let x = lx.map { [Double](repeating: 0.5, count: $0) }, f = lf.map { [Double](repeating: 0.25, count: $0) }
            let dO = [Double](repeating: 1, count: lo)
            var dX = ldx.map { [Double](repeating: 0, count: $0) }
            var dF = ldf.map { [Double](repeating: 0, count: $0) }
            var dB = ldb.map { [Double](repeating: 0, count: $0) }
            try withOptionalBuffer(x) { xp in
                try withOptionalBuffer(f) { fp in
                    try dO.withUnsafeBufferPointer { dOp in
                        try withOptionalMutableBuffer(&dX) { dXp in
                            try withOptionalMutableBuffer(&dF) { dFp in
                                try withOptionalMutableBuffer(&dB) { dBp in
                                    try backend.backward(g, input: xp, filter: fp, outputGradient: dOp, inputGradient: dXp,
                                                         filterGradient: dFp, biasGradient: dBp, workspace: ws)
                                }
                            }
                        }
                    }
                }
            }
        }
        switch action {
        case 0: tally.expectError(i, "input ±1", hostileIsLength("input", nX, nX + d)) { try forward(nX + d, nF, nB, nO) }
        case 1: tally.expectError(i, "filter ±1", hostileIsLength("filter", nF, nF + d)) { try forward(nX, nF + d, nB, nO) }
        case 2: tally.expectError(i, "bias ±1", hostileIsLength("bias", nB, nB + d)) { try forward(nX, nF, nB + d, nO) }
        case 3: tally.expectError(i, "output ±1", hostileIsLength("output", nO, nO + d)) { try forward(nX, nF, nil, nO + d) }
        case 4: tally.expectError(i, "dO ±1", hostileIsLength("outputGradient", nO, nO + d)) {
            try backward(nX, nF, nO + d, nX, nF, nB)
        }
        case 5: tally.expectError(i, "dX ±1", hostileIsLength("inputGradient", nX, nX + d)) {
            try backward(nX, nF, nO, nX + d, nF, nB)
        }
        case 6: tally.expectError(i, "dF ±1", hostileIsLength("filterGradient", nF, nF + d)) {
            try backward(nX, nF, nO, nX, nF + d, nB)
        }
        case 7: tally.expectError(i, "dB ±1", hostileIsLength("biasGradient", nB, nB + d)) {
            try backward(nX, nF, nO, nX, nF, nB + d)
        }
        case 8: tally.expectError(i, "backward input ±1", hostileIsLength("input", nX, nX + d)) {
            try backward(nX + d, nF, nO, nil, nF, nil)
        }
        case 9: tally.expectError(i, "backward filter ±1", hostileIsLength("filter", nF, nF + d)) {
            try backward(nX, nF + d, nO, nX, nil, nil)
        }
        case 10: tally.expectError(i, "dF without input", { $0 == .missingBuffer(name: "input") }) {
            try backward(nil, nF, nO, nil, nF, nB)
        }
        case 11: tally.expectError(i, "dX without filter", { $0 == .missingBuffer(name: "filter") }) {
            try backward(nX, nil, nO, nX, nil, nB)
        }
        case 12: tally.expectError(i, "forward with empty input", hostileIsLength("input", nX, 0)) { try forward(0, nF, nB, nO) }
        case 13: tally.expectError(i, "backward with empty dO", hostileIsLength("outputGradient", nO, 0)) {
            try backward(nX, nF, 0, nX, nF, nB)
        }
        case 14...23:
            overlapAction(action - 14, g, backend, i, &tally)
        case 24:
            // Read-only aliasing is allowed: input and filter carved from one allocation, overlapping.
            aliasedInputsAction(g, backend, plan, i, &tally, &rng)
        case 25:
            // Only the bias gradient: no input or filter needed.
            tally.expectSuccess(i, "bias gradient alone") { try backward(nil, nil, nO, nil, nil, nB) }
        case 26:
            // A random subset of gradients, the others nil: the requested ones match the reference.
            gradientSubsetAction(g, backend, i, &tally, &rng)
        case 27:
            // Forced algorithms that cannot run the geometry.
            for algorithm in ConvAlgorithm.allCases where !algorithm.supports(g) {
                let engine = try! ConvolutionEngine(workers: plan.workers, algorithm: algorithm)
                let isNA: (ConvError) -> Bool = { if case .algorithmNotApplicable(algorithm.rawValue, _) = $0 { return true }; return false }
                tally.expectError(i, "forced \(algorithm) forward", isNA) {
                    _ = try engine.forward(g, input: [Double](repeating: 0, count: nX), filter: [Double](repeating: 0, count: nF))
                }
                tally.expectError(i, "forced \(algorithm) backward", isNA) {
                    _ = try engine.backward(g, input: [Float](repeating: 0, count: nX), filter: [Float](repeating: 0, count: nF),
                                            outputGradient: [Float](repeating: 0, count: nO))
                }
                tally.expectError(i, "forced \(algorithm) workspace size", isNA) {
                    _ = try engine.workspaceElementCount(for: g, scalar: Float.self)
                }
            }
        case 28:
            // A workspace cap: either the typed error, or every call stays under it.
            let limit = rng.pick([0, 1, 8, 64, 512, 4_096, 1 << 16])
            workspaceCapAction(g, plan, limit, i, &tally, &rng)
        case 29:
            // Array API: one element short or long, and the gradient helpers.
            let engine = try! plan.engine()
            tally.expectError(i, "array forward filter ±1", hostileIsLength("filter", nF, nF + d)) {
                _ = try engine.forward(g, input: [Float](repeating: 1, count: nX), filter: [Float](repeating: 1, count: nF + d))
            }
            tally.expectError(i, "array inputGradient dO ±1", hostileIsLength("outputGradient", nO, nO + d)) {
                _ = try engine.inputGradient(g, filter: [Float](repeating: 1, count: nF), outputGradient: [Float](repeating: 1, count: nO + d))
            }
            tally.expectError(i, "array filterGradient input ±1", hostileIsLength("input", nX, nX + d)) {
                _ = try engine.filterGradient(g, input: [Float](repeating: 1, count: nX + d), outputGradient: [Float](repeating: 1, count: nO))
            }
            tally.expectError(i, "array biasGradient dO ±1", hostileIsLength("outputGradient", nO, nO + d)) {
                _ = try engine.biasGradient(g, outputGradient: [Float](repeating: 1, count: nO + d))
            }
        case 30:
            // Array API: missing buffers.
            let engine = try! plan.engine()
            let dO = [Double](repeating: 1, count: nO)
            tally.expectError(i, "array backward without input and filter", hostileIsKind("missingBuffer")) {
                _ = try engine.backward(g, input: nil, filter: nil, outputGradient: dO)
            }
            tally.expectError(i, "array dF without input", { $0 == .missingBuffer(name: "input") }) {
                _ = try engine.backward(g, input: nil, filter: [Double](repeating: 1, count: nF), outputGradient: dO, gradients: .filter)
            }
            tally.expectError(i, "array dX without filter", { $0 == .missingBuffer(name: "filter") }) {
                _ = try engine.backward(g, input: [Double](repeating: 1, count: nX), filter: nil, outputGradient: dO, gradients: .input)
            }
        case 31:
            // A call that throws leaves its outputs as they were.
            untouchedOnErrorAction(g, backend, i, &tally)
        case 32:
            // One workspace reused by many geometries, scalar types and engines in turn.
            let shared = ConvWorkspace<Double>()
            for _ in 0..<3 {
                var gen = HostileGenerator(rng: rng, index: i)
                guard let other = try? gen.small(strict: true).make(), other.inputCount <= 600, other.outputCount <= 600 else { continue }
                _ = rng.next()
                let p = rng.pick(TestPlan.all(for: other))
                let x = rng.values(other.inputCount), f = rng.values(other.filterCount)
                let b = rng.values(other.outputChannels), dO = rng.values(other.outputCount)
                var worst = 0.0
                tally.expectSuccess(i, "shared workspace \(other) \(p)") {
                    let results = try runAll(try p.engine(), other, x: x, f: f, b: b, dO: dO, workspace: shared)
                    let reference = try ReferenceResults(other, input: x, filter: f, bias: b, outputGradient: dO)
                    worst = reference.bounded(for: p.algorithm, route: p.inputGradient, geometry: other)
                        .check(results, geometry: other, context: "seed \(Self.seed) case \(i) shared workspace \(other) \(p)")
                }
                if worst > 1 { tally.issues += 1 }
            }
        default:
            // Forward with the output given twice as large and as exactly the input's memory.
            tally.expectError(i, "output 2× long", hostileIsLength("output", nO, 2 * nO)) { try forward(nX, nF, nB, 2 * nO) }
        }
    }

    /// Buffers carved from one allocation so that exactly one output overlaps exactly one other buffer
    /// by one element (or entirely, for case 9).
    func overlapAction(_ which: Int, _ g: ConvGeometry, _ backend: any ConvolutionBackend, _ i: Int,
                       _ tally: inout HostileTally) {
        let nX = g.inputCount, nF = g.filterCount, nB = g.outputChannels, nO = g.outputCount
        let ws = ConvWorkspace<Double>()
        // Names of the (output, other) pair, their lengths, and whether this is a forward case.
        let cases: [(String, Int, String, Int, Bool)] = [
            ("output", nO, "input", nX, true), ("output", nO, "filter", nF, true), ("output", nO, "bias", nB, true),
            ("inputGradient", nX, "outputGradient", nO, false), ("inputGradient", nX, "input", nX, false),
            ("filterGradient", nF, "filter", nF, false), ("inputGradient", nX, "filterGradient", nF, false),
            ("filterGradient", nF, "biasGradient", nB, false), ("biasGradient", nB, "outputGradient", nO, false),
            ("output", nO, "input", nX, true),
        ]
        let (outName, outCount, otherName, otherCount, isForward) = cases[which]
        // `other` at [0, otherCount), the output starting on other's last element (or on its first, case 9).
        let outStart = which == 9 ? 0 : otherCount - 1
        let total = max(otherCount, outStart + outCount)
        let block = UnsafeMutableBufferPointer<Double>.allocate(capacity: total)
        defer { block.deallocate() }
        block.initialize(repeating: 0.5)
        let other = UnsafeMutableBufferPointer(rebasing: block[0..<otherCount])
        let out = UnsafeMutableBufferPointer(rebasing: block[outStart..<(outStart + outCount)])
        func own(_ name: String, _ count: Int) -> UnsafeMutableBufferPointer<Double> {
            if name == outName { return out }
            if name == otherName { return other }
            let p = UnsafeMutableBufferPointer<Double>.allocate(capacity: count)
            p.initialize(repeating: 0.25)
            return p
        }
        var owned: [UnsafeMutableBufferPointer<Double>] = []
        func buffer(_ name: String, _ count: Int) -> UnsafeMutableBufferPointer<Double> {
            let p = own(name, count)
            if name != outName && name != otherName { owned.append(p) }
            return p
        }
        defer { owned.forEach { $0.deallocate() } }
        let accept = hostileIsOverlap(outName, otherName, eitherOrder: !["input", "filter", "bias", "outputGradient"].contains(otherName))
        if isForward {
            let x = buffer("input", nX), f = buffer("filter", nF), b = buffer("bias", nB), o = buffer("output", nO)
            tally.expectError(i, "\(outName) overlapping \(otherName)", accept) {
                try backend.forward(g, input: UnsafeBufferPointer(x), filter: UnsafeBufferPointer(f),
                                    bias: UnsafeBufferPointer(b), output: o, workspace: ws)
            }
        } else {
            let x = buffer("input", nX), f = buffer("filter", nF), dO = buffer("outputGradient", nO)
            let dX = buffer("inputGradient", nX), dF = buffer("filterGradient", nF), dB = buffer("biasGradient", nB)
            tally.expectError(i, "\(outName) overlapping \(otherName)", accept) {
                try backend.backward(g, input: UnsafeBufferPointer(x), filter: UnsafeBufferPointer(f),
                                     outputGradient: UnsafeBufferPointer(dO), inputGradient: dX, filterGradient: dF,
                                     biasGradient: dB, workspace: ws)
            }
        }
    }

    /// Input and filter (and, for backward, the output gradient) carved from one allocation so that they
    /// overlap: legal, since they are only read; the results match the reference on the same memory.
    func aliasedInputsAction(_ g: ConvGeometry, _ backend: any ConvolutionBackend, _ plan: TestPlan, _ i: Int,
                             _ tally: inout HostileTally, _ rng: inout SeededGenerator) {
        let nX = g.inputCount, nF = g.filterCount, nO = g.outputCount
        let total = max(nX, nF, nO) + 3
        let shared = rng.values(total)
        let offF = rng.int(0...(total - nF)), offO = rng.int(0...(total - nO))
        let x = Array(shared[0..<nX]), f = Array(shared[offF..<(offF + nF)]), dO = Array(shared[offO..<(offO + nO)])
        var worst = 0.0
        tally.expectSuccess(i, "aliased read-only inputs") {
            let reference = try ReferenceResults(g, input: x, filter: f, bias: nil, outputGradient: dO)
            var o = [Double](repeating: 0, count: nO), dX = [Double](repeating: 0, count: nX)
            var dF = [Double](repeating: 0, count: nF), dB = [Double](repeating: 0, count: g.outputChannels)
            let ws = ConvWorkspace<Double>()
            try shared.withUnsafeBufferPointer { s in
                let xp = UnsafeBufferPointer(rebasing: s[0..<nX])
                let fp = UnsafeBufferPointer(rebasing: s[offF..<(offF + nF)])
                let dOp = UnsafeBufferPointer(rebasing: s[offO..<(offO + nO)])
                try o.withUnsafeMutableBufferPointer {
                    try backend.forward(g, input: xp, filter: fp, bias: nil, output: $0, workspace: ws)
                }
                try dX.withUnsafeMutableBufferPointer { dx in
                    try dF.withUnsafeMutableBufferPointer { df in
                        try dB.withUnsafeMutableBufferPointer { db in
                            try backend.backward(g, input: xp, filter: fp, outputGradient: dOp, inputGradient: dx,
                                                 filterGradient: df, biasGradient: db, workspace: ws)
                        }
                    }
                }
            }
            let results = ConvResults(output: o, inputGradient: dX, filterGradient: dF, biasGradient: dB)
            worst = reference.bounded(for: backend, geometry: g, scalar: Double.self)
                .check(results, geometry: g, context: "seed \(Self.seed) case \(i) aliased inputs \(g) \(plan)")
        }
        if worst > 1 { tally.issues += 1 }
    }

    func gradientSubsetAction(_ g: ConvGeometry, _ backend: any ConvolutionBackend, _ i: Int,
                              _ tally: inout HostileTally, _ rng: inout SeededGenerator) {
        let x = rng.values(g.inputCount), f = rng.values(g.filterCount), dO = rng.values(g.outputCount)
        let set = GradientSet(rawValue: rng.int(1...7))
        var got = Gradients<Double>()
        var reference: ReferenceResults?
        tally.expectSuccess(i, "gradient subset \(set.rawValue)") {
            got = try backend.backward(g, input: set.contains(.filter) ? x : nil, filter: set.contains(.input) ? f : nil,
                                       outputGradient: dO, gradients: set)
            reference = try ReferenceResults(g, input: x, filter: f, bias: nil, outputGradient: dO)
                .bounded(for: backend, geometry: g, scalar: Double.self)
        }
        if let reference {
            let terms = reference.termCounts(g)
            let pairs: [(GradientSet, [Double]?, Int)] = [(.input, got.input, 1), (.filter, got.filter, 2), (.bias, got.bias, 3)]
            for (which, values, index) in pairs {
                if set.contains(which) != (values != nil) {
                    tally.fail(i, "gradient subset \(set.rawValue): presence of \(which.rawValue) wrong")
                    continue
                }
                guard let values else { continue }
                let (worst, first) = worstFraction(values, reference: reference.values.named[index].1,
                                                      magnitudes: reference.magnitudes.named[index].1, terms: terms[index])
                if let first { tally.fail(i, "gradient subset \(set.rawValue) \(g): element \(first), \(worst) of the bound") }
            }
        }
    }

    func workspaceCapAction(_ g: ConvGeometry, _ plan: TestPlan, _ limit: Int, _ i: Int,
                            _ tally: inout HostileTally, _ rng: inout SeededGenerator) {
        let x = rng.values(g.inputCount), f = rng.values(g.filterCount)
        let b = rng.values(g.outputChannels), dO = rng.values(g.outputCount)
        do {
            let engine = try plan.engine(workspaceLimit: limit)
            let ws = ConvWorkspace<Double>()
            let results = try runAll(engine, g, x: x, f: f, b: b, dO: dO, workspace: ws)
            if ws.peakElementCount * 8 > limit {
                tally.fail(i, "\(g) \(plan): workspace peak \(ws.peakElementCount * 8) bytes above the cap \(limit)")
            }
            let reference = try ReferenceResults(g, input: x, filter: f, bias: b, outputGradient: dO)
            if reference.bounded(for: engine, geometry: g, scalar: Double.self)
                .check(results, geometry: g, context: "seed \(Self.seed) case \(i) capped \(limit) \(g) \(plan)") > 1 {
                tally.issues += 1
            }
            tally.outcome("capped workspace ran")
        } catch let e as ConvError {
            tally.error(e)
            if case let .workspaceCapTooSmall(required, cap) = e, cap == limit, required > limit {
                tally.outcome("capped workspace refused")
            } else {
                tally.fail(i, "\(g) \(plan) cap \(limit): \(e)")
            }
        } catch {
            tally.fail(i, "\(g) \(plan) cap \(limit): \(error)")
        }
    }

    /// A call that throws (here: a bias one element short, a dB one element long) must not write its outputs.
    func untouchedOnErrorAction(_ g: ConvGeometry, _ backend: any ConvolutionBackend, _ i: Int, _ tally: inout HostileTally) {
        let x = [Double](repeating: 1, count: g.inputCount), f = [Double](repeating: 1, count: g.filterCount)
        let bias = [Double](repeating: 1, count: g.outputChannels - 1)
        var o = [Double](repeating: -7, count: g.outputCount)
        var dX = [Double](repeating: -7, count: g.inputCount), dB = [Double](repeating: -7, count: g.outputChannels + 1)
        let ws = ConvWorkspace<Double>()
        tally.expectError(i, "short bias", hostileIsLength("bias", g.outputChannels, g.outputChannels - 1)) {
            try x.withUnsafeBufferPointer { xp in
                try f.withUnsafeBufferPointer { fp in
                    try bias.withUnsafeBufferPointer { bp in
                        try o.withUnsafeMutableBufferPointer {
                            try backend.forward(g, input: xp, filter: fp, bias: bp, output: $0, workspace: ws)
                        }
                    }
                }
            }
        }
        tally.expectError(i, "long dB", hostileIsLength("biasGradient", g.outputChannels, g.outputChannels + 1)) {
            try x.withUnsafeBufferPointer { xp in
                try f.withUnsafeBufferPointer { fp in
                    try o.withUnsafeBufferPointer { dOp in
                        try dX.withUnsafeMutableBufferPointer { dx in
                            try dB.withUnsafeMutableBufferPointer { db in
                                try backend.backward(g, input: xp, filter: fp, outputGradient: dOp, inputGradient: dx,
                                                     filterGradient: nil, biasGradient: db, workspace: ws)
                            }
                        }
                    }
                }
            }
        }
        if o.contains(where: { $0 != -7 }) || dX.contains(where: { $0 != -7 }) || dB.contains(where: { $0 != -7 }) {
            tally.fail(i, "\(g): a call that threw wrote its outputs")
        }
    }

    // MARK: Other entry points

    /// Engine, workspace, BLAS, SGD, batch and error-bound entry points with hostile arguments.
    func entryPointCases(_ tally: inout HostileTally) {
        let i = -1
        tally.outcome("entry-point cases")
        for workers in [0, -1, Int.min, ConvolutionEngine.maximumWorkers + 1, Int.max] {
            tally.expectError(i, "workers \(workers)", hostileIsKind("invalidArgument")) {
                _ = try ConvolutionEngine(workers: workers)
            }
        }
        for limit in [-1, Int.min] {
            tally.expectError(i, "workspaceLimit \(limit)", hostileIsKind("invalidArgument")) {
                _ = try ConvolutionEngine(workers: 1, workspaceLimit: limit)
            }
        }
        for budget in [0, -1, Int.min] {
            tally.expectError(i, "tileBudgetBytes \(budget)", hostileIsKind("invalidArgument")) {
                _ = try ConvolutionEngine(workers: 1, tileBudgetBytes: budget)
            }
        }
        // Extreme but legal engine settings plan every geometry without trapping.
        let g = try! ConvGeometry(batch: 3, inputChannels: 2, inputHeight: 7, inputWidth: 5, outputChannels: 4,
                                  kernelHeight: 3, kernelWidth: 2, padding: 1)
        for budget in [1, Int.max] {
            for limit in [nil, 0, Int.max] as [Int?] {
                for workers in [1, ConvolutionEngine.maximumWorkers] {
                    do {
                        let e = try ConvolutionEngine(workers: workers, workspaceLimit: limit, tileBudgetBytes: budget)
                        _ = try e.plan(for: g, scalar: Double.self)
                        let out = try e.forward(g, input: [Double](repeating: 1, count: g.inputCount),
                                                filter: [Double](repeating: 1, count: g.filterCount))
                        if out.count != g.outputCount { tally.fail(i, "extreme engine: wrong output count") }
                    } catch {
                        tally.error(error)
                        // A tile budget of Int.max asks for tiles (and a workspace) of that size: a typed refusal.
                        if !hostileIsKind("workspaceCapTooSmall", "sizeOverflow")(error) {
                            tally.fail(i, "extreme engine workers \(workers) limit \(String(describing: limit)) budget \(budget): \(error)")
                        }
                    }
                }
            }
        }
        // Workspaces: negative, overflowing, and larger than any machine's memory.
        tally.expectError(i, "workspace -1", hostileIsKind("invalidArgument")) { _ = try ConvWorkspace<Float>(reserving: -1) }
        tally.expectError(i, "workspace Int.min", hostileIsKind("invalidArgument")) { try ConvWorkspace<Double>().reserve(Int.min) }
        tally.expectError(i, "workspace Int.max", hostileIsKind("sizeOverflow")) { try ConvWorkspace<Double>().reserve(Int.max) }
        for huge in [Int.max / 8, 1 << 50, 1 << 44] {
            tally.expectError(i, "workspace \(huge) elements", hostileIsKind("workspaceCapTooSmall", "sizeOverflow")) {
                try ConvWorkspace<Double>().reserve(huge)
            }
        }
        tally.expectSuccess(i, "workspace 0") { try ConvWorkspace<Float>().reserve(0) }
        // The array API with a result too large for memory (tiny inputs, huge padding): a typed error.
        if let big = try? ConvGeometry(batch: 1, inputChannels: 1, inputHeight: 1, inputWidth: 1, outputChannels: 1 << 20,
                                       kernelHeight: 1, kernelWidth: 1, padding: .explicit(Padding(20_000))) {
            let e = try! ConvolutionEngine(workers: 1)
            tally.expectError(i, "array forward with a \(big.outputCount)-element result", hostileIsKind("invalidArgument", "workspaceCapTooSmall")) {
                _ = try e.forward(big, input: [Float](repeating: 1, count: 1), filter: [Float](repeating: 1, count: big.filterCount))
            }
            tally.expectError(i, "reference array forward with a huge result", hostileIsKind("invalidArgument", "workspaceCapTooSmall")) {
                _ = try ReferenceConvolution().forward(big, input: [Float](repeating: 1, count: 1),
                                                       filter: [Float](repeating: 1, count: big.filterCount))
            }
        } else {
            tally.fail(i, "the huge-result geometry should be valid")
        }
        // BLAS.gemm: negative and 32-bit-overflowing dimensions are errors before any pointer is read.
        let a: [Float] = [1, 2, 3, 4], b: [Float] = [1, 0, 0, 1]
        var c: [Float] = [0, 0, 0, 0]
        let dims: [(Int, Int, Int, Int, Int, Int, String)] = [
            (-1, 2, 2, 2, 2, 2, "nonPositive"), (2, -1, 2, 2, 2, 2, "nonPositive"), (2, 2, Int.min, 2, 2, 2, "nonPositive"),
            (Int(Int32.max) + 1, 2, 2, 2, 2, 2, "blasDimensionTooLarge"), (2, 2, 2, Int.max, 2, 2, "blasDimensionTooLarge"),
            (2, 2, 2, 2, 2, 1 << 40, "blasDimensionTooLarge"), (2, 2, 2, 2, -5, 2, "nonPositive"),
            (2, 2, 2, 1, 2, 2, "invalidArgument"), (2, 2, 2, 2, 1, 2, "invalidArgument"), (2, 2, 2, 2, 2, 1, "invalidArgument"),
        ]
        for (m, n, k, lda, ldb, ldc, kind) in dims {
            tally.expectError(i, "gemm m \(m) n \(n) k \(k) lda \(lda) ldb \(ldb) ldc \(ldc)", hostileIsKind(kind)) {
                try a.withUnsafeBufferPointer { ap in
                    try b.withUnsafeBufferPointer { bp in
                        try c.withUnsafeMutableBufferPointer { cp in
                            try BLAS.gemm(transposeA: .none, transposeB: .none, m: m, n: n, k: k, alpha: 1,
                                          a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb, beta: 0,
                                          c: cp.baseAddress!, ldc: ldc)
                        }
                    }
                }
            }
        }
        tally.expectSuccess(i, "gemm 2×2") {
            try a.withUnsafeBufferPointer { ap in
                try b.withUnsafeBufferPointer { bp in
                    try c.withUnsafeMutableBufferPointer { cp in
                        try BLAS.gemm(transposeA: .none, transposeB: .none, m: 2, n: 2, k: 2, alpha: 1, a: ap.baseAddress!,
                                      lda: 2, b: bp.baseAddress!, ldb: 2, beta: 0, c: cp.baseAddress!, ldc: 2)
                    }
                }
            }
        }
        if c != a { tally.fail(i, "gemm 2×2 with the identity gave \(c)") }
        // SGD.
        for lr in [Double.nan, .infinity, -.infinity, .signalingNaN] {
            tally.expectError(i, "SGD learning rate \(lr)", hostileIsKind("invalidArgument")) { _ = try SGD(learningRate: lr) }
        }
        let sgd = try! SGD(learningRate: 0.5)
        var params: [Float] = [1, 2, 3]
        tally.expectError(i, "SGD lengths", { $0 == .gradientLength(gradient: "gradient", parameters: "parameters", expected: 3, actual: 2) }) { try sgd.step(&params, gradient: [1, 1]) }
        tally.expectSuccess(i, "SGD empty") { var e: [Float] = []; try sgd.step(&e, gradient: []) }
        tally.expectError(i, "SGD overlap", hostileIsOverlap("parameters", "gradient")) {
            let block = UnsafeMutableBufferPointer<Double>.allocate(capacity: 5)
            defer { block.deallocate() }
            block.initialize(repeating: 1)
            try sgd.step(UnsafeMutableBufferPointer(rebasing: block[0..<3]), gradient: UnsafeBufferPointer(rebasing: block[2..<5]))
        }
        // withBatch with hostile batch sizes.
        for batch in [0, -1, Int.min, Int.max, 1 << 62, Int.max / g.inputChannels] {
            var spec = HostileSpec(fields: [batch, 2, 7, 5, 4, 3, 2, 1, 1, 1, 1, 1], pad: .explicit(1, 1, 1, 1))
            spec.set(0, batch)
            let verdict = hostileOracle(spec)
            do {
                let h = try g.withBatch(batch)
                if !verdict.isValid || h.batch != batch { tally.fail(i, "withBatch(\(batch)) accepted, oracle \(verdict.definite)") }
            } catch {
                tally.error(error)
                if !verdict.allows(error) { tally.fail(i, "withBatch(\(batch)) threw \(error)") }
            }
        }
        // ErrorBound is plain Double arithmetic: hostile values give a number, never a trap.
        for (terms, magnitude) in [(0, 0.0), (Int.max, Double.infinity), (Int.min, -1), (1, .nan)] {
            _ = ErrorBound.bound(terms: terms, magnitude: magnitude, scalar: Float.self)
            _ = ErrorBound.fraction(value: .nan, reference: .infinity, terms: terms, magnitude: magnitude, scalar: Double.self)
        }
    }

    // MARK: NPY

    /// Malformed `.npy` bytes (mutated, truncated, with hostile shapes and dtypes) throw `NPYError`, never trap;
    /// what parses has as many elements as its shape says.
    func npySweep(_ count: Int, _ tally: inout HostileTally) {
        var npyErrors: [String: Int] = [:]
        let seeds: [[UInt8]] = [
            try! NPYArray(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6]).npyBytes(),
            try! NPYArray(shape: [1, 1, 2, 2], doubles: [1, -0.0, .nan, .infinity]).npyBytes(),
            try! NPYArray(shape: [], doubles: [42]).npyBytes(),
            try! NPYArray(shape: [0, 5], floats: []).npyBytes(),
        ]
        let headerTexts = [
            "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999, 2), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (-3, 2), }",
            "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }",
            "{'descr': '<f8', 'fortran_order': False, 'shape': (3037000500, 3037000500), }",
            "{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }",
            "{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }",
            "{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'shape': (1,), }",
            "{'descr': '<f4', 'fortran_order': False, }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1, }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': ((((((((1,),),),),),),), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,,), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2",
            "{'descr': 8, 'fortran_order': 0, 'shape': [1], }",
            "",
            "{}",
        ]
        func header(_ text: String, version: UInt8) -> [UInt8] {
            var body = Array(text.utf8)
            while (10 + body.count + 1) % 64 != 0 { body.append(0x20) }
            body.append(0x0A)
            var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [version, 0]
            if version == 1 {
                bytes += [UInt8(body.count & 0xFF), UInt8((body.count >> 8) & 0xFF)]
            } else {
                bytes += [UInt8(body.count & 0xFF), UInt8((body.count >> 8) & 0xFF), 0, 0]
            }
            return bytes + body + [UInt8](repeating: 0, count: 16)
        }
        for i in Self.indices(count) {
            var rng = SeededGenerator(seed: Self.seed ^ 0x4E50, index: i)
            var bytes: [UInt8]
            switch i % 4 {
            case 0:
                bytes = rng.pick(seeds)
                for _ in 0..<rng.int(1...4) where !bytes.isEmpty {
                    bytes[rng.int(0...(bytes.count - 1))] = UInt8(truncatingIfNeeded: rng.next())
                }
            case 1:
                bytes = rng.pick(seeds)
                bytes = Array(bytes.prefix(rng.int(0...bytes.count)))
            case 2:
                bytes = header(rng.pick(headerTexts), version: rng.pick([1, 2, 3]))
            default:
                bytes = (0..<rng.int(0...80)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                if rng.chance(0.5) { bytes = [0x93] + Array("NUMPY".utf8) + [rng.pick([1, 2, 3, 4]), 0] + bytes }
            }
            do {
                let array = try NPYArray(npyBytes: bytes)
                tally.outcome("npy parsed")
                let product = array.shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).partialValue }
                if product != array.count || array.shape.contains(where: { $0 < 0 }) {
                    tally.fail(i, "npy: shape \(array.shape) with \(array.count) elements")
                }
            } catch {
                tally.outcome("npy rejected")
                npyErrors[Mirror(reflecting: error).children.first?.label ?? "\(error)", default: 0] += 1
            }
        }
        for shape in [[-1], [Int.max, 2], [1 << 62, 1 << 62]] {
            do {
                _ = try NPYArray(shape: shape, floats: [])
                tally.fail(-1, "NPYArray(shape: \(shape), floats: []) accepted")
            } catch {
                npyErrors["init " + (Mirror(reflecting: error).children.first?.label ?? "\(error)"), default: 0] += 1
            }
        }
        print("hostile: npy errors by kind " + npyErrors.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
    }
}
