// Hostile values one field at a time, times every forced plan: from small valid base geometries, each field
// (the 16 geometry fields, then the worker count, the forced tile rows, the tile budget and the workspace limit)
// is set to each extreme value in turn, and the case is run with every forced algorithm, both input-gradient
// routes and 1, 2 and 3 workers. A case either
//   - runs: the geometry and engine are valid and its buffers and workspace fit under `sizeCap` — forward and
//     backward with buffers of the right length, every result within MATH.md's bound of the Double reference;
//   - throws a typed error (a ConvError from the geometry, the engine, the plan, the workspace sizing or the call);
//   - or is skipped by size: valid, but its buffers or workspace are over the cap (checked before allocating).
// The suite prints how many cases of each (field, plan) pair ran and fails if a pair never ran.
//
// Scale (`CONVENGINE_TEST_SCALE`): by default every case runs at 1, 2 and 3 workers on 13 values; `full` adds more
// values; `small` (make sanitize) has 7 values and one worker count per case (1, 2, 3 in turn).
// `CONVENGINE_FIELD_TRACE=1` writes every case to stderr before it runs, so a case that traps can be found.
import Foundation
import Testing
import ConvEngine

/// One field the generator mutates: its name and where it lives.
struct HostileField: Sendable {
    enum Place: Sendable { case geometry(Int), workers, tileRows, tileBudget, workspaceLimit }
    var name: String
    var place: Place

    static let all: [HostileField] = [
        "batch", "inputChannels", "inputHeight", "inputWidth", "outputChannels", "kernelHeight", "kernelWidth",
        "strideHeight", "strideWidth", "padding.top", "padding.bottom", "padding.left", "padding.right",
        "dilationHeight", "dilationWidth", "groups",
    ].enumerated().map { HostileField(name: $0.element, place: .geometry($0.offset)) } + [
        HostileField(name: "workers", place: .workers), HostileField(name: "tileRows", place: .tileRows),
        HostileField(name: "tileBudgetBytes", place: .tileBudget), HostileField(name: "workspaceLimit", place: .workspaceLimit),
    ]
}

/// A base case: the 16 geometry fields (batch, C, H, W, K, R, S, sh, sw, top, bottom, left, right, dh, dw, groups)
/// and the engine settings, each of which one mutation replaces.
struct HostileBase: Sendable {
    var name: String
    var fields: [Int]
    var workers: Int? = nil        // nil: the case's own worker count
    var tileRows: Int? = nil
    var tileBudget: Int = ConvolutionEngine.defaultTileBudgetBytes
    var workspaceLimit: Int? = nil

    func geometry() throws(ConvError) -> ConvGeometry {
        let f = fields
        return try ConvGeometry(batch: f[0], inputChannels: f[1], inputHeight: f[2], inputWidth: f[3], outputChannels: f[4],
                                kernelHeight: f[5], kernelWidth: f[6], strideHeight: f[7], strideWidth: f[8],
                                padding: .explicit(Padding(top: f[9], bottom: f[10], left: f[11], right: f[12])),
                                dilationHeight: f[13], dilationWidth: f[14], groups: f[15])
    }

    func with(_ field: HostileField, _ value: Int) -> HostileBase {
        var b = self
        switch field.place {
        case .geometry(let i): b.fields[i] = value
        case .workers: b.workers = value
        case .tileRows: b.tileRows = value
        case .tileBudget: b.tileBudget = value
        case .workspaceLimit: b.workspaceLimit = value
        }
        return b
    }

    /// Small valid geometries; together every forced algorithm applies to at least one of them.
    static let all: [HostileBase] = [
        // 3×3, padding 1: im2col, tiledIm2col, shiftedGEMM, kernelRowGEMM.
        HostileBase(name: "plain 3×3 pad 1", fields: [2, 2, 5, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1]),
        // Depthwise with a channel multiplier of 2: also depthwiseDirect.
        HostileBase(name: "depthwise 3×3 pad 1", fields: [2, 2, 5, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2]),
        // Depthwise with a kernel one tap wide (a huge width dilation stays valid).
        HostileBase(name: "depthwise 3×1", fields: [2, 2, 5, 4, 2, 3, 1, 1, 1, 1, 1, 0, 0, 1, 1, 2]),
        // 1×1, stride 1, no padding: also pointwise.
        HostileBase(name: "pointwise 1×1", fields: [2, 3, 4, 4, 2, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1]),
        // Strided, dilated, asymmetric padding, grouped.
        HostileBase(name: "strided 3×2 /(2,3) d(1,2) g2", fields: [3, 4, 7, 8, 2, 3, 2, 2, 3, 1, 0, 1, 1, 1, 2, 2]),
    ]
}

/// A case the sources trap on today, excluded until the fix lands (the lead empties this list after merging it).
struct KnownTrap: Sendable, CustomStringConvertible {
    var base: String
    var field: String
    var value: Int
    /// nil: every algorithm.
    var algorithm: ConvAlgorithm?

    func matches(base b: String, field f: String, value v: Int, algorithm a: ConvAlgorithm) -> Bool {
        base == b && field == f && value == v && (algorithm == nil || algorithm == a)
    }

    var description: String { "\(base), \(field) = \(value), \(algorithm.map { "\($0)" } ?? "every algorithm")" }
}

struct FieldByPlanHostileTests {
    /// Cases that trapped in the sources (none since ConvGeometry normalises ineffective strides and dilations);
    /// each listed case would be skipped and printed.
    static let knownTrapsToFixInSources: [KnownTrap] = []

    /// More exclusions from `CONVENGINE_FIELD_EXCLUDE` ("base|field|value|algorithm;…", algorithm `*` for all): a
    /// discovery aid, so that the traps can be found one run at a time (with `CONVENGINE_FIELD_TRACE=1`) without
    /// rebuilding.
    static let extraExclusions: [KnownTrap] = (ProcessInfo.processInfo.environment["CONVENGINE_FIELD_EXCLUDE"] ?? "")
        .split(separator: ";").compactMap { entry in
            let parts = entry.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 4, let value = Int(parts[2]) else { return nil }
            return KnownTrap(base: parts[0], field: parts[1], value: value,
                             algorithm: parts[3] == "*" ? nil : ConvAlgorithm(rawValue: parts[3]))
        }

    /// Buffers (engine and reference) plus workspace of one case must fit under this, or the case is skipped by size.
    static let sizeCap = 64 << 20

    static let values: [Int] = {
        // 3: the only kernel size the Winograd algorithms run, so that they run when a kernel field is mutated.
        var v = [0, -1, 1, 2, 3, 1 << 30, Int(Int32.max), Int(Int32.max) + 1, 1 << 32, 1 << 61, 1 << 62, Int.max / 2,
                 Int.max - 1, Int.max]
        if TestScale.isSmall { v = [0, -1, 1, 2, 3, Int(Int32.max) + 1, Int.max / 2, Int.max] }
        if TestScale.isFull { v += [4, Int(Int32.max) - 1, (1 << 31) + 1, (1 << 62) + 1, Int.min, Int.min + 1] }
        return v
    }()

    static let trace = ProcessInfo.processInfo.environment["CONVENGINE_FIELD_TRACE"] != nil

    /// What happened to the cases of one (field, plan) pair.
    struct Counts { var ran = 0, typedError = 0, skippedBySize = 0, excluded = 0 }

    /// The bytes a case allocates: the engine's Float buffers, the reference's Double inputs and results with their
    /// magnitudes, and the workspace. Computed in Int128, before anything is allocated.
    static func caseBytes(_ g: ConvGeometry, workspaceBytes: Int) -> Int128 {
        let tensors = 2 * Int128(g.inputCount) + 2 * Int128(g.filterCount) + 2 * Int128(g.outputCount) + 2 * Int128(g.outputChannels)
        return tensors * 4 + tensors * 8 * 3 + Int128(workspaceBytes)
    }

    @Test func everyFieldTimesEveryPlanRunsOrThrowsATypedError() throws {
        pinBLASThreadsOnce()
        let start = Date()
        let algorithms = ConvAlgorithm.allCases
        let routes = InputGradientAlgorithm.allCases
        let planNames = algorithms.flatMap { a in routes.map { "\(a)+\($0)" } }
        var counts: [String: [String: Counts]] = [:]   // field → plan → counts
        var failures = 0, caseIndex = 0, excludedSeen: [String] = []
        func record(_ message: String) {
            failures += 1
            if failures <= 30 { Issue.record("\(message)") }
        }

        for field in HostileField.all {
            for base in HostileBase.all {
                for value in Self.values {
                    let mutated = base.with(field, value)
                    let what = "\(base.name), \(field.name) = \(value)"
                    caseIndex += 1
                    // An invalid geometry is a typed error (ConvGeometry.init throws only ConvError) for every plan.
                    let geometry = try? mutated.geometry()
                    // Data and the reference, made once per case when some plan runs it.
                    var data: (x: [Float], f: [Float], b: [Float], dO: [Float])?
                    var reference: ReferenceResults?
                    for algorithm in algorithms {
                        for route in routes {
                            let plan = "\(algorithm)+\(route)"
                            func count(_ update: (inout Counts) -> Void) { update(&counts[field.name, default: [:]][plan, default: Counts()]) }
                            guard let g = geometry else {
                                count { $0.typedError += 1 }
                                continue
                            }
                            if let trap = (Self.knownTrapsToFixInSources + Self.extraExclusions).first(where: {
                                $0.matches(base: base.name, field: field.name, value: value, algorithm: algorithm)
                            }) {
                                count { $0.excluded += 1 }
                                if !excludedSeen.contains("\(trap)") { excludedSeen.append("\(trap)") }
                                continue
                            }
                            let workerCounts = mutated.workers.map { [$0] }
                                ?? (TestScale.isSmall ? [1 + caseIndex % 3] : [1, 2, 3])
                            for workers in workerCounts {
                                let label = "\(what): \(g) \(plan)×\(workers)"
                                if Self.trace {
                                    let key = "\(base.name)|\(field.name)|\(value)|\(algorithm.rawValue)"
                                    FileHandle.standardError.write(Data("field×plan case \(key) — \(label)\n".utf8))
                                }
                                do {
                                    let engine = try ConvolutionEngine(
                                        workers: workers, algorithm: algorithm, inputGradientAlgorithm: route,
                                        workspaceLimit: mutated.workspaceLimit, tileBudgetBytes: mutated.tileBudget,
                                        tileRows: mutated.tileRows)
                                    let workspaceBytes = try engine.workspaceBytes(for: g, scalar: Float.self)
                                    if let limit = mutated.workspaceLimit, workspaceBytes > limit {
                                        record("\(label): workspaceBytes \(workspaceBytes) above the limit \(limit) without an error")
                                    }
                                    if Self.caseBytes(g, workspaceBytes: workspaceBytes) > Int128(Self.sizeCap) {
                                        count { $0.skippedBySize += 1 }
                                        continue
                                    }
                                    if data == nil {
                                        var rng = SeededGenerator(seed: 0xF1E1_D000, index: caseIndex)
                                        let r = { (n: Int) in rng.values(n).map { Float($0) } }
                                        data = (r(g.inputCount), r(g.filterCount), r(g.outputChannels), r(g.outputCount))
                                        let w = { (v: [Float]) in v.map { Double($0) } }
                                        reference = try ReferenceResults(g, input: w(data!.x), filter: w(data!.f),
                                                                         bias: w(data!.b), outputGradient: w(data!.dO))
                                    }
                                    let workspace = ConvWorkspace<Float>()
                                    let results = try runAll(engine, g, x: data!.x, f: data!.f, b: data!.b, dO: data!.dO,
                                                             workspace: workspace)
                                    if workspace.peakElementCount * 4 > workspaceBytes {
                                        record("\(label): used \(workspace.peakElementCount * 4) workspace bytes, promised \(workspaceBytes)")
                                    }
                                    if reference!.bounded(for: engine, geometry: g, scalar: Float.self).check(results, geometry: g, context: label) > 1 { failures += 1 }
                                    count { $0.ran += 1 }
                                } catch let error as ConvError {
                                    // Correct buffers were given: a complaint about them is a bug, not a typed refusal.
                                    if ["bufferLength", "overlappingBuffers", "missingBuffer"].contains(errorKind(error)) {
                                        record("\(label): \(error) with correct buffers")
                                    }
                                    count { $0.typedError += 1 }
                                } catch {
                                    record("\(label): not a ConvError: \(error)")
                                }
                            }
                        }
                    }
                }
            }
        }

        // The table: ran / typed error / skipped by size per (field, plan).
        let width = planNames.map(\.count).max()! + 2
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        print("field×plan: \(caseIndex) (base, field, value) cases × \(planNames.count) plans, values \(Self.values), "
              + "cap \(Self.sizeCap >> 20) MiB, \(String(format: "%.1f", Date().timeIntervalSince(start))) s; "
              + "cells are ran/typed error/skipped by size")
        print(pad("field", 16) + planNames.map { pad($0, width) }.joined())
        var unrun: [String] = []
        for field in HostileField.all {
            var line = pad(field.name, 16)
            for plan in planNames {
                let c = counts[field.name]?[plan] ?? Counts()
                line += pad("\(c.ran)/\(c.typedError)/\(c.skippedBySize)" + (c.excluded > 0 ? " x\(c.excluded)" : ""), width)
                if c.ran == 0 { unrun.append("(\(field.name), \(plan))") }
            }
            print(line)
        }
        for trap in excludedSeen { print("field×plan: excluded as a known trap: \(trap)") }
        #expect(unrun.isEmpty, "pairs that never ran: \(unrun.joined(separator: ", "))")
        #expect(failures == 0, "\(failures) cases failed (first 30 recorded above)")
    }
}
