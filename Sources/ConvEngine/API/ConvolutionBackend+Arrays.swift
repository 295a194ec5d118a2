// The array-level API of every backend, on top of its buffer API. Lengths and result sizes are checked before
// anything is allocated, so a wrong array never costs (or traps in) a huge allocation. Three flavours:
//   - returning fresh arrays, with a per-call workspace unless one is given;
//   - writing into `inout` arrays with a caller's workspace, which allocates nothing once the arrays have
//     the geometry's sizes (a training loop's case);
//   - one gradient alone (`inputGradient`, `filterGradient`, `biasGradient`).
extension ConvolutionBackend {
    /// Forward pass on arrays; returns O (`geometry.outputCount` elements, in the geometry's layout).
    ///
    /// - Parameters:
    ///   - geometry: the convolution; every array's length is checked against it.
    ///   - input: X, `geometry.inputCount` elements.
    ///   - filter: F, `geometry.filterCount` elements.
    ///   - bias: B, `geometry.outputChannels` elements, or `nil` for none.
    ///   - workspace: scratch memory to reuse across calls; `nil` (the default) uses a new one for this call.
    /// - Throws: as the buffer form, and ``ConvError/invalidArgument(name:reason:)`` when the output would not
    ///   fit in physical memory.
    public func forward<T: ConvScalar>(
        _ geometry: ConvGeometry, input: [T], filter: [T], bias: [T]? = nil, workspace: ConvWorkspace<T>? = nil
    ) throws(ConvError) -> [T] {
        var output: [T] = []
        try forward(geometry, input: input, filter: filter, bias: bias, output: &output,
                    workspace: workspace ?? ConvWorkspace<T>())
        return output
    }

    /// Forward pass into an existing array: O is written into `output`, which is first resized to
    /// `geometry.outputCount` elements if it has another length (so with the right length and a kept
    /// `workspace`, the call allocates nothing).
    ///
    /// - Parameters:
    ///   - geometry: the convolution; every array's length is checked against it.
    ///   - input: X, `geometry.inputCount` elements.
    ///   - filter: F, `geometry.filterCount` elements.
    ///   - bias: B, `geometry.outputChannels` elements, or `nil` for none.
    ///   - output: receives O (`geometry.outputCount` elements, in the geometry's layout), overwritten.
    ///   - workspace: scratch memory, grown if needed and reused by later calls.
    /// - Throws: as ``forward(_:input:filter:bias:workspace:)-(ConvGeometry,_,_,_,_)``; `output` is unchanged when the call throws
    ///   before computing.
    public func forward<T: ConvScalar>(
        _ geometry: ConvGeometry, input: [T], filter: [T], bias: [T]? = nil,
        output: inout [T], workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try forwardArrays(geometry, input: input, filter: filter, bias: bias, output: &output) {
            x, f, b, o throws(ConvError) in
            try forward(geometry, input: x, filter: f, bias: b, output: o, workspace: workspace)
        }
    }

    /// Backward pass on arrays: the gradients named in `gradients` (all three by default).
    /// `input` may be `nil` when the filter gradient is not requested, `filter` when the input gradient is not.
    ///
    /// - Parameters:
    ///   - geometry: the convolution; every array's length is checked against it.
    ///   - input: X, `geometry.inputCount` elements (or `nil` if the filter gradient is not requested).
    ///   - filter: F, `geometry.filterCount` elements (or `nil` if the input gradient is not requested).
    ///   - outputGradient: dL/dO, `geometry.outputCount` elements.
    ///   - gradients: which gradients to compute.
    ///   - workspace: scratch memory to reuse across calls; `nil` (the default) uses a new one for this call.
    /// - Returns: the requested gradients (the others `nil`), dF and dB summed over the batch.
    /// - Throws: as the buffer form, and ``ConvError/invalidArgument(name:reason:)`` when a result would not
    ///   fit in physical memory.
    public func backward<T: ConvScalar>(
        _ geometry: ConvGeometry, input: [T]?, filter: [T]?, outputGradient: [T], gradients: GradientSet = .all,
        workspace: ConvWorkspace<T>? = nil
    ) throws(ConvError) -> Gradients<T> {
        var result = Gradients<T>()
        try backward(geometry, input: input, filter: filter, outputGradient: outputGradient, gradients: gradients,
                     into: &result, workspace: workspace ?? ConvWorkspace<T>())
        return result
    }

    /// Backward pass into existing arrays: each gradient named in `gradients` is written into its field of
    /// `result`, which is first resized to the gradient's length if it is `nil` or has another length; the
    /// fields of gradients not requested are set to `nil`. With arrays of the right lengths and a kept
    /// `workspace`, the call allocates nothing.
    ///
    /// - Parameters:
    ///   - geometry: the convolution; every array's length is checked against it.
    ///   - input: X, `geometry.inputCount` elements (or `nil` if the filter gradient is not requested).
    ///   - filter: F, `geometry.filterCount` elements (or `nil` if the input gradient is not requested).
    ///   - outputGradient: dL/dO, `geometry.outputCount` elements.
    ///   - gradients: which gradients to compute.
    ///   - result: receives dL/dX (`inputCount`), dL/dF (`filterCount`) and dL/dB (`outputChannels`),
    ///     overwritten, not accumulated.
    ///   - workspace: scratch memory, grown if needed and reused by later calls.
    /// - Throws: as ``backward(_:input:filter:outputGradient:gradients:workspace:)-(ConvGeometry,_,_,_,_,_)``; `result` is unchanged
    ///   when a length is wrong.
    public func backward<T: ConvScalar>(
        _ geometry: ConvGeometry, input: [T]?, filter: [T]?, outputGradient: [T], gradients: GradientSet = .all,
        into result: inout Gradients<T>, workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try backwardArrays(geometry, input: input, filter: filter, outputGradient: outputGradient,
                           gradients: gradients, into: &result) { x, f, dO, dx, df, db throws(ConvError) in
            try backward(geometry, input: x, filter: f, outputGradient: dO, inputGradient: dx, filterGradient: df,
                         biasGradient: db, workspace: workspace)
        }
    }

    /// dL/dX alone (`geometry.inputCount` elements).
    ///
    /// - Parameters:
    ///   - geometry: the convolution.
    ///   - filter: F, `geometry.filterCount` elements.
    ///   - outputGradient: dL/dO, `geometry.outputCount` elements.
    ///   - workspace: scratch memory to reuse across calls; `nil` (the default) uses a new one for this call.
    /// - Throws: as ``backward(_:input:filter:outputGradient:gradients:workspace:)-(ConvGeometry,_,_,_,_,_)``.
    public func inputGradient<T: ConvScalar>(
        _ geometry: ConvGeometry, filter: [T], outputGradient: [T], workspace: ConvWorkspace<T>? = nil
    ) throws(ConvError) -> [T] {
        try backward(geometry, input: nil, filter: filter, outputGradient: outputGradient, gradients: .input,
                     workspace: workspace).input ?? []
    }

    /// dL/dF alone (`geometry.filterCount` elements), summed over the batch.
    ///
    /// - Parameters:
    ///   - geometry: the convolution.
    ///   - input: X, `geometry.inputCount` elements.
    ///   - outputGradient: dL/dO, `geometry.outputCount` elements.
    ///   - workspace: scratch memory to reuse across calls; `nil` (the default) uses a new one for this call.
    /// - Throws: as ``backward(_:input:filter:outputGradient:gradients:workspace:)-(ConvGeometry,_,_,_,_,_)``.
    public func filterGradient<T: ConvScalar>(
        _ geometry: ConvGeometry, input: [T], outputGradient: [T], workspace: ConvWorkspace<T>? = nil
    ) throws(ConvError) -> [T] {
        try backward(geometry, input: input, filter: nil, outputGradient: outputGradient, gradients: .filter,
                     workspace: workspace).filter ?? []
    }

    /// dL/dB alone (`geometry.outputChannels` elements), summed over the batch and positions.
    ///
    /// - Parameters:
    ///   - geometry: the convolution.
    ///   - outputGradient: dL/dO, `geometry.outputCount` elements.
    /// - Throws: as ``backward(_:input:filter:outputGradient:gradients:workspace:)-(ConvGeometry,_,_,_,_,_)``.
    public func biasGradient<T: ConvScalar>(_ geometry: ConvGeometry, outputGradient: [T]) throws(ConvError) -> [T] {
        try backward(geometry, input: nil, filter: nil, outputGradient: outputGradient, gradients: .bias).bias ?? []
    }
}

/// Makes `array` hold `count` elements (zero-filled when it had another length; kept as it is when its length
/// is right), or sets it to `nil` when `count` is `nil`. Checks the size against physical memory first.
internal func resizeResult<T: ConvScalar>(_ array: inout [T]?, _ name: String, _ count: Int?) throws(ConvError) {
    guard let count else { array = nil; return }
    if array?.count == count { return }
    try checkResultFitsInMemory(name, count, T.self)
    array = zeroedArray(count)
}

/// ``resizeResult(_:_:_:)`` for an array that is always present.
internal func resizeResult<T: ConvScalar>(_ array: inout [T], _ name: String, _ count: Int) throws(ConvError) {
    if array.count == count { return }
    try checkResultFitsInMemory(name, count, T.self)
    array = zeroedArray(count)
}

/// `count` zeros, written as bytes: `[T](repeating: 0, count:)` is not specialized here and copied element by
/// element through T's value witness (a sixth of a 3×3 Winograd forward call through the array API). The zero of
/// a ``ConvScalar`` is all zero bits.
internal func zeroedArray<T: ConvScalar>(_ count: Int) -> [T] {
    [T](unsafeUninitializedCapacity: count) { buffer, initialized in
        if let base = buffer.baseAddress {
            UnsafeMutableRawPointer(base).initializeMemory(as: UInt8.self, repeating: 0,
                                                           count: count * MemoryLayout<T>.stride)
        }
        initialized = count
    }
}

internal func withOptionalBuffer<T, R, E: Error>(
    _ array: [T]?, _ body: (UnsafeBufferPointer<T>?) throws(E) -> R
) throws(E) -> R {
    if let array { return try array.withUnsafeBufferPointer { p throws(E) in try body(p) } }
    return try body(nil)
}

internal func withOptionalMutableBuffer<T, R, E: Error>(
    _ array: inout [T]?, _ body: (UnsafeMutableBufferPointer<T>?) throws(E) -> R
) throws(E) -> R {
    guard var a = array else { return try body(nil) }
    array = nil  // keep `a` uniquely referenced so the mutable buffer does not copy
    defer { array = a }
    return try a.withUnsafeMutableBufferPointer { p throws(E) in try body(p) }
}

/// Throws ``ConvError/invalidArgument(name:reason:)`` when an array result of `count` elements would not fit
/// in the machine's physical memory (the array API zero-fills its results, so it would trap or be killed).
internal func checkResultFitsInMemory<T>(_ name: String, _ count: Int, _: T.Type) throws(ConvError) {
    let bytes = try checkedProduct(count, MemoryLayout<T>.stride, quantity: "\(name) bytes")
    try checkFitsInMemory(bytes: bytes) {
        .invalidArgument(name: name, reason: "\(bytes) bytes exceed the physical memory (\($0) bytes)")
    }
}
