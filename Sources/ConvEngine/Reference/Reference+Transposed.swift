// The transposed 2-D convolution's reference: direct loops written from its definition
// (<doc:TransposedConvolution>), not from the associated convolution the engine runs it on.

extension ReferenceConvolution {
    /// The transposed forward pass by direct loops over its definition; the workspace is not used.
    ///
    /// The buffers are those of
    /// ``ConvolutionEngine/forward(_:input:filter:bias:output:workspace:)-(TransposedConvGeometry,UnsafeBufferPointer<T>,_,_,_,_)``;
    /// `output` is overwritten. Only the products the definition names are summed (an input element times a
    /// weight tap that lands inside the output), so no padding is ever multiplied.
    ///
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)``, ``ConvError/overlappingBuffers(output:other:)``.
    public func forward<T: ConvScalar>(
        _ geometry: TransposedConvGeometry,
        input: UnsafeBufferPointer<T>, filter: UnsafeBufferPointer<T>, bias: UnsafeBufferPointer<T>?,
        output: UnsafeMutableBufferPointer<T>, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try TransposedLoops(geometry).checkedForward(input: input, filter: filter, bias: bias, output: output,
                                                     magnitudes: nil)
    }

    /// The transposed backward pass by direct loops over the gradients' definitions; the workspace is not used.
    ///
    /// The buffers are those of
    /// ``ConvolutionEngine/backward(_:input:filter:outputGradient:inputGradient:filterGradient:biasGradient:workspace:)-(TransposedConvGeometry,_,_,_,_,_,_,_)``;
    /// every gradient given is overwritten, the filter and bias gradients summed over the batch.
    ///
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)``, ``ConvError/missingBuffer(name:)``,
    ///   ``ConvError/overlappingBuffers(output:other:)``.
    public func backward<T: ConvScalar>(
        _ geometry: TransposedConvGeometry,
        input: UnsafeBufferPointer<T>?, filter: UnsafeBufferPointer<T>?,
        outputGradient: UnsafeBufferPointer<T>,
        inputGradient: UnsafeMutableBufferPointer<T>?, filterGradient: UnsafeMutableBufferPointer<T>?,
        biasGradient: UnsafeMutableBufferPointer<T>?, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try TransposedLoops(geometry).checkedBackward(
            input: input, filter: filter, outputGradient: outputGradient, inputGradient: inputGradient,
            filterGradient: filterGradient, biasGradient: biasGradient)
    }

    /// The transposed forward pass on arrays with `Σ|terms|` per output element (plus `|Bt|`), the scale of
    /// ``ErrorBound``'s bound.
    ///
    /// - Parameters:
    ///   - geometry: the transposed convolution.
    ///   - input: Xt, `geometry.inputCount` elements.
    ///   - filter: Wt, `geometry.filterCount` elements.
    ///   - bias: Bt, `geometry.outputChannels` elements, or `nil`.
    /// - Returns: Ot and `Σ|terms|`, `geometry.outputCount` elements each.
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)``, and ``ConvError/invalidArgument(name:reason:)``
    ///   when the results would not fit in physical memory.
    public func forwardWithMagnitudes<T: ConvScalar>(
        _ geometry: TransposedConvGeometry, input: [T], filter: [T], bias: [T]? = nil
    ) throws(ConvError) -> (output: [T], magnitudes: [T]) {
        try TransposedLoops(geometry).forwardWithMagnitudes(input: input, filter: filter, bias: bias)
    }

    /// The transposed backward pass on arrays (all three gradients) with `Σ|terms|` per element of each.
    ///
    /// - Parameters:
    ///   - geometry: the transposed convolution.
    ///   - input: Xt, `geometry.inputCount` elements.
    ///   - filter: Wt, `geometry.filterCount` elements.
    ///   - outputGradient: dL/dOt, `geometry.outputCount` elements.
    /// - Returns: dXt, dWt, dBt and their `Σ|terms|`.
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)``, and ``ConvError/invalidArgument(name:reason:)``
    ///   when the results would not fit in physical memory.
    public func backwardWithMagnitudes<T: ConvScalar>(
        _ geometry: TransposedConvGeometry, input: [T], filter: [T], outputGradient: [T]
    ) throws(ConvError) -> (gradients: Gradients<T>, magnitudes: Gradients<T>) {
        try TransposedLoops(geometry).backwardWithMagnitudes(input: input, filter: filter, outputGradient: outputGradient)
    }
}

/// The transposed convolution's loops. With Cig = Cin/G, Cog = Cout/G, g(ci) = ci / Cig, g(co) = co / Cog and
/// co′ = co − g(co)·Cog, an input element Xt[n,ci,h,w] and a weight tap Wt[ci,co′,r,s] meet at output row
/// y = h·sh − pt + r·dh and column x = w·sw − pl + s·dw (when that lies inside the output).
struct TransposedLoops: DirectLoops {
    let g: TransposedConvGeometry
    /// Where Xt, Ot (and their gradients) and Wt elements are in the geometry's layout.
    let xs: ActivationStrides, os: ActivationStrides, ws: FilterStrides
    init(_ g: TransposedConvGeometry) {
        self.g = g
        let activations = g.layout.activations
        xs = activations.strides(channels: g.inputChannels, height: g.inputHeight, width: g.inputWidth)
        os = activations.strides(channels: g.outputChannels, height: g.outputHeight, width: g.outputWidth)
        ws = g.layout.filter.strides(channels: g.outputChannelsPerGroup, height: g.kernelHeight, width: g.kernelWidth)
    }
    var shape: TransposedConvGeometry { g }
    var outputPlane: (rows: Int, columns: Int) { (g.outputHeight, g.outputWidth) }
    var batch: Int { g.batch }

    /// Index of Xt[n, ci, h, w] (and dXt).
    @inline(__always) func xi(_ n: Int, _ ci: Int, _ h: Int, _ w: Int) -> Int { xs.offset(n, ci, h, w) }
    /// Index of Ot[n, co, y, x] (and dOt).
    @inline(__always) func oi(_ n: Int, _ co: Int, _ y: Int, _ x: Int) -> Int { os.offset(n, co, y, x) }
    /// Index of Wt[ci, co′, r, s].
    @inline(__always) func wi(_ ci: Int, _ cop: Int, _ r: Int, _ s: Int) -> Int { ws.offset(ci, cop, r, s) }

    // Ot[n,co,y,x] = Bt[co] + Σ_{ci in g(co)} Σ_{h,w,r,s : y = h·sh − pt + r·dh, x = w·sw − pl + s·dw} Xt[n,ci,h,w]·Wt[ci,co′,r,s]
    func forward<T: ConvScalar>(_ X: UnsafeBufferPointer<T>, _ F: UnsafeBufferPointer<T>, _ B: UnsafeBufferPointer<T>?,
                                _ O: UnsafeMutableBufferPointer<T>, _ M: UnsafeMutableBufferPointer<T>?) {
        let cig = g.inputChannelsPerGroup, cog = g.outputChannelsPerGroup
        for n in 0..<g.batch {
            for co in 0..<g.outputChannels {
                let group = co / cog, cop = co - group * cog
                for y in 0..<g.outputHeight {
                    for x in 0..<g.outputWidth {
                        var sum: T = B?[co] ?? 0
                        var magnitude: T = abs(sum)
                        for ci in group * cig..<(group + 1) * cig {
                            for r in 0..<g.kernelHeight {
                                // h·sh = y + pt − r·dh must have a whole solution h inside the input.
                                let hs = y + g.padding.top - r * g.dilationHeight
                                guard hs >= 0, hs % g.strideHeight == 0, hs / g.strideHeight < g.inputHeight else { continue }
                                for s in 0..<g.kernelWidth {
                                    let ws = x + g.padding.left - s * g.dilationWidth
                                    guard ws >= 0, ws % g.strideWidth == 0, ws / g.strideWidth < g.inputWidth else { continue }
                                    let term = X[xi(n, ci, hs / g.strideHeight, ws / g.strideWidth)] * F[wi(ci, cop, r, s)]
                                    sum += term
                                    magnitude += abs(term)
                                }
                            }
                        }
                        O[oi(n, co, y, x)] = sum
                        M?[oi(n, co, y, x)] = magnitude
                    }
                }
            }
        }
    }

    // dXt[n,ci,h,w] = Σ_{co in g(ci)} Σ_{r,s : (y, x) inside the output} dOt[n,co,y,x]·Wt[ci,co′,r,s],
    // y = h·sh − pt + r·dh, x = w·sw − pl + s·dw
    func inputGradient<T: ConvScalar>(_ F: UnsafeBufferPointer<T>, _ dO: UnsafeBufferPointer<T>,
                                      _ dX: UnsafeMutableBufferPointer<T>, _ M: UnsafeMutableBufferPointer<T>?) {
        let cig = g.inputChannelsPerGroup, cog = g.outputChannelsPerGroup
        for n in 0..<g.batch {
            for ci in 0..<g.inputChannels {
                let group = ci / cig
                for h in 0..<g.inputHeight {
                    for w in 0..<g.inputWidth {
                        var sum: T = 0, magnitude: T = 0
                        for cop in 0..<cog {
                            for r in 0..<g.kernelHeight {
                                let y = h * g.strideHeight - g.padding.top + r * g.dilationHeight
                                guard y >= 0, y < g.outputHeight else { continue }
                                for s in 0..<g.kernelWidth {
                                    let x = w * g.strideWidth - g.padding.left + s * g.dilationWidth
                                    guard x >= 0, x < g.outputWidth else { continue }
                                    let term = dO[oi(n, group * cog + cop, y, x)] * F[wi(ci, cop, r, s)]
                                    sum += term
                                    magnitude += abs(term)
                                }
                            }
                        }
                        dX[xi(n, ci, h, w)] = sum
                        M?[xi(n, ci, h, w)] = magnitude
                    }
                }
            }
        }
    }

    // dWt[ci,co′,r,s] = Σ_{n,h,w : (y, x) inside the output} Xt[n,ci,h,w]·dOt[n, g(ci)·Cog + co′, y, x]
    func filterGradient<T: ConvScalar>(_ X: UnsafeBufferPointer<T>, _ dO: UnsafeBufferPointer<T>,
                                       _ dF: UnsafeMutableBufferPointer<T>, _ M: UnsafeMutableBufferPointer<T>?) {
        let cig = g.inputChannelsPerGroup, cog = g.outputChannelsPerGroup
        for ci in 0..<g.inputChannels {
            let group = ci / cig
            for cop in 0..<cog {
                for r in 0..<g.kernelHeight {
                    for s in 0..<g.kernelWidth {
                        var sum: T = 0, magnitude: T = 0
                        for n in 0..<g.batch {
                            for h in 0..<g.inputHeight {
                                let y = h * g.strideHeight - g.padding.top + r * g.dilationHeight
                                guard y >= 0, y < g.outputHeight else { continue }
                                for w in 0..<g.inputWidth {
                                    let x = w * g.strideWidth - g.padding.left + s * g.dilationWidth
                                    guard x >= 0, x < g.outputWidth else { continue }
                                    let term = X[xi(n, ci, h, w)] * dO[oi(n, group * cog + cop, y, x)]
                                    sum += term
                                    magnitude += abs(term)
                                }
                            }
                        }
                        dF[wi(ci, cop, r, s)] = sum
                        M?[wi(ci, cop, r, s)] = magnitude
                    }
                }
            }
        }
    }
}
