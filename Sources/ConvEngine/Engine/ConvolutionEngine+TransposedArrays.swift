// The array forms of the transposed convolution's operations on ``ConvolutionEngine``, written once over the buffer forms
// (ArrayCalls.swift): lengths checked and results sized before anything is allocated.

extension ConvolutionEngine {
    /// The transposed convolution's forward pass on arrays; returns the output (`N×Cout×Ho×Wo`, `geometry.outputCount` elements).
    ///
    /// - Parameters:
    ///   - geometry: the transposed convolution; every array's length is checked against it.
    ///   - input: Xt (`N×Cin×H×W`), `geometry.inputCount` elements.
    ///   - filter: the weight Wt (`Cin×(Cout/G)×R×S`), `geometry.filterCount` elements.
    ///   - bias: `geometry.outputChannels` elements, or `nil` for none.
    ///   - workspace: scratch memory to reuse across calls; `nil` (the default) uses a new one for this call.
    /// - Throws: as the buffer form, and ``ConvError/invalidArgument(name:reason:)`` when the output would not
    ///   fit in physical memory.
    public func forward<T: ConvScalar>(
        _ geometry: TransposedConvGeometry, input: [T], filter: [T], bias: [T]? = nil, workspace: ConvWorkspace<T>? = nil
    ) throws(ConvError) -> [T] {
        var output: [T] = []
        try forward(geometry, input: input, filter: filter, bias: bias, output: &output,
                    workspace: workspace ?? ConvWorkspace<T>())
        return output
    }

    /// The transposed convolution's forward pass into an existing array: the output is written into `output`, which is first resized
    /// to `geometry.outputCount` elements if it has another length (so with the right length and a kept
    /// `workspace`, the call allocates nothing).
    ///
    /// - Parameters:
    ///   - geometry: the transposed convolution; every array's length is checked against it.
    ///   - input: Xt (`N×Cin×H×W`), `geometry.inputCount` elements.
    ///   - filter: the weight Wt (`Cin×(Cout/G)×R×S`), `geometry.filterCount` elements.
    ///   - bias: `geometry.outputChannels` elements, or `nil` for none.
    ///   - output: receives the output (`N×Cout×Ho×Wo`), overwritten.
    ///   - workspace: scratch memory, grown if needed and reused by later calls.
    /// - Throws: as the buffer form; `output` is unchanged when the call throws before computing.
    public func forward<T: ConvScalar>(
        _ geometry: TransposedConvGeometry, input: [T], filter: [T], bias: [T]? = nil,
        output: inout [T], workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try forwardArrays(geometry, input: input, filter: filter, bias: bias, output: &output) {
            x, f, b, o throws(ConvError) in
            try forward(geometry, input: x, filter: f, bias: b, output: o, workspace: workspace)
        }
    }

    /// The transposed convolution's backward pass on arrays: the gradients named in `gradients` (all three by default).
    /// `input` may be `nil` when the filter gradient is not requested, `filter` when the input gradient is not.
    ///
    /// - Parameters:
    ///   - geometry: the transposed convolution; every array's length is checked against it.
    ///   - input: Xt (`N×Cin×H×W`), `geometry.inputCount` elements (or `nil` if the filter gradient is not requested).
    ///   - filter: the weight Wt (`Cin×(Cout/G)×R×S`), `geometry.filterCount` elements (or `nil` if the input gradient is not requested).
    ///   - outputGradient: the output's gradient (`N×Cout×Ho×Wo`), `geometry.outputCount` elements.
    ///   - gradients: which gradients to compute.
    ///   - workspace: scratch memory to reuse across calls; `nil` (the default) uses a new one for this call.
    /// - Returns: the requested gradients (the others `nil`), the filter and bias gradients summed over the batch.
    /// - Throws: as the buffer form, and ``ConvError/invalidArgument(name:reason:)`` when a result would not
    ///   fit in physical memory.
    public func backward<T: ConvScalar>(
        _ geometry: TransposedConvGeometry, input: [T]?, filter: [T]?, outputGradient: [T], gradients: GradientSet = .all,
        workspace: ConvWorkspace<T>? = nil
    ) throws(ConvError) -> Gradients<T> {
        var result = Gradients<T>()
        try backward(geometry, input: input, filter: filter, outputGradient: outputGradient, gradients: gradients,
                     into: &result, workspace: workspace ?? ConvWorkspace<T>())
        return result
    }

    /// The transposed convolution's backward pass into existing arrays: each gradient named in `gradients` is written into its field
    /// of `result` (resized first if `nil` or of another length; the fields of gradients not requested are set
    /// to `nil`). With arrays of the right lengths and a kept `workspace`, the call allocates nothing.
    ///
    /// - Parameters:
    ///   - geometry: the transposed convolution; every array's length is checked against it.
    ///   - input: Xt (`N×Cin×H×W`), `geometry.inputCount` elements (or `nil` if the filter gradient is not requested).
    ///   - filter: the weight Wt (`Cin×(Cout/G)×R×S`), `geometry.filterCount` elements (or `nil` if the input gradient is not requested).
    ///   - outputGradient: the output's gradient (`N×Cout×Ho×Wo`), `geometry.outputCount` elements.
    ///   - gradients: which gradients to compute.
    ///   - result: receives the input gradient (`inputCount`), the filter gradient (`filterCount`) and the bias
    ///     gradient (`outputChannels`), overwritten, not accumulated.
    ///   - workspace: scratch memory, grown if needed and reused by later calls.
    /// - Throws: as the buffer form; `result` is unchanged when a length is wrong.
    public func backward<T: ConvScalar>(
        _ geometry: TransposedConvGeometry, input: [T]?, filter: [T]?, outputGradient: [T], gradients: GradientSet = .all,
        into result: inout Gradients<T>, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try backwardArrays(geometry, input: input, filter: filter, outputGradient: outputGradient,
                           gradients: gradients, into: &result) { x, f, dO, dx, df, db throws(ConvError) in
            try backward(geometry, input: x, filter: f, outputGradient: dO, inputGradient: dx, filterGradient: df,
                         biasGradient: db, workspace: workspace)
        }
    }
}
