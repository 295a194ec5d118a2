import ArgumentParser
import BenchChart
import Foundation

/// `convchart`: `make compare`'s chart, ConvEngine's time over PyTorch's per layer, pass and thread count,
/// from the JSON that `compare.py --out` writes (schema `convbench-compare/1`).
@main
struct ConvChart: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convchart",
        abstract: "Draw make compare's chart (ConvEngine / PyTorch per layer) as SVG from compare.py's JSON.",
        discussion: """
            One panel per pass, a bar per layer and thread count, and the line at 1.0 (as fast as PyTorch; \
            below it ConvEngine is faster). Benchmarks/compare.sh runs it after compare.py.
            """)

    @Argument(help: ArgumentHelp("The merged JSON of compare.py --out.", valueName: "compare.json"))
    var input: String

    @Argument(help: ArgumentHelp("Where to write the SVG (overwritten).", valueName: "chart.svg"))
    var output: String

    /// The parts of compare.py's JSON the chart reads.
    struct Comparison: Decodable {
        struct Row: Decodable {
            var layer: String
            var pass: String
            var threads: Int
            /// ConvEngine's median over PyTorch's; null for a layer PyTorch skipped.
            var ratio: Double?
        }
        var schema: String
        var torch: String
        var date: String?
        var machine: String?
        var merged: [Row]
    }

    func run() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: input))
        let comparison = try JSONDecoder().decode(Comparison.self, from: data)
        guard comparison.schema == "convbench-compare/1" else {
            throw ValidationError("\(input) has schema '\(comparison.schema)', not convbench-compare/1")
        }
        let points = comparison.merged.map { row in
            ChartPoint(panel: row.pass, group: row.layer, series: "\(row.threads) thread\(row.threads == 1 ? "" : "s")",
                       value: row.ratio ?? .nan)
        }
        let chart = BarChart(
            title: "ConvEngine time / PyTorch time, per layer (below 1: ConvEngine faster)",
            subtitle: ["make compare", comparison.date, comparison.machine, "PyTorch \(comparison.torch)",
                       "Float32, median ms per call"].compactMap { $0 }.joined(separator: " · "),
            valueLabel: "ConvEngine / PyTorch", referenceLabel: "1.0 = PyTorch", points: points)
        try chart.svg().write(toFile: output, atomically: true, encoding: .utf8)
        FileHandle.standardError.write(Data("wrote \(output) (\(chart.barCount) bars)\n".utf8))
    }
}
