import BenchChart
import Foundation

/// `--chart`: the headline column, engine time over the GEMM ceiling's, as bars per layer (one panel per pass,
/// one bar per thread count), with the line at 1 (as fast as the canonical lowering's GEMMs alone).
enum CeilingChart {
    static func make(_ rows: [ResultRow], machine: MachineInfo, options: OptionsInfo) -> BarChart {
        let points = rows.map { row in
            ChartPoint(panel: row.pass.rawValue, group: row.layer,
                       series: "\(row.threads) thread\(row.threads == 1 ? "" : "s")", value: row.ceilingRatio)
        }
        let date = ISO8601DateFormatter().string(from: Date())
        return BarChart(
            title: "ConvEngine time / GEMM ceiling, per layer (lower is faster)",
            subtitle: "make bench (\(options.quick ? "quick" : "full") suite, \(options.precision)) · \(date) · "
                + "\(machine.cpu), \(machine.processors) logical processors · median ms per call",
            valueLabel: "engine / ceiling", referenceLabel: "1.0 = the GEMMs alone", points: points)
    }
}
