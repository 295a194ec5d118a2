import ConvEngine

/// The rule's choice beside what measured planning (``ConvPlanning``) picks, per layer and thread count: the
/// rule is what every engine does by default, the measured winner what this machine says is fastest.
enum PlanningReport {
    struct Row {
        let layer: String
        let threads: Int
        let mode: ConvPlanning
        let rule: ConvAlgorithm
        let timings: [ConvolutionEngine.MeasuredTiming]
    }

    /// Measures every layer at every thread count in both modes (forward, and a training step).
    static func measure<T: ConvScalar>(_ layers: [BenchLayer], threads: [Int], numerics: ConvNumerics,
                                       scalar: T.Type) throws -> [Row] {
        var rows: [Row] = []
        for layer in layers {
            for t in threads {
                for mode in [ConvPlanning.measureForward, .measureTraining] {
                    Progress.say("planning \(layer.name) \(t)t \(mode.rawValue)")
                    let rule = try ConvolutionEngine(workers: t, numerics: numerics).plan(for: layer.geometry, scalar: T.self)
                    let measured = try ConvolutionEngine(workers: t, numerics: numerics, planning: mode)
                    _ = try measured.plan(for: layer.geometry, scalar: T.self)
                    rows.append(Row(layer: layer.name, threads: t, mode: mode, rule: rule.algorithm,
                                    timings: measured.measuredTimings(for: layer.geometry, scalar: T.self) ?? []))
                }
            }
        }
        return rows
    }

    /// One line per row: the rule's algorithm and its measured time, the winner and its time, and their ratio.
    static func table(_ rows: [Row]) -> String {
        let pad = TableWriter.pad, lpad = TableWriter.lpad
        let lw = max(5, rows.map(\.layer.count).max() ?? 0)
        var lines = ["rule's choice beside measured planning's (fastest of 3 timed calls per candidate; "
                     + "forward = measureForward, training = forward + backward):",
                     pad("layer", lw) + " thr mode     " + pad("rule", 16) + lpad("ms", 9) + "  "
                     + pad("measured winner", 16) + lpad("ms", 9) + lpad("rule/win", 9)]
        for r in rows {
            let ruleMs = r.timings.first { $0.algorithm == r.rule }.map { $0.seconds * 1e3 }
            let win = r.timings.first
            var l = pad(r.layer, lw) + " " + lpad("\(r.threads)", 3) + " "
            l += pad(r.mode == .measureForward ? "forward" : "training", 8) + " " + pad(r.rule.rawValue, 16)
            l += lpad(ruleMs.map(TableWriter.ms) ?? "-", 9) + "  " + pad(win?.algorithm.rawValue ?? "-", 16)
            l += lpad(win.map { TableWriter.ms($0.seconds * 1e3) } ?? "-", 9)
            l += lpad(ruleMs.flatMap { rm in win.map { String(format: "%.2f", rm / ($0.seconds * 1e3)) } } ?? "-", 9)
            lines.append(l)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
