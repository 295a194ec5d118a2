import ConvEngine
import Foundation

/// Everything one run measured: what the table shows and what `--json` writes (schema in Benchmarks/README.md).
struct RunReport: Codable {
    var schema = "convbench/1"
    var date: String
    var machine: MachineInfo
    var options: OptionsInfo
    /// The machine's GEMM rate (2048³, the run's precision) per thread count, measured in this run.
    var gemmRates: [GEMMRate]
    var layers: [LayerInfo]
    var results: [ResultRow]
    var summary: Summary
}

struct MachineInfo: Codable {
    var cpu: String
    var processors: Int
    var avx512: Bool
    var blasConfiguration: String
    /// 1-, 5- and 15-minute load averages when the run started (above ~0.5, other processes share the cores).
    var loadAverage: [Double]
}

struct OptionsInfo: Codable {
    var precision: Precision
    var quick: Bool
    var seed: UInt64
    var generatedCount: Int
    var batch: Int?
    var threads: [Int]
    var passes: [Pass]
    var layerFilter: [String]
    var minimumRepetitions: Int
    var fixedRepetitions: Int?
    var samples: Int
    /// `--layout`: the layouts each layer runs in.
    var layouts: [BenchLayout] = [.nchw]
    /// `--numerics`: the engines' numerics mode.
    var numerics: String = ConvNumerics.default.rawValue
}

enum Pass: String, Codable, CaseIterable, Sendable {
    case forward, backward
    var short: String { self == .forward ? "fwd" : "bwd" }
}

struct LayerInfo: Codable {
    var name: String
    var source: BenchLayer.Source
    /// PyTorch's name of the operation: `conv2d`, or a family row's `conv_transpose2d`, `conv1d`, `conv3d`, ….
    var operation: String = "conv2d"
    /// A 2-D convolution's geometry (nil for a family row).
    var geometry: GeometryInfo?
    /// A family row's geometry, per spatial axis (nil for a 2-D convolution).
    var family: FamilyGeometryInfo? = nil
    var forwardFLOPs: Int
    var backwardFLOPs: Int
    /// ``ReferenceConvolution`` on the first image, per pass (`"forward"`, `"backward"`), or nil if skipped.
    var referenceOneImage: [String: ReferenceTiming]?
    /// The tensors' layout: `nchw`, or `nhwc` (channels-last activations, K×R×S×C/G filters; the layer is named
    /// `<layer>/nhwc`). The geometry above is the same for both.
    var layout: BenchLayout = .nchw
}

/// The geometry's fields, spelled out (PyTorch's `compare.py` builds its tensors from these).
struct GeometryInfo: Codable {
    var batch, inputChannels, inputHeight, inputWidth, outputChannels, kernelHeight, kernelWidth: Int
    var strideHeight, strideWidth, dilationHeight, dilationWidth, groups: Int
    var padding: PaddingInfo
    var outputHeight, outputWidth: Int

    struct PaddingInfo: Codable { var top, bottom, left, right: Int }

    init(_ g: ConvGeometry) {
        batch = g.batch; inputChannels = g.inputChannels; inputHeight = g.inputHeight; inputWidth = g.inputWidth
        outputChannels = g.outputChannels; kernelHeight = g.kernelHeight; kernelWidth = g.kernelWidth
        strideHeight = g.strideHeight; strideWidth = g.strideWidth
        dilationHeight = g.dilationHeight; dilationWidth = g.dilationWidth; groups = g.groups
        padding = PaddingInfo(top: g.padding.top, bottom: g.padding.bottom, left: g.padding.left, right: g.padding.right)
        outputHeight = g.outputHeight; outputWidth = g.outputWidth
    }
}

/// Timed runs of one thing, in milliseconds.
struct TimingInfo: Codable {
    var medianMs: Double
    var minMs: Double
    var samplesMs: [Double]

    init(_ s: Samples) { medianMs = s.median; minMs = s.minimum; samplesMs = s.milliseconds }
}

/// One table row: a layer, a pass and a thread count.
struct ResultRow: Codable {
    var layer: String
    var pass: Pass
    var threads: Int
    /// `engine.plan(for:)`, e.g. `im2col+col2im×2`.
    var plan: String
    var warmups: Int
    var engine: TimingInfo
    /// Nominal GFLOP/s of the median (FLOPs as in MATH.md; padding taps count).
    var gflops: Double
    /// `gflops` over the 2048³ GEMM rate at the same thread count (nominal: may exceed 1).
    var gemmShare: Double
    var ceiling: CeilingInfo
    /// The headline: engine median / ceiling median.
    var ceilingRatio: Double
    var verification: VerificationInfo
    var workspaceBytes: WorkspaceInfo
    var reference: ReferenceInfo?
    /// Multi-thread rows: the one-worker engine, run right before the timed engine in every repetition.
    var oneWorker: TimingInfo?
    /// Multi-thread rows: `oneWorker` median over `engine` median, the speed-up over one worker.
    var speedup: Double?
    /// Forward rows: the same engine with a filter prepared once (``PreparedFilter``), timed right after the
    /// engine in every repetition; nil for backward rows.
    var prepared: TimingInfo? = nil
    /// The tensors' layout (``LayerInfo/layout``).
    var layout: BenchLayout = .nchw
    /// NHWC rows: the engine's median over that of the same layer's NCHW row (same pass and threads), when the run
    /// has it; the issue's target is at most 1.15 (1.0 for a 1×1 layer).
    var nchwRatio: Double? = nil
}

struct CeilingInfo: Codable {
    /// The faster policy's median and minimum.
    var medianMs: Double
    var minMs: Double
    /// The faster policy: `serial` (BLAS-threaded GEMMs one after another) or `images` (images over workers, BLAS 1 thread).
    var policy: String
    var policies: [PolicyTiming]

    struct PolicyTiming: Codable {
        var policy: String
        var blasThreads: Int
        var workers: Int
        var timing: TimingInfo
    }
}

struct VerificationInfo: Codable {
    /// The timed run's own outputs, in the run's precision.
    var timedRun: [FieldCheck]
    /// The same plan run once in Double on the same inputs (absent when the run already is Double).
    var doubleRun: [FieldCheck]?
    /// The largest fraction of the bound over both.
    var worstFraction: Double
    var passed: Bool
}

struct WorkspaceInfo: Codable {
    var batch: Int
    var bytes: Int
    var doubleBatch: Int
    var bytesAtDoubleBatch: Int
}

struct ReferenceInfo: Codable {
    /// Engine median on the first image alone (batch 1), ms.
    var engineOneImageMs: Double
    /// ``ReferenceConvolution`` on the same image, ms (scaled by K/K' when run on K' < K filters).
    var referenceOneImageMs: Double
    /// K': the filters the reference ran.
    var referenceOutputChannels: Int
    var speedup: Double
}

struct Summary: Codable {
    var rows: Int
    var failures: Int
    /// Geometric mean of the engine / ceiling ratio over the NCHW rows, keyed `"forward@1"`, `"backward@2"`, ….
    var geomeanCeilingRatio: [String: Double]
    /// The same over the convolution family's NCHW rows alone (transposed, 1-D, 3-D), when the run has any.
    var familyGeomeanCeilingRatio: [String: Double] = [:]
    /// The same over the NHWC rows (the family's included), when the run has any.
    var nhwcGeomeanCeilingRatio: [String: Double] = [:]
    /// The NHWC rows against the NCHW rows of the same layers, when the run has both.
    var layouts: LayoutComparison? = nil
    var totalSeconds: Double
    /// The three layers whose worst row has the highest engine / ceiling ratio: `"layer pass threads ratio"`.
    var worstCeilingRatios: [String]
    /// Speed-up over one worker (paired in the same repetitions), keyed `"forward@2"`, …: the lowest, as
    /// `"layer ratio"`, and the rows below 1 (slower than one worker).
    var lowestSpeedups: [String: String] = [:]
    var slowerThanOneWorker: [String] = []
}

// MARK: - Text output

enum TableWriter {
    static func header(machine: MachineInfo, options: OptionsInfo) -> String {
        var s = "ConvEngine throughput benchmark (\(options.quick ? "quick" : "full") suite, \(options.precision))\n"
        s += "CPU: \(machine.cpu), \(machine.processors) logical processors\(machine.avx512 ? ", AVX-512" : "")\n"
        s += "BLAS: \(machine.blasConfiguration)\n"
        s += "load average at start: " + machine.loadAverage.map { String(format: "%.2f", $0) }.joined(separator: " ")
        if let one = machine.loadAverage.first, one > 0.5 {
            s += "  (other processes are using the CPU: timings are noisy)"
        }
        s += "\n"
        s += "threads: \(options.threads.map(String.init).joined(separator: ", "))"
            + "  (1 thread: 1 worker, BLAS 1 thread; N threads: N workers, BLAS 1 thread)\n"
        s += "generator seed: \(options.seed) (\(options.generatedCount) generated geometries; --seed to change)\n"
        if options.layouts != [.nchw] {
            s += "layouts: " + options.layouts.map { $0.rawValue.uppercased() }.joined(separator: ", ")
                + (options.layouts.contains(.nhwc) ? "  (NHWC: the row <layer>/nhwc, channels-last activations, K×R×S×C/G filters)" : "")
                + "\n"
        }
        if let b = options.batch { s += "batch override: \(b)\n" }
        return s
    }

    /// One line per layer: its name and one-line description.
    static func legend(_ layers: [(name: String, description: String)]) -> String {
        let width = layers.map(\.name.count).max() ?? 0
        return layers.map { "  " + pad($0.name, width) + "  " + $0.description }.joined(separator: "\n") + "\n"
    }

    static func gemmRates(_ rates: [GEMMRate], precision: Precision) -> String {
        let name = precision == .float ? "sgemm" : "dgemm"
        return rates.map { "\(name) \($0.size)³ at \($0.threads) thread\($0.threads == 1 ? "" : "s"): "
            + String(format: "%.1f GFLOP/s (%.1f ms)", $0.gflops, $0.medianMs) }.joined(separator: "\n") + "\n"
    }

    static func table(_ rows: [ResultRow], precision: Precision) -> String {
        let lw = max(5, rows.map(\.layer.count).max() ?? 0)
        let pw = max(4, rows.map(\.plan.count).max() ?? 0)
        let timedName = precision == .float ? "f32" : "f64"
        var head = pad("layer", lw) + " pass thr " + pad("plan", pw)
        head += " " + lpad("median", 9) + " " + lpad("min", 9) + " " + lpad("GFLOP/s", 8) + " " + lpad("%gemm", 6)
        head += " " + lpad("ceiling", 9) + " " + pad("policy", 8) + " " + lpad("eng/ceil", 8)
        head += " " + lpad("err/bound \(timedName)", 14) + " " + lpad("f64", 6) + " " + pad("ok", 4)
        head += " " + lpad("ws@N", 8) + " " + lpad("ws@2N", 8) + " " + lpad("ref×", 7) + " " + lpad("×1w", 5)
        head += " " + lpad("prep", 9)
        let layouts = rows.contains { $0.layout != .nchw }
        if layouts { head += " " + lpad("÷nchw", 6) }
        var lines = [head, String(repeating: "-", count: head.count)]
        for r in rows {
            var l = pad(r.layer, lw) + " " + pad(r.pass.short, 4) + " " + lpad("\(r.threads)", 3) + " " + pad(r.plan, pw)
            l += " " + lpad(ms(r.engine.medianMs), 9) + " " + lpad(ms(r.engine.minMs), 9)
            l += " " + lpad(String(format: "%.1f", r.gflops), 8) + " " + lpad(String(format: "%.0f%%", r.gemmShare * 100), 6)
            l += " " + lpad(ms(r.ceiling.medianMs), 9) + " " + pad(r.ceiling.policy, 8)
            l += " " + lpad(String(format: "%.2f", r.ceilingRatio), 8)
            let timed = r.verification.timedRun.map(\.worstFraction).max() ?? 0
            let double = r.verification.doubleRun?.map(\.worstFraction).max()
            l += " " + lpad(fraction(timed), 14) + " " + lpad(double.map(fraction) ?? "-", 6)
            l += " " + pad(r.verification.passed ? "ok" : "FAIL", 4)
            l += " " + lpad(bytes(r.workspaceBytes.bytes), 8) + " " + lpad(bytes(r.workspaceBytes.bytesAtDoubleBatch), 8)
            l += " " + lpad(r.reference.map { String(format: "%.0f", $0.speedup) } ?? "-", 7)
            l += " " + lpad(r.speedup.map { String(format: "%.2f", $0) } ?? "-", 5)
            l += " " + lpad(r.prepared.map { ms($0.medianMs) } ?? "-", 9)
            if layouts { l += " " + lpad(r.nchwRatio.map { String(format: "%.2f", $0) } ?? "-", 6) }
            lines.append(l)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func summary(_ s: Summary) -> String {
        var out = "geometric mean of engine/ceiling:"
        for key in s.geomeanCeilingRatio.keys.sorted(by: summaryOrder) {
            out += "  \(key.replacingOccurrences(of: "@", with: " @")) thr: " + String(format: "%.2f", s.geomeanCeilingRatio[key]!)
        }
        out += "\n"
        for (label, means) in [("family rows only", s.familyGeomeanCeilingRatio), ("NHWC rows", s.nhwcGeomeanCeilingRatio)]
            where !means.isEmpty {
            out += "  \(label):"
            for key in means.keys.sorted(by: summaryOrder) {
                out += "  \(key.replacingOccurrences(of: "@", with: " @")) thr: " + String(format: "%.2f", means[key]!)
            }
            out += "\n"
        }
        if let layouts = s.layouts { out += layouts.text(order: summaryOrder) }
        out += "worst engine/ceiling (three layers): " + s.worstCeilingRatios.joined(separator: ", ") + "\n"
        if !s.lowestSpeedups.isEmpty {
            out += "lowest speed-up over one worker:" + s.lowestSpeedups.keys.sorted(by: summaryOrder).map {
                "  \($0.replacingOccurrences(of: "@", with: " @")) thr: \(s.lowestSpeedups[$0]!)" }.joined() + "\n"
            out += "slower than one worker: " + (s.slowerThanOneWorker.isEmpty ? "none" : s.slowerThanOneWorker.joined(separator: ", ")) + "\n"
        }
        out += s.failures == 0
            ? "verification: all \(s.rows) rows within MATH.md's bound\n"
            : "verification: \(s.failures) of \(s.rows) rows FAIL (error above MATH.md's bound)\n"
        out += String(format: "total time: %.1f s\n", s.totalSeconds)
        return out
    }

    static let notes = """
        median/min: ms per call over the timed runs. GFLOP/s and %gemm are nominal (padding taps count; %gemm
        is the share of the square GEMM's rate above, at the same thread count). ceiling: the canonical
        lowering's GEMMs alone; policy: serial = one thread, blas×N = BLAS-threaded GEMMs one after another,
        images×N = images over N workers with BLAS at 1 thread (the faster is shown). eng/ceil: engine median
        over ceiling median. err/bound: the worst sampled element's error as a fraction of MATH.md's bound,
        in the timed run and (f64) in the same plan run once in Double; FAIL above 1. ws@N, ws@2N: workspace
        bytes at the batch and at twice it. ref×: speedup over ReferenceConvolution on one image. ×1w (rows
        above one thread): the one-worker engine's median over this row's, both timed in the same repetitions.
        prep (forward rows): the median with the filter prepared once (PreparedFilter: Winograd's U or the
        repacked filter made before the calls), timed right after the engine in the same repetitions.

        """

    /// What the table's NHWC rows are (printed after ``notes`` when the run has any).
    static let layoutNotes = """
        <layer>/nhwc: the same layer and data in NHWC (channels-last activations, K×R×S×C/G filters; NLC and NDHWC
        for 1-D and 3-D); its plan says when it runs through NCHW copies; its ceiling is the same canonical NCHW
        GEMMs. ÷nchw: its median over the NCHW row's (same pass and threads). The engine/ceiling means above are
        over the NCHW rows; the NHWC rows have their own line.

        """

    private static func summaryOrder(_ a: String, _ b: String) -> Bool {
        let pa = a.hasPrefix("forward") ? 0 : 1, pb = b.hasPrefix("forward") ? 0 : 1
        return pa != pb ? pa < pb : a < b
    }

    static func ms(_ v: Double) -> String {
        v >= 100 ? String(format: "%.1f", v) : (v >= 1 ? String(format: "%.2f", v) : String(format: "%.3f", v))
    }

    static func fraction(_ v: Double) -> String {
        if v.isInfinite { return "inf" }
        return v >= 10 ? String(format: "%.0f", v) : (v >= 0.01 ? String(format: "%.3f", v) : String(format: "%.1e", v))
    }

    static func bytes(_ b: Int) -> String {
        let v = Double(b), k = 1024.0
        if v >= k * k * k { return String(format: "%.2fG", v / (k * k * k)) }
        if v >= k * k { return String(format: "%.1fM", v / (k * k)) }
        if v >= k { return String(format: "%.1fK", v / k) }
        return "\(b)B"
    }

    static func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s : s + String(repeating: " ", count: w - s.count) }
    static func lpad(_ s: String, _ w: Int) -> String { s.count >= w ? s : String(repeating: " ", count: w - s.count) + s }
}

enum JSONOutput {
    static func write(_ report: RunReport, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let data = try encoder.encode(report)
        try data.write(to: URL(fileURLWithPath: path))
    }
}

/// Progress lines on stderr (the table goes to stdout).
enum Progress {
    static func say(_ s: String) {
        FileHandle.standardError.write((s + "\n").data(using: .utf8)!)
    }
}
