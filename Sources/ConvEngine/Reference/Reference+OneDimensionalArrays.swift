// The array forms of the 1-D convolution's operations on ``ReferenceConvolution``, written once over the buffer forms
// (ArrayCalls.swift): lengths checked and results sized before anything is allocated.

extension ReferenceConvolution {
    /// The 1-D convolution's forward pass on arrays; returns the output (`N×K×Q`, `geometry.outputCount` elements).
    ///
    /// - Parameters:
    ///   - geometry: the 1-D convolution; every array's length is checked against it.
    ///   - input: X (`N×C×L`), `geometry.inputCount` elements.
    ///   - filter: F (`K×(C/G)×S`), `geometry.filterCount` elements.
    ///   - bias: `geometry.outputChannels` elements, or `nil` for none.
    ///   - workspace: not used by the reference (any workspace, or `nil`).
    /// - Throws: as the buffer form, and ``ConvError/invalidArgument(name:reason:)`` when the output would not
    ///   fit in physical memory.
    public func forward<T: ConvScalar>(
        _ geometry: ConvGeometry1D, input: [T], filter: [T], bias: [T]? = nil, workspace: ConvWorkspace<T>? = nil
    ) throws(ConvError) -> [T] {
        var output: [T] = []
        try forward(geometry, input: input, filter: filter, bias: bias, output: &output,
                    workspace: workspace ?? ConvWorkspace<T>())
        return output
    }

    /// The 1-D convolution's forward pass into an existing array: the output is written into `output`, which is first resized
    /// to `geometry.outputCount` elements if it has another length (so with the right length and a kept
    /// `workspace`, the call allocates nothing).
    ///
    /// - Parameters:
    ///   - geometry: the 1-D convolution; every array's length is checked against it.
    ///   - input: X (`N×C×L`), `geometry.inputCount` elements.
    ///   - filter: F (`K×(C/G)×S`), `geometry.filterCount` elements.
    ///   - bias: `geometry.outputChannels` elements, or `nil` for none.
    ///   - output: receives the output (`N×K×Q`), overwritten.
    ///   - workspace: not used by the reference.
    /// - Throws: as the buffer form; `output` is unchanged when the call throws before computing.
    public func forward<T: ConvScalar>(
        _ geometry: ConvGeometry1D, input: [T], filter: [T], bias: [T]? = nil,
        output: inout [T], workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try forwardArrays(geometry, input: input, filter: filter, bias: bias, output: &output) {
            x, f, b, o throws(ConvError) in
            try forward(geometry, input: x, filter: f, bias: b, output: o, workspace: workspace)
        }
    }

    /// The 1-D convolution's backward pass on arrays: the gradients named in `gradients` (all three by default).
    /// `input` may be `nil` when the filter gradient is not requested, `filter` when the input gradient is not.
    ///
    /// - Parameters:
    ///   - geometry: the 1-D convolution; every array's length is checked against it.
    ///   - input: X (`N×C×L`), `geometry.inputCount` elements (or `nil` if the filter gradient is not requested).
    ///   - filter: F (`K×(C/G)×S`), `geometry.filterCount` elements (or `nil` if the input gradient is not requested).
    ///   - outputGradient: the output's gradient (`N×K×Q`), `geometry.outputCount` elements.
    ///   - gradients: which gradients to compute.
    ///   - workspace: not used by the reference (any workspace, or `nil`).
    /// - Returns: the requested gradients (the others `nil`), the filter and bias gradients summed over the batch.
    /// - Throws: as the buffer form, and ``ConvError/invalidArgument(name:reason:)`` when a result would not
    ///   fit in physical memory.
    public func backward<T: ConvScalar>(
        _ geometry: ConvGeometry1D, input: [T]?, filter: [T]?, outputGradient: [T], gradients: GradientSet = .all,
        workspace: ConvWorkspace<T>? = nil
    ) throws(ConvError) -> Gradients<T> {
        var result = Gradients<T>()
        try backward(geometry, input: input, filter: filter, outputGradient: outputGradient, gradients: gradients,
                     into: &result, workspace: workspace ?? ConvWorkspace<T>())
        return result
    }

    /// The 1-D convolution's backward pass into existing arrays: each gradient named in `gradients` is written into its field
    /// of `result` (resized first if `nil` or of another length; the fields of gradients not requested are set
    /// to `nil`). With arrays of the right lengths and a kept `workspace`, the call allocates nothing.
    ///
    /// - Parameters:
    ///   - geometry: the 1-D convolution; every array's length is checked against it.
    ///   - input: X (`N×C×L`), `geometry.inputCount` elements (or `nil` if the filter gradient is not requested).
    ///   - filter: F (`K×(C/G)×S`), `geometry.filterCount` elements (or `nil` if the input gradient is not requested).
    ///   - outputGradient: the output's gradient (`N×K×Q`), `geometry.outputCount` elements.
    ///   - gradients: which gradients to compute.
    ///   - result: receives the input gradient (`inputCount`), the filter gradient (`filterCount`) and the bias
    ///     gradient (`outputChannels`), overwritten, not accumulated.
    ///   - workspace: not used by the reference.
    /// - Throws: as the buffer form; `result` is unchanged when a length is wrong.
    public func backward<T: ConvScalar>(
        _ geometry: ConvGeometry1D, input: [T]?, filter: [T]?, outputGradient: [T], gradients: GradientSet = .all,
        into result: inout Gradients<T>, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try backwardArrays(geometry, input: input, filter: filter, outputGradient: outputGradient,
                           gradients: gradients, into: &result) { x, f, dO, dx, df, db throws(ConvError) in
            try backward(geometry, input: x, filter: f, outputGradient: dO, inputGradient: dx, filterGradient: df,
                         biasGradient: db, workspace: workspace)
        }
    }
}
