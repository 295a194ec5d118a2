// The checked entry points shared by the direct-loop references of the operations that map onto the 2-D
// convolution (transposed, 1-D): buffer lengths and overlaps checked with the public names, the element type
// made concrete, then the operation's own loops, each written from its definition.

/// The direct loops of one operation, written from its definition in <doc:TheMathAndTheLowering>: each result
/// element summed term by term, with `Σ|terms|` into `M` when given. Every tensor is indexed by its logical
/// indices through the strides of the geometry's layout (<doc:Layouts>).
protocol DirectLoops {
    associatedtype Shape: ConvolutionShape
    /// The operation's geometry.
    var shape: Shape { get }
    /// The output's rows and columns per image and channel (one row in 1-D): the bias gradient sums `batch` such
    /// planes per channel.
    var outputPlane: (rows: Int, columns: Int) { get }
    /// Where the output's (and dO's) elements are, in the geometry's layout.
    var os: ActivationStrides { get }
    /// Images in the batch.
    var batch: Int { get }
    /// O from X, F and B (`B` may be absent).
    func forward<T: ConvScalar>(_ X: UnsafeBufferPointer<T>, _ F: UnsafeBufferPointer<T>, _ B: UnsafeBufferPointer<T>?,
                                _ O: UnsafeMutableBufferPointer<T>, _ M: UnsafeMutableBufferPointer<T>?)
    /// dX from F and dO.
    func inputGradient<T: ConvScalar>(_ F: UnsafeBufferPointer<T>, _ dO: UnsafeBufferPointer<T>,
                                      _ dX: UnsafeMutableBufferPointer<T>, _ M: UnsafeMutableBufferPointer<T>?)
    /// dF from X and dO, summed over the batch.
    func filterGradient<T: ConvScalar>(_ X: UnsafeBufferPointer<T>, _ dO: UnsafeBufferPointer<T>,
                                       _ dF: UnsafeMutableBufferPointer<T>, _ M: UnsafeMutableBufferPointer<T>?)
}

extension DirectLoops {
    // dB[k] = Σ_{n, positions} dO[n, k, positions]
    func biasGradient<T: ConvScalar>(_ dO: UnsafeBufferPointer<T>, _ dB: UnsafeMutableBufferPointer<T>,
                                     _ M: UnsafeMutableBufferPointer<T>?) {
        for k in 0..<shape.biasCount {
            var sum: T = 0, magnitude: T = 0
            for n in 0..<batch {
                for p in 0..<outputPlane.rows {
                    for q in 0..<outputPlane.columns {
                        let term = dO[os.offset(n, k, p, q)]
                        sum += term
                        magnitude += abs(term)
                    }
                }
            }
            dB[k] = sum
            M?[k] = magnitude
        }
    }

    /// The checked forward pass: lengths, overlaps, then the loops in the concrete element type.
    func checkedForward<T: ConvScalar>(
        input: UnsafeBufferPointer<T>, filter: UnsafeBufferPointer<T>, bias: UnsafeBufferPointer<T>?,
        output: UnsafeMutableBufferPointer<T>, magnitudes: UnsafeMutableBufferPointer<T>?
    ) throws(ConvError) {
        try checkLength("input", input.count, shape.inputCount)
        try checkLength("filter", filter.count, shape.filterCount)
        if let bias { try checkLength("bias", bias.count, shape.biasCount) }
        try checkLength("output", output.count, shape.outputCount)
        if let magnitudes { try checkLength("magnitudes", magnitudes.count, shape.outputCount) }
        try checkNoOverlap(outputs: [BufferSpan("output", output), BufferSpan("magnitudes", magnitudes)],
                           others: [BufferSpan("input", input), BufferSpan("filter", filter), BufferSpan("bias", bias)])
        switch ScalarKind.of(T.self) {
        case .float:
            forward(retype(input, Float.self), retype(filter, Float.self), retype(bias, Float.self),
                    retype(output, Float.self), retype(magnitudes, Float.self))
        case .double:
            forward(retype(input, Double.self), retype(filter, Double.self), retype(bias, Double.self),
                    retype(output, Double.self), retype(magnitudes, Double.self))
        }
    }

    /// The checked backward pass: lengths, missing operands, overlaps, then the loops of each gradient given.
    func checkedBackward<T: ConvScalar>(
        input: UnsafeBufferPointer<T>?, filter: UnsafeBufferPointer<T>?, outputGradient: UnsafeBufferPointer<T>,
        inputGradient: UnsafeMutableBufferPointer<T>?, filterGradient: UnsafeMutableBufferPointer<T>?,
        biasGradient: UnsafeMutableBufferPointer<T>?,
        magnitudes: (input: UnsafeMutableBufferPointer<T>?, filter: UnsafeMutableBufferPointer<T>?,
                     bias: UnsafeMutableBufferPointer<T>?) = (nil, nil, nil)
    ) throws(ConvError) {
        try checkBackwardBuffers(shape, input: input, filter: filter, outputGradient: outputGradient,
                                 inputGradient: inputGradient, filterGradient: filterGradient,
                                 biasGradient: biasGradient)
        if let m = magnitudes.input { try checkLength("inputGradientMagnitudes", m.count, shape.inputCount) }
        if let m = magnitudes.filter { try checkLength("filterGradientMagnitudes", m.count, shape.filterCount) }
        if let m = magnitudes.bias { try checkLength("biasGradientMagnitudes", m.count, shape.biasCount) }
        try checkNoOverlap(
            outputs: [BufferSpan("inputGradient", inputGradient), BufferSpan("filterGradient", filterGradient),
                      BufferSpan("biasGradient", biasGradient), BufferSpan("inputGradientMagnitudes", magnitudes.input),
                      BufferSpan("filterGradientMagnitudes", magnitudes.filter),
                      BufferSpan("biasGradientMagnitudes", magnitudes.bias)],
            others: [BufferSpan("input", input), BufferSpan("filter", filter),
                     BufferSpan("outputGradient", outputGradient)])
        switch ScalarKind.of(T.self) {
        case .float: runBackward(input, filter, outputGradient, inputGradient, filterGradient, biasGradient, magnitudes, Float.self)
        case .double: runBackward(input, filter, outputGradient, inputGradient, filterGradient, biasGradient, magnitudes, Double.self)
        }
    }

    private func runBackward<T: ConvScalar, U: ConvScalar>(
        _ x: UnsafeBufferPointer<T>?, _ f: UnsafeBufferPointer<T>?, _ dO: UnsafeBufferPointer<T>,
        _ dX: UnsafeMutableBufferPointer<T>?, _ dF: UnsafeMutableBufferPointer<T>?, _ dB: UnsafeMutableBufferPointer<T>?,
        _ m: (input: UnsafeMutableBufferPointer<T>?, filter: UnsafeMutableBufferPointer<T>?,
              bias: UnsafeMutableBufferPointer<T>?), _: U.Type
    ) {
        let dO = retype(dO, U.self)
        if let dX, let f { inputGradient(retype(f, U.self), dO, retype(dX, U.self), retype(m.input, U.self)) }
        if let dF, let x { filterGradient(retype(x, U.self), dO, retype(dF, U.self), retype(m.filter, U.self)) }
        if let dB { biasGradient(dO, retype(dB, U.self), retype(m.bias, U.self)) }
    }

    /// The forward pass on arrays with `Σ|terms|` per output element.
    func forwardWithMagnitudes<T: ConvScalar>(input: [T], filter: [T], bias: [T]?) throws(ConvError) -> (output: [T], magnitudes: [T]) {
        try forwardWithMagnitudesArrays(shape, input: input, filter: filter, bias: bias) {
            x, f, b, o, m throws(ConvError) in
            try checkedForward(input: x, filter: f, bias: b, output: o, magnitudes: m)
        }
    }

    /// The backward pass on arrays (all three gradients) with `Σ|terms|` per element of each.
    func backwardWithMagnitudes<T: ConvScalar>(input: [T], filter: [T], outputGradient: [T])
        throws(ConvError) -> (gradients: Gradients<T>, magnitudes: Gradients<T>) {
        try backwardWithMagnitudesArrays(shape, input: input, filter: filter, outputGradient: outputGradient) {
            x, f, dO, dx, df, db, mx, mf, mb throws(ConvError) in
            try checkedBackward(input: x, filter: f, outputGradient: dO, inputGradient: dx, filterGradient: df,
                                biasGradient: db, magnitudes: (mx, mf, mb))
        }
    }
}
