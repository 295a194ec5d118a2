// The charts `make bench` and `make compare` write next to their tables: ratios per layer, one panel per
// pass, one bar per thread count, against a reference line at 1. The model is here; BarChart+SVG.swift
// draws it. A library target of its own so that the tests can check what it draws.

/// One bar: the value of one series (a thread count) for one group (a layer) in one panel (a pass).
public struct ChartPoint: Sendable, Equatable {
    /// The panel the bar is drawn in, for example `"forward"`.
    public var panel: String
    /// The group of bars along the panel's axis, for example a layer's name.
    public var group: String
    /// The series, which sets the bar's colour and legend entry, for example `"1 thread"`.
    public var series: String
    /// The bar's height; a non-finite value (a row without a measurement) is drawn as a dash, not a bar.
    public var value: Double

    /// A point with every field given.
    public init(panel: String, group: String, series: String, value: Double) {
        self.panel = panel
        self.group = group
        self.series = series
        self.value = value
    }
}

/// A grouped bar chart of ratios with a reference line, drawn as SVG by ``svg()``.
///
/// Panels, groups and series appear in the order of their first point, so a table's order is kept.
public struct BarChart: Sendable {
    /// The first line of the heading.
    public var title: String
    /// A second, smaller line: what was measured, where and when.
    public var subtitle: String
    /// The vertical axis' title, for example `"engine / ceiling"`.
    public var valueLabel: String
    /// Where the reference line is drawn (1: the two compared times are equal).
    public var reference: Double
    /// What the reference line means, written at its right end, for example `"1.0 = PyTorch"`.
    public var referenceLabel: String
    /// The bars.
    public var points: [ChartPoint]

    /// A chart of `points` with a reference line at `reference` (default 1).
    public init(title: String, subtitle: String, valueLabel: String, reference: Double = 1,
                referenceLabel: String, points: [ChartPoint]) {
        self.title = title
        self.subtitle = subtitle
        self.valueLabel = valueLabel
        self.reference = reference
        self.referenceLabel = referenceLabel
        self.points = points
    }

    /// The panels in order of appearance.
    public var panels: [String] { ordered(points.map(\.panel)) }

    /// The series in order of appearance.
    public var series: [String] { ordered(points.map(\.series)) }

    /// The groups of `panel` in order of appearance.
    public func groups(in panel: String) -> [String] { ordered(points.filter { $0.panel == panel }.map(\.group)) }

    /// The number of bars drawn: one per point with a finite value.
    public var barCount: Int { points.filter { $0.value.isFinite }.count }

    private func ordered(_ names: [String]) -> [String] {
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }
}
