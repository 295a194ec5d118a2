import ConvEngine

extension ReferenceSamples {
    /// Sampled elements of a family layer's O, dX, dF (the weight gradient) and dB, straight from MATH.md's
    /// definitions in Double (``FamilyDefinitionLoops``), with MATH.md's `L` from ``ErrorBound/termCounts``.
    init(_ layer: FamilyLayer, _ t: FamilyTensors<Double>, count: Int, rng: inout SeededGenerator) {
        let L = layer.geometry.termCounts, shape = layer.geometry.shape
        let loops = FamilyDefinitionLoops(layer, x: t.input.readOnly, f: t.filter.readOnly, b: t.bias.readOnly,
                                          dO: t.outputGradient.readOnly)
        self.init(count: count, fields: [(.output, shape.outputCount, L.output),
                                         (.inputGradient, shape.inputCount, L.inputGradient),
                                         (.filterGradient, shape.filterCount, L.filterGradient),
                                         (.biasGradient, shape.biasCount, L.biasGradient)],
                  rng: &rng, element: { loops.element($0, $1) })
    }
}

/// MATH.md's definitions of the family, one element at a time, in Double, written from the formulas (not from
/// the mapping onto the 2-D engine). Every layer is seen with three spatial axes (depth, height, width): a 1-D or
/// 2-D layer has the missing leading axes of size 1, kernel 1, stride 1, no padding. Every tensor is read and indexed in
/// the row's layout through ``TensorOrder`` (the benchmark's own index arithmetic).
///
/// Convolution: `O[n,k,z] = B[k] + Σ_{c,t} F[k,c,t] · X[n, g(k)·Cg + c, z·s − p + t·d]` per axis.
/// Transposed convolution: `Ot[n,co,y] = Bt[co] + Σ_{ci in g(co), h, t : y = h·s − p + t·d} Xt[n,ci,h] · Wt[ci,co′,t]`
/// with the weight `Cin × Cout/G × taps`. The gradients are the chain rule over the same (element, tap) pairs.
struct FamilyDefinitionLoops: @unchecked Sendable {
    let transposed: Bool
    let batch, inputChannels, outputChannels, groups: Int
    /// Per axis (depth, height, width): X's size, kernel, stride, padding before, dilation, O's size.
    let size, kernel, stride, before, dilation, out: [Int]
    let x, f, b, dO: UnsafeBufferPointer<Double>
    /// Where X (and dX), the weight (and dF), O (and dO) keep element (image or filter, channel, position).
    let xo, fo, oo: TensorOrder

    init(_ layer: FamilyLayer, x: UnsafeBufferPointer<Double>, f: UnsafeBufferPointer<Double>,
         b: UnsafeBufferPointer<Double>, dO: UnsafeBufferPointer<Double>) {
        let s = layer.spec
        func three(_ v: [Int], _ fill: Int) -> [Int] { Array(repeating: fill, count: 3 - v.count) + v }
        transposed = s.operation.isTransposed
        batch = s.batch; inputChannels = s.inputChannels; outputChannels = s.outputChannels; groups = s.groups
        size = three(s.inputSize, 1); kernel = three(s.kernelSize, 1); stride = three(s.stride, 1)
        before = three(s.paddingBefore, 0); dilation = three(s.dilation, 1); out = three(layer.geometry.outputSize, 1)
        self.x = x; self.f = f; self.b = b; self.dO = dO
        (xo, fo, oo) = layer.orders
    }

    /// `(value, Σ|terms|)` of element `i` of `field`.
    func element(_ field: Field, _ i: Int) -> (Double, Double) {
        switch (field, transposed) {
        case (.output, false): return convOutput(i)
        case (.inputGradient, false): return convInputGradient(i)
        case (.filterGradient, false): return convFilterGradient(i)
        case (.output, true): return transposedOutput(i)
        case (.inputGradient, true): return transposedInputGradient(i)
        case (.filterGradient, true): return transposedFilterGradient(i)
        case (.biasGradient, _): return biasGradient(i)
        }
    }

    // MARK: - Indexing

    private var taps: Int { kernel[0] * kernel[1] * kernel[2] }
    private var inputPlane: Int { size[0] * size[1] * size[2] }
    private var outputPlane: Int { out[0] * out[1] * out[2] }

    /// The three spatial coordinates of flat position `j` in a plane of `dims`.
    private func coordinates(_ j: Int, _ dims: [Int]) -> (Int, Int, Int) {
        (j / (dims[1] * dims[2]), (j / dims[2]) % dims[1], j % dims[2])
    }

    /// The flat position of `(a, b, c)` in a plane of `dims`, or nil when outside (the padding).
    private func position(_ a: Int, _ b: Int, _ c: Int, _ dims: [Int]) -> Int? {
        guard a >= 0, a < dims[0], b >= 0, b < dims[1], c >= 0, c < dims[2] else { return nil }
        return (a * dims[1] + b) * dims[2] + c
    }

    /// Where tap `t` of the window at `o` reads, per axis: `o·s − p + t·d`.
    private func reads(_ o: (Int, Int, Int), _ t: (Int, Int, Int)) -> (Int, Int, Int) {
        (o.0 * stride[0] - before[0] + t.0 * dilation[0],
         o.1 * stride[1] - before[1] + t.1 * dilation[1],
         o.2 * stride[2] - before[2] + t.2 * dilation[2])
    }

    /// The window `o` whose tap `t` reads `h` (`h = o·s − p + t·d` on every axis), or nil when there is none.
    private func window(reading h: (Int, Int, Int), tap t: (Int, Int, Int)) -> (Int, Int, Int)? {
        func axis(_ h: Int, _ t: Int, _ a: Int) -> Int? {
            let v = h + before[a] - t * dilation[a]
            guard v >= 0, v % stride[a] == 0, v / stride[a] < out[a] else { return nil }
            return v / stride[a]
        }
        guard let e = axis(h.0, t.0, 0), let p = axis(h.1, t.1, 1), let q = axis(h.2, t.2, 2) else { return nil }
        return (e, p, q)
    }

    // MARK: - Convolution (input N×C×size, filter K×C/G×kernel, output N×K×out)

    private func convOutput(_ i: Int) -> (Double, Double) {
        let (n, k, j) = oo.coordinates(i), o = coordinates(j, out)
        let cg = inputChannels / groups, kg = outputChannels / groups
        var sum = Neumaier(b[k]), magnitude = abs(b[k])
        for c in 0..<cg {
            let channel = (k / kg) * cg + c
            for tap in 0..<taps {
                let t = coordinates(tap, kernel), r = reads(o, t)
                guard let at = position(r.0, r.1, r.2, size) else { continue }  // padding: the term is 0
                let term = f[fo.index(k, c, tap)] * x[xo.index(n, channel, at)]
                sum.add(term)
                magnitude += abs(term)
            }
        }
        return (sum.value, magnitude)
    }

    private func convInputGradient(_ i: Int) -> (Double, Double) {
        let (n, c, j) = xo.coordinates(i), h = coordinates(j, size)
        let cg = inputChannels / groups, kg = outputChannels / groups, group = c / cg
        var sum = Neumaier(0), magnitude = 0.0
        for k in group * kg..<(group + 1) * kg {
            for tap in 0..<taps {
                guard let o = window(reading: h, tap: coordinates(tap, kernel)) else { continue }
                let term = dO[oo.index(n, k, position(o.0, o.1, o.2, out)!)]  // Safe: inside.
                    * f[fo.index(k, c - group * cg, tap)]
                sum.add(term)
                magnitude += abs(term)
            }
        }
        return (sum.value, magnitude)
    }

    private func convFilterGradient(_ i: Int) -> (Double, Double) {
        let cg = inputChannels / groups, kg = outputChannels / groups
        let (k, c, tap) = fo.coordinates(i)
        let t = coordinates(tap, kernel), channel = (k / kg) * cg + c
        var sum = Neumaier(0), magnitude = 0.0
        for n in 0..<batch {
            for j in 0..<outputPlane {
                let r = reads(coordinates(j, out), t)
                guard let at = position(r.0, r.1, r.2, size) else { continue }
                let term = dO[oo.index(n, k, j)] * x[xo.index(n, channel, at)]
                sum.add(term)
                magnitude += abs(term)
            }
        }
        return (sum.value, magnitude)
    }

    // MARK: - Transposed convolution (input N×Cin×size, weight Cin×Cout/G×kernel, output N×Cout×out)

    private func transposedOutput(_ i: Int) -> (Double, Double) {
        let (n, co, j) = oo.coordinates(i), y = coordinates(j, out)
        let cing = inputChannels / groups, coutg = outputChannels / groups, group = co / coutg
        var sum = Neumaier(b[co]), magnitude = abs(b[co])
        for ci in group * cing..<(group + 1) * cing {
            for tap in 0..<taps {
                // The input element h with y = h·s − p + t·d: the same index rule as a convolution's windows.
                guard let h = transposedSource(y, coordinates(tap, kernel)) else { continue }
                let term = x[xo.index(n, ci, h)] * f[fo.index(ci, co - group * coutg, tap)]
                sum.add(term)
                magnitude += abs(term)
            }
        }
        return (sum.value, magnitude)
    }

    /// The flat input position h with `y = h·s − p + t·d` on every axis (inside X), or nil.
    private func transposedSource(_ y: (Int, Int, Int), _ t: (Int, Int, Int)) -> Int? {
        func axis(_ y: Int, _ t: Int, _ a: Int) -> Int? {
            let v = y + before[a] - t * dilation[a]
            guard v >= 0, v % stride[a] == 0, v / stride[a] < size[a] else { return nil }
            return v / stride[a]
        }
        guard let a = axis(y.0, t.0, 0), let b = axis(y.1, t.1, 1), let c = axis(y.2, t.2, 2) else { return nil }
        return position(a, b, c, size)
    }

    private func transposedInputGradient(_ i: Int) -> (Double, Double) {
        let (n, ci, j) = xo.coordinates(i), h = coordinates(j, size)
        let cing = inputChannels / groups, coutg = outputChannels / groups, group = ci / cing
        var sum = Neumaier(0), magnitude = 0.0
        for cop in 0..<coutg {
            let co = group * coutg + cop
            for tap in 0..<taps {
                let y = reads(h, coordinates(tap, kernel))
                guard let at = position(y.0, y.1, y.2, out) else { continue }  // cropped by the padding
                let term = dO[oo.index(n, co, at)] * f[fo.index(ci, cop, tap)]
                sum.add(term)
                magnitude += abs(term)
            }
        }
        return (sum.value, magnitude)
    }

    private func transposedFilterGradient(_ i: Int) -> (Double, Double) {
        let coutg = outputChannels / groups, cing = inputChannels / groups
        let (ci, cop, tap) = fo.coordinates(i)
        let t = coordinates(tap, kernel), co = (ci / cing) * coutg + cop
        var sum = Neumaier(0), magnitude = 0.0
        for n in 0..<batch {
            for j in 0..<inputPlane {
                let y = reads(coordinates(j, size), t)
                guard let at = position(y.0, y.1, y.2, out) else { continue }
                let term = dO[oo.index(n, co, at)] * x[xo.index(n, ci, j)]
                sum.add(term)
                magnitude += abs(term)
            }
        }
        return (sum.value, magnitude)
    }

    // MARK: - Bias gradient (both): dB[k] = Σ_{n, positions} dO[n,k,·]

    private func biasGradient(_ k: Int) -> (Double, Double) {
        var sum = Neumaier(0), magnitude = 0.0
        for n in 0..<batch {
            for j in 0..<outputPlane {
                let v = dO[oo.index(n, k, j)]
                sum.add(v)
                magnitude += abs(v)
            }
        }
        return (sum.value, magnitude)
    }
}
