// Mag, the scale of the transform bound (<doc:ComparingResults>): the Winograd algorithm run on absolute
// values, in Double, written from the transform matrices of Lavin & Gray (not from the engine's code).

extension ReferenceConvolution {
    /// `Mag` per output element of a Winograd F(m×m, 3×3) forward pass, the scale of the transform bound
    /// (<doc:ComparingResults>):
    ///
    ///     Mag[k, tile] = |Aᵀ| · ( Σ_c (|G|·|F[k,c]|·|Gᵀ|) ⊙ (|Bᵀ|·|d[c, tile]|·|B|) ) · |A|  +  |B[k]|
    ///
    /// with the result cut into m×m tiles from output (0, 0) (tiles past P or Q cropped), `d` the tile's
    /// (m+2)×(m+2) input window, padding read as 0. Computed in Double.
    ///
    /// - Parameters:
    ///   - g: a 3×3, stride-1, dilation-1 geometry.
    ///   - tileSize: m, 2 (``ConvAlgorithm/winograd2x2``) or 4 (``ConvAlgorithm/winograd4x4``).
    ///   - input: X, `N×C×H×W`. - filter: F, `K×C/G×3×3`. - bias: B, `K`, or `nil`.
    /// - Returns: `N×K×P×Q` magnitudes.
    /// - Throws: ``ConvError/invalidArgument(name:reason:)`` for another tile size or geometry,
    ///   ``ConvError/bufferLength(name:expected:actual:)``.
    public func winogradForwardMagnitudes<T: ConvScalar>(
        _ g: ConvGeometry, tileSize: Int, input: [T], filter: [T], bias: [T]? = nil
    ) throws(ConvError) -> [Double] {
        let t = try WinogradMatrices(tileSize: tileSize, geometry: g)
        try checkLength("input", input.count, g.inputCount)
        try checkLength("filter", filter.count, g.filterCount)
        if let bias { try checkLength("bias", bias.count, g.outputChannels) }
        let Cg = g.inputChannelsPerGroup, Kg = g.outputChannelsPerGroup
        let c = TransformCorrelation(
            batch: g.batch, groups: g.groups, sourceChannels: Cg, resultChannels: Kg,
            sourceHeight: g.inputHeight, sourceWidth: g.inputWidth, resultHeight: g.outputHeight,
            resultWidth: g.outputWidth, top: g.padding.top, left: g.padding.left)
        // Forward filter of result channel k, source channel c (both within group grp): F[grp·Kg + k, c].
        return c.magnitudes(t, source: input.map { abs(Double($0)) }, bias: bias?.map { abs(Double($0)) }) { grp, k, ch, tap in
            abs(Double(filter[((grp * Kg + k) * Cg + ch) * 9 + tap]))
        }
    }

    /// `Mag` per element of a Winograd F(m×m, 3×3) input gradient: the same as
    /// ``winogradForwardMagnitudes(_:tileSize:input:filter:bias:)`` for the stride-1 full convolution that
    /// gives dX (<doc:TheMathAndTheLowering>): dO padded by `2 − top` rows above (`2 − left` columns to the left;
    /// negative: cropped), the filter rotated by 180° with its K and C/G axes swapped, tiles from dX's (0, 0).
    ///
    /// - Parameters:
    ///   - g: a 3×3, stride-1, dilation-1 geometry.
    ///   - tileSize: m, 2 or 4.
    ///   - filter: F, `K×C/G×3×3`. - outputGradient: dO, `N×K×P×Q`.
    /// - Returns: `N×C×H×W` magnitudes.
    /// - Throws: as ``winogradForwardMagnitudes(_:tileSize:input:filter:bias:)``.
    public func winogradInputGradientMagnitudes<T: ConvScalar>(
        _ g: ConvGeometry, tileSize: Int, filter: [T], outputGradient: [T]
    ) throws(ConvError) -> [Double] {
        let t = try WinogradMatrices(tileSize: tileSize, geometry: g)
        try checkLength("filter", filter.count, g.filterCount)
        try checkLength("outputGradient", outputGradient.count, g.outputCount)
        let Cg = g.inputChannelsPerGroup, Kg = g.outputChannelsPerGroup
        let c = TransformCorrelation(
            batch: g.batch, groups: g.groups, sourceChannels: Kg, resultChannels: Cg,
            sourceHeight: g.outputHeight, sourceWidth: g.outputWidth, resultHeight: g.inputHeight,
            resultWidth: g.inputWidth, top: 2 - g.padding.top, left: 2 - g.padding.left)
        // Result channel c, source channel k: F[grp·Kg + k, c] rotated (tap 3r + s reads 8 − (3r + s)).
        return c.magnitudes(t, source: outputGradient.map { abs(Double($0)) }, bias: nil) { grp, ch, k, tap in
            abs(Double(filter[((grp * Kg + k) * Cg + ch) * 9 + 8 - tap]))
        }
    }
}

/// |Bᵀ|, |G| and |Aᵀ| of F(m×m, 3×3) (the signs do not matter for Mag, so they are left out).
struct WinogradMatrices {
    let m: Int, alpha: Int
    let bt: [[Double]], gm: [[Double]], at: [[Double]]

    init(tileSize m: Int, geometry g: ConvGeometry) throws(ConvError) {
        guard g.kernelHeight == 3, g.kernelWidth == 3, g.strideHeight == 1, g.strideWidth == 1,
              g.dilationHeight == 1, g.dilationWidth == 1 else {
            throw .invalidArgument(name: "geometry", reason: "Winograd needs 3×3, stride 1, dilation 1; got \(g)")
        }
        self.m = m
        alpha = m + 2
        switch m {
        case 2:
            bt = [[1, 0, 1, 0], [0, 1, 1, 0], [0, 1, 1, 0], [0, 1, 0, 1]]
            gm = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0.5], [0, 0, 1]]
            at = [[1, 1, 1, 0], [0, 1, 1, 1]]
        case 4:
            bt = [[4, 0, 5, 0, 1, 0], [0, 4, 4, 1, 1, 0], [0, 4, 4, 1, 1, 0],
                  [0, 2, 1, 2, 1, 0], [0, 2, 1, 2, 1, 0], [0, 4, 0, 5, 0, 1]]
            gm = [[1.0 / 4, 0, 0], [1.0 / 6, 1.0 / 6, 1.0 / 6], [1.0 / 6, 1.0 / 6, 1.0 / 6],
                  [1.0 / 24, 1.0 / 12, 1.0 / 6], [1.0 / 24, 1.0 / 12, 1.0 / 6], [0, 0, 1]]
            at = [[1, 1, 1, 1, 1, 0], [0, 1, 1, 2, 2, 0], [0, 1, 1, 4, 4, 0], [0, 1, 1, 8, 8, 1]]
        default:
            throw .invalidArgument(name: "tileSize", reason: "\(m) is not 2 or 4")
        }
    }

    /// `L · X · Rᵀ` for small dense matrices.
    static func product(_ l: [[Double]], _ x: [[Double]], _ r: [[Double]]) -> [[Double]] {
        let lx = l.map { row in (0..<x[0].count).map { j in row.indices.reduce(0) { $0 + row[$1] * x[$1][j] } } }
        return lx.map { row in r.map { rrow in rrow.indices.reduce(0) { $0 + row[$1] * rrow[$1] } } }
    }
}

/// A stride-1 3×3 correlation per group, in the terms of the definition: result `(y, x)` reads source
/// `(y − top + r, x − left + s)`, zero outside the source.
struct TransformCorrelation {
    let batch: Int, groups: Int, sourceChannels: Int, resultChannels: Int
    let sourceHeight: Int, sourceWidth: Int, resultHeight: Int, resultWidth: Int
    let top: Int, left: Int

    /// Mag of every result element; `source` and `bias` already absolute, `filter(grp, k, c, tap)` absolute.
    func magnitudes(_ t: WinogradMatrices, source: [Double], bias: [Double]?,
                    filter: (Int, Int, Int, Int) -> Double) -> [Double] {
        let a = t.alpha, m = t.m, Cs = sourceChannels, Kr = resultChannels
        let H = sourceHeight, W = sourceWidth, P = resultHeight, Q = resultWidth
        var result = [Double](repeating: 0, count: batch * groups * Kr * P * Q)
        for grp in 0..<groups {
            // |G|·|f|·|Gᵀ| for every filter of the group.
            var u = [[[[Double]]]](repeating: [], count: Kr)
            for k in 0..<Kr {
                u[k] = (0..<Cs).map { c in
                    let f = (0..<3).map { r in (0..<3).map { s in filter(grp, k, c, r * 3 + s) } }
                    return WinogradMatrices.product(t.gm, f, t.gm)
                }
            }
            for n in 0..<batch {
                for ty in stride(from: 0, to: P, by: m) {
                    for tx in stride(from: 0, to: Q, by: m) {
                        let v: [[[Double]]] = (0..<Cs).map { c in
                            let plane = ((n * groups + grp) * Cs + c) * H * W
                            let d = (0..<a).map { i in (0..<a).map { j -> Double in
                                let y = ty - top + i, x = tx - left + j
                                return y >= 0 && y < H && x >= 0 && x < W ? source[plane + y * W + x] : 0
                            } }
                            return WinogradMatrices.product(t.bt, d, t.bt)
                        }
                        for k in 0..<Kr {
                            var mm = [[Double]](repeating: [Double](repeating: 0, count: a), count: a)
                            for c in 0..<Cs {
                                for i in 0..<a { for j in 0..<a { mm[i][j] += u[k][c][i][j] * v[c][i][j] } }
                            }
                            let y = WinogradMatrices.product(t.at, mm, t.at)
                            let b = bias?[grp * Kr + k] ?? 0
                            let plane = ((n * groups + grp) * Kr + k) * P * Q
                            for i in 0..<m where ty + i < P {
                                for j in 0..<m where tx + j < Q { result[plane + (ty + i) * Q + tx + j] = y[i][j] + b }
                            }
                        }
                    }
                }
            }
        }
        return result
    }
}

extension ErrorBound {
    /// The `L` of the transform bound, `Cs + 4α + 8` with α = m + 2 (<doc:ComparingResults>):
    ///
    ///     |engine − exact| ≤ c · (Cs + 4α + 8) · (ε · Mag + η)
    ///
    /// Pass it as `terms` to ``bound(terms:magnitude:scalar:constant:)`` or
    /// ``fraction(value:reference:terms:magnitude:scalar:constant:)`` with `Mag` from
    /// ``ReferenceConvolution/winogradForwardMagnitudes(_:tileSize:input:filter:bias:)`` or
    /// ``ReferenceConvolution/winogradInputGradientMagnitudes(_:tileSize:filter:outputGradient:)``.
    ///
    /// - Parameters:
    ///   - channelsSummed: Cs, the channels summed per element: C/G forward, K/G for the input gradient.
    ///   - outputTileSize: m (``ConvAlgorithm/winogradTileSize``).
    public static func transformTermCount(channelsSummed: Int, outputTileSize m: Int) -> Int {
        channelsSummed + 4 * (m + 2) + 8
    }

    /// The term counts of `g` computed by `algorithm`: the transform bound's `Cs + 4α + 8` for the forward
    /// pass and the input gradient of a Winograd algorithm (its filter and bias gradients sum products, so
    /// they keep ``termCounts(_:)``), and ``termCounts(_:)`` for every other algorithm.
    public static func termCounts(_ g: ConvGeometry, algorithm: ConvAlgorithm) -> TermCounts {
        var t = termCounts(g)
        if let m = algorithm.winogradTileSize {
            t.output = transformTermCount(channelsSummed: g.inputChannelsPerGroup, outputTileSize: m)
            t.inputGradient = transformTermCount(channelsSummed: g.outputChannelsPerGroup, outputTileSize: m)
        }
        return t
    }
}
