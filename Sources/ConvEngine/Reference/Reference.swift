/// The direct-loop oracle: the four computations written straight from the definitions in
/// <doc:TheMathAndTheLowering>, with no im2col and no BLAS. Slow (use it on small problems or a few sampled elements), obviously correct, and
/// with the same calling convention as ``ConvolutionEngine`` so the two can be swapped.
///
/// It follows the same non-finite rule as the engine: padding taps read as zero and are multiplied, so an
/// infinite filter value gives NaN at outputs whose window covers padding.
///
/// Each computation can also return, per element, `Σ|terms|`, the sum of the absolute values of the
/// products it adds (plus `|B|` for the forward pass): the scale of the error bound (see ``ErrorBound`` and <doc:ComparingResults>).
public struct ReferenceConvolution: ConvolutionBackend, Sendable {
    /// Told `(computation, done, total)` as the loops advance; nil for the public reference.
    let progress: ReferenceProgress?

    /// The reference. It holds no mutable state: one value can serve any number of threads.
    public init() { progress = nil }

    /// A reference that calls `progress(computation, done, total)` as its loops advance: after each output
    /// plane (one image and output channel) with `"O"`, each plane of one image and input channel with
    /// `"dX"`, each input channel of one filter with `"dF"`, and each output channel with `"dB"`, on the
    /// calling thread. For tools that run it where it takes minutes (`conv check`); not a stable API.
    @_spi(Tools)
    public init(progress: @escaping ReferenceProgress) { self.progress = progress }

    /// The forward pass by direct loops over its definition; the workspace is not used.
    ///
    /// The buffers are those of ``ConvolutionBackend/forward(_:input:filter:bias:output:workspace:)``;
    /// `output` is overwritten.
    ///
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)``, ``ConvError/overlappingBuffers(output:other:)``.
    public func forward<T: ConvScalar>(
        _ geometry: ConvGeometry,
        input: UnsafeBufferPointer<T>, filter: UnsafeBufferPointer<T>, bias: UnsafeBufferPointer<T>?,
        output: UnsafeMutableBufferPointer<T>, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try forward(geometry, input: input, filter: filter, bias: bias, output: output, magnitudes: nil)
    }

    /// The forward pass, and optionally `Σ|terms|` per output element into `magnitudes` (`outputCount` elements).
    public func forward<T: ConvScalar>(
        _ g: ConvGeometry,
        input: UnsafeBufferPointer<T>, filter: UnsafeBufferPointer<T>, bias: UnsafeBufferPointer<T>?,
        output: UnsafeMutableBufferPointer<T>, magnitudes: UnsafeMutableBufferPointer<T>?
    ) throws(ConvError) {
        try checkLength("input", input.count, g.inputCount)
        try checkLength("filter", filter.count, g.filterCount)
        if let bias { try checkLength("bias", bias.count, g.outputChannels) }
        try checkLength("output", output.count, g.outputCount)
        if let magnitudes { try checkLength("magnitudes", magnitudes.count, g.outputCount) }
        try checkNoOverlap(outputs: [BufferSpan("output", output), BufferSpan("magnitudes", magnitudes)],
                           others: [BufferSpan("input", input), BufferSpan("filter", filter), BufferSpan("bias", bias)])
        switch ScalarKind.of(T.self) {
        case .float:
            ReferenceLoops(g, progress).forward(retype(input, Float.self), retype(filter, Float.self), retype(bias, Float.self),
                                                retype(output, Float.self), retype(magnitudes, Float.self))
        case .double:
            ReferenceLoops(g, progress).forward(retype(input, Double.self), retype(filter, Double.self), retype(bias, Double.self),
                                                retype(output, Double.self), retype(magnitudes, Double.self))
        }
    }

    /// The backward pass by direct loops over the gradients' definitions; the workspace is not used.
    ///
    /// The buffers are those of
    /// ``ConvolutionBackend/backward(_:input:filter:outputGradient:inputGradient:filterGradient:biasGradient:workspace:)``;
    /// every gradient given is overwritten, the filter and bias gradients summed over the batch.
    ///
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)``, ``ConvError/missingBuffer(name:)``,
    ///   ``ConvError/overlappingBuffers(output:other:)``.
    public func backward<T: ConvScalar>(
        _ geometry: ConvGeometry,
        input: UnsafeBufferPointer<T>?, filter: UnsafeBufferPointer<T>?,
        outputGradient: UnsafeBufferPointer<T>,
        inputGradient: UnsafeMutableBufferPointer<T>?, filterGradient: UnsafeMutableBufferPointer<T>?,
        biasGradient: UnsafeMutableBufferPointer<T>?, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try backward(geometry, input: input, filter: filter, outputGradient: outputGradient,
                     inputGradient: inputGradient, filterGradient: filterGradient, biasGradient: biasGradient,
                     inputGradientMagnitudes: nil, filterGradientMagnitudes: nil, biasGradientMagnitudes: nil)
    }

    /// The backward pass, and optionally `Σ|terms|` per element of each gradient computed (each magnitude
    /// buffer has its gradient's length and is only filled when that gradient is requested).
    public func backward<T: ConvScalar>(
        _ g: ConvGeometry,
        input: UnsafeBufferPointer<T>?, filter: UnsafeBufferPointer<T>?,
        outputGradient: UnsafeBufferPointer<T>,
        inputGradient: UnsafeMutableBufferPointer<T>?, filterGradient: UnsafeMutableBufferPointer<T>?,
        biasGradient: UnsafeMutableBufferPointer<T>?,
        inputGradientMagnitudes: UnsafeMutableBufferPointer<T>?,
        filterGradientMagnitudes: UnsafeMutableBufferPointer<T>?,
        biasGradientMagnitudes: UnsafeMutableBufferPointer<T>?
    ) throws(ConvError) {
        try checkLength("outputGradient", outputGradient.count, g.outputCount)
        if let input { try checkLength("input", input.count, g.inputCount) }
        if let filter { try checkLength("filter", filter.count, g.filterCount) }
        if let inputGradient {
            try checkLength("inputGradient", inputGradient.count, g.inputCount)
            guard let filter else { throw ConvError.missingBuffer(name: "filter") }
            try checkLength("filter", filter.count, g.filterCount)
            if let m = inputGradientMagnitudes { try checkLength("inputGradientMagnitudes", m.count, g.inputCount) }
        }
        if let filterGradient {
            try checkLength("filterGradient", filterGradient.count, g.filterCount)
            guard let input else { throw ConvError.missingBuffer(name: "input") }
            try checkLength("input", input.count, g.inputCount)
            if let m = filterGradientMagnitudes { try checkLength("filterGradientMagnitudes", m.count, g.filterCount) }
        }
        if let biasGradient {
            try checkLength("biasGradient", biasGradient.count, g.outputChannels)
            if let m = biasGradientMagnitudes { try checkLength("biasGradientMagnitudes", m.count, g.outputChannels) }
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
            let loops = ReferenceLoops(g, progress)
            let dO = retype(outputGradient, Float.self)
            if let dX = inputGradient, let f = filter {
                loops.inputGradient(retype(f, Float.self), dO, retype(dX, Float.self), retype(inputGradientMagnitudes, Float.self))
            }
            if let dF = filterGradient, let x = input {
                loops.filterGradient(retype(x, Float.self), dO, retype(dF, Float.self), retype(filterGradientMagnitudes, Float.self))
            }
            if let dB = biasGradient {
                loops.biasGradient(dO, retype(dB, Float.self), retype(biasGradientMagnitudes, Float.self))
            }
        case .double:
            let loops = ReferenceLoops(g, progress)
            let dO = retype(outputGradient, Double.self)
            if let dX = inputGradient, let f = filter {
                loops.inputGradient(retype(f, Double.self), dO, retype(dX, Double.self), retype(inputGradientMagnitudes, Double.self))
            }
            if let dF = filterGradient, let x = input {
                loops.filterGradient(retype(x, Double.self), dO, retype(dF, Double.self), retype(filterGradientMagnitudes, Double.self))
            }
            if let dB = biasGradient {
                loops.biasGradient(dO, retype(dB, Double.self), retype(biasGradientMagnitudes, Double.self))
            }
        }
    }

    /// Array form of the forward pass with `Σ|terms|` per output element.
    public func forwardWithMagnitudes<T: ConvScalar>(
        _ g: ConvGeometry, input: [T], filter: [T], bias: [T]? = nil
    ) throws(ConvError) -> (output: [T], magnitudes: [T]) {
        try forwardWithMagnitudesArrays(g, input: input, filter: filter, bias: bias) {
            x, f, b, o, m throws(ConvError) in
            try forward(g, input: x, filter: f, bias: b, output: o, magnitudes: m)
        }
    }

    /// Array form of the backward pass (all three gradients) with `Σ|terms|` per element of each.
    public func backwardWithMagnitudes<T: ConvScalar>(
        _ g: ConvGeometry, input: [T], filter: [T], outputGradient: [T]
    ) throws(ConvError) -> (gradients: Gradients<T>, magnitudes: Gradients<T>) {
        try backwardWithMagnitudesArrays(g, input: input, filter: filter, outputGradient: outputGradient) {
            x, f, dO, dx, df, db, mx, mf, mb throws(ConvError) in
            try backward(g, input: x, filter: f, outputGradient: dO, inputGradient: dx, filterGradient: df,
                         biasGradient: db, inputGradientMagnitudes: mx, filterGradientMagnitudes: mf,
                         biasGradientMagnitudes: mb)
        }
    }
}

/// Told `(computation, done, total)` as the reference's loops advance (`ReferenceConvolution(progress:)`).
@_spi(Tools)
public typealias ReferenceProgress = @Sendable (_ computation: String, _ done: Int, _ total: Int) -> Void

/// The loops themselves, one function per definition in <doc:TheMathAndTheLowering>. Every tensor is indexed
/// by its logical indices (`[n, c, h, w]`, `[k, c, r, s]`) through the strides of the geometry's layout
/// (<doc:Layouts>), so the same loops, in the same order, are the oracle for every layout.
struct ReferenceLoops {
    let g: ConvGeometry
    /// Called after each outer iteration, whose cost is a whole plane or more, so that the calls cost nothing
    /// next to the loops.
    let progress: ReferenceProgress?
    /// Where X and dX, O and dO, F and dF elements are in the geometry's layout.
    let xs: ActivationStrides, os: ActivationStrides, fs: FilterStrides
    init(_ g: ConvGeometry, _ progress: ReferenceProgress? = nil) {
        self.g = g
        self.progress = progress
        xs = g.inputStrides
        os = g.outputStrides
        fs = g.filterStrides
    }

    /// X[n, c, h, w], or zero outside the image (the padding).
    @inline(__always)
    func x<T: ConvScalar>(_ x: UnsafeBufferPointer<T>, _ n: Int, _ c: Int, _ h: Int, _ w: Int) -> T {
        guard h >= 0, h < g.inputHeight, w >= 0, w < g.inputWidth else { return 0 }
        return x[xs.offset(n, c, h, w)]
    }

    // O[n,k,p,q] = B[k] + Σ_{c,r,s} F[k,c,r,s] · X[n, g(k)*Cg + c, p*sh - pt + r*dh, q*sw - pl + s*dw]
    func forward<T: ConvScalar>(_ X: UnsafeBufferPointer<T>, _ F: UnsafeBufferPointer<T>, _ B: UnsafeBufferPointer<T>?,
                                _ O: UnsafeMutableBufferPointer<T>, _ M: UnsafeMutableBufferPointer<T>?) {
        let Cg = g.inputChannelsPerGroup, Kg = g.outputChannelsPerGroup
        let R = g.kernelHeight, S = g.kernelWidth, P = g.outputHeight, Q = g.outputWidth
        for n in 0..<g.batch {
            for k in 0..<g.outputChannels {
                for p in 0..<P {
                    for q in 0..<Q {
                        var sum: T = B?[k] ?? 0
                        var magnitude: T = abs(sum)
                        for c in 0..<Cg {
                            for r in 0..<R {
                                for s in 0..<S {
                                    let term = F[fs.offset(k, c, r, s)]
                                        * x(X, n, (k / Kg) * Cg + c,
                                            p * g.strideHeight - g.padding.top + r * g.dilationHeight,
                                            q * g.strideWidth - g.padding.left + s * g.dilationWidth)
                                    sum += term
                                    magnitude += abs(term)
                                }
                            }
                        }
                        let i = os.offset(n, k, p, q)
                        O[i] = sum
                        M?[i] = magnitude
                    }
                }
                progress?("O", n * g.outputChannels + k + 1, g.batch * g.outputChannels)
            }
        }
    }

    // dF[k,c,r,s] = Σ_{n,p,q} dO[n,k,p,q] · X[n, g(k)*Cg + c, p*sh - pt + r*dh, q*sw - pl + s*dw]
    func filterGradient<T: ConvScalar>(_ X: UnsafeBufferPointer<T>, _ dO: UnsafeBufferPointer<T>,
                                       _ dF: UnsafeMutableBufferPointer<T>, _ M: UnsafeMutableBufferPointer<T>?) {
        let Cg = g.inputChannelsPerGroup, Kg = g.outputChannelsPerGroup
        let R = g.kernelHeight, S = g.kernelWidth, P = g.outputHeight, Q = g.outputWidth
        for k in 0..<g.outputChannels {
            for c in 0..<Cg {
                for r in 0..<R {
                    for s in 0..<S {
                        var sum: T = 0, magnitude: T = 0
                        for n in 0..<g.batch {
                            for p in 0..<P {
                                for q in 0..<Q {
                                    let term = dO[os.offset(n, k, p, q)]
                                        * x(X, n, (k / Kg) * Cg + c,
                                            p * g.strideHeight - g.padding.top + r * g.dilationHeight,
                                            q * g.strideWidth - g.padding.left + s * g.dilationWidth)
                                    sum += term
                                    magnitude += abs(term)
                                }
                            }
                        }
                        let i = fs.offset(k, c, r, s)
                        dF[i] = sum
                        M?[i] = magnitude
                    }
                }
                progress?("dF", k * Cg + c + 1, g.outputChannels * Cg)
            }
        }
    }

    // dB[k] = Σ_{n,p,q} dO[n,k,p,q]
    func biasGradient<T: ConvScalar>(_ dO: UnsafeBufferPointer<T>, _ dB: UnsafeMutableBufferPointer<T>,
                                     _ M: UnsafeMutableBufferPointer<T>?) {
        for k in 0..<g.outputChannels {
            var sum: T = 0, magnitude: T = 0
            for n in 0..<g.batch {
                for p in 0..<g.outputHeight {
                    for q in 0..<g.outputWidth {
                        let term = dO[os.offset(n, k, p, q)]
                        sum += term
                        magnitude += abs(term)
                    }
                }
            }
            dB[k] = sum
            M?[k] = magnitude
            progress?("dB", k + 1, g.outputChannels)
        }
    }

    // dX[n,c',h,w] = Σ_{k in group g(c')} Σ_{r,s} Σ_{(p,q): p*sh - pt + r*dh = h, q*sw - pl + s*dw = w}
    //                    dO[n,k,p,q] · F[k, c' - g(c')*Cg, r, s]
    func inputGradient<T: ConvScalar>(_ F: UnsafeBufferPointer<T>, _ dO: UnsafeBufferPointer<T>,
                                      _ dX: UnsafeMutableBufferPointer<T>, _ M: UnsafeMutableBufferPointer<T>?) {
        let Cg = g.inputChannelsPerGroup, Kg = g.outputChannelsPerGroup
        let R = g.kernelHeight, S = g.kernelWidth, P = g.outputHeight, Q = g.outputWidth
        for n in 0..<g.batch {
            for c in 0..<g.inputChannels {
                let group = c / Cg
                for h in 0..<g.inputHeight {
                    for w in 0..<g.inputWidth {
                        var sum: T = 0, magnitude: T = 0
                        for k in group * Kg..<(group + 1) * Kg {
                            for r in 0..<R {
                                // p*sh = h + pt - r*dh must have a whole, in-range solution p.
                                let ph = h + g.padding.top - r * g.dilationHeight
                                guard ph >= 0, ph % g.strideHeight == 0, ph / g.strideHeight < P else { continue }
                                let p = ph / g.strideHeight
                                for s in 0..<S {
                                    let qw = w + g.padding.left - s * g.dilationWidth
                                    guard qw >= 0, qw % g.strideWidth == 0, qw / g.strideWidth < Q else { continue }
                                    let q = qw / g.strideWidth
                                    let term = dO[os.offset(n, k, p, q)] * F[fs.offset(k, c - group * Cg, r, s)]
                                    sum += term
                                    magnitude += abs(term)
                                }
                            }
                        }
                        let i = xs.offset(n, c, h, w)
                        dX[i] = sum
                        M?[i] = magnitude
                    }
                }
                progress?("dX", n * g.inputChannels + c + 1, g.batch * g.inputChannels)
            }
        }
    }
}
