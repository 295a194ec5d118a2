// The array forms of every operation of the family, written once: lengths checked and results sized before
// anything is allocated, then the operation's buffer form called with the arrays' storage. A result array of the
// right length is reused as it is, so a loop with kept arrays allocates nothing per call.

/// The buffer form of a forward pass: input, filter, optional bias, output.
typealias ForwardBufferCall<T> = (
    UnsafeBufferPointer<T>, UnsafeBufferPointer<T>, UnsafeBufferPointer<T>?, UnsafeMutableBufferPointer<T>
) throws(ConvError) -> Void

/// The buffer form of a backward pass: input, filter, output gradient, then the input, filter and bias gradients.
typealias BackwardBufferCall<T> = (
    UnsafeBufferPointer<T>?, UnsafeBufferPointer<T>?, UnsafeBufferPointer<T>,
    UnsafeMutableBufferPointer<T>?, UnsafeMutableBufferPointer<T>?, UnsafeMutableBufferPointer<T>?
) throws(ConvError) -> Void

/// Checks the arrays of a forward pass against `shape`, sizes `output`, and runs `call` on their storage.
func forwardArrays<S: ConvolutionShape, T: ConvScalar>(
    _ shape: S, input: [T], filter: [T], bias: [T]?, output: inout [T], _ call: ForwardBufferCall<T>
) throws(ConvError) {
    try checkLength("input", input.count, shape.inputCount)
    try checkLength("filter", filter.count, shape.filterCount)
    if let bias { try checkLength("bias", bias.count, shape.biasCount) }
    try resizeResult(&output, "output", shape.outputCount)
    try input.withUnsafeBufferPointer { x throws(ConvError) in
        try filter.withUnsafeBufferPointer { f throws(ConvError) in
            try withOptionalBuffer(bias) { b throws(ConvError) in
                try output.withUnsafeMutableBufferPointer { o throws(ConvError) in try call(x, f, b, o) }
            }
        }
    }
}

/// Checks the arrays of a backward pass against `shape`, sizes the requested gradients in `result` (and sets the
/// others to `nil`), and runs `call` on their storage.
func backwardArrays<S: ConvolutionShape, T: ConvScalar>(
    _ shape: S, input: [T]?, filter: [T]?, outputGradient: [T], gradients: GradientSet,
    into result: inout Gradients<T>, _ call: BackwardBufferCall<T>
) throws(ConvError) {
    try checkLength("outputGradient", outputGradient.count, shape.outputCount)
    if gradients.contains(.input), filter == nil { throw .missingBuffer(name: "filter") }
    if gradients.contains(.filter), input == nil { throw .missingBuffer(name: "input") }
    if let input { try checkLength("input", input.count, shape.inputCount) }
    if let filter { try checkLength("filter", filter.count, shape.filterCount) }
    try resizeResult(&result.input, "inputGradient", gradients.contains(.input) ? shape.inputCount : nil)
    try resizeResult(&result.filter, "filterGradient", gradients.contains(.filter) ? shape.filterCount : nil)
    try resizeResult(&result.bias, "biasGradient", gradients.contains(.bias) ? shape.biasCount : nil)
    try withOptionalBuffer(input) { x throws(ConvError) in
        try withOptionalBuffer(filter) { f throws(ConvError) in
            try outputGradient.withUnsafeBufferPointer { dO throws(ConvError) in
                try withOptionalMutableBuffer(&result.input) { dx throws(ConvError) in
                    try withOptionalMutableBuffer(&result.filter) { df throws(ConvError) in
                        try withOptionalMutableBuffer(&result.bias) { db throws(ConvError) in
                            try call(x, f, dO, dx, df, db)
                        }
                    }
                }
            }
        }
    }
}
