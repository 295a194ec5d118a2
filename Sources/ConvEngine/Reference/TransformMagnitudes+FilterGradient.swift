// Mag of the filter gradient by transform (``FilterGradientAlgorithm/winograd``), written from the transform
// matrices of Lavin & Gray as the adjoint of the forward pass (not from the engine's code).

extension ReferenceConvolution {
    /// `Mag` per element of the filter gradient of a Winograd F(m×m, 3×3) plan with
    /// ``FilterGradientAlgorithm/winograd``, the scale of the transform bound (<doc:ComparingResults>):
    ///
    ///     Mag[k, c] = |Gᵀ| · ( Σ_tiles (|A|·|dY[k, tile]|·|Aᵀ|) ⊙ (|Bᵀ|·|d[c, tile]|·|B|) ) · |G|
    ///
    /// summed over every tile of every image, with the result cut into m×m tiles from output (0, 0), `dY` the
    /// tile's m×m window of dO (zero past the output's edge) and `d` its (m+2)×(m+2) input window (padding
    /// read as 0). Its `Cs` in ``ErrorBound/transformTermCount(channelsSummed:outputTileSize:)`` is the number
    /// of tiles summed (``ErrorBound/transformTiles(_:outputTileSize:)``). Computed in Double.
    ///
    /// - Parameters:
    ///   - g: a 3×3, stride-1, dilation-1 geometry.
    ///   - tileSize: m, 2 (``ConvAlgorithm/winograd2x2``) or 4 (``ConvAlgorithm/winograd4x4``).
    ///   - input: X, `N×C×H×W` (or `N×H×W×C`: every tensor is in the geometry's layout).
    ///   - outputGradient: dO, `N×K×P×Q` (or `N×P×Q×K`).
    ///   - indices: the elements of dF wanted (flat indices into dF in the filter's layout), or `nil` for all.
    /// - Returns: the magnitudes of `indices`, in their order (all of dF, in its layout, for `nil`).
    /// - Throws: ``ConvError/invalidArgument(name:reason:)`` for another tile size, geometry or an index out of range,
    ///   ``ConvError/bufferLength(name:expected:actual:)``.
    public func winogradFilterGradientMagnitudes<T: ConvScalar>(
        _ g: ConvGeometry, tileSize: Int, input: UnsafeBufferPointer<T>, outputGradient: UnsafeBufferPointer<T>,
        at indices: [Int]? = nil
    ) throws(ConvError) -> [Double] {
        let t = try WinogradMatrices(tileSize: tileSize, geometry: g)
        try checkLength("input", input.count, g.inputCount)
        try checkLength("outputGradient", outputGradient.count, g.outputCount)
        let m = t.m, a = t.alpha, a2 = a * a
        let Cg = g.inputChannelsPerGroup, Kg = g.outputChannelsPerGroup
        let H = g.inputHeight, W = g.inputWidth, P = g.outputHeight, Q = g.outputWidth
        let xs = g.inputStrides, os = g.outputStrides, fs = g.filterStrides
        // |A| (α×m) and |Gᵀ| (3×α): the transposes of |Aᵀ| and |G|.
        let aMatrix = (0..<(a * m)).map { i in t.at[(i % m) * a + i / m] }
        let gt = (0..<(3 * a)).map { i in t.gm[(i % a) * 3 + i / a] }
        let wanted = indices ?? Array(0..<g.filterCount)
        if let bad = wanted.first(where: { $0 < 0 || $0 >= g.filterCount }) {
            throw .invalidArgument(name: "indices", reason: "\(bad) is outside 0..<\(g.filterCount)")
        }
        // Filter (global k, c) of each wanted element, and its tap; each pair, each input channel's V and each
        // output channel's W computed once per tile.
        var byPair: [Int: [(j: Int, tap: Int)]] = [:]
        for (j, i) in wanted.enumerated() {
            let k = i / fs.filter, rest = i % fs.filter
            let c = (rest / fs.channel) % Cg, r = (rest / fs.row) % 3, s = (rest / fs.column) % 3
            byPair[k * Cg + c, default: []].append((j, r * 3 + s))
        }
        let pairs = byPair.keys.sorted()
        // Input channels (grp·Cg + c) and output channels k the pairs need, and each pair's index into both.
        var inputIndex: [Int: Int] = [:], outputIndex: [Int: Int] = [:]
        for pair in pairs {
            let k = pair / Cg, c = pair % Cg
            if inputIndex[(k / Kg) * Cg + c] == nil { inputIndex[(k / Kg) * Cg + c] = inputIndex.count }
            if outputIndex[k] == nil { outputIndex[k] = outputIndex.count }
        }
        let pairSources = pairs.map { pair in (inputIndex[(pair / Cg / Kg) * Cg + pair % Cg]!, outputIndex[pair / Cg]!) }
        // |X| and |dO| converted once (the element conversion is generic here, and each is read many times).
        let absX = (0..<input.count).map { abs(Double(input[$0])) }
        let absDO = (0..<outputGradient.count).map { abs(Double(outputGradient[$0])) }
        var sums = [Double](repeating: 0, count: pairs.count * a2)
        let v = UnsafeMutablePointer<Double>.allocate(capacity: inputIndex.count * a2)
        let w = UnsafeMutablePointer<Double>.allocate(capacity: outputIndex.count * a2)
        let d = UnsafeMutablePointer<Double>.allocate(capacity: 2 * a2)
        defer { v.deallocate(); w.deallocate(); d.deallocate() }
        let scratch = d + a2
        for n in 0..<g.batch {
            for ty in stride(from: 0, to: P, by: m) {
                for tx in stride(from: 0, to: Q, by: m) {
                    for (channel, index) in inputIndex {
                        d.update(repeating: 0, count: a2)
                        for i in 0..<a { for j in 0..<a {
                            let y = ty - g.padding.top + i, x = tx - g.padding.left + j
                            if y >= 0 && y < H && x >= 0 && x < W { d[i * a + j] = absX[xs.offset(n, channel, y, x)] }
                        } }
                        WinogradMatrices.sandwich(t.bt, rows: a, d, n: a, into: v + index * a2, scratch: scratch)
                    }
                    for (k, index) in outputIndex {
                        d.update(repeating: 0, count: m * m)
                        for i in 0..<m where ty + i < P { for j in 0..<m where tx + j < Q {
                            d[i * m + j] = absDO[os.offset(n, k, ty + i, tx + j)]
                        } }
                        WinogradMatrices.sandwich(aMatrix, rows: a, d, n: m, into: w + index * a2, scratch: scratch)
                    }
                    for (p, (ci, ki)) in pairSources.enumerated() {
                        let vc = v + ci * a2, wk = w + ki * a2
                        for e in 0..<a2 { sums[p * a2 + e] += wk[e] * vc[e] }
                    }
                }
            }
        }
        var result = [Double](repeating: 0, count: wanted.count)
        for (p, pair) in pairs.enumerated() {
            let f = WinogradMatrices.sandwich(gt, rows: 3, Array(sums[(p * a2)..<((p + 1) * a2)]), n: a)
            for (j, tap) in byPair[pair]! { result[j] = f[tap] }
        }
        return result
    }

    /// Array form of ``winogradFilterGradientMagnitudes(_:tileSize:input:outputGradient:at:)`` for every element.
    public func winogradFilterGradientMagnitudes<T: ConvScalar>(
        _ g: ConvGeometry, tileSize: Int, input: [T], outputGradient: [T]
    ) throws(ConvError) -> [Double] {
        try input.withUnsafeBufferPointer { x throws(ConvError) in
            try outputGradient.withUnsafeBufferPointer { dO throws(ConvError) in
                try winogradFilterGradientMagnitudes(g, tileSize: tileSize, input: x, outputGradient: dO)
            }
        }
    }
}

extension ErrorBound {
    /// The tiles of the batch, `N·⌈P/m⌉·⌈Q/m⌉`: the `Cs` of the transform bound for the filter gradient by
    /// transform (``FilterGradientAlgorithm/winograd``), which sums every tile of every image.
    public static func transformTiles(_ g: ConvGeometry, outputTileSize m: Int) -> Int {
        g.batch * ((g.outputHeight + m - 1) / m) * ((g.outputWidth + m - 1) / m)
    }

    /// The term counts of `g` computed by `plan`: as ``termCounts(_:algorithm:)`` for its algorithm, with the
    /// transform bound's `Cs + 4α + 8` (`Cs` = ``transformTiles(_:outputTileSize:)``) for the filter gradient
    /// when the plan computes it by ``FilterGradientAlgorithm/winograd``.
    public static func termCounts(_ g: ConvGeometry, plan: ConvPlan) -> TermCounts {
        var t = termCounts(g, algorithm: plan.algorithm)
        if plan.filterGradientAlgorithm == .winograd, let m = plan.algorithm.winogradTileSize {
            t.filterGradient = transformTermCount(channelsSummed: transformTiles(g, outputTileSize: m), outputTileSize: m)
        }
        return t
    }
}
