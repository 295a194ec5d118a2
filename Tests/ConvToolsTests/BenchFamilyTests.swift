// convbench's rows of the convolution family (transposed, 1-D and 3-D convolutions): run at --quick size, verified,
// written to the JSON with the per-axis geometry compare.py builds PyTorch's tensors from, and drawn in the chart.
import Foundation
import Testing

@Suite("convbench: the convolution family's rows")
struct BenchFamilyTests {
    /// The parts of convbench's JSON these rows add or fill.
    struct Report: Decodable {
        struct Layer: Decodable {
            struct Family: Decodable {
                var operation: String
                var inputSize, kernelSize, stride, paddingBefore, paddingAfter, dilation, outputPadding, outputSize: [Int]
            }
            var name: String
            var source: String
            var operation: String
            var family: Family?
        }
        struct Row: Decodable {
            struct Verification: Decodable { var passed: Bool }
            var layer: String
            var plan: String
            var ceilingRatio: Double
            var verification: Verification
        }
        struct Summary: Decodable { var familyGeomeanCeilingRatio: [String: Double] }
        var layers: [Layer]
        var results: [Row]
        var summary: Summary
    }

    @Test("a transposed, a 1-D and the 3-D row run verified, with their geometry in the JSON and bars in the chart")
    func quickRows() throws {
        let scratch = try CLIScratch()
        let run = try ConvTool.run(["--quick", "--layer", "dcgan.convT2d,audio.conv1d,block.conv3d", "--layout", "nchw", "--threads", "1",
                                    "--generated", "0", "--repetitions", "1", "--samples", "20", "--no-planning",
                                    "--json", scratch.path("bench.json"), "--chart", scratch.path("bench.svg")],
                                   tool: "convbench")
        #expect(run.status == 0, "\(run.stderr)")
        guard run.status == 0 else { return }
        let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: URL(fileURLWithPath: scratch.path("bench.json"))))
        let expected = ["dcgan.convT2d": ("conv_transpose2d", [16, 16]), "audio.conv1d": ("conv1d", [799]),
                        "block.conv3d": ("conv3d", [4, 14, 14])]
        #expect(Set(report.layers.map(\.name)) == Set(expected.keys))
        for layer in report.layers {
            #expect(layer.source == "family" && layer.operation == expected[layer.name]?.0, "\(layer.name)")
            #expect(layer.family?.operation == layer.operation, "\(layer.name)")
            #expect(layer.family?.outputSize == expected[layer.name]?.1, "\(layer.name): \(String(describing: layer.family))")
        }
        #expect(report.results.count == 6, "three rows, forward and backward, one thread")
        for row in report.results {
            #expect(row.verification.passed && row.ceilingRatio > 0, "\(row.layer)")
        }
        #expect(report.results.contains { $0.plan.hasPrefix("transposed → ") }, "\(report.results.map(\.plan))")
        #expect(Set(report.summary.familyGeomeanCeilingRatio.keys) == ["forward@1", "backward@1"])
        let svg = try #require(SVGCount.parse(try String(contentsOfFile: scratch.path("bench.svg"), encoding: .utf8)))
        #expect(svg.classes["rect.bar"] == report.results.count)
    }
}
