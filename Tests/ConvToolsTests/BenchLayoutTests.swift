// convbench's NHWC rows (--layout, issue 15): every layer also in NHWC, verified in that layout, written to the
// JSON with the layout compare.py reads, paired with its NCHW row (÷nchw and the summary's NHWC / NCHW), and caught
// by the planted faults as the NCHW rows are.
import Foundation
import Testing

@Suite("convbench: NHWC rows (--layout)")
struct BenchLayoutTests {
    /// The parts of convbench's JSON the NHWC rows add or fill.
    struct Report: Decodable {
        struct Options: Decodable { var layouts: [String] }
        struct Layer: Decodable {
            var name: String
            var source: String
            var layout: String
        }
        struct Row: Decodable {
            struct Verification: Decodable { var passed: Bool }
            struct Timing: Decodable { var medianMs: Double }
            var layer: String
            var layout: String
            var pass: String
            var plan: String
            var ceilingRatio: Double
            var verification: Verification
            var nchwRatio: Double?
            var prepared: Timing?
        }
        struct Summary: Decodable {
            struct Layouts: Decodable {
                var comparedRows: Int
                var pointwiseRows: Int
                var geomeanNHWCOverNCHW: [String: Double]
            }
            var geomeanCeilingRatio: [String: Double]
            var nhwcGeomeanCeilingRatio: [String: Double]
            var layouts: Layouts?
        }
        var options: Options
        var layers: [Layer]
        var results: [Row]
        var summary: Summary
    }

    static func run(_ arguments: [String], json: String) throws -> (ConvTool.Run, Report?) {
        let run = try ConvTool.run(["--quick", "--threads", "1", "--generated", "0", "--repetitions", "1",
                                    "--samples", "20", "--no-planning", "--json", json] + arguments, tool: "convbench")
        guard run.status == 0 else { return (run, nil) }
        return (run, try JSONDecoder().decode(Report.self, from: Data(contentsOf: URL(fileURLWithPath: json))))
    }

    @Test("by default every layer runs in NCHW and NHWC, each verified, the NHWC row paired with its NCHW row")
    func bothLayouts() throws {
        let scratch = try CLIScratch()
        let names = ["resnet50.res2.1x1", "mobilenet.dw3x3", "unet.convT2d", "temporal.conv1d", "block.conv3d"]
        let (run, parsed) = try Self.run(["--layer", names.joined(separator: ",")], json: scratch.path("bench.json"))
        #expect(run.status == 0, "\(run.stderr)")
        let report = try #require(parsed)
        #expect(report.options.layouts == ["nchw", "nhwc"])
        #expect(report.layers.map(\.name) == names.flatMap { [$0, "\($0)/nhwc"] })
        for layer in report.layers {
            #expect(layer.layout == (layer.name.hasSuffix("/nhwc") ? "nhwc" : "nchw"), "\(layer.name)")
        }
        #expect(report.results.count == 20, "five layers, two layouts, forward and backward, one thread")
        for row in report.results {
            #expect(row.verification.passed && row.ceilingRatio > 0, "\(row.layer) \(row.pass)")
            #expect(row.layout == (row.layer.hasSuffix("/nhwc") ? "nhwc" : "nchw"), "\(row.layer)")
            if row.layout == "nhwc" {
                #expect((row.nchwRatio ?? 0) > 0, "\(row.layer) \(row.pass): no ratio to its NCHW row")
            } else {
                #expect(row.nchwRatio == nil, "\(row.layer)")
            }
        }
        // The prepared filter is timed on the 2-D forward rows in both layouts.
        for row in report.results where row.pass == "forward" && !row.layer.contains("conv") {
            #expect(row.prepared != nil, "\(row.layer): no prepared-filter time")
        }
        let layouts = try #require(report.summary.layouts)
        #expect(layouts.comparedRows == 10 && layouts.pointwiseRows == 2, "\(layouts)")
        #expect(Set(layouts.geomeanNHWCOverNCHW.keys) == ["forward@1", "backward@1"])
        #expect(Set(report.summary.nhwcGeomeanCeilingRatio.keys) == ["forward@1", "backward@1"])
        #expect(Set(report.summary.geomeanCeilingRatio.keys) == ["forward@1", "backward@1"])
        for phrase in ["÷nchw", "resnet50.res2.1x1/nhwc", "NHWC / NCHW", "NHWC rows above 1.15", "NHWC 1×1 rows"] {
            #expect(run.stdout.contains(phrase), "the table lacks \(phrase)")
        }
    }

    @Test("--layout nchw runs the NCHW rows alone, nhwc the NHWC rows alone; anything else is a usage error")
    func layoutOption() throws {
        let scratch = try CLIScratch()
        let (nchw, nchwReport) = try Self.run(["--layer", "mnist", "--layout", "nchw", "--no-reference"],
                                             json: scratch.path("nchw.json"))
        #expect(nchw.status == 0, "\(nchw.stderr)")
        #expect(nchwReport?.results.allSatisfy { $0.layout == "nchw" && $0.layer == "mnist.conv1" } == true)
        #expect(!nchw.stdout.contains("÷nchw") && nchwReport?.summary.layouts == nil)
        let (nhwc, nhwcReport) = try Self.run(["--layer", "mnist", "--layout", "nhwc", "--no-reference"],
                                             json: scratch.path("nhwc.json"))
        #expect(nhwc.status == 0, "\(nhwc.stderr)")
        #expect(nhwcReport?.results.allSatisfy { $0.layout == "nhwc" && $0.layer == "mnist.conv1/nhwc" } == true)
        #expect(nhwcReport?.summary.layouts == nil, "nothing to pair with")
        let bad = try ConvTool.run(["--quick", "--layout", "nchw,chwn"], tool: "convbench")
        #expect(bad.status == 64 && bad.stderr.contains("--layout"), "\(bad.status): \(bad.stderr)")
    }

    @Test("planted faults fail the NHWC rows", arguments: [("missed-row", "forward"), ("dropped-image", "backward")])
    func faults(_ fault: String, _ pass: String) throws {
        let run = try ConvTool.run(["--quick", "--layer", "mnist", "--layout", "nhwc", "--threads", "1", "--generated", "0",
                                    "--repetitions", "1", "--samples", "20", "--no-planning", "--no-reference",
                                    "--pass", pass, "--inject-fault", fault], tool: "convbench")
        #expect(run.status == 1, "\(fault): exit \(run.status), \(run.stderr)")
        #expect(run.stdout.contains("FAIL"), "\(fault): \(run.stdout)")
    }
}
