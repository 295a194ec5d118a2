// Drawing a BarChart as a standalone SVG document (attributes in single quotes, which XML allows, so that the
// Swift literals need no escapes): plain rectangles, lines and text, no script and no
// external resources, so that it displays the same in a browser, an image viewer and GitHub's README view.

extension BarChart {
    // Layout, in SVG user units (pixels).
    private static let barWidth = 12.0, barGap = 2.0, groupGap = 16.0
    private static let left = 64.0, right = 150.0, top = 92.0
    private static let plotHeight = 220.0, panelTitle = 26.0, labelSpace = 104.0
    private static let colours = ["#4878a8", "#e0843c", "#5a9e5a", "#b0494d", "#8a6bb3", "#8c6e58"]

    /// The chart as an SVG document: a heading, a legend of the series, and per panel the bars of each group
    /// (a bar per finite value, with the value above it and a tooltip; a dash for a non-finite one), the value
    /// axis from 0 and the dashed reference line.
    public func svg() -> String {
        let series = self.series, panels = self.panels
        let groupWidth = Double(max(1, series.count)) * (Self.barWidth + Self.barGap) - Self.barGap
        let maxGroups = panels.map { groups(in: $0).count }.max() ?? 0
        let plotWidth = max(360, Double(maxGroups) * (groupWidth + Self.groupGap) + Self.groupGap)
        // Wide enough for the heading too (about 0.56 em per character of Helvetica at 17 and 11 px).
        let width = max(Self.left + plotWidth + Self.right, Self.left + Double(title.count) * 9.6 + 16,
                        Self.left + Double(subtitle.count) * 6.2 + 16)
        let panelHeight = Self.panelTitle + Self.plotHeight + Self.labelSpace
        let height = Self.top + Double(panels.count) * panelHeight + 12
        let finite = points.map(\.value).filter(\.isFinite)
        let (axisMax, step) = Self.axis(upTo: max(reference, finite.max() ?? reference) * 1.08)

        var out: [String] = []
        out.append("<?xml version='1.0' encoding='UTF-8'?>")
        out.append("<svg xmlns='http://www.w3.org/2000/svg' width='\(n(width))' height='\(n(height))' "
                   + "viewBox='0 0 \(n(width)) \(n(height))' font-family='Helvetica, Arial, sans-serif'>")
        out.append("<rect x='0' y='0' width='\(n(width))' height='\(n(height))' fill='#ffffff'/>")
        out.append(text(title, x: Self.left, y: 26, size: 17, weight: "bold"))
        out.append(text(subtitle, x: Self.left, y: 46, size: 11, fill: "#555555"))
        // Legend: one swatch per series.
        var legendX = Self.left
        for (i, name) in series.enumerated() {
            out.append("<rect x='\(n(legendX))' y='60' width='12' height='12' fill='\(Self.colour(i))'/>")
            out.append(text(name, x: legendX + 17, y: 70.5, size: 11))
            legendX += 30 + Double(name.count) * 6.5
        }

        for (p, panel) in panels.enumerated() {
            let panelTop = Self.top + Double(p) * panelHeight
            let plotTop = panelTop + Self.panelTitle, plotBottom = plotTop + Self.plotHeight
            func y(_ v: Double) -> Double { plotBottom - v / axisMax * Self.plotHeight }
            out.append("<g class='panel'>")
            out.append(text(panel, x: Self.left, y: panelTop + 16, size: 13, weight: "bold"))
            // Value axis: grid lines and labels at every step, the axis title turned upright.
            var tick = 0.0
            while tick <= axisMax + step / 2 {
                out.append("<line x1='\(n(Self.left))' y1='\(n(y(tick)))' x2='\(n(Self.left + plotWidth))' "
                           + "y2='\(n(y(tick)))' stroke='#e4e4e4' stroke-width='1'/>")
                out.append(text(Self.format(tick), x: Self.left - 6, y: y(tick) + 4, size: 10, anchor: "end"))
                tick += step
            }
            out.append(text(valueLabel, x: 0, y: 0, size: 11, anchor: "middle",
                            transform: "translate(16 \(n((plotTop + plotBottom) / 2))) rotate(-90)"))
            // Bars.
            for (g, group) in groups(in: panel).enumerated() {
                let groupX = Self.left + Self.groupGap + Double(g) * (groupWidth + Self.groupGap)
                for (s, name) in series.enumerated() {
                    guard let point = points.first(where: { $0.panel == panel && $0.group == group && $0.series == name })
                    else { continue }
                    let x = groupX + Double(s) * (Self.barWidth + Self.barGap)
                    guard point.value.isFinite else {
                        out.append(text("–", x: x + Self.barWidth / 2, y: plotBottom - 3, size: 11, anchor: "middle",
                                        fill: "#888888", className: "missing"))
                        continue
                    }
                    let top = y(max(0, point.value))
                    out.append("<rect class='bar' x='\(n(x))' y='\(n(top))' width='\(n(Self.barWidth))' "
                               + "height='\(n(plotBottom - top))' fill='\(Self.colour(s))'>"
                               + "<title>\(escape("\(group) \(panel) \(name): \(Self.format(point.value, digits: 2))"))</title></rect>")
                    out.append(text(Self.format(point.value, digits: 2), x: 0, y: 0, size: 8, fill: "#333333",
                                    transform: "translate(\(n(x + Self.barWidth / 2 + 3)) \(n(top - 3))) rotate(-90)",
                                    className: "value"))
                }
                out.append(text(group, x: 0, y: 0, size: 10, anchor: "end",
                                transform: "translate(\(n(groupX + groupWidth / 2 + 3)) \(n(plotBottom + 10))) rotate(-40)"))
            }
            // The axis line, then the reference line on top of the bars.
            out.append("<line x1='\(n(Self.left))' y1='\(n(plotBottom))' x2='\(n(Self.left + plotWidth))' "
                       + "y2='\(n(plotBottom))' stroke='#444444' stroke-width='1'/>")
            out.append("<line class='reference' x1='\(n(Self.left))' y1='\(n(y(reference)))' "
                       + "x2='\(n(Self.left + plotWidth))' y2='\(n(y(reference)))' stroke='#c0392b' "
                       + "stroke-width='1.5' stroke-dasharray='6 4'/>")
            out.append(text(referenceLabel, x: Self.left + plotWidth + 6, y: y(reference) + 4, size: 11, fill: "#c0392b"))
            out.append("</g>")
        }
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    /// The axis' top and tick step: the smallest of 1, 2, 2.5 or 5 × 10ⁿ steps that makes five or fewer
    /// ticks above 0 reach `value`.
    static func axis(upTo value: Double) -> (top: Double, step: Double) {
        let target = value > 0 && value.isFinite ? value : 1
        var magnitude = 1.0
        while magnitude * 10 <= target / 5 { magnitude *= 10 }
        while magnitude > target / 5 { magnitude /= 10 }
        for factor in [1.0, 2, 2.5, 5, 10] {
            let step = factor * magnitude
            if step * 5 >= target { return ((target / step).rounded(.up) * step, step) }
        }
        return (target, target / 5)
    }

    private static func colour(_ i: Int) -> String { colours[i % colours.count] }

    /// Up to `digits` decimals, trailing zeros dropped (1, 1.5, 0.25).
    private static func format(_ v: Double, digits: Int = 2) -> String {
        var s = String(Int((abs(v) * pow10(digits)).rounded()))
        while s.count <= digits { s = "0" + s }
        var whole = String(s.dropLast(digits)), fraction = String(s.suffix(digits))
        while fraction.hasSuffix("0") { fraction.removeLast() }
        if whole.isEmpty { whole = "0" }
        return (v < 0 ? "-" : "") + whole + (fraction.isEmpty ? "" : "." + fraction)
    }

    private static func pow10(_ k: Int) -> Double { (0..<k).reduce(1) { r, _ in r * 10 } }

    private func text(_ s: String, x: Double, y: Double, size: Double, weight: String? = nil, anchor: String? = nil,
                      fill: String? = nil, transform: String? = nil, className: String? = nil) -> String {
        var attributes = "x='\(n(x))' y='\(n(y))' font-size='\(n(size))'"
        if let weight { attributes += " font-weight='\(weight)'" }
        if let anchor { attributes += " text-anchor='\(anchor)'" }
        if let fill { attributes += " fill='\(fill)'" }
        if let transform { attributes += " transform='\(transform)'" }
        if let className { attributes += " class='\(className)'" }
        return "<text \(attributes)>\(escape(s))</text>"
    }

    /// A coordinate with at most one decimal.
    private func n(_ v: Double) -> String { Self.format(v, digits: 1) }

    /// Text made safe for XML content and attribute values.
    private func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(c)
            }
        }
        return out
    }
}
