import ConvEngine
import Foundation

/// The NHWC rows against the NCHW rows of the same layers (issue 15: a layout a user picks for speed must not cost
/// speed): the engine's NHWC median over its NCHW median per layer, pass and thread count, their geometric mean, and
/// the rows above the issue's targets (1.15, and 1.0 for the 1×1 layers).
struct LayoutComparison: Codable {
    /// Geometric mean of ``ResultRow/nchwRatio``, keyed `"forward@1"`, `"backward@2"`, ….
    var geomeanNHWCOverNCHW: [String: Double]
    /// NHWC rows with an NCHW row to compare with.
    var comparedRows: Int
    /// Those above ``target``: `"layer pass threads ratio"`.
    var aboveTarget: [String]
    /// 1×1 stride-1 unpadded rows compared, and those above 1.0 (the issue's target for them: one GEMM, no copy).
    var pointwiseRows: Int
    var pointwiseAboveNCHW: [String]

    /// The issue's bound on NHWC / NCHW for every row.
    static let target = 1.15

    /// Sets ``ResultRow/nchwRatio`` of every NHWC row whose layer also has an NCHW row at the same pass and threads.
    static func fillRatios(_ rows: inout [ResultRow]) {
        var nchw: [String: Double] = [:]
        for r in rows where r.layout == .nchw { nchw[key(r.layer, r)] = r.engine.medianMs }
        for i in rows.indices where rows[i].layout != .nchw {
            let r = rows[i]
            rows[i].nchwRatio = nchw[key(r.layout.layerName(r.layer), r)].map { r.engine.medianMs / $0 }
        }
    }

    private static func key(_ layer: String, _ r: ResultRow) -> String { "\(layer) \(r.pass.rawValue) \(r.threads)" }

    /// The comparison of `rows` (after ``fillRatios(_:)``), or nil when no NHWC row has an NCHW row beside it;
    /// `pointwise` names the 1×1 layers' NHWC rows.
    init?(_ rows: [ResultRow], passes: [Pass], threads: [Int], pointwise: Set<String>) {
        let compared = rows.filter { $0.nchwRatio != nil }
        guard !compared.isEmpty else { return nil }
        func line(_ r: ResultRow) -> String { String(format: "%@ %@ %dt %.2f", r.layer, r.pass.short, r.threads, r.nchwRatio!) }
        var means: [String: Double] = [:]
        for p in passes {
            for t in threads {
                means["\(p.rawValue)@\(t)"] = geometricMean(compared.filter { $0.pass == p && $0.threads == t }.compactMap(\.nchwRatio))
            }
        }
        geomeanNHWCOverNCHW = means
        comparedRows = compared.count
        aboveTarget = compared.filter { $0.nchwRatio! > Self.target }.map(line)
        let pointwiseRows = compared.filter { pointwise.contains($0.layer) }
        self.pointwiseRows = pointwiseRows.count
        pointwiseAboveNCHW = pointwiseRows.filter { $0.nchwRatio! > 1 }.map(line)
    }

    /// The summary's lines.
    func text(order: (String, String) -> Bool) -> String {
        var out = "NHWC / NCHW (engine medians, same layer, pass and threads):"
        for key in geomeanNHWCOverNCHW.keys.sorted(by: order) {
            out += "  \(key.replacingOccurrences(of: "@", with: " @")) thr: " + String(format: "%.2f", geomeanNHWCOverNCHW[key]!)
        }
        out += "\n"
        func list(_ rows: [String], of total: Int) -> String {
            rows.isEmpty ? "none of \(total)" : "\(rows.count) of \(total): " + rows.joined(separator: ", ")
        }
        out += String(format: "NHWC rows above %.2f × their NCHW row: ", Self.target) + list(aboveTarget, of: comparedRows) + "\n"
        if pointwiseRows > 0 {
            out += "NHWC 1×1 rows above 1.0 × their NCHW row: " + list(pointwiseAboveNCHW, of: pointwiseRows) + "\n"
        }
        return out
    }
}

extension ConvGeometry {
    /// A 1×1 kernel at stride 1 without padding (the layers the issue holds to 1.0 × NCHW in NHWC).
    var isOneByOne: Bool {
        kernelHeight == 1 && kernelWidth == 1 && strideHeight == 1 && strideWidth == 1
            && padding.top == 0 && padding.bottom == 0 && padding.left == 0 && padding.right == 0
    }
}
