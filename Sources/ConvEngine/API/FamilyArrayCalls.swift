// The array forms of the transposed 2-D, 1-D, 1-D transposed and 3-D operations on ``ConvolutionEngine`` and
// ``ReferenceConvolution``, written once for every geometry of the family: each checks the lengths and sizes the
// results (ArrayCalls.swift), then runs the geometry's buffer-level pass on the backend (LayerGeometry's dispatch).
// They are disfavoured so that a 2-D call keeps choosing ConvolutionBackend's ConvGeometry overloads.

extension ConvolutionEngine {
    /// The forward pass of any operation of the family on arrays (by the engine's algorithms); returns the output,
    /// `geometry.outputCount` elements.
    ///
    /// The tensors' shapes and layouts are those the geometry's type documents (``ConvGeometry1D``,
    /// ``TransposedConvGeometry``, ``TransposedConvGeometry1D``, ``ConvGeometry3D``); the 2-D ``ConvGeometry`` has
    /// its own overloads on ``ConvolutionBackend``, which a 2-D call chooses.
    ///
    /// - Parameters:
    ///   - geometry: the operation; every array's length is checked against it.
    ///   - input: the input, `geometry.inputCount` elements.
    ///   - filter: the filter (the weight, in the geometry's layout), `geometry.filterCount` elements.
    ///   - bias: `geometry.biasCount` elements (one per output channel), or `nil` for none.
    ///   - workspace: scratch memory to reuse across calls; `nil` (the default) uses a new one for this call.
    /// - Returns: the output, `geometry.outputCount` elements.
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)`` for an array of the wrong length,
    ///   ``ConvError/invalidArgument(name:reason:)`` when the output would not fit in physical memory, and the
    ///   buffer form's errors for the operation.
    @_disfavoredOverload
    public func forward<G: LayerGeometry, T: ConvScalar>(
        _ geometry: G, input: [T], filter: [T], bias: [T]? = nil, workspace: ConvWorkspace<T>? = nil
    ) throws(ConvError) -> [T] {
        var output: [T] = []
        try forward(geometry, input: input, filter: filter, bias: bias, output: &output,
                    workspace: workspace ?? ConvWorkspace<T>())
        return output
    }

    /// The forward pass of any operation of the family into an existing array: the output is written into
    /// `output`, which is first resized to `geometry.outputCount` elements if it has another length (so with the
    /// right length and a kept `workspace`, the call allocates nothing). Shapes and layouts as the geometry's type
    /// documents.
    ///
    /// - Parameters:
    ///   - geometry: the operation; every array's length is checked against it.
    ///   - input: the input, `geometry.inputCount` elements.
    ///   - filter: the filter (the weight, in the geometry's layout), `geometry.filterCount` elements.
    ///   - bias: `geometry.biasCount` elements (one per output channel), or `nil` for none.
    ///   - output: receives the output (`geometry.outputCount` elements), overwritten.
    ///   - workspace: scratch memory, grown if needed and reused by later calls.
    /// - Throws: as ``forward(_:input:filter:bias:workspace:)-(G,_,_,_,_)``; `output` is unchanged when the call
    ///   throws before computing.
    @_disfavoredOverload
    public func forward<G: LayerGeometry, T: ConvScalar>(
        _ geometry: G, input: [T], filter: [T], bias: [T]? = nil,
        output: inout [T], workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try forwardArrays(geometry, input: input, filter: filter, bias: bias, output: &output) {
            x, f, b, o throws(ConvError) in
            try geometry.forward(on: self, input: x, filter: f, bias: b, output: o, workspace: workspace)
        }
    }

    /// The backward pass of any operation of the family on arrays: the gradients named in `gradients` (all three by
    /// default). `input` may be `nil` when the filter gradient is not requested, `filter` when the input gradient
    /// is not. Shapes and layouts as the geometry's type documents.
    ///
    /// - Parameters:
    ///   - geometry: the operation; every array's length is checked against it.
    ///   - input: the input, `geometry.inputCount` elements (or `nil` if the filter gradient is not requested).
    ///   - filter: the filter, `geometry.filterCount` elements (or `nil` if the input gradient is not requested).
    ///   - outputGradient: the output's gradient, `geometry.outputCount` elements.
    ///   - gradients: which gradients to compute.
    ///   - workspace: scratch memory to reuse across calls; `nil` (the default) uses a new one for this call.
    /// - Returns: the requested gradients (the others `nil`): the input gradient (`inputCount` elements), the
    ///   filter gradient (`filterCount`) and the bias gradient (`biasCount`), the last two summed over the batch.
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)`` for an array of the wrong length,
    ///   ``ConvError/missingBuffer(name:)`` for an operand a requested gradient needs,
    ///   ``ConvError/invalidArgument(name:reason:)`` when a result would not fit in physical memory, and the
    ///   buffer form's errors for the operation.
    @_disfavoredOverload
    public func backward<G: LayerGeometry, T: ConvScalar>(
        _ geometry: G, input: [T]?, filter: [T]?, outputGradient: [T], gradients: GradientSet = .all,
        workspace: ConvWorkspace<T>? = nil
    ) throws(ConvError) -> Gradients<T> {
        var result = Gradients<T>()
        try backward(geometry, input: input, filter: filter, outputGradient: outputGradient, gradients: gradients,
                     into: &result, workspace: workspace ?? ConvWorkspace<T>())
        return result
    }

    /// The backward pass of any operation of the family into existing arrays: each gradient named in `gradients`
    /// is written into its field of `result` (resized first if `nil` or of another length; the fields of
    /// gradients not requested are set to `nil`). With arrays of the right lengths and a kept `workspace`, the
    /// call allocates nothing. Shapes and layouts as the geometry's type documents.
    ///
    /// - Parameters:
    ///   - geometry: the operation; every array's length is checked against it.
    ///   - input: the input, `geometry.inputCount` elements (or `nil` if the filter gradient is not requested).
    ///   - filter: the filter, `geometry.filterCount` elements (or `nil` if the input gradient is not requested).
    ///   - outputGradient: the output's gradient, `geometry.outputCount` elements.
    ///   - gradients: which gradients to compute.
    ///   - result: receives the input gradient (`inputCount`), the filter gradient (`filterCount`) and the bias
    ///     gradient (`biasCount`), overwritten, not accumulated.
    ///   - workspace: scratch memory, grown if needed and reused by later calls.
    /// - Throws: as ``backward(_:input:filter:outputGradient:gradients:workspace:)-(G,_,_,_,_,_)``; `result` is
    ///   unchanged when a length is wrong.
    @_disfavoredOverload
    public func backward<G: LayerGeometry, T: ConvScalar>(
        _ geometry: G, input: [T]?, filter: [T]?, outputGradient: [T], gradients: GradientSet = .all,
        into result: inout Gradients<T>, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try backwardArrays(geometry, input: input, filter: filter, outputGradient: outputGradient,
                           gradients: gradients, into: &result) { x, f, dO, dx, df, db throws(ConvError) in
            try geometry.backward(on: self, input: x, filter: f, outputGradient: dO, inputGradient: dx,
                                  filterGradient: df, biasGradient: db, workspace: workspace)
        }
    }
}

extension ReferenceConvolution {
    /// The forward pass of any operation of the family on arrays (by the reference's direct loops); returns the output,
    /// `geometry.outputCount` elements.
    ///
    /// The tensors' shapes and layouts are those the geometry's type documents (``ConvGeometry1D``,
    /// ``TransposedConvGeometry``, ``TransposedConvGeometry1D``, ``ConvGeometry3D``); the 2-D ``ConvGeometry`` has
    /// its own overloads on ``ConvolutionBackend``, which a 2-D call chooses.
    ///
    /// - Parameters:
    ///   - geometry: the operation; every array's length is checked against it.
    ///   - input: the input, `geometry.inputCount` elements.
    ///   - filter: the filter (the weight, in the geometry's layout), `geometry.filterCount` elements.
    ///   - bias: `geometry.biasCount` elements (one per output channel), or `nil` for none.
    ///   - workspace: not used by the reference (any workspace, or `nil`).
    /// - Returns: the output, `geometry.outputCount` elements.
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)`` for an array of the wrong length,
    ///   ``ConvError/invalidArgument(name:reason:)`` when the output would not fit in physical memory, and the
    ///   buffer form's errors for the operation.
    @_disfavoredOverload
    public func forward<G: LayerGeometry, T: ConvScalar>(
        _ geometry: G, input: [T], filter: [T], bias: [T]? = nil, workspace: ConvWorkspace<T>? = nil
    ) throws(ConvError) -> [T] {
        var output: [T] = []
        try forward(geometry, input: input, filter: filter, bias: bias, output: &output,
                    workspace: workspace ?? ConvWorkspace<T>())
        return output
    }

    /// The forward pass of any operation of the family into an existing array: the output is written into
    /// `output`, which is first resized to `geometry.outputCount` elements if it has another length (so with the
    /// right length and a kept `workspace`, the call allocates nothing). Shapes and layouts as the geometry's type
    /// documents.
    ///
    /// - Parameters:
    ///   - geometry: the operation; every array's length is checked against it.
    ///   - input: the input, `geometry.inputCount` elements.
    ///   - filter: the filter (the weight, in the geometry's layout), `geometry.filterCount` elements.
    ///   - bias: `geometry.biasCount` elements (one per output channel), or `nil` for none.
    ///   - output: receives the output (`geometry.outputCount` elements), overwritten.
    ///   - workspace: not used by the reference.
    /// - Throws: as ``forward(_:input:filter:bias:workspace:)-(G,_,_,_,_)``; `output` is unchanged when the call
    ///   throws before computing.
    @_disfavoredOverload
    public func forward<G: LayerGeometry, T: ConvScalar>(
        _ geometry: G, input: [T], filter: [T], bias: [T]? = nil,
        output: inout [T], workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try forwardArrays(geometry, input: input, filter: filter, bias: bias, output: &output) {
            x, f, b, o throws(ConvError) in
            try geometry.forward(on: self, input: x, filter: f, bias: b, output: o, workspace: workspace)
        }
    }

    /// The backward pass of any operation of the family on arrays: the gradients named in `gradients` (all three by
    /// default). `input` may be `nil` when the filter gradient is not requested, `filter` when the input gradient
    /// is not. Shapes and layouts as the geometry's type documents.
    ///
    /// - Parameters:
    ///   - geometry: the operation; every array's length is checked against it.
    ///   - input: the input, `geometry.inputCount` elements (or `nil` if the filter gradient is not requested).
    ///   - filter: the filter, `geometry.filterCount` elements (or `nil` if the input gradient is not requested).
    ///   - outputGradient: the output's gradient, `geometry.outputCount` elements.
    ///   - gradients: which gradients to compute.
    ///   - workspace: not used by the reference (any workspace, or `nil`).
    /// - Returns: the requested gradients (the others `nil`): the input gradient (`inputCount` elements), the
    ///   filter gradient (`filterCount`) and the bias gradient (`biasCount`), the last two summed over the batch.
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)`` for an array of the wrong length,
    ///   ``ConvError/missingBuffer(name:)`` for an operand a requested gradient needs,
    ///   ``ConvError/invalidArgument(name:reason:)`` when a result would not fit in physical memory, and the
    ///   buffer form's errors for the operation.
    @_disfavoredOverload
    public func backward<G: LayerGeometry, T: ConvScalar>(
        _ geometry: G, input: [T]?, filter: [T]?, outputGradient: [T], gradients: GradientSet = .all,
        workspace: ConvWorkspace<T>? = nil
    ) throws(ConvError) -> Gradients<T> {
        var result = Gradients<T>()
        try backward(geometry, input: input, filter: filter, outputGradient: outputGradient, gradients: gradients,
                     into: &result, workspace: workspace ?? ConvWorkspace<T>())
        return result
    }

    /// The backward pass of any operation of the family into existing arrays: each gradient named in `gradients`
    /// is written into its field of `result` (resized first if `nil` or of another length; the fields of
    /// gradients not requested are set to `nil`). With arrays of the right lengths and a kept `workspace`, the
    /// call allocates nothing. Shapes and layouts as the geometry's type documents.
    ///
    /// - Parameters:
    ///   - geometry: the operation; every array's length is checked against it.
    ///   - input: the input, `geometry.inputCount` elements (or `nil` if the filter gradient is not requested).
    ///   - filter: the filter, `geometry.filterCount` elements (or `nil` if the input gradient is not requested).
    ///   - outputGradient: the output's gradient, `geometry.outputCount` elements.
    ///   - gradients: which gradients to compute.
    ///   - result: receives the input gradient (`inputCount`), the filter gradient (`filterCount`) and the bias
    ///     gradient (`biasCount`), overwritten, not accumulated.
    ///   - workspace: not used by the reference.
    /// - Throws: as ``backward(_:input:filter:outputGradient:gradients:workspace:)-(G,_,_,_,_,_)``; `result` is
    ///   unchanged when a length is wrong.
    @_disfavoredOverload
    public func backward<G: LayerGeometry, T: ConvScalar>(
        _ geometry: G, input: [T]?, filter: [T]?, outputGradient: [T], gradients: GradientSet = .all,
        into result: inout Gradients<T>, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try backwardArrays(geometry, input: input, filter: filter, outputGradient: outputGradient,
                           gradients: gradients, into: &result) { x, f, dO, dx, df, db throws(ConvError) in
            try geometry.backward(on: self, input: x, filter: f, outputGradient: dO, inputGradient: dx,
                                  filterGradient: df, biasGradient: db, workspace: workspace)
        }
    }
}
