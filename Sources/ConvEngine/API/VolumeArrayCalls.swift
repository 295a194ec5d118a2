// The array forms of the 3-D convolution on the engine and the reference, written with the family's shared
// helpers (ArrayCalls.swift): lengths checked and results sized before anything is allocated.

extension ConvolutionEngine {
    /// 3-D forward pass on arrays; returns O (with the engine's plan).
    ///
    /// - Parameters:
    ///   - geometry: the 3-D convolution; every array's length is checked against it.
    ///   - input: X, `geometry.inputCount` elements, N×C×D×H×W.
    ///   - filter: F, `geometry.filterCount` elements, K×(C/G)×T×R×S.
    ///   - bias: B, `geometry.outputChannels` elements, or `nil` for none.
    ///   - workspace: scratch memory to reuse across calls; `nil` (the default) uses a new one for this call.
    /// - Returns: O, `geometry.outputCount` elements, N×K×E×P×Q.
    /// - Throws: as the buffer form, and ``ConvError/invalidArgument(name:reason:)`` when the output would not fit
    ///   in physical memory.
    public func forward<T: ConvScalar>(
        _ geometry: ConvGeometry3D, input: [T], filter: [T], bias: [T]? = nil, workspace: ConvWorkspace<T>? = nil
    ) throws(ConvError) -> [T] {
        var output: [T] = []
        try forward(geometry, input: input, filter: filter, bias: bias, output: &output,
                    workspace: workspace ?? ConvWorkspace<T>())
        return output
    }

    /// 3-D forward pass into an existing array: O is written into `output`, first resized to
    /// `geometry.outputCount` elements if it has another length (so with the right length and a kept
    /// `workspace`, the call allocates nothing).
    ///
    /// - Parameters:
    ///   - geometry: the 3-D convolution; every array's length is checked against it.
    ///   - input: X, `geometry.inputCount` elements, N×C×D×H×W.
    ///   - filter: F, `geometry.filterCount` elements, K×(C/G)×T×R×S.
    ///   - bias: B, `geometry.outputChannels` elements, or `nil` for none.
    ///   - output: receives O (N×K×E×P×Q), overwritten.
    ///   - workspace: scratch memory, grown if needed and reused by later calls.
    /// - Throws: as the buffer form; `output` is unchanged when the call throws before computing.
    public func forward<T: ConvScalar>(
        _ geometry: ConvGeometry3D, input: [T], filter: [T], bias: [T]? = nil,
        output: inout [T], workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try forwardArrays(geometry, input: input, filter: filter, bias: bias, output: &output) {
            x, f, b, o throws(ConvError) in
            try forward(geometry, input: x, filter: f, bias: b, output: o, workspace: workspace)
        }
    }

    /// 3-D backward pass on arrays: the gradients named in `gradients` (all three by default).
    ///
    /// - Parameters:
    ///   - geometry: the 3-D convolution; every array's length is checked against it.
    ///   - input: X, `geometry.inputCount` elements (or `nil` if the filter gradient is not requested).
    ///   - filter: F, `geometry.filterCount` elements (or `nil` if the input gradient is not requested).
    ///   - outputGradient: dL/dO, `geometry.outputCount` elements, N×K×E×P×Q.
    ///   - gradients: which gradients to compute.
    ///   - workspace: scratch memory to reuse across calls; `nil` (the default) uses a new one for this call.
    /// - Returns: the requested gradients (the others `nil`): dX N×C×D×H×W, dF K×(C/G)×T×R×S and dB K, dF and dB
    ///   summed over the batch.
    /// - Throws: as the buffer form, ``ConvError/missingBuffer(name:)`` for an operand a requested gradient
    ///   needs, and ``ConvError/invalidArgument(name:reason:)`` when a result would not fit in physical memory.
    public func backward<T: ConvScalar>(
        _ geometry: ConvGeometry3D, input: [T]?, filter: [T]?, outputGradient: [T], gradients: GradientSet = .all,
        workspace: ConvWorkspace<T>? = nil
    ) throws(ConvError) -> Gradients<T> {
        var result = Gradients<T>()
        try backward(geometry, input: input, filter: filter, outputGradient: outputGradient, gradients: gradients,
                     into: &result, workspace: workspace ?? ConvWorkspace<T>())
        return result
    }

    /// 3-D backward pass into existing arrays: each requested gradient is written into `result` (resized if it
    /// has another length), the others set to `nil`.
    ///
    /// - Parameters:
    ///   - geometry: the 3-D convolution; every array's length is checked against it.
    ///   - input: X (or `nil` if the filter gradient is not requested).
    ///   - filter: F (or `nil` if the input gradient is not requested).
    ///   - outputGradient: dL/dO, N×K×E×P×Q.
    ///   - gradients: which gradients to compute.
    ///   - result: receives the gradients, overwritten.
    ///   - workspace: scratch memory, grown if needed and reused by later calls.
    /// - Throws: as `backward(_:input:filter:outputGradient:gradients:workspace:)`.
    public func backward<T: ConvScalar>(
        _ geometry: ConvGeometry3D, input: [T]?, filter: [T]?, outputGradient: [T], gradients: GradientSet = .all,
        into result: inout Gradients<T>, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try backwardArrays(geometry, input: input, filter: filter, outputGradient: outputGradient,
                           gradients: gradients, into: &result) { x, f, dO, dx, df, db throws(ConvError) in
            try backward(geometry, input: x, filter: f, outputGradient: dO, inputGradient: dx, filterGradient: df,
                         biasGradient: db, workspace: workspace)
        }
    }
}

extension ReferenceConvolution {
    /// 3-D forward pass on arrays; returns O (by the reference's direct loops).
    ///
    /// - Parameters:
    ///   - geometry: the 3-D convolution; every array's length is checked against it.
    ///   - input: X, `geometry.inputCount` elements, N×C×D×H×W.
    ///   - filter: F, `geometry.filterCount` elements, K×(C/G)×T×R×S.
    ///   - bias: B, `geometry.outputChannels` elements, or `nil` for none.
    ///   - workspace: scratch memory to reuse across calls; `nil` (the default) uses a new one for this call.
    /// - Returns: O, `geometry.outputCount` elements, N×K×E×P×Q.
    /// - Throws: as the buffer form, and ``ConvError/invalidArgument(name:reason:)`` when the output would not fit
    ///   in physical memory.
    public func forward<T: ConvScalar>(
        _ geometry: ConvGeometry3D, input: [T], filter: [T], bias: [T]? = nil, workspace: ConvWorkspace<T>? = nil
    ) throws(ConvError) -> [T] {
        var output: [T] = []
        try forward(geometry, input: input, filter: filter, bias: bias, output: &output,
                    workspace: workspace ?? ConvWorkspace<T>())
        return output
    }

    /// 3-D forward pass into an existing array: O is written into `output`, first resized to
    /// `geometry.outputCount` elements if it has another length (so with the right length and a kept
    /// `workspace`, the call allocates nothing).
    ///
    /// - Parameters:
    ///   - geometry: the 3-D convolution; every array's length is checked against it.
    ///   - input: X, `geometry.inputCount` elements, N×C×D×H×W.
    ///   - filter: F, `geometry.filterCount` elements, K×(C/G)×T×R×S.
    ///   - bias: B, `geometry.outputChannels` elements, or `nil` for none.
    ///   - output: receives O (N×K×E×P×Q), overwritten.
    ///   - workspace: scratch memory, grown if needed and reused by later calls.
    /// - Throws: as the buffer form; `output` is unchanged when the call throws before computing.
    public func forward<T: ConvScalar>(
        _ geometry: ConvGeometry3D, input: [T], filter: [T], bias: [T]? = nil,
        output: inout [T], workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try forwardArrays(geometry, input: input, filter: filter, bias: bias, output: &output) {
            x, f, b, o throws(ConvError) in
            try forward(geometry, input: x, filter: f, bias: b, output: o, workspace: workspace)
        }
    }

    /// 3-D backward pass on arrays: the gradients named in `gradients` (all three by default).
    ///
    /// - Parameters:
    ///   - geometry: the 3-D convolution; every array's length is checked against it.
    ///   - input: X, `geometry.inputCount` elements (or `nil` if the filter gradient is not requested).
    ///   - filter: F, `geometry.filterCount` elements (or `nil` if the input gradient is not requested).
    ///   - outputGradient: dL/dO, `geometry.outputCount` elements, N×K×E×P×Q.
    ///   - gradients: which gradients to compute.
    ///   - workspace: scratch memory to reuse across calls; `nil` (the default) uses a new one for this call.
    /// - Returns: the requested gradients (the others `nil`): dX N×C×D×H×W, dF K×(C/G)×T×R×S and dB K, dF and dB
    ///   summed over the batch.
    /// - Throws: as the buffer form, ``ConvError/missingBuffer(name:)`` for an operand a requested gradient
    ///   needs, and ``ConvError/invalidArgument(name:reason:)`` when a result would not fit in physical memory.
    public func backward<T: ConvScalar>(
        _ geometry: ConvGeometry3D, input: [T]?, filter: [T]?, outputGradient: [T], gradients: GradientSet = .all,
        workspace: ConvWorkspace<T>? = nil
    ) throws(ConvError) -> Gradients<T> {
        var result = Gradients<T>()
        try backward(geometry, input: input, filter: filter, outputGradient: outputGradient, gradients: gradients,
                     into: &result, workspace: workspace ?? ConvWorkspace<T>())
        return result
    }

    /// 3-D backward pass into existing arrays: each requested gradient is written into `result` (resized if it
    /// has another length), the others set to `nil`.
    ///
    /// - Parameters:
    ///   - geometry: the 3-D convolution; every array's length is checked against it.
    ///   - input: X (or `nil` if the filter gradient is not requested).
    ///   - filter: F (or `nil` if the input gradient is not requested).
    ///   - outputGradient: dL/dO, N×K×E×P×Q.
    ///   - gradients: which gradients to compute.
    ///   - result: receives the gradients, overwritten.
    ///   - workspace: scratch memory, grown if needed and reused by later calls.
    /// - Throws: as `backward(_:input:filter:outputGradient:gradients:workspace:)`.
    public func backward<T: ConvScalar>(
        _ geometry: ConvGeometry3D, input: [T]?, filter: [T]?, outputGradient: [T], gradients: GradientSet = .all,
        into result: inout Gradients<T>, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try backwardArrays(geometry, input: input, filter: filter, outputGradient: outputGradient,
                           gradients: gradients, into: &result) { x, f, dO, dx, df, db throws(ConvError) in
            try backward(geometry, input: x, filter: f, outputGradient: dO, inputGradient: dx, filterGradient: df,
                         biasGradient: db, workspace: workspace)
        }
    }
}
