// The 1-D convolution's and the 1-D transposed convolution's references: direct loops written from the
// per-axis definitions (<doc:OneDimensionalConvolution>), not from the 2-D geometry the engine
// runs them as.

extension ReferenceConvolution {
    /// The 1-D forward pass by direct loops over its definition; the workspace is not used.
    ///
    /// The buffers are those of
    /// ``ConvolutionEngine/forward(_:input:filter:bias:output:workspace:)-(ConvGeometry1D,UnsafeBufferPointer<T>,_,_,_,_)``; `output`
    /// is overwritten. Padding taps read as zero and are multiplied, as in the 2-D reference.
    ///
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)``, ``ConvError/overlappingBuffers(output:other:)``.
    public func forward<T: ConvScalar>(
        _ geometry: ConvGeometry1D,
        input: UnsafeBufferPointer<T>, filter: UnsafeBufferPointer<T>, bias: UnsafeBufferPointer<T>?,
        output: UnsafeMutableBufferPointer<T>, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try Conv1DLoops(geometry).checkedForward(input: input, filter: filter, bias: bias, output: output,
                                                 magnitudes: nil)
    }

    /// The 1-D backward pass by direct loops over the gradients' definitions; the workspace is not used.
    /// Every gradient given is overwritten, the filter and bias gradients summed over the batch.
    ///
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)``, ``ConvError/missingBuffer(name:)``,
    ///   ``ConvError/overlappingBuffers(output:other:)``.
    public func backward<T: ConvScalar>(
        _ geometry: ConvGeometry1D,
        input: UnsafeBufferPointer<T>?, filter: UnsafeBufferPointer<T>?,
        outputGradient: UnsafeBufferPointer<T>,
        inputGradient: UnsafeMutableBufferPointer<T>?, filterGradient: UnsafeMutableBufferPointer<T>?,
        biasGradient: UnsafeMutableBufferPointer<T>?, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try Conv1DLoops(geometry).checkedBackward(
            input: input, filter: filter, outputGradient: outputGradient, inputGradient: inputGradient,
            filterGradient: filterGradient, biasGradient: biasGradient)
    }

    /// The 1-D forward pass on arrays with `Σ|terms|` per output element (plus `|B|`).
    ///
    /// - Parameters:
    ///   - geometry: the 1-D convolution.
    ///   - input: X, `geometry.inputCount` elements.
    ///   - filter: F, `geometry.filterCount` elements.
    ///   - bias: B, `geometry.outputChannels` elements, or `nil`.
    /// - Returns: O and `Σ|terms|`, `geometry.outputCount` elements each.
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)``, and ``ConvError/invalidArgument(name:reason:)``
    ///   when the results would not fit in physical memory.
    public func forwardWithMagnitudes<T: ConvScalar>(
        _ geometry: ConvGeometry1D, input: [T], filter: [T], bias: [T]? = nil
    ) throws(ConvError) -> (output: [T], magnitudes: [T]) {
        try Conv1DLoops(geometry).forwardWithMagnitudes(input: input, filter: filter, bias: bias)
    }

    /// The 1-D backward pass on arrays (all three gradients) with `Σ|terms|` per element of each.
    ///
    /// - Parameters:
    ///   - geometry: the 1-D convolution.
    ///   - input: X, `geometry.inputCount` elements.
    ///   - filter: F, `geometry.filterCount` elements.
    ///   - outputGradient: dL/dO, `geometry.outputCount` elements.
    /// - Returns: dX, dF, dB and their `Σ|terms|`.
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)``, and ``ConvError/invalidArgument(name:reason:)``
    ///   when the results would not fit in physical memory.
    public func backwardWithMagnitudes<T: ConvScalar>(
        _ geometry: ConvGeometry1D, input: [T], filter: [T], outputGradient: [T]
    ) throws(ConvError) -> (gradients: Gradients<T>, magnitudes: Gradients<T>) {
        try Conv1DLoops(geometry).backwardWithMagnitudes(input: input, filter: filter, outputGradient: outputGradient)
    }

    /// The 1-D transposed forward pass by direct loops over its definition; the workspace is not used.
    ///
    /// The buffers are those of
    /// ``ConvolutionEngine/forward(_:input:filter:bias:output:workspace:)-(TransposedConvGeometry1D,UnsafeBufferPointer<T>,_,_,_,_)``;
    /// `output` is overwritten.
    ///
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)``, ``ConvError/overlappingBuffers(output:other:)``.
    public func forward<T: ConvScalar>(
        _ geometry: TransposedConvGeometry1D,
        input: UnsafeBufferPointer<T>, filter: UnsafeBufferPointer<T>, bias: UnsafeBufferPointer<T>?,
        output: UnsafeMutableBufferPointer<T>, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try TransposedConv1DLoops(geometry).checkedForward(input: input, filter: filter, bias: bias, output: output,
                                                           magnitudes: nil)
    }

    /// The 1-D transposed backward pass by direct loops over the gradients' definitions; the workspace is not
    /// used. Every gradient given is overwritten, the filter and bias gradients summed over the batch.
    ///
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)``, ``ConvError/missingBuffer(name:)``,
    ///   ``ConvError/overlappingBuffers(output:other:)``.
    public func backward<T: ConvScalar>(
        _ geometry: TransposedConvGeometry1D,
        input: UnsafeBufferPointer<T>?, filter: UnsafeBufferPointer<T>?,
        outputGradient: UnsafeBufferPointer<T>,
        inputGradient: UnsafeMutableBufferPointer<T>?, filterGradient: UnsafeMutableBufferPointer<T>?,
        biasGradient: UnsafeMutableBufferPointer<T>?, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try TransposedConv1DLoops(geometry).checkedBackward(
            input: input, filter: filter, outputGradient: outputGradient, inputGradient: inputGradient,
            filterGradient: filterGradient, biasGradient: biasGradient)
    }

    /// The 1-D transposed forward pass on arrays with `Σ|terms|` per output element (plus `|Bt|`).
    ///
    /// - Parameters:
    ///   - geometry: the 1-D transposed convolution.
    ///   - input: Xt, `geometry.inputCount` elements.
    ///   - filter: Wt, `geometry.filterCount` elements.
    ///   - bias: Bt, `geometry.outputChannels` elements, or `nil`.
    /// - Returns: Ot and `Σ|terms|`, `geometry.outputCount` elements each.
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)``, and ``ConvError/invalidArgument(name:reason:)``
    ///   when the results would not fit in physical memory.
    public func forwardWithMagnitudes<T: ConvScalar>(
        _ geometry: TransposedConvGeometry1D, input: [T], filter: [T], bias: [T]? = nil
    ) throws(ConvError) -> (output: [T], magnitudes: [T]) {
        try TransposedConv1DLoops(geometry).forwardWithMagnitudes(input: input, filter: filter, bias: bias)
    }

    /// The 1-D transposed backward pass on arrays (all three gradients) with `Σ|terms|` per element of each.
    ///
    /// - Parameters:
    ///   - geometry: the 1-D transposed convolution.
    ///   - input: Xt, `geometry.inputCount` elements.
    ///   - filter: Wt, `geometry.filterCount` elements.
    ///   - outputGradient: dL/dOt, `geometry.outputCount` elements.
    /// - Returns: dXt, dWt, dBt and their `Σ|terms|`.
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)``, and ``ConvError/invalidArgument(name:reason:)``
    ///   when the results would not fit in physical memory.
    public func backwardWithMagnitudes<T: ConvScalar>(
        _ geometry: TransposedConvGeometry1D, input: [T], filter: [T], outputGradient: [T]
    ) throws(ConvError) -> (gradients: Gradients<T>, magnitudes: Gradients<T>) {
        try TransposedConv1DLoops(geometry).backwardWithMagnitudes(input: input, filter: filter,
                                                                   outputGradient: outputGradient)
    }
}

/// The 1-D convolution's loops: X[n,c,l] (N×C×L), F[k,c,s] (K×C/G×S), O[n,k,q] (N×K×Q); output q and tap s
/// read input element l = q·stride − left + s·dilation (zero outside the input).
struct Conv1DLoops: DirectLoops {
    let g: ConvGeometry1D
    /// Where X, O (and their gradients) and F elements are in the geometry's layout (N×C×L or N×L×C, K×C/G×S or
    /// K×S×C/G: the 2-D strides with one row).
    let xs: ActivationStrides, os: ActivationStrides, fs: FilterStrides
    init(_ g: ConvGeometry1D) {
        self.g = g
        (xs, os, fs) = (g.planar.inputStrides, g.planar.outputStrides, g.planar.filterStrides)
    }
    var shape: ConvGeometry1D { g }
    var outputPlane: (rows: Int, columns: Int) { (1, g.outputLength) }
    var batch: Int { g.batch }

    /// X[n, c, l], or zero outside the input (the padding).
    @inline(__always) func x<T: ConvScalar>(_ X: UnsafeBufferPointer<T>, _ n: Int, _ c: Int, _ l: Int) -> T {
        guard l >= 0, l < g.inputLength else { return 0 }
        return X[xs.offset(n, c, 0, l)]
    }

    // O[n,k,q] = B[k] + Σ_{c<Cg, s<S} F[k,c,s] · X[n, g(k)·Cg + c, q·stride − left + s·dilation]
    func forward<T: ConvScalar>(_ X: UnsafeBufferPointer<T>, _ F: UnsafeBufferPointer<T>, _ B: UnsafeBufferPointer<T>?,
                                _ O: UnsafeMutableBufferPointer<T>, _ M: UnsafeMutableBufferPointer<T>?) {
        let cg = g.inputChannelsPerGroup, kg = g.outputChannelsPerGroup, S = g.kernelLength
        for n in 0..<g.batch {
            for k in 0..<g.outputChannels {
                for q in 0..<g.outputLength {
                    var sum: T = B?[k] ?? 0
                    var magnitude: T = abs(sum)
                    for c in 0..<cg {
                        for s in 0..<S {
                            let term = F[fs.offset(k, c, 0, s)]
                                * x(X, n, (k / kg) * cg + c, q * g.stride - g.padding.left + s * g.dilation)
                            sum += term
                            magnitude += abs(term)
                        }
                    }
                    let i = os.offset(n, k, 0, q)
                    O[i] = sum
                    M?[i] = magnitude
                }
            }
        }
    }

    // dX[n,c′,l] = Σ_{k in g(c′)} Σ_s Σ_{q : q·stride − left + s·dilation = l} dO[n,k,q] · F[k, c′ − g(c′)·Cg, s]
    func inputGradient<T: ConvScalar>(_ F: UnsafeBufferPointer<T>, _ dO: UnsafeBufferPointer<T>,
                                      _ dX: UnsafeMutableBufferPointer<T>, _ M: UnsafeMutableBufferPointer<T>?) {
        let cg = g.inputChannelsPerGroup, kg = g.outputChannelsPerGroup, S = g.kernelLength
        for n in 0..<g.batch {
            for c in 0..<g.inputChannels {
                let group = c / cg
                for l in 0..<g.inputLength {
                    var sum: T = 0, magnitude: T = 0
                    for k in group * kg..<(group + 1) * kg {
                        for s in 0..<S {
                            // q·stride = l + left − s·dilation must have a whole, in-range solution q.
                            let qs = l + g.padding.left - s * g.dilation
                            guard qs >= 0, qs % g.stride == 0, qs / g.stride < g.outputLength else { continue }
                            let term = dO[os.offset(n, k, 0, qs / g.stride)] * F[fs.offset(k, c - group * cg, 0, s)]
                            sum += term
                            magnitude += abs(term)
                        }
                    }
                    let i = xs.offset(n, c, 0, l)
                    dX[i] = sum
                    M?[i] = magnitude
                }
            }
        }
    }

    // dF[k,c,s] = Σ_{n,q} dO[n,k,q] · X[n, g(k)·Cg + c, q·stride − left + s·dilation]
    func filterGradient<T: ConvScalar>(_ X: UnsafeBufferPointer<T>, _ dO: UnsafeBufferPointer<T>,
                                       _ dF: UnsafeMutableBufferPointer<T>, _ M: UnsafeMutableBufferPointer<T>?) {
        let cg = g.inputChannelsPerGroup, kg = g.outputChannelsPerGroup, S = g.kernelLength
        for k in 0..<g.outputChannels {
            for c in 0..<cg {
                for s in 0..<S {
                    var sum: T = 0, magnitude: T = 0
                    for n in 0..<g.batch {
                        for q in 0..<g.outputLength {
                            let term = dO[os.offset(n, k, 0, q)]
                                * x(X, n, (k / kg) * cg + c, q * g.stride - g.padding.left + s * g.dilation)
                            sum += term
                            magnitude += abs(term)
                        }
                    }
                    dF[fs.offset(k, c, 0, s)] = sum
                    M?[fs.offset(k, c, 0, s)] = magnitude
                }
            }
        }
    }
}

/// The 1-D transposed convolution's loops: Xt[n,ci,l] (N×Cin×L), Wt[ci,co′,s] (Cin×Cout/G×S), Ot[n,co,y]
/// (N×Cout×Lo); input element l and tap s meet at output y = l·stride − left + s·dilation (when inside).
struct TransposedConv1DLoops: DirectLoops {
    let g: TransposedConvGeometry1D
    /// Where Xt, Ot (and their gradients) and Wt elements are in the geometry's layout (the 2-D strides with one
    /// row; Wt is Cin×Cout/G×S or Cin×S×Cout/G).
    let xs: ActivationStrides, os: ActivationStrides, ws: FilterStrides
    init(_ g: TransposedConvGeometry1D) {
        self.g = g
        let activations = g.layout.activations
        xs = activations.strides(channels: g.inputChannels, height: 1, width: g.inputLength)
        os = activations.strides(channels: g.outputChannels, height: 1, width: g.outputLength)
        ws = g.layout.filter.strides(channels: g.outputChannelsPerGroup, height: 1, width: g.kernelLength)
    }
    var shape: TransposedConvGeometry1D { g }
    var outputPlane: (rows: Int, columns: Int) { (1, g.outputLength) }
    var batch: Int { g.batch }

    // Ot[n,co,y] = Bt[co] + Σ_{ci in g(co)} Σ_{l,s : y = l·stride − left + s·dilation} Xt[n,ci,l]·Wt[ci,co′,s]
    func forward<T: ConvScalar>(_ X: UnsafeBufferPointer<T>, _ F: UnsafeBufferPointer<T>, _ B: UnsafeBufferPointer<T>?,
                                _ O: UnsafeMutableBufferPointer<T>, _ M: UnsafeMutableBufferPointer<T>?) {
        let cig = g.inputChannelsPerGroup, cog = g.outputChannelsPerGroup, S = g.kernelLength
        for n in 0..<g.batch {
            for co in 0..<g.outputChannels {
                let group = co / cog, cop = co - group * cog
                for y in 0..<g.outputLength {
                    var sum: T = B?[co] ?? 0
                    var magnitude: T = abs(sum)
                    for ci in group * cig..<(group + 1) * cig {
                        for s in 0..<S {
                            let ls = y + g.padding.left - s * g.dilation
                            guard ls >= 0, ls % g.stride == 0, ls / g.stride < g.inputLength else { continue }
                            let term = X[xs.offset(n, ci, 0, ls / g.stride)] * F[ws.offset(ci, cop, 0, s)]
                            sum += term
                            magnitude += abs(term)
                        }
                    }
                    let i = os.offset(n, co, 0, y)
                    O[i] = sum
                    M?[i] = magnitude
                }
            }
        }
    }

    // dXt[n,ci,l] = Σ_{co in g(ci)} Σ_{s : y inside} dOt[n,co,y]·Wt[ci,co′,s], y = l·stride − left + s·dilation
    func inputGradient<T: ConvScalar>(_ F: UnsafeBufferPointer<T>, _ dO: UnsafeBufferPointer<T>,
                                      _ dX: UnsafeMutableBufferPointer<T>, _ M: UnsafeMutableBufferPointer<T>?) {
        let cig = g.inputChannelsPerGroup, cog = g.outputChannelsPerGroup, S = g.kernelLength
        for n in 0..<g.batch {
            for ci in 0..<g.inputChannels {
                let group = ci / cig
                for l in 0..<g.inputLength {
                    var sum: T = 0, magnitude: T = 0
                    for cop in 0..<cog {
                        for s in 0..<S {
                            let y = l * g.stride - g.padding.left + s * g.dilation
                            guard y >= 0, y < g.outputLength else { continue }
                            let term = dO[os.offset(n, group * cog + cop, 0, y)] * F[ws.offset(ci, cop, 0, s)]
                            sum += term
                            magnitude += abs(term)
                        }
                    }
                    let i = xs.offset(n, ci, 0, l)
                    dX[i] = sum
                    M?[i] = magnitude
                }
            }
        }
    }

    // dWt[ci,co′,s] = Σ_{n,l : y inside} Xt[n,ci,l]·dOt[n, g(ci)·Cog + co′, y]
    func filterGradient<T: ConvScalar>(_ X: UnsafeBufferPointer<T>, _ dO: UnsafeBufferPointer<T>,
                                       _ dF: UnsafeMutableBufferPointer<T>, _ M: UnsafeMutableBufferPointer<T>?) {
        let cig = g.inputChannelsPerGroup, cog = g.outputChannelsPerGroup, S = g.kernelLength
        for ci in 0..<g.inputChannels {
            let group = ci / cig
            for cop in 0..<cog {
                for s in 0..<S {
                    var sum: T = 0, magnitude: T = 0
                    for n in 0..<g.batch {
                        for l in 0..<g.inputLength {
                            let y = l * g.stride - g.padding.left + s * g.dilation
                            guard y >= 0, y < g.outputLength else { continue }
                            let term = X[xs.offset(n, ci, 0, l)] * dO[os.offset(n, group * cog + cop, 0, y)]
                            sum += term
                            magnitude += abs(term)
                        }
                    }
                    dF[ws.offset(ci, cop, 0, s)] = sum
                    M?[ws.offset(ci, cop, 0, s)] = magnitude
                }
            }
        }
    }
}
