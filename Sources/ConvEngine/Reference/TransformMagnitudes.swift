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
    ///   - input: X, `N×C×H×W` (`N×H×W×C` in an NHWC geometry: every tensor is in the geometry's layout).
    ///   - filter: F, `K×C/G×3×3` (or `K×3×3×C/G`).
    ///   - bias: B, `K`, or `nil`.
    ///   - indices: the output elements wanted (flat indices into O in the geometry's layout), or `nil` for all
    ///     of them.
    /// - Returns: the magnitudes of `indices`, in their order (all of O, in its layout, for `nil`).
    /// - Throws: ``ConvError/invalidArgument(name:reason:)`` for another tile size, geometry or an index out of
    ///   range, ``ConvError/bufferLength(name:expected:actual:)``.
    public func winogradForwardMagnitudes<T: ConvScalar>(
        _ g: ConvGeometry, tileSize: Int, input: UnsafeBufferPointer<T>, filter: UnsafeBufferPointer<T>,
        bias: UnsafeBufferPointer<T>?, at indices: [Int]? = nil
    ) throws(ConvError) -> [Double] {
        let t = try WinogradMatrices(tileSize: tileSize, geometry: g)
        try checkLength("input", input.count, g.inputCount)
        try checkLength("filter", filter.count, g.filterCount)
        if let bias { try checkLength("bias", bias.count, g.outputChannels) }
        let Kg = g.outputChannelsPerGroup, fs = g.filterStrides
        let c = TransformCorrelation(
            batch: g.batch, groups: g.groups, sourceChannels: g.inputChannelsPerGroup, resultChannels: Kg,
            sourceHeight: g.inputHeight, sourceWidth: g.inputWidth, resultHeight: g.outputHeight,
            resultWidth: g.outputWidth, top: g.padding.top, left: g.padding.left,
            sourceStrides: g.inputStrides, resultStrides: g.outputStrides)
        // Result channel k, source channel ch of group grp: F[grp·Kg + k, ch].
        return try c.magnitudes(t, at: indices, source: { abs(Double(input[$0])) },
                                bias: bias.map { b in { abs(Double(b[$0])) } }) { grp, k, ch, tap in
            abs(Double(filter[fs.offset(grp * Kg + k, ch, tap / 3, tap % 3)]))
        }
    }

    /// `Mag` per element of a Winograd F(m×m, 3×3) input gradient: the same as
    /// ``winogradForwardMagnitudes(_:tileSize:input:filter:bias:at:)`` for the stride-1 full convolution that
    /// gives dX (<doc:TheMathAndTheLowering>): dO padded by `2 − top` rows above (`2 − left` columns to the left;
    /// negative: cropped), the filter rotated by 180° with its K and C/G axes swapped, tiles from dX's (0, 0).
    ///
    /// - Parameters:
    ///   - g: a 3×3, stride-1, dilation-1 geometry.
    ///   - tileSize: m, 2 or 4.
    ///   - filter: F, `K×C/G×3×3` (or `K×3×3×C/G`: every tensor is in the geometry's layout).
    ///   - outputGradient: dO, `N×K×P×Q` (or `N×P×Q×K`).
    ///   - indices: the elements of dX wanted (flat indices into dX in the geometry's layout), or `nil` for all
    ///     of them.
    /// - Returns: the magnitudes of `indices`, in their order (all of dX, in its layout, for `nil`).
    /// - Throws: as ``winogradForwardMagnitudes(_:tileSize:input:filter:bias:at:)``.
    public func winogradInputGradientMagnitudes<T: ConvScalar>(
        _ g: ConvGeometry, tileSize: Int, filter: UnsafeBufferPointer<T>, outputGradient: UnsafeBufferPointer<T>,
        at indices: [Int]? = nil
    ) throws(ConvError) -> [Double] {
        let t = try WinogradMatrices(tileSize: tileSize, geometry: g)
        try checkLength("filter", filter.count, g.filterCount)
        try checkLength("outputGradient", outputGradient.count, g.outputCount)
        let Cg = g.inputChannelsPerGroup, Kg = g.outputChannelsPerGroup, fs = g.filterStrides
        let c = TransformCorrelation(
            batch: g.batch, groups: g.groups, sourceChannels: Kg, resultChannels: Cg,
            sourceHeight: g.outputHeight, sourceWidth: g.outputWidth, resultHeight: g.inputHeight,
            resultWidth: g.inputWidth, top: 2 - g.padding.top, left: 2 - g.padding.left,
            sourceStrides: g.outputStrides, resultStrides: g.inputStrides)
        // Result channel ch, source channel k: F[grp·Kg + k, ch] rotated (tap 3r + s reads 8 − (3r + s)).
        return try c.magnitudes(t, at: indices, source: { abs(Double(outputGradient[$0])) }, bias: nil) { grp, ch, k, tap in
            abs(Double(filter[fs.offset(grp * Kg + k, ch, 2 - tap / 3, 2 - tap % 3)]))
        }
    }

    /// Array form of ``winogradForwardMagnitudes(_:tileSize:input:filter:bias:at:)`` for every output element.
    public func winogradForwardMagnitudes<T: ConvScalar>(
        _ g: ConvGeometry, tileSize: Int, input: [T], filter: [T], bias: [T]? = nil
    ) throws(ConvError) -> [Double] {
        try input.withUnsafeBufferPointer { x throws(ConvError) in
            try filter.withUnsafeBufferPointer { f throws(ConvError) in
                try withOptionalBuffer(bias) { b throws(ConvError) in
                    try winogradForwardMagnitudes(g, tileSize: tileSize, input: x, filter: f, bias: b)
                }
            }
        }
    }

    /// Array form of ``winogradInputGradientMagnitudes(_:tileSize:filter:outputGradient:at:)`` for every element.
    public func winogradInputGradientMagnitudes<T: ConvScalar>(
        _ g: ConvGeometry, tileSize: Int, filter: [T], outputGradient: [T]
    ) throws(ConvError) -> [Double] {
        try filter.withUnsafeBufferPointer { f throws(ConvError) in
            try outputGradient.withUnsafeBufferPointer { dO throws(ConvError) in
                try winogradInputGradientMagnitudes(g, tileSize: tileSize, filter: f, outputGradient: dO)
            }
        }
    }
}

/// |Bᵀ|, |G| and |Aᵀ| of F(m×m, 3×3), row-major (the signs do not matter for Mag, so they are left out).
struct WinogradMatrices {
    let m: Int, alpha: Int
    /// α×α, α×3 and m×α.
    let bt: [Double], gm: [Double], at: [Double]

    init(tileSize m: Int, geometry g: ConvGeometry) throws(ConvError) {
        guard g.kernelHeight == 3, g.kernelWidth == 3, g.strideHeight == 1, g.strideWidth == 1,
              g.dilationHeight == 1, g.dilationWidth == 1 else {
            throw .invalidArgument(name: "geometry", reason: "Winograd needs 3×3, stride 1, dilation 1; got \(g)")
        }
        self.m = m
        alpha = m + 2
        switch m {
        case 2:
            bt = [1, 0, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 0, 1]
            gm = [1, 0, 0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0, 0, 1]
            at = [1, 1, 1, 0, 0, 1, 1, 1]
        case 4:
            bt = [4, 0, 5, 0, 1, 0, 0, 4, 4, 1, 1, 0, 0, 4, 4, 1, 1, 0,
                  0, 2, 1, 2, 1, 0, 0, 2, 1, 2, 1, 0, 0, 4, 0, 5, 0, 1]
            gm = [1.0 / 4, 0, 0, 1.0 / 6, 1.0 / 6, 1.0 / 6, 1.0 / 6, 1.0 / 6, 1.0 / 6,
                  1.0 / 24, 1.0 / 12, 1.0 / 6, 1.0 / 24, 1.0 / 12, 1.0 / 6, 0, 0, 1]
            at = [1, 1, 1, 1, 1, 0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 4, 4, 0, 0, 1, 1, 8, 8, 1]
        default:
            throw .invalidArgument(name: "tileSize", reason: "\(m) is not 2 or 4")
        }
    }

    /// `L · X · Lᵀ` with L `rows × n` and X `n × n`, all row-major: `rows × rows`.
    static func sandwich(_ l: [Double], rows: Int, _ x: [Double], n: Int) -> [Double] {
        var out = [Double](repeating: 0, count: rows * rows)
        var lx = [Double](repeating: 0, count: rows * n)
        x.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { out in
                lx.withUnsafeMutableBufferPointer { lx in
                    // Safe: every count is positive (rows, n ≥ 3).
                    sandwich(l, rows: rows, x.baseAddress!, n: n, into: out.baseAddress!, scratch: lx.baseAddress!)
                }
            }
        }
        return out
    }

    /// The same into `out` (`rows × rows`) with `scratch` (`rows × n`), without allocating (the per-tile loops).
    static func sandwich(_ l: [Double], rows: Int, _ x: UnsafePointer<Double>, n: Int,
                         into out: UnsafeMutablePointer<Double>, scratch lx: UnsafeMutablePointer<Double>) {
        for i in 0..<rows {
            for j in 0..<n {
                var s = 0.0
                for k in 0..<n where l[i * n + k] != 0 { s += l[i * n + k] * x[k * n + j] }
                lx[i * n + j] = s
            }
        }
        for i in 0..<rows {
            for j in 0..<rows {
                var s = 0.0
                for k in 0..<n { s += lx[i * n + k] * l[j * n + k] }
                out[i * rows + j] = s
            }
        }
    }
}

/// A stride-1 3×3 correlation per group, in the terms of the definition: result `(y, x)` reads source
/// `(y − top + r, x − left + s)`, zero outside the source. Source plane `(n·G + grp)·Cs + c`, result plane
/// `(n·G + grp)·Kr + k`.
struct TransformCorrelation {
    let batch: Int, groups: Int, sourceChannels: Int, resultChannels: Int
    let sourceHeight: Int, sourceWidth: Int, resultHeight: Int, resultWidth: Int
    let top: Int, left: Int
    /// Where the source's and the result's elements are (the geometry's layout).
    let sourceStrides: ActivationStrides, resultStrides: ActivationStrides

    /// Image, group, channel in the group, row and column of the result element at flat index `i`, whichever
    /// axis its layout puts last.
    func position(_ i: Int) -> (n: Int, grp: Int, k: Int, y: Int, x: Int) {
        let channels = groups * resultChannels, r = resultStrides
        let n = i / r.image, rest = i % r.image
        let channel = (rest / r.channel) % channels
        let y = (rest / r.row) % resultHeight, x = (rest / r.column) % resultWidth
        return (n, channel / resultChannels, channel % resultChannels, y, x)
    }

    /// Mag of the result elements `indices` (all for `nil`); `source(i)`, `bias(k)` and
    /// `filter(grp, k, c, tap)` return absolute values.
    func magnitudes(_ t: WinogradMatrices, at indices: [Int]?, source: (Int) -> Double, bias: ((Int) -> Double)?,
                    filter: (Int, Int, Int, Int) -> Double) throws(ConvError) -> [Double] {
        let a = t.alpha, a2 = a * a, m = t.m, Cs = sourceChannels, Kr = resultChannels
        let H = sourceHeight, W = sourceWidth, P = resultHeight, Q = resultWidth
        let total = batch * groups * Kr * P * Q
        let wanted = indices ?? Array(0..<total)
        if let bad = wanted.first(where: { $0 < 0 || $0 >= total }) {
            throw .invalidArgument(name: "indices", reason: "\(bad) is outside 0..<\(total)")
        }
        // The wanted elements grouped by (image, group, tile), so each tile's input transforms are computed once.
        let tilesPerRow = (Q + m - 1) / m, tilesPerImage = ((P + m - 1) / m) * tilesPerRow
        var byTile: [Int: [Int]] = [:]
        for (j, i) in wanted.enumerated() {
            let (n, grp, _, y, x) = position(i)
            byTile[((n * groups + grp) * tilesPerImage + (y / m) * tilesPerRow + x / m), default: []].append(j)
        }
        var u: [Int: [Double]] = [:]  // |G|·|f|·|Gᵀ| per (grp, k, c), computed when first needed
        func transformedFilter(_ grp: Int, _ k: Int, _ c: Int) -> [Double] {
            let key = (grp * Kr + k) * Cs + c
            if let cached = u[key] { return cached }
            let value = WinogradMatrices.sandwich(t.gm, rows: a, (0..<9).map { filter(grp, k, c, $0) }, n: 3)
            u[key] = value
            return value
        }
        var result = [Double](repeating: 0, count: wanted.count)
        for (key, members) in byTile {
            let tile = key % tilesPerImage, ng = key / tilesPerImage, grp = ng % groups, n = ng / groups
            let ty = (tile / tilesPerRow) * m, tx = (tile % tilesPerRow) * m
            let v: [[Double]] = (0..<Cs).map { c in
                var d = [Double](repeating: 0, count: a2)
                for i in 0..<a { for j in 0..<a {
                    let y = ty - top + i, x = tx - left + j
                    if y >= 0 && y < H && x >= 0 && x < W { d[i * a + j] = source(sourceStrides.offset(n, grp * Cs + c, y, x)) }
                } }
                return WinogradMatrices.sandwich(t.bt, rows: a, d, n: a)
            }
            var mmByChannel: [Int: [Double]] = [:]
            for j in members {
                let (_, _, k, y, x) = position(wanted[j])
                let mm: [Double]
                if let cached = mmByChannel[k] { mm = cached } else {
                    var sum = [Double](repeating: 0, count: a2)
                    for c in 0..<Cs {
                        let uc = transformedFilter(grp, k, c)
                        for e in 0..<a2 { sum[e] += uc[e] * v[c][e] }
                    }
                    mm = sum
                    mmByChannel[k] = sum
                }
                // Element (y − ty, x − tx) of |Aᵀ|·mm·|A|.
                let ri = y - ty, ci = x - tx
                var value = 0.0
                for xi in 0..<a where t.at[ri * a + xi] != 0 {
                    for nu in 0..<a { value += t.at[ri * a + xi] * mm[xi * a + nu] * t.at[ci * a + nu] }
                }
                result[j] = value + (bias?(grp * Kr + k) ?? 0)
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
    ///   - m: the output tile size (``ConvAlgorithm/winogradTileSize``).
    public static func transformTermCount(channelsSummed: Int, outputTileSize m: Int) -> Int {
        channelsSummed + 4 * (m + 2) + 8
    }

    /// The term counts of `g` computed by `algorithm`: the transform bound's `Cs + 4α + 8` for the forward
    /// pass and the input gradient of a Winograd algorithm (its filter gradient by sum of products and its bias
    /// gradient keep ``termCounts(_:)-(ConvGeometry)``; ``termCounts(_:plan:)`` also covers a filter gradient
    /// by transform), and ``termCounts(_:)-(ConvGeometry)`` for every other algorithm.
    public static func termCounts(_ g: ConvGeometry, algorithm: ConvAlgorithm) -> TermCounts {
        var t = termCounts(g)
        if let m = algorithm.winogradTileSize {
            t.output = transformTermCount(channelsSummed: g.inputChannelsPerGroup, outputTileSize: m)
            t.inputGradient = transformTermCount(channelsSummed: g.outputChannelsPerGroup, outputTileSize: m)
        }
        return t
    }
}
