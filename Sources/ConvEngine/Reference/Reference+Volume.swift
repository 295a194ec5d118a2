// The 3-D convolution in the reference: the four computations written as direct loops from the definitions
// of <doc:ThreeDimensionalConvolution> (the 2-D formulas of <doc:TheMathAndTheLowering> with a depth axis added), with no lowering and
// no BLAS, and Σ|terms| per element for the error bound.

extension ReferenceConvolution {
    /// The 3-D forward pass by direct loops over its definition; the workspace is not used.
    ///
    /// - Parameters: as the engine's 3-D `forward(_:input:filter:bias:output:workspace:)`;
    ///   `output` (N×K×E×P×Q) is overwritten.
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)``, ``ConvError/overlappingBuffers(output:other:)``.
    public func forward<T: ConvScalar>(
        _ geometry: ConvGeometry3D,
        input: UnsafeBufferPointer<T>, filter: UnsafeBufferPointer<T>, bias: UnsafeBufferPointer<T>?,
        output: UnsafeMutableBufferPointer<T>, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try forward(geometry, input: input, filter: filter, bias: bias, output: output, magnitudes: nil)
    }

    /// The 3-D forward pass, and optionally `Σ|terms|` per output element (the products' absolute values plus
    /// `|B|`) into `magnitudes` (`outputCount` elements, overwritten).
    ///
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)``, ``ConvError/overlappingBuffers(output:other:)``.
    public func forward<T: ConvScalar>(
        _ g: ConvGeometry3D,
        input: UnsafeBufferPointer<T>, filter: UnsafeBufferPointer<T>, bias: UnsafeBufferPointer<T>?,
        output: UnsafeMutableBufferPointer<T>, magnitudes: UnsafeMutableBufferPointer<T>?
    ) throws(ConvError) {
        try checkLength("input", input.count, g.inputCount)
        try checkLength("filter", filter.count, g.filterCount)
        if let bias { try checkLength("bias", bias.count, g.biasCount) }
        try checkLength("output", output.count, g.outputCount)
        if let magnitudes { try checkLength("magnitudes", magnitudes.count, g.outputCount) }
        try checkNoOverlap(outputs: [BufferSpan("output", output), BufferSpan("magnitudes", magnitudes)],
                           others: [BufferSpan("input", input), BufferSpan("filter", filter), BufferSpan("bias", bias)])
        switch ScalarKind.of(T.self) {
        case .float:
            VolumeReferenceLoops(g).forward(retype(input, Float.self), retype(filter, Float.self),
                                            retype(bias, Float.self), retype(output, Float.self),
                                            retype(magnitudes, Float.self))
        case .double:
            VolumeReferenceLoops(g).forward(retype(input, Double.self), retype(filter, Double.self),
                                            retype(bias, Double.self), retype(output, Double.self),
                                            retype(magnitudes, Double.self))
        }
    }

    /// The 3-D backward pass by direct loops over the gradients' definitions; the workspace is not used.
    ///
    /// - Parameters: as the engine's 3-D `backward(_:input:filter:outputGradient:inputGradient:filterGradient:biasGradient:workspace:)`;
    ///   every gradient given is overwritten, the filter and bias gradients summed over the batch.
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)``, ``ConvError/missingBuffer(name:)``,
    ///   ``ConvError/overlappingBuffers(output:other:)``.
    public func backward<T: ConvScalar>(
        _ geometry: ConvGeometry3D,
        input: UnsafeBufferPointer<T>?, filter: UnsafeBufferPointer<T>?,
        outputGradient: UnsafeBufferPointer<T>,
        inputGradient: UnsafeMutableBufferPointer<T>?, filterGradient: UnsafeMutableBufferPointer<T>?,
        biasGradient: UnsafeMutableBufferPointer<T>?, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try backward(geometry, input: input, filter: filter, outputGradient: outputGradient,
                     inputGradient: inputGradient, filterGradient: filterGradient, biasGradient: biasGradient,
                     inputGradientMagnitudes: nil, filterGradientMagnitudes: nil, biasGradientMagnitudes: nil)
    }

    /// The 3-D backward pass, and optionally `Σ|terms|` per element of each gradient computed (each magnitude
    /// buffer has its gradient's length and is only written when that gradient is requested).
    ///
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)``, ``ConvError/missingBuffer(name:)``,
    ///   ``ConvError/overlappingBuffers(output:other:)``.
    public func backward<T: ConvScalar>(
        _ g: ConvGeometry3D,
        input: UnsafeBufferPointer<T>?, filter: UnsafeBufferPointer<T>?,
        outputGradient: UnsafeBufferPointer<T>,
        inputGradient: UnsafeMutableBufferPointer<T>?, filterGradient: UnsafeMutableBufferPointer<T>?,
        biasGradient: UnsafeMutableBufferPointer<T>?,
        inputGradientMagnitudes: UnsafeMutableBufferPointer<T>?,
        filterGradientMagnitudes: UnsafeMutableBufferPointer<T>?,
        biasGradientMagnitudes: UnsafeMutableBufferPointer<T>?
    ) throws(ConvError) {
        try checkShapeBackwardBuffers(g, input: input, filter: filter, outputGradient: outputGradient,
                                      inputGradient: inputGradient, filterGradient: filterGradient,
                                      biasGradient: biasGradient)
        if inputGradient != nil, let m = inputGradientMagnitudes {
            try checkLength("inputGradientMagnitudes", m.count, g.inputCount)
        }
        if filterGradient != nil, let m = filterGradientMagnitudes {
            try checkLength("filterGradientMagnitudes", m.count, g.filterCount)
        }
        if biasGradient != nil, let m = biasGradientMagnitudes {
            try checkLength("biasGradientMagnitudes", m.count, g.biasCount)
        }
        try checkNoOverlap(
            outputs: [BufferSpan("inputGradient", inputGradient), BufferSpan("filterGradient", filterGradient),
                      BufferSpan("biasGradient", biasGradient),
                      BufferSpan("inputGradientMagnitudes", inputGradient == nil ? nil : inputGradientMagnitudes),
                      BufferSpan("filterGradientMagnitudes", filterGradient == nil ? nil : filterGradientMagnitudes),
                      BufferSpan("biasGradientMagnitudes", biasGradient == nil ? nil : biasGradientMagnitudes)],
            others: [BufferSpan("input", input), BufferSpan("filter", filter),
                     BufferSpan("outputGradient", outputGradient)])
        switch ScalarKind.of(T.self) {
        case .float:
            VolumeReferenceLoops(g).backward(
                retype(input, Float.self), retype(filter, Float.self), retype(outputGradient, Float.self),
                retype(inputGradient, Float.self), retype(filterGradient, Float.self), retype(biasGradient, Float.self),
                retype(inputGradientMagnitudes, Float.self), retype(filterGradientMagnitudes, Float.self),
                retype(biasGradientMagnitudes, Float.self))
        case .double:
            VolumeReferenceLoops(g).backward(
                retype(input, Double.self), retype(filter, Double.self), retype(outputGradient, Double.self),
                retype(inputGradient, Double.self), retype(filterGradient, Double.self),
                retype(biasGradient, Double.self), retype(inputGradientMagnitudes, Double.self),
                retype(filterGradientMagnitudes, Double.self), retype(biasGradientMagnitudes, Double.self))
        }
    }

    /// Array form of the 3-D forward pass with `Σ|terms|` per output element.
    ///
    /// - Parameters:
    ///   - g: the 3-D convolution.
    ///   - input: X, N×C×D×H×W.
    ///   - filter: F, K×(C/G)×T×R×S.
    ///   - bias: B, K, or `nil`.
    /// - Returns: O (N×K×E×P×Q) and `Σ|terms|` per element of O.
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)``, and
    ///   ``ConvError/invalidArgument(name:reason:)`` when the results would not fit in physical memory.
    public func forwardWithMagnitudes<T: ConvScalar>(
        _ g: ConvGeometry3D, input: [T], filter: [T], bias: [T]? = nil
    ) throws(ConvError) -> (output: [T], magnitudes: [T]) {
        try forwardWithMagnitudesArrays(g, input: input, filter: filter, bias: bias) {
            x, f, b, o, m throws(ConvError) in
            try forward(g, input: x, filter: f, bias: b, output: o, magnitudes: m)
        }
    }

    /// Array form of the 3-D backward pass (all three gradients) with `Σ|terms|` per element of each.
    ///
    /// - Parameters:
    ///   - g: the 3-D convolution.
    ///   - input: X, N×C×D×H×W.
    ///   - filter: F, K×(C/G)×T×R×S.
    ///   - outputGradient: dL/dO, N×K×E×P×Q.
    /// - Returns: dX, dF and dB, and `Σ|terms|` per element of each.
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)``, and
    ///   ``ConvError/invalidArgument(name:reason:)`` when the results would not fit in physical memory.
    public func backwardWithMagnitudes<T: ConvScalar>(
        _ g: ConvGeometry3D, input: [T], filter: [T], outputGradient: [T]
    ) throws(ConvError) -> (gradients: Gradients<T>, magnitudes: Gradients<T>) {
        try backwardWithMagnitudesArrays(g, input: input, filter: filter, outputGradient: outputGradient) {
            x, f, dO, dx, df, db, mx, mf, mb throws(ConvError) in
            try backward(g, input: x, filter: f, outputGradient: dO, inputGradient: dx, filterGradient: df,
                         biasGradient: db, inputGradientMagnitudes: mx, filterGradientMagnitudes: mf,
                         biasGradientMagnitudes: mb)
        }
    }
}

/// The 3-D loops, one function per definition. With `i = e·sd − front + t·dd`, `j = p·sh − top + r·dh`,
/// `l = q·sw − left + s·dw` and X reading 0 outside the volume:
///
///     O[n,k,e,p,q]     = B[k] + Σ_{c,t,r,s} F[k,c,t,r,s] · X[n, g(k)·Cg + c, i, j, l]
///     dF[k,c,t,r,s]    = Σ_{n,e,p,q} dO[n,k,e,p,q] · X[n, g(k)·Cg + c, i, j, l]
///     dB[k]            = Σ_{n,e,p,q} dO[n,k,e,p,q]
///     dX[n,c',z,y,x]   = Σ_{k in g(c')} Σ_{t,r,s} Σ_{(e,p,q): i = z, j = y, l = x} dO[n,k,e,p,q] · F[k, c' − g(c')·Cg, t, r, s]
struct VolumeReferenceLoops {
    let g: ConvGeometry3D
    /// Where X, O (and their gradients) and F elements are in the geometry's layout (<doc:Layouts>).
    let xs: VolumeStrides, os: VolumeStrides, fs: VolumeStrides
    init(_ g: ConvGeometry3D) {
        self.g = g
        xs = g.layout.activations.strides(channels: g.inputChannels, depth: g.inputDepth, height: g.inputHeight,
                                          width: g.inputWidth)
        os = g.layout.activations.strides(channels: g.outputChannels, depth: g.outputDepth, height: g.outputHeight,
                                          width: g.outputWidth)
        fs = g.layout.filter.strides(channels: g.inputChannelsPerGroup, depth: g.kernelDepth, height: g.kernelHeight,
                                     width: g.kernelWidth)
    }

    /// X[n, c, z, y, x], or zero outside the volume (the padding).
    @inline(__always)
    func x<T: ConvScalar>(_ X: UnsafeBufferPointer<T>, _ n: Int, _ c: Int, _ z: Int, _ y: Int, _ x: Int) -> T {
        guard z >= 0, z < g.inputDepth, y >= 0, y < g.inputHeight, x >= 0, x < g.inputWidth else { return 0 }
        return X[xs.offset(n, c, z, y, x)]
    }

    /// The one solution `o` of `o·stride − pad + tap·dilation = index` in `0..<count`, or nil.
    @inline(__always)
    func solve(_ index: Int, pad: Int, tap: Int, dilation: Int, stride: Int, count: Int) -> Int? {
        let v = index + pad - tap * dilation
        guard v >= 0, v % stride == 0, v / stride < count else { return nil }
        return v / stride
    }

    func forward<T: ConvScalar>(_ X: UnsafeBufferPointer<T>, _ F: UnsafeBufferPointer<T>, _ B: UnsafeBufferPointer<T>?,
                                _ O: UnsafeMutableBufferPointer<T>, _ M: UnsafeMutableBufferPointer<T>?) {
        let Cg = g.inputChannelsPerGroup, Kg = g.outputChannelsPerGroup
        let T_ = g.kernelDepth, R = g.kernelHeight, S = g.kernelWidth
        let E = g.outputDepth, P = g.outputHeight, Q = g.outputWidth, pad = g.padding
        for n in 0..<g.batch {
            for k in 0..<g.outputChannels {
                for e in 0..<E {
                    for p in 0..<P {
                        for q in 0..<Q {
                            var sum: T = B?[k] ?? 0
                            var magnitude: T = abs(sum)
                            for c in 0..<Cg {
                                for t in 0..<T_ {
                                    for r in 0..<R {
                                        for s in 0..<S {
                                            let term = F[fs.offset(k, c, t, r, s)]
                                                * x(X, n, (k / Kg) * Cg + c,
                                                    e * g.strideDepth - pad.front + t * g.dilationDepth,
                                                    p * g.strideHeight - pad.top + r * g.dilationHeight,
                                                    q * g.strideWidth - pad.left + s * g.dilationWidth)
                                            sum += term
                                            magnitude += abs(term)
                                        }
                                    }
                                }
                            }
                            let i = os.offset(n, k, e, p, q)
                            O[i] = sum
                            M?[i] = magnitude
                        }
                    }
                }
            }
        }
    }

    func backward<T: ConvScalar>(
        _ X: UnsafeBufferPointer<T>?, _ F: UnsafeBufferPointer<T>?, _ dO: UnsafeBufferPointer<T>,
        _ dX: UnsafeMutableBufferPointer<T>?, _ dF: UnsafeMutableBufferPointer<T>?, _ dB: UnsafeMutableBufferPointer<T>?,
        _ mX: UnsafeMutableBufferPointer<T>?, _ mF: UnsafeMutableBufferPointer<T>?, _ mB: UnsafeMutableBufferPointer<T>?
    ) {
        if let dX, let F { inputGradient(F, dO, dX, mX) }
        if let dF, let X { filterGradient(X, dO, dF, mF) }
        if let dB { biasGradient(dO, dB, mB) }
    }

    func filterGradient<T: ConvScalar>(_ X: UnsafeBufferPointer<T>, _ dO: UnsafeBufferPointer<T>,
                                       _ dF: UnsafeMutableBufferPointer<T>, _ M: UnsafeMutableBufferPointer<T>?) {
        let Cg = g.inputChannelsPerGroup, Kg = g.outputChannelsPerGroup
        let T_ = g.kernelDepth, R = g.kernelHeight, S = g.kernelWidth
        let E = g.outputDepth, P = g.outputHeight, Q = g.outputWidth, pad = g.padding
        for k in 0..<g.outputChannels {
            for c in 0..<Cg {
                for t in 0..<T_ {
                    for r in 0..<R {
                        for s in 0..<S {
                            var sum: T = 0, magnitude: T = 0
                            for n in 0..<g.batch {
                                for e in 0..<E {
                                    for p in 0..<P {
                                        for q in 0..<Q {
                                            let term = dO[os.offset(n, k, e, p, q)]
                                                * x(X, n, (k / Kg) * Cg + c,
                                                    e * g.strideDepth - pad.front + t * g.dilationDepth,
                                                    p * g.strideHeight - pad.top + r * g.dilationHeight,
                                                    q * g.strideWidth - pad.left + s * g.dilationWidth)
                                            sum += term
                                            magnitude += abs(term)
                                        }
                                    }
                                }
                            }
                            let i = fs.offset(k, c, t, r, s)
                            dF[i] = sum
                            M?[i] = magnitude
                        }
                    }
                }
            }
        }
    }

    func biasGradient<T: ConvScalar>(_ dO: UnsafeBufferPointer<T>, _ dB: UnsafeMutableBufferPointer<T>,
                                     _ M: UnsafeMutableBufferPointer<T>?) {
        for k in 0..<g.outputChannels {
            var sum: T = 0, magnitude: T = 0
            for n in 0..<g.batch {
                for e in 0..<g.outputDepth {
                    for p in 0..<g.outputHeight {
                        for q in 0..<g.outputWidth {
                            let term = dO[os.offset(n, k, e, p, q)]
                            sum += term
                            magnitude += abs(term)
                        }
                    }
                }
            }
            dB[k] = sum
            M?[k] = magnitude
        }
    }

    func inputGradient<T: ConvScalar>(_ F: UnsafeBufferPointer<T>, _ dO: UnsafeBufferPointer<T>,
                                      _ dX: UnsafeMutableBufferPointer<T>, _ M: UnsafeMutableBufferPointer<T>?) {
        let Cg = g.inputChannelsPerGroup, Kg = g.outputChannelsPerGroup
        let T_ = g.kernelDepth, R = g.kernelHeight, S = g.kernelWidth
        let E = g.outputDepth, P = g.outputHeight, Q = g.outputWidth, pad = g.padding
        let D = g.inputDepth, H = g.inputHeight, W = g.inputWidth
        for n in 0..<g.batch {
            for c in 0..<g.inputChannels {
                let group = c / Cg
                for z in 0..<D {
                    for y in 0..<H {
                        for xx in 0..<W {
                            var sum: T = 0, magnitude: T = 0
                            for k in group * Kg..<(group + 1) * Kg {
                                for t in 0..<T_ {
                                    guard let e = solve(z, pad: pad.front, tap: t, dilation: g.dilationDepth,
                                                        stride: g.strideDepth, count: E) else { continue }
                                    for r in 0..<R {
                                        guard let p = solve(y, pad: pad.top, tap: r, dilation: g.dilationHeight,
                                                            stride: g.strideHeight, count: P) else { continue }
                                        for s in 0..<S {
                                            guard let q = solve(xx, pad: pad.left, tap: s, dilation: g.dilationWidth,
                                                                stride: g.strideWidth, count: Q) else { continue }
                                            let term = dO[os.offset(n, k, e, p, q)]
                                                * F[fs.offset(k, c - group * Cg, t, r, s)]
                                            sum += term
                                            magnitude += abs(term)
                                        }
                                    }
                                }
                            }
                            let i = xs.offset(n, c, z, y, xx)
                            dX[i] = sum
                            M?[i] = magnitude
                        }
                    }
                }
            }
        }
    }
}
