// The SVG charts of `make bench` (convbench --chart) and `make compare` (convchart): well-formed XML with one
// bar per measured row, a dash for a row without a measurement, and the reference line at 1 in each panel.
import BenchChart
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// What an SVG document contains, as an XML parser sees it.
final class SVGCount: NSObject, XMLParserDelegate {
    var elements: [String: Int] = [:]
    var classes: [String: Int] = [:]
    var texts: [String] = []
    var root: String?
    private var inText = false

    /// Parses `svg`; nil if it is not well-formed XML.
    static func parse(_ svg: String) -> SVGCount? {
        let count = SVGCount()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = count
        return parser.parse() ? count : nil
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String]) {
        if root == nil { root = name }
        elements[name, default: 0] += 1
        if let c = attributes["class"] { classes["\(name).\(c)", default: 0] += 1 }
        if name == "text" { inText = true; texts.append("") }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text" { inText = false }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inText { texts[texts.count - 1] += string }
    }
}

@Suite("benchmark charts")
struct ChartTests {
    @Test("BarChart: one bar per finite point, a dash per other, a reference line per panel, text escaped")
    func barChart() throws {
        var points: [ChartPoint] = []
        for pass in ["forward", "backward"] {
            for layer in ["conv1", "res2 & <3x3>", "gen1"] {
                for threads in [1, 2] {
                    let value = layer == "gen1" && threads == 2 && pass == "backward" ? Double.nan : Double(threads) * 0.7
                    points.append(ChartPoint(panel: pass, group: layer, series: "\(threads) threads", value: value))
                }
            }
        }
        let chart = BarChart(title: "ratio \"per\" layer", subtitle: "test", valueLabel: "a / b",
                             referenceLabel: "1.0 = b", points: points)
        #expect(chart.panels == ["forward", "backward"])
        #expect(chart.groups(in: "forward") == ["conv1", "res2 & <3x3>", "gen1"])
        let svg = try #require(SVGCount.parse(chart.svg()), "not well-formed XML")
        #expect(svg.root == "svg")
        #expect(svg.classes["rect.bar"] == 11)
        #expect(svg.classes["text.missing"] == 1)
        #expect(svg.classes["line.reference"] == 2)
        #expect(svg.classes["g.panel"] == 2)
        #expect(svg.texts.contains("res2 & <3x3>"))
        #expect(svg.texts.contains("ratio \"per\" layer"))
        #expect(svg.texts.contains("1.0 = b"))
    }

    @Test("the value axis reaches past the largest bar and the reference, in steps of 1, 2, 2.5 or 5 × 10ⁿ")
    func axis() throws {
        for top in [0.3, 1.0, 1.08, 2.4, 7.0, 279.0] {
            let chart = BarChart(title: "t", subtitle: "s", valueLabel: "v", referenceLabel: "r",
                                 points: [ChartPoint(panel: "p", group: "g", series: "s", value: top)])
            let svg = try #require(SVGCount.parse(chart.svg()))
            let ticks = svg.texts.compactMap(Double.init).sorted()
            let highest = try #require(ticks.last)
            #expect(highest >= top && highest >= 1, "\(top): ticks \(ticks)")
            #expect(ticks.count <= 7, "\(top): ticks \(ticks)")
        }
    }

    @Test("convbench --chart draws one bar per table row of its JSON")
    func convbenchChart() throws {
        let scratch = try CLIScratch()
        let run = try ConvTool.run(["--quick", "--layer", "mnist,gen1", "--layout", "nchw", "--threads", "1", "--generated", "1",
                                    "--no-reference", "--repetitions", "1", "--samples", "20",
                                    "--json", scratch.path("bench.json"), "--chart", scratch.path("bench.svg")],
                                   tool: "convbench")
        #expect(run.status == 0, "\(run.stderr)")
        struct Report: Decodable { struct Row: Decodable { var layer: String }; var results: [Row] }
        let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: URL(fileURLWithPath: scratch.path("bench.json"))))
        #expect(report.results.count == 4, "mnist and gen1, forward and backward, 1 thread")
        let svg = try #require(SVGCount.parse(try String(contentsOfFile: scratch.path("bench.svg"), encoding: .utf8)))
        #expect(svg.classes["rect.bar"] == report.results.count)
        #expect(svg.classes["line.reference"] == 2)
        #expect(svg.texts.contains("mnist.conv1") && svg.texts.contains("gen1"))
    }

    @Test("convchart draws compare.py's merged rows: a bar per ratio, a dash for a layer PyTorch skipped")
    func compareChart() throws {
        let scratch = try CLIScratch()
        let merged = """
            {"schema": "convbench-compare/1", "torch": "2.13.0+cpu", "date": "2026-12-01T10:00:00Z",
             "machine": "AMD EPYC, 2 logical processors", "merged": [
              {"layer": "conv1", "pass": "forward", "threads": 1, "ratio": 1.4},
              {"layer": "conv1", "pass": "forward", "threads": 2, "ratio": 0.8},
              {"layer": "asym", "pass": "forward", "threads": 1, "ratio": null},
              {"layer": "conv1", "pass": "backward", "threads": 1, "ratio": 0.6}]}
            """
        try merged.write(toFile: scratch.path("compare.json"), atomically: true, encoding: .utf8)
        let run = try ConvTool.run([scratch.path("compare.json"), scratch.path("compare.svg")], tool: "convchart")
        #expect(run.status == 0, "\(run.stderr)")
        let svg = try #require(SVGCount.parse(try String(contentsOfFile: scratch.path("compare.svg"), encoding: .utf8)))
        #expect(svg.classes["rect.bar"] == 3)
        #expect(svg.classes["text.missing"] == 1)
        #expect(svg.classes["line.reference"] == 2)
        #expect(svg.texts.contains("1.0 = PyTorch"))
        #expect(svg.texts.contains { $0.contains("PyTorch 2.13.0+cpu") })

        try #"{"schema": "other"}"#.write(toFile: scratch.path("bad.json"), atomically: true, encoding: .utf8)
        #expect(try ConvTool.run([scratch.path("bad.json"), scratch.path("bad.svg")], tool: "convchart").status != 0)
    }
}
