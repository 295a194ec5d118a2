import Testing
@testable import FashionMNISTKit

@Suite("Training chart")
struct TrainingChartTests {
    @Test("the moving average is the mean of the last window steps")
    func smoothing() {
        let chart = TrainingChart(title: "t", subtitle: "s", stepLosses: [4, 2, 6, 0], accuracies: [], window: 2)
        #expect(chart.smoothedLosses == [4, 3, 4, 3])
    }

    @Test("the SVG has both curves, one point per epoch and escaped text")
    func svg() {
        let chart = TrainingChart(title: "a < b & c", subtitle: "s", stepLosses: [2.3, 1.0, 0.5],
                                  accuracies: [0.85, 0.88, 0.9])
        let svg = chart.svg()
        #expect(svg.hasPrefix("<?xml"))
        #expect(svg.contains("a &lt; b &amp; c"))
        #expect(svg.components(separatedBy: "class='loss'").count == 2)
        #expect(svg.components(separatedBy: "class='smoothed-loss'").count == 2)
        #expect(svg.components(separatedBy: "class='accuracy-point'").count == 4)
        #expect(svg.contains("90.00%"))
        #expect(svg.hasSuffix("</svg>\n"))
    }
}
