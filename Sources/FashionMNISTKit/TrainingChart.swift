import Foundation

/// The training curves as a standalone SVG document: the loss per step (thin) with its moving average
/// (thick) in the left panel, the test accuracy per epoch in the right one. Plain lines, circles and text,
/// no script and no external resources.
public struct TrainingChart: Sendable {
    /// The heading.
    public var title: String
    /// A smaller second line: what was run, where and when.
    public var subtitle: String
    /// Every step's loss, in order.
    public var stepLosses: [Double]
    /// The test accuracy (0…1) after each epoch, in order.
    public var accuracies: [Double]
    /// Steps averaged by the thick loss curve.
    public var window: Int

    /// A chart of the given curves.
    public init(title: String, subtitle: String, stepLosses: [Double], accuracies: [Double], window: Int = 50) {
        self.title = title
        self.subtitle = subtitle
        self.stepLosses = stepLosses
        self.accuracies = accuracies
        self.window = max(1, window)
    }

    /// The moving average of ``stepLosses`` over the last ``window`` steps (fewer at the start).
    public var smoothedLosses: [Double] {
        var out: [Double] = [], sum = 0.0
        for (i, loss) in stepLosses.enumerated() {
            sum += loss
            if i >= window { sum -= stepLosses[i - window] }
            out.append(sum / Double(min(i + 1, window)))
        }
        return out
    }

    private struct Panel {
        var x: Double, y: Double, width: Double, height: Double
        var xMax: Double, yMin: Double, yMax: Double
        func point(_ px: Double, _ py: Double) -> (Double, Double) {
            let fx = xMax > 0 ? px / xMax : 0, fy = yMax > yMin ? (py - yMin) / (yMax - yMin) : 0
            return (x + fx * width, y + height - fy * height)
        }
    }

    private static func number(_ v: Double) -> String { String(format: "%.1f", v) }

    private static func escaped(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "'", with: "&apos;")
    }

    private static func label(_ s: String, _ x: Double, _ y: Double, size: Int = 11, anchor: String = "start",
                              bold: Bool = false) -> String {
        "<text x='\(number(x))' y='\(number(y))' font-size='\(size)' text-anchor='\(anchor)'"
            + (bold ? " font-weight='bold'" : "") + ">\(escaped(s))</text>"
    }

    private static func polyline(_ values: [Double], in panel: Panel, xOffset: Double, colour: String, width: Double,
                                 className: String) -> String {
        let points = values.enumerated().filter { $0.element.isFinite }.map { i, v -> String in
            let (px, py) = panel.point(Double(i) + xOffset, min(max(v, panel.yMin), panel.yMax))
            return "\(number(px)),\(number(py))"
        }
        return "<polyline class='\(className)' fill='none' stroke='\(colour)' stroke-width='\(width)' points='\(points.joined(separator: " "))'/>"
    }

    /// Draws the frame, the horizontal grid with labels and the axis titles of `panel`.
    private static func frame(_ panel: Panel, title: String, xTitle: String, ticks: [Double],
                              format: (Double) -> String) -> [String] {
        var out = [label(title, panel.x, panel.y - 10, size: 13, bold: true)]
        for t in ticks {
            let (_, ty) = panel.point(0, t)
            out.append("<line x1='\(number(panel.x))' y1='\(number(ty))' x2='\(number(panel.x + panel.width))' y2='\(number(ty))' stroke='#e4e4e4'/>")
            out.append(label(format(t), panel.x - 6, ty + 4, size: 10, anchor: "end"))
        }
        out.append("<rect x='\(number(panel.x))' y='\(number(panel.y))' width='\(number(panel.width))' height='\(number(panel.height))' fill='none' stroke='#444444'/>")
        out.append(label(xTitle, panel.x + panel.width / 2, panel.y + panel.height + 30, anchor: "middle"))
        return out
    }

    /// The SVG document.
    public func svg() -> String {
        let width = 900.0, height = 420.0
        let finiteLosses = stepLosses.filter(\.isFinite)
        let lossTop = max(0.5, (finiteLosses.max() ?? 1).rounded(.up))
        let loss = Panel(x: 60, y: 90, width: 480, height: 260, xMax: Double(max(stepLosses.count, 1)), yMin: 0, yMax: lossTop)
        let accuracyBottom = min(0.8, ((accuracies.min() ?? 0.8) * 20).rounded(.down) / 20)
        let accuracy = Panel(x: 620, y: 90, width: 250, height: 260, xMax: Double(max(accuracies.count, 1)),
                             yMin: accuracyBottom, yMax: 1)
        var out = ["<?xml version='1.0' encoding='UTF-8'?>",
                   "<svg xmlns='http://www.w3.org/2000/svg' width='\(Int(width))' height='\(Int(height))' viewBox='0 0 \(Int(width)) \(Int(height))' font-family='Helvetica, Arial, sans-serif'>",
                   "<rect x='0' y='0' width='\(Int(width))' height='\(Int(height))' fill='#ffffff'/>",
                   Self.label(title, 60, 28, size: 17, bold: true),
                   Self.label(subtitle, 60, 48, size: 11)]
        out += Self.frame(loss, title: "training loss (per step; thick: mean of \(window))", xTitle: "step",
                          ticks: stride(from: 0, through: lossTop, by: lossTop / 5).map { $0 },
                          format: { String(format: "%.2f", $0) })
        for k in 0...4 {
            let step = (Double(stepLosses.count) * Double(k) / 4).rounded()
            let (px, py) = loss.point(step, 0)
            out.append(Self.label(String(Int(step)), px, py + 15, size: 10, anchor: "middle"))
        }
        out.append(Self.polyline(stepLosses, in: loss, xOffset: 0, colour: "#a9c4de", width: 0.8, className: "loss"))
        out.append(Self.polyline(smoothedLosses, in: loss, xOffset: 0, colour: "#2f5f8f", width: 2, className: "smoothed-loss"))
        out += Self.frame(accuracy, title: "test accuracy (after each epoch)", xTitle: "epoch",
                          ticks: stride(from: accuracyBottom, through: 1.0001, by: 0.05).map { $0 },
                          format: { String(format: "%.0f%%", $0 * 100) })
        // Epoch e's accuracy is drawn at x = e (from 1).
        out.append(Self.polyline(accuracies, in: accuracy, xOffset: 1, colour: "#d0702c", width: 2, className: "accuracy"))
        for (i, a) in accuracies.enumerated() where a.isFinite {
            let (px, py) = accuracy.point(Double(i + 1), min(max(a, accuracyBottom), 1))
            out.append("<circle class='accuracy-point' cx='\(Self.number(px))' cy='\(Self.number(py))' r='3.5' fill='#d0702c'/>")
            out.append(Self.label(String(format: "%.2f%%", a * 100), px, py - 8, size: 10, anchor: "middle"))
            out.append(Self.label(String(i + 1), px, accuracy.y + accuracy.height + 15, size: 10, anchor: "middle"))
        }
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }
}
