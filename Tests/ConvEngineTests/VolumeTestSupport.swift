// Helpers of the 3-D convolution tests: random 3-D geometries, the reference's four results with Σ|terms|, one
// forward and backward call through the buffer API, and the element-wise check against MATH.md's bound.
import Testing
import ConvEngine

extension ConvGeometry3D {
    /// Shorthand for tests: per-axis tuples (depth, height, width) and padding (front, back, top, bottom, left, right).
    init(n: Int, c: Int, d: Int, h: Int, w: Int, k: Int, t: Int, r: Int, s: Int, stride: (Int, Int, Int) = (1, 1, 1),
         pad: (Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0), dilation: (Int, Int, Int) = (1, 1, 1),
         groups: Int = 1) throws {
        try self.init(batch: n, inputChannels: c, inputDepth: d, inputHeight: h, inputWidth: w, outputChannels: k,
                      kernelDepth: t, kernelHeight: r, kernelWidth: s, strideDepth: stride.0, strideHeight: stride.1,
                      strideWidth: stride.2,
                      padding: Padding3D(front: pad.0, back: pad.1, top: pad.2, bottom: pad.3, left: pad.4, right: pad.5),
                      dilationDepth: dilation.0, dilationHeight: dilation.1, dilationWidth: dilation.2, groups: groups)
    }

    var inputShape: [Int] { [batch, inputChannels, inputDepth, inputHeight, inputWidth] }
    var filterShape: [Int] { [outputChannels, inputChannelsPerGroup, kernelDepth, kernelHeight, kernelWidth] }
    var outputShape: [Int] { [batch, outputChannels, outputDepth, outputHeight, outputWidth] }
    /// The result shapes in the order of ``ConvResults/named`` (O, dX, dF, dB).
    var resultShapes: [[Int]] { [outputShape, inputShape, filterShape, [outputChannels]] }
    /// L per result in the order of ``ConvResults/named``.
    var termCountsInOrder: [Int] {
        let t = ErrorBound.termCounts(self)
        return [t.output, t.inputGradient, t.filterGradient, t.biasGradient]
    }
}

enum VolumeSweep {
    /// One random draw of a small 3-D geometry (sizes 1–7, kernels 1–3, strides 1–3, dilation 1–3, padding 0–3 per
    /// face, groups and depthwise, batch 1–4); `nil` when the draw is invalid or too large for the debug reference.
    static func drawGeometry(_ rng: inout SeededGenerator) -> ConvGeometry3D? {
        let n = rng.int(1...4)
        var c = rng.int(1...4), groups = 1, k = 1
        switch rng.int(0...9) {
        case 0...4: k = rng.int(1...4)
        case 5...7: groups = c; k = c * rng.pick([1, 1, 2, 3])  // depthwise, channel multiplier 1–3
        default: c = rng.pick([4, 6]); groups = 2; k = 2 * rng.int(1...2)
        }
        func side() -> Int { rng.int(1...7) }
        func kernel() -> Int { rng.pick([1, 2, 3, 3]) }
        func stride() -> Int { rng.chance(0.5) ? 1 : rng.int(2...3) }
        func dilation() -> Int { rng.chance(0.6) ? 1 : rng.int(2...3) }
        func pad() -> Int { rng.chance(0.3) ? 0 : rng.int(0...3) }
        let g = try? ConvGeometry3D(
            batch: n, inputChannels: c, inputDepth: side(), inputHeight: side(), inputWidth: side(),
            outputChannels: k, kernelDepth: kernel(), kernelHeight: kernel(), kernelWidth: kernel(),
            strideDepth: stride(), strideHeight: stride(), strideWidth: stride(),
            padding: Padding3D(front: pad(), back: pad(), top: pad(), bottom: pad(), left: pad(), right: pad()),
            dilationDepth: dilation(), dilationHeight: dilation(), dilationWidth: dilation(), groups: groups)
        guard let g, g.forwardFLOPs <= 120_000, g.inputCount <= 6_000 else { return nil }
        return g
    }

    /// `count` valid draws from `seed`.
    static func geometries(seed: UInt64, count: Int) -> [ConvGeometry3D] {
        var rng = SeededGenerator(seed: seed)
        var result: [ConvGeometry3D] = []
        while result.count < count { if let g = drawGeometry(&rng) { result.append(g) } }
        return result
    }
}

/// The reference's four results on one 3-D problem, in Double, with Σ|terms| per element.
struct VolumeReference {
    var values: ConvResults<Double>
    var magnitudes: ConvResults<Double>

    init(_ g: ConvGeometry3D, input x: [Double], filter f: [Double], bias b: [Double]?, outputGradient dO: [Double]) throws {
        let reference = ReferenceConvolution()
        let (o, mo) = try reference.forwardWithMagnitudes(g, input: x, filter: f, bias: b)
        let (grads, mags) = try reference.backwardWithMagnitudes(g, input: x, filter: f, outputGradient: dO)
        values = ConvResults(output: o, inputGradient: grads.input!, filterGradient: grads.filter!, biasGradient: grads.bias!)
        magnitudes = ConvResults(output: mo, inputGradient: mags.input!, filterGradient: mags.filter!,
                                 biasGradient: mags.bias!)
    }

    /// Checks one run's results (those named in `only`, all four by default) element by element; returns the
    /// worst fraction of the bound.
    @discardableResult
    func check<T: ConvScalar>(_ results: ConvResults<T>, geometry g: ConvGeometry3D, context: String,
                              only: Set<String>? = nil, sourceLocation: SourceLocation = #_sourceLocation) -> Double {
        let terms = g.termCountsInOrder, shapes = g.resultShapes
        let refs = values.named, mags = magnitudes.named
        var worst = 0.0
        for (i, (name, actual)) in results.named.enumerated() where only?.contains(name) ?? true {
            worst = max(worst, checkWithinBound(actual, reference: refs[i].1, magnitudes: mags[i].1, terms: terms[i],
                                                tensor: name, shape: shapes[i], context: context,
                                                sourceLocation: sourceLocation))
        }
        return worst
    }
}

/// Forward with `bias`, then a backward call computing `gradients`, through the buffer API with `workspace`.
/// Every destination starts as NaN, so an element not written cannot pass; results not computed stay empty.
func runVolume<T: ConvScalar>(
    _ backend: ConvolutionEngine, _ g: ConvGeometry3D, x: [T], f: [T], b: [T]?, dO: [T],
    gradients: GradientSet = .all, workspace: ConvWorkspace<T>
) throws -> ConvResults<T> {
    var o = [T](repeating: .nan, count: g.outputCount)
    var dX: [T]? = gradients.contains(.input) ? [T](repeating: .nan, count: g.inputCount) : nil
    var dF: [T]? = gradients.contains(.filter) ? [T](repeating: .nan, count: g.filterCount) : nil
    var dB: [T]? = gradients.contains(.bias) ? [T](repeating: .nan, count: g.outputChannels) : nil
    try x.withUnsafeBufferPointer { xp in
        try f.withUnsafeBufferPointer { fp in
            try dO.withUnsafeBufferPointer { dOp in
                try o.withUnsafeMutableBufferPointer { op in
                    try withOptionalBuffer(b) { bp in
                        try backend.forward(g, input: xp, filter: fp, bias: bp, output: op, workspace: workspace)
                    }
                }
                try withMutableBuffers(&dX, &dF, &dB) { dXp, dFp, dBp in
                    try backend.backward(g, input: gradients.contains(.filter) ? xp : nil,
                                         filter: gradients.contains(.input) ? fp : nil, outputGradient: dOp,
                                         inputGradient: dXp, filterGradient: dFp, biasGradient: dBp,
                                         workspace: workspace)
                }
            }
        }
    }
    return ConvResults(output: o, inputGradient: dX ?? [], filterGradient: dF ?? [], biasGradient: dB ?? [])
}

/// An engine forcing `algorithm` for 3-D calls, after ``pinBLASThreadsOnce()``.
func makeVolumeEngine(workers: Int, algorithm: ConvAlgorithm3D?, workspaceLimit: Int? = nil,
                      tileBudgetBytes: Int = ConvolutionEngine.defaultTileBudgetBytes) throws -> ConvolutionEngine {
    pinBLASThreadsOnce()
    return try ConvolutionEngine(workers: workers, workspaceLimit: workspaceLimit, tileBudgetBytes: tileBudgetBytes,
                                 volumeAlgorithm: algorithm)
}
