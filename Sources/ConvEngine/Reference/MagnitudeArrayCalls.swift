// The reference's array forms that also return Σ|terms| (`forwardWithMagnitudes`, `backwardWithMagnitudes`),
// written once for every geometry of the family: lengths checked and the results' memory checked before anything
// is allocated, then the geometry's buffer form called on fresh arrays.

/// The forward pass on arrays with `Σ|terms|` per output element: `call(x, f, b, output, magnitudes)`.
func forwardWithMagnitudesArrays<S: ConvolutionShape, T: ConvScalar>(
    _ shape: S, input: [T], filter: [T], bias: [T]?,
    _ call: (UnsafeBufferPointer<T>, UnsafeBufferPointer<T>, UnsafeBufferPointer<T>?,
             UnsafeMutableBufferPointer<T>, UnsafeMutableBufferPointer<T>) throws(ConvError) -> Void
) throws(ConvError) -> (output: [T], magnitudes: [T]) {
    // Checked before the results are allocated, so wrong arrays never cost (or trap in) a huge allocation.
    try checkLength("input", input.count, shape.inputCount)
    try checkLength("filter", filter.count, shape.filterCount)
    if let bias { try checkLength("bias", bias.count, shape.biasCount) }
    try checkResultFitsInMemory("output and magnitudes",
                                checkedProduct(2, shape.outputCount, quantity: "output elements"), T.self)
    var output = [T](repeating: 0, count: shape.outputCount), magnitudes = output
    try input.withUnsafeBufferPointer { x throws(ConvError) in
        try filter.withUnsafeBufferPointer { f throws(ConvError) in
            try withOptionalBuffer(bias) { b throws(ConvError) in
                try output.withUnsafeMutableBufferPointer { o throws(ConvError) in
                    try magnitudes.withUnsafeMutableBufferPointer { m throws(ConvError) in try call(x, f, b, o, m) }
                }
            }
        }
    }
    return (output, magnitudes)
}

/// The backward pass on arrays (all three gradients) with `Σ|terms|` per element of each:
/// `call(x, f, dO, dX, dF, dB, |dX terms|, |dF terms|, |dB terms|)`.
func backwardWithMagnitudesArrays<S: ConvolutionShape, T: ConvScalar>(
    _ shape: S, input: [T], filter: [T], outputGradient: [T],
    _ call: (UnsafeBufferPointer<T>, UnsafeBufferPointer<T>, UnsafeBufferPointer<T>,
             UnsafeMutableBufferPointer<T>, UnsafeMutableBufferPointer<T>, UnsafeMutableBufferPointer<T>,
             UnsafeMutableBufferPointer<T>, UnsafeMutableBufferPointer<T>, UnsafeMutableBufferPointer<T>)
        throws(ConvError) -> Void
) throws(ConvError) -> (gradients: Gradients<T>, magnitudes: Gradients<T>) {
    try checkLength("input", input.count, shape.inputCount)
    try checkLength("filter", filter.count, shape.filterCount)
    try checkLength("outputGradient", outputGradient.count, shape.outputCount)
    let results = try checkedSum(shape.inputCount, shape.filterCount, shape.biasCount, quantity: "gradient elements")
    try checkResultFitsInMemory("gradients and magnitudes", checkedProduct(2, results, quantity: "gradient elements"),
                                T.self)
    var dX = [T](repeating: 0, count: shape.inputCount), mX = dX
    var dF = [T](repeating: 0, count: shape.filterCount), mF = dF
    var dB = [T](repeating: 0, count: shape.biasCount), mB = dB
    try input.withUnsafeBufferPointer { x throws(ConvError) in
        try filter.withUnsafeBufferPointer { f throws(ConvError) in
            try outputGradient.withUnsafeBufferPointer { dO throws(ConvError) in
                try dX.withUnsafeMutableBufferPointer { dx throws(ConvError) in
                    try dF.withUnsafeMutableBufferPointer { df throws(ConvError) in
                        try dB.withUnsafeMutableBufferPointer { db throws(ConvError) in
                            try mX.withUnsafeMutableBufferPointer { mx throws(ConvError) in
                                try mF.withUnsafeMutableBufferPointer { mf throws(ConvError) in
                                    try mB.withUnsafeMutableBufferPointer { mb throws(ConvError) in
                                        try call(x, f, dO, dx, df, db, mx, mf, mb)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    return (Gradients(input: dX, filter: dF, bias: dB), Gradients(input: mX, filter: mF, bias: mB))
}
