// Hostile inputs for the operations that run on a 2-D convolution's algorithms (the transposed convolution,
// the 1-D convolution and the 1-D transposed convolution): every ConvError kind their geometries and calls can
// raise, provoked on purpose with the exact field or buffer name expected; random fields from a pool of
// hostile values (zero, negative, 2³¹, Int.max, …) for each geometry, where every outcome is either a valid
// geometry whose sizes obey their formulas (and, when small, whose engine results match the reference) or a
// ConvError — never a trap; and wrong buffer lengths, missing operands, overlapping buffers, inapplicable
// forced algorithms and too-small workspace caps on the engine and the reference, buffer and array forms.
import Foundation
import Testing
import ConvEngine

/// The values hostile fields are drawn from (besides small valid ones).
let hostilePool: [Int] = [Int.min, -(1 << 40), -3, -1, 0, 1, 2, 3, 4, 5, (1 << 31) - 1, 1 << 31, 1 << 32, 1 << 40,
                          1 << 62, Int.max]

extension SeededGenerator {
    /// A field value: from ``hostilePool`` with probability `hostility` (drawn per case, from none to many fields
    /// hostile, so that a sweep sees valid geometries, single bad fields and many at once), else small and valid.
    mutating func hostileField(_ small: ClosedRange<Int> = 1...4, _ hostility: Double) -> Int {
        chance(hostility) ? pick(hostilePool) : int(small)
    }

    /// A case's `hostility`.
    mutating func hostility() -> Double { pick([0, 0.02, 0.05, 0.1, 0.3]) }
}

/// The checks every family geometry's calls get: each buffer of the wrong length, each missing operand, each
/// kind of overlap, on the engine (every forced plan that applies) and the reference, buffer and array forms.
func hostileCalls<G: FamilyGeometry>(_ g: G, _ tally: inout HostileTally, caseIndex i: Int) throws {
    let nX = g.inputCount, nF = g.filterCount, nB = g.biasCount, nO = g.outputCount
    var backends: [(String, any FamilyBackendCall)] = [("reference", ReferenceCall())]
    for a in ConvAlgorithm.allCases {
        let e = try makeEngine(workers: 1 + i % 2, algorithm: a)
        if (try? g.mappedPlan(e)) != nil { backends.append(("engine \(a)", EngineCall(engine: e))) }
    }
    for (name, backend) in backends {
        // Forward: each buffer one element short or long in turn.
        for (which, expected) in [("input", nX), ("filter", nF), ("bias", nB), ("output", nO)] {
            for delta in [-1, 1] where expected + delta >= 0 {
                tally.expectError(i, "\(name): forward with \(which) of \(expected + delta)",
                                  hostileIsLength(which, expected, expected + delta)) {
                    try backend.forward(g, lengths: [which: expected + delta])
                }
            }
        }
        for (which, expected) in [("input", nX), ("filter", nF), ("outputGradient", nO), ("inputGradient", nX),
                                  ("filterGradient", nF), ("biasGradient", nB)] {
            tally.expectError(i, "\(name): backward with \(which) of \(expected + 1)",
                              hostileIsLength(which, expected, expected + 1)) {
                try backend.backward(g, lengths: [which: expected + 1])
            }
        }
        tally.expectError(i, "\(name): input gradient without the filter", { $0 == .missingBuffer(name: "filter") }) {
            try backend.backward(g, lengths: ["filter": -1])
        }
        tally.expectError(i, "\(name): filter gradient without the input", { $0 == .missingBuffer(name: "input") }) {
            try backend.backward(g, lengths: ["input": -1])
        }
        tally.expectError(i, "\(name): output overlapping the input", hostileIsOverlap("output", "input")) {
            try backend.forward(g, overlap: ("output", "input"))
        }
        tally.expectError(i, "\(name): input gradient overlapping the output gradient",
                          hostileIsOverlap("inputGradient", "outputGradient")) {
            try backend.backward(g, overlap: ("inputGradient", "outputGradient"))
        }
        tally.expectError(i, "\(name): filter gradient overlapping the bias gradient",
                          hostileIsOverlap("filterGradient", "biasGradient", eitherOrder: true)) {
            try backend.backward(g, overlap: ("filterGradient", "biasGradient"))
        }
        tally.outcome("calls checked")
    }
    // The array forms check lengths before allocating anything.
    let engine = try makeEngine(workers: 1)
    tally.expectError(i, "array forward with an empty input", hostileIsLength("input", nX, 0)) {
        _ = try g.arrayForward(engine, input: [], filter: [Double](repeating: 0, count: nF))
    }
    tally.expectError(i, "array backward with the input gradient and no filter", { $0 == .missingBuffer(name: "filter") }) {
        _ = try g.arrayBackward(engine, input: nil, filter: nil, outputGradient: [Double](repeating: 0, count: nO),
                                gradients: .input)
    }
    // The workspace is another buffer the output must not overlap.
    let ws = ConvWorkspace<Double>()
    let need = try g.workspaceCount(engine)
    if need >= nO, need > 0 {
        try ws.reserve(need)
        if let storage = workspaceStorage(ws) {
            let x = [Double](repeating: 1, count: nX), f = [Double](repeating: 1, count: nF)
            tally.expectError(i, "output overlapping the workspace", hostileIsOverlap("output", "workspace")) {
                try x.withUnsafeBufferPointer { xb in
                    try f.withUnsafeBufferPointer { fb in
                        try g.forward(engine, xb, fb, nil, UnsafeMutableBufferPointer(start: storage, count: nO), ws)
                    }
                }
            }
        }
    }
    // A workspace cap below the need.
    if need > 0 {
        let capped = try ConvolutionEngine(workers: 1, workspaceLimit: 0)
        tally.expectError(i, "workspace cap 0", hostileIsKind("workspaceCapTooSmall")) { _ = try g.mappedPlan(capped) }
    }
}

/// One backend's calls with buffers of chosen lengths (`-1`: the buffer is not given) or chosen overlaps.
protocol FamilyBackendCall {
    func forward<G: FamilyGeometry>(_ g: G, lengths: [String: Int]) throws
    func backward<G: FamilyGeometry>(_ g: G, lengths: [String: Int]) throws
    func forward<G: FamilyGeometry>(_ g: G, overlap: (String, String)) throws
    func backward<G: FamilyGeometry>(_ g: G, overlap: (String, String)) throws
}

extension FamilyBackendCall {
    /// Buffers named as in the API, of the geometry's lengths unless `lengths` says otherwise; `overlap` makes its
    /// first buffer start on the last element of its second. Calls `body` with them, then frees them.
    func withBuffers<G: FamilyGeometry>(
        _ g: G, lengths: [String: Int], overlap: (String, String)?,
        _ body: ([String: UnsafeMutableBufferPointer<Double>]) throws -> Void
    ) throws {
        let counts = ["input": g.inputCount, "filter": g.filterCount, "bias": g.biasCount, "output": g.outputCount,
                      "outputGradient": g.outputCount, "inputGradient": g.inputCount,
                      "filterGradient": g.filterCount, "biasGradient": g.biasCount].merging(lengths) { $1 }
        var buffers: [String: UnsafeMutableBufferPointer<Double>] = [:]
        var owned: [UnsafeMutableBufferPointer<Double>] = []
        defer { owned.forEach { $0.deallocate() } }
        for (name, count) in counts where count >= 0 && name != overlap?.0 {
            let p = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(count, 1) + (name == overlap?.1 ? counts[overlap!.0]! : 0))
            p.initialize(repeating: 0.5)
            owned.append(p)
            buffers[name] = UnsafeMutableBufferPointer(rebasing: p[0..<count])
        }
        if let (a, b) = overlap, let other = buffers[b], let base = other.baseAddress {
            buffers[a] = UnsafeMutableBufferPointer(start: base + max(other.count - 1, 0), count: counts[a]!)
        }
        try body(buffers)
    }
}

struct EngineCall: FamilyBackendCall {
    let engine: ConvolutionEngine
    func forward<G: FamilyGeometry>(_ g: G, lengths: [String: Int]) throws {
        try withBuffers(g, lengths: lengths, overlap: nil) { try g.forward(engine, $0.ro("input")!, $0.ro("filter")!, $0.ro("bias"), $0["output"]!, ConvWorkspace<Double>()) }
    }
    func backward<G: FamilyGeometry>(_ g: G, lengths: [String: Int]) throws {
        try withBuffers(g, lengths: lengths, overlap: nil) {
            try g.backward(engine, $0.ro("input"), $0.ro("filter"), $0.ro("outputGradient")!, $0["inputGradient"],
                           $0["filterGradient"], $0["biasGradient"], ConvWorkspace<Double>())
        }
    }
    func forward<G: FamilyGeometry>(_ g: G, overlap: (String, String)) throws {
        try withBuffers(g, lengths: [:], overlap: overlap) { try g.forward(engine, $0.ro("input")!, $0.ro("filter")!, $0.ro("bias"), $0["output"]!, ConvWorkspace<Double>()) }
    }
    func backward<G: FamilyGeometry>(_ g: G, overlap: (String, String)) throws {
        try withBuffers(g, lengths: [:], overlap: overlap) {
            try g.backward(engine, $0.ro("input"), $0.ro("filter"), $0.ro("outputGradient")!, $0["inputGradient"],
                           $0["filterGradient"], $0["biasGradient"], ConvWorkspace<Double>())
        }
    }
}

struct ReferenceCall: FamilyBackendCall {
    func forward<G: FamilyGeometry>(_ g: G, lengths: [String: Int]) throws {
        try withBuffers(g, lengths: lengths, overlap: nil) { try g.referenceForward($0.ro("input")!, $0.ro("filter")!, $0.ro("bias"), $0["output"]!) }
    }
    func backward<G: FamilyGeometry>(_ g: G, lengths: [String: Int]) throws {
        try withBuffers(g, lengths: lengths, overlap: nil) {
            try g.referenceBackward($0.ro("input"), $0.ro("filter"), $0.ro("outputGradient")!, $0["inputGradient"],
                                    $0["filterGradient"], $0["biasGradient"])
        }
    }
    func forward<G: FamilyGeometry>(_ g: G, overlap: (String, String)) throws {
        try withBuffers(g, lengths: [:], overlap: overlap) { try g.referenceForward($0.ro("input")!, $0.ro("filter")!, $0.ro("bias"), $0["output"]!) }
    }
    func backward<G: FamilyGeometry>(_ g: G, overlap: (String, String)) throws {
        try withBuffers(g, lengths: [:], overlap: overlap) {
            try g.referenceBackward($0.ro("input"), $0.ro("filter"), $0.ro("outputGradient")!, $0["inputGradient"],
                                    $0["filterGradient"], $0["biasGradient"])
        }
    }
}

extension Dictionary where Key == String, Value == UnsafeMutableBufferPointer<Double> {
    /// The named buffer, read-only.
    func ro(_ name: String) -> UnsafeBufferPointer<Double>? { self[name].map { UnsafeBufferPointer($0) } }
}

/// Expects `body` to throw exactly `expected`.
func expectGeometryError(_ expected: ConvError, _ tally: inout HostileTally, _ what: String,
                         sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    tally.expectError(0, what, { $0 == expected }, sourceLocation: sourceLocation, body)
}

/// For a geometry that validated: runs the engine (automatic plan, forward and all gradients, array forms) and
/// the reference on random data when the problem is small, comparing every element; otherwise only plans.
func hostileRunValid<G: FamilyGeometry>(_ g: G, flops: Int, _ i: Int, _ tally: inout HostileTally,
                                        _ rng: inout SeededGenerator) {
    let engine: ConvolutionEngine
    do { engine = try makeEngine(workers: 1 + i % 2) } catch { tally.fail(i, "engine: \(error)"); return }
    do { _ = try g.mappedPlan(engine); _ = try g.workspaceCount(engine) } catch let e as ConvError {
        tally.error(e); tally.outcome("valid, plan refused"); return
    } catch { tally.fail(i, "not a ConvError: \(error)"); return }
    let small = max(g.inputCount, g.filterCount, g.outputCount) <= 20_000 && flops <= 2_000_000
    guard small else { tally.outcome("valid, planned only"); return }
    let p = FamilyProblem(g, useBias: true, rng: &rng)
    do {
        let reference = try FamilyReference(g, p)
        let o = try g.arrayForward(engine, input: p.input, filter: p.filter)
        // The array form has no bias here: compare with the reference's output less the bias.
        let withoutBias = try g.referenceForward(p.input, p.filter, nil)
        if !(checkWithinBound(o, reference: withoutBias.output, magnitudes: withoutBias.magnitudes,
                              terms: reference.terms[0], tensor: "O", shape: g.outputShape, context: "\(g)") <= 1) {
            tally.fail(i, "forward outside the bound on \(g)")
        }
        let grads = try g.arrayBackward(engine, input: p.input, filter: p.filter, outputGradient: p.outputGradient,
                                        gradients: .all)
        for (index, name, values) in [(1, "dX", grads.input!), (2, "dF", grads.filter!), (3, "dB", grads.bias!)]
            where !(reference.check(values, index, name: name, geometry: g, context: "\(g)") <= 1) {
            tally.fail(i, "\(name) outside the bound on \(g)")
        }
        tally.outcome("valid, ran")
    } catch {
        tally.fail(i, "valid geometry \(g): unexpected \(error)")
    }
}

@Suite("Transposed convolution: hostile inputs")
struct TransposedHostileTests {
    @Test("Every geometry error, with the field it names")
    func geometryErrors() {
        var tally = HostileTally(seed: 0)
        func make(_ n: Int = 1, _ cin: Int = 2, _ h: Int = 3, _ w: Int = 3, _ cout: Int = 2, _ r: Int = 2, _ s: Int = 2,
                  sh: Int = 1, sw: Int = 1, pad: Padding = .zero, oph: Int = 0, opw: Int = 0, dh: Int = 1, dw: Int = 1,
                  g: Int = 1) throws {
            _ = try TransposedConvGeometry(batch: n, inputChannels: cin, inputHeight: h, inputWidth: w,
                                           outputChannels: cout, kernelHeight: r, kernelWidth: s, strideHeight: sh,
                                           strideWidth: sw, padding: pad, outputPaddingHeight: oph,
                                           outputPaddingWidth: opw, dilationHeight: dh, dilationWidth: dw, groups: g)
        }
        let zeroes: [(String, () throws -> Void)] = [
            ("batch", { try make(0) }), ("inputChannels", { try make(1, 0) }), ("inputHeight", { try make(1, 2, 0) }),
            ("inputWidth", { try make(1, 2, 3, 0) }), ("outputChannels", { try make(1, 2, 3, 3, 0) }),
            ("kernelHeight", { try make(1, 2, 3, 3, 2, 0) }), ("kernelWidth", { try make(1, 2, 3, 3, 2, 2, 0) }),
            ("strideHeight", { try make(sh: 0) }), ("strideWidth", { try make(sw: 0) }),
            ("dilationHeight", { try make(dh: 0) }), ("dilationWidth", { try make(dw: -4) }), ("groups", { try make(g: 0) }),
        ]
        for (field, body) in zeroes {
            tally.expectError(0, field, { if case .nonPositive(field, _) = $0 { return true }; return false }, body)
        }
        expectGeometryError(.negativePadding(field: "padding.bottom", value: -1), &tally, "padding") {
            try make(pad: Padding(top: 0, bottom: -1, left: 0, right: 0))
        }
        expectGeometryError(.negativePadding(field: "outputPaddingWidth", value: -2), &tally, "output padding") {
            try make(opw: -2)
        }
        expectGeometryError(.notDivisibleByGroups(field: "outputChannels", value: 3, groups: 2), &tally, "groups") {
            try make(1, 2, 3, 3, 3, g: 2)
        }
        for (sh, dh, oph) in [(2, 1, 2), (1, 1, 1), (1, 3, 3), (3, 2, 5)] {
            tally.expectError(0, "output padding \(oph) at stride \(sh), dilation \(dh)", {
                if case .invalidArgument("outputPaddingHeight", _) = $0 { return true }; return false
            }) { try make(sh: sh, oph: oph, dh: dh) }
        }
        tally.expectError(0, "output padding width", {
            if case .invalidArgument("outputPaddingWidth", _) = $0 { return true }; return false
        }) { try make(sw: 2, opw: 2) }
        // Ho = (3−1)·1 − 5 − 5 + 1·(2−1) + 0 + 1 = −6.
        expectGeometryError(.nonPositive(field: "outputHeight", value: -6), &tally, "padding larger than the output") {
            try make(pad: Padding(top: 5, bottom: 5, left: 0, right: 0))
        }
        expectGeometryError(.nonPositive(field: "outputWidth", value: Int.min), &tally, "padding near Int.max") {
            try make(pad: Padding(top: 0, bottom: 0, left: Int.max, right: Int.max))
        }
        tally.expectError(0, "size overflow", hostileIsKind("sizeOverflow")) { try make(1 << 40, 1 << 30) }
        tally.expectError(0, "huge stride", hostileIsKind("sizeOverflow")) { try make(1, 2, 5, sh: Int.max) }
        tally.expectError(0, "BLAS dimension", hostileIsKind("blasDimensionTooLarge")) { try make(1, 1 << 31, 1, 1, 1, 1, 1) }
        #expect(tally.issues == 0)
        print("transposed geometry errors: " + tally.errors.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
    }

    @Test("Random hostile fields: a valid geometry obeying its formulas, or a ConvError; never a trap")
    func hostileFields() {
        pinBLASThreadsOnce()
        var tally = HostileTally(seed: 0x7A_4057)
        var rng = SeededGenerator(seed: 0x7A_4057)
        for i in 0..<TestScale.pick(normal: 1_500, small: 200) {
            let p = rng.hostility()
            let (n, cin, h, w, cout) = (rng.hostileField(1...4, p), rng.hostileField(1...6, p), rng.hostileField(1...4, p), rng.hostileField(1...4, p), rng.hostileField(1...6, p))
            let (r, s, sh, sw) = (rng.hostileField(1...4, p), rng.hostileField(1...4, p), rng.hostileField(1...3, p), rng.hostileField(1...3, p))
            let pad = Padding(top: rng.hostileField(0...3, p), bottom: rng.hostileField(0...3, p), left: rng.hostileField(0...3, p),
                              right: rng.hostileField(0...3, p))
            let (oph, opw, dh, dw) = (rng.hostileField(0...2, p), rng.hostileField(0...2, p), rng.hostileField(1...3, p), rng.hostileField(1...3, p))
            let groups = rng.chance(0.7) ? 1 : rng.hostileField(1...3, p)
            let g: TransposedConvGeometry
            do {
                g = try TransposedConvGeometry(batch: n, inputChannels: cin, inputHeight: h, inputWidth: w,
                                               outputChannels: cout, kernelHeight: r, kernelWidth: s, strideHeight: sh,
                                               strideWidth: sw, padding: pad, outputPaddingHeight: oph,
                                               outputPaddingWidth: opw, dilationHeight: dh, dilationWidth: dw,
                                               groups: groups)
            } catch {
                tally.error(error); tally.outcome("refused"); continue
            }
            // The sizes obey their formulas, computed without overflow.
            let ho = Int128(h - 1) * Int128(sh) - Int128(pad.top) - Int128(pad.bottom) + Int128(dh) * Int128(r - 1) + Int128(oph) + 1
            let wo = Int128(w - 1) * Int128(sw) - Int128(pad.left) - Int128(pad.right) + Int128(dw) * Int128(s - 1) + Int128(opw) + 1
            if Int128(g.outputHeight) != ho || Int128(g.outputWidth) != wo || oph >= max(sh, dh) || opw >= max(sw, dw)
                || Int128(g.inputCount) != Int128(n) * Int128(cin) * Int128(h) * Int128(w)
                || Int128(g.outputCount) != Int128(n) * Int128(cout) * ho * wo
                || Int128(g.filterCount) != Int128(cin) * Int128(cout / groups) * Int128(r) * Int128(s)
                || g.associated.outputHeight != h + oph / sh || g.associated.outputWidth != w + opw / sw {
                tally.fail(i, "sizes of \(g) do not follow the formulas")
            }
            hostileRunValid(g, flops: g.associated.forwardFLOPs, i, &tally, &rng)
        }
        print("transposed hostile fields: " + tally.outcomes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
              + "; errors " + tally.errors.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        #expect(tally.issues == 0)
        #expect(tally.outcomes["valid, ran", default: 0] >= TestScale.pick(normal: 20, small: 2))
        for kind in ["nonPositive", "negativePadding", "notDivisibleByGroups", "invalidArgument", "sizeOverflow"] {
            #expect(tally.errors[kind, default: 0] > 0, "\(kind) never provoked")
        }
    }

    @Test("Wrong lengths, missing operands, overlaps, inapplicable algorithms and workspace caps")
    func calls() throws {
        var tally = HostileTally(seed: 0)
        let geometries = try [
            TransposedConvGeometry(batch: 2, inputChannels: 2, inputHeight: 3, inputWidth: 2, outputChannels: 4,
                                   kernelHeight: 3, kernelWidth: 3, strideHeight: 2, padding: Padding(1),
                                   outputPaddingHeight: 1, groups: 2),
            // The staged case.
            TransposedConvGeometry(batch: 2, inputChannels: 2, inputHeight: 2, inputWidth: 3, outputChannels: 2,
                                   kernelHeight: 2, kernelWidth: 1, outputPaddingHeight: 2, dilationHeight: 3),
        ]
        for (i, g) in geometries.enumerated() { try hostileCalls(g, &tally, caseIndex: i) }
        let g = geometries[0]
        tally.expectError(0, "pointwise forced on a 3×3 kernel", hostileIsKind("algorithmNotApplicable")) {
            _ = try ConvolutionEngine(workers: 1, algorithm: .pointwise).plan(for: g)
        }
        tally.expectError(0, "Winograd forced at stride 2", hostileIsKind("algorithmNotApplicable")) {
            _ = try ConvolutionEngine(workers: 1, algorithm: .winograd2x2).forward(
                g, input: [Float](repeating: 0, count: g.inputCount), filter: [Float](repeating: 0, count: g.filterCount))
        }
        // The staged case under a cap below its staging copy, and under one that leaves the convolution room.
        let staged = geometries[1]
        let need = try ConvolutionEngine(workers: 1).workspaceBytes(for: staged, scalar: Double.self)
        tally.expectError(1, "staged case under a cap of 8 bytes", hostileIsKind("workspaceCapTooSmall")) {
            _ = try ConvolutionEngine(workers: 1, workspaceLimit: 8).plan(for: staged, scalar: Double.self)
        }
        tally.expectSuccess(1, "staged case under a cap of its need") {
            let capped = try ConvolutionEngine(workers: 1, workspaceLimit: need)
            #expect(try capped.workspaceBytes(for: staged, scalar: Double.self) <= need)
            #expect(try capped.plan(for: staged, scalar: Double.self).isStaged)
        }
        #expect(tally.issues == 0)
        let kinds = ["bufferLength", "missingBuffer", "overlappingBuffers", "algorithmNotApplicable", "workspaceCapTooSmall"]
        for kind in kinds { #expect(tally.errors[kind, default: 0] > 0, "\(kind) never provoked") }
        print("transposed call errors: " + tally.errors.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
    }
}
