/// Which gradients a backward call computes.
public struct GradientSet: OptionSet, Hashable, Sendable {
    /// The set as bits: ``input`` is 1, ``filter`` 2, ``bias`` 4.
    public let rawValue: Int
    /// The set whose bits are `rawValue` (see ``rawValue``).
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// dL/dX, the input gradient (not needed for a network's first layer).
    public static let input = GradientSet(rawValue: 1)
    /// dL/dF, the filter gradient (not needed for frozen filters).
    public static let filter = GradientSet(rawValue: 2)
    /// dL/dB, the bias gradient.
    public static let bias = GradientSet(rawValue: 4)
    /// All three.
    public static let all: GradientSet = [.input, .filter, .bias]
}

/// The gradients a backward call returned; a gradient that was not requested is `nil`.
public struct Gradients<Scalar: ConvScalar>: Sendable {
    /// dL/dX, `N×C×H×W`.
    public var input: [Scalar]?
    /// dL/dF, `K×(C/G)×R×S`.
    public var filter: [Scalar]?
    /// dL/dB, `K`.
    public var bias: [Scalar]?

    /// Gradients with the given arrays; `nil` stands for a gradient that was not computed.
    ///
    /// - Parameters:
    ///   - input: dL/dX, `N×C×H×W` elements.
    ///   - filter: dL/dF, `K×(C/G)×R×S` elements.
    ///   - bias: dL/dB, `K` elements.
    public init(input: [Scalar]? = nil, filter: [Scalar]? = nil, bias: [Scalar]? = nil) {
        self.input = input; self.filter = filter; self.bias = bias
    }
}

/// Something that computes the four convolution computations with one calling convention:
/// ``ConvolutionEngine`` (the fast GEMM lowering) and ``ReferenceConvolution`` (the direct-loop oracle),
/// so tests and benchmarks can swap one for the other.
///
/// Layouts are NCHW and row-major (see ``ConvGeometry``). Outputs are **overwritten**: gradients do not
/// accumulate into what the destination held before. All errors are ``ConvError``.
public protocol ConvolutionBackend: Sendable {
    /// Forward pass: `output = conv(input, filter) + bias`.
    ///
    /// - Parameters:
    ///   - geometry: the convolution; every buffer's length is checked against it.
    ///   - input: X, `geometry.inputCount` elements.
    ///   - filter: F, `geometry.filterCount` elements.
    ///   - bias: B, `geometry.outputChannels` elements, or `nil` for none.
    ///   - output: O, `geometry.outputCount` elements, overwritten. Must not overlap any other buffer.
    ///   - workspace: scratch memory, grown if needed and reused by later calls.
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)``, ``ConvError/overlappingBuffers(output:other:)``,
    ///   ``ConvError/algorithmNotApplicable(algorithm:reason:)``.
    func forward<T: ConvScalar>(
        _ geometry: ConvGeometry,
        input: UnsafeBufferPointer<T>, filter: UnsafeBufferPointer<T>, bias: UnsafeBufferPointer<T>?,
        output: UnsafeMutableBufferPointer<T>, workspace: ConvWorkspace<T>
    ) throws

    /// Backward pass: any subset of the input, filter and bias gradients in one call.
    ///
    /// Pass `nil` for a gradient you do not need. `input` is required for the filter gradient, `filter`
    /// for the input gradient (``ConvError/missingBuffer(name:)`` otherwise). Every gradient given is
    /// overwritten, summed over the whole batch for the filter and bias gradients.
    ///
    /// - Parameters:
    ///   - geometry: the convolution; every buffer's length is checked against it.
    ///   - input: X, `geometry.inputCount` elements (or `nil` if the filter gradient is not requested).
    ///   - filter: F, `geometry.filterCount` elements (or `nil` if the input gradient is not requested).
    ///   - outputGradient: dL/dO, `geometry.outputCount` elements.
    ///   - inputGradient: dL/dX, `geometry.inputCount` elements.
    ///   - filterGradient: dL/dF, `geometry.filterCount` elements.
    ///   - biasGradient: dL/dB, `geometry.outputChannels` elements.
    ///   - workspace: scratch memory, grown if needed and reused by later calls.
    func backward<T: ConvScalar>(
        _ geometry: ConvGeometry,
        input: UnsafeBufferPointer<T>?, filter: UnsafeBufferPointer<T>?,
        outputGradient: UnsafeBufferPointer<T>,
        inputGradient: UnsafeMutableBufferPointer<T>?, filterGradient: UnsafeMutableBufferPointer<T>?,
        biasGradient: UnsafeMutableBufferPointer<T>?, workspace: ConvWorkspace<T>
    ) throws
}

// The array-level convenience API: allocates its results (and a workspace per call). For repeated calls
// without allocation use the buffer API above with a workspace you keep.
extension ConvolutionBackend {
    /// Forward pass on arrays; returns O (`geometry.outputCount` elements, NCHW).
    public func forward<T: ConvScalar>(_ geometry: ConvGeometry, input: [T], filter: [T], bias: [T]? = nil) throws -> [T] {
        // Checked before the result is allocated, so wrong arrays never cost (or trap in) a huge allocation.
        try checkLength("input", input.count, geometry.inputCount)
        try checkLength("filter", filter.count, geometry.filterCount)
        if let bias { try checkLength("bias", bias.count, geometry.outputChannels) }
        try checkResultFitsInMemory("output", geometry.outputCount, T.self)
        var output = [T](repeating: 0, count: geometry.outputCount)
        let workspace = ConvWorkspace<T>()
        try input.withUnsafeBufferPointer { x in
            try filter.withUnsafeBufferPointer { f in
                try withOptionalBuffer(bias) { b in
                    try output.withUnsafeMutableBufferPointer { o in
                        try forward(geometry, input: x, filter: f, bias: b, output: o, workspace: workspace)
                    }
                }
            }
        }
        return output
    }

    /// Backward pass on arrays: the gradients named in `gradients` (all three by default).
    /// `input` may be `nil` when the filter gradient is not requested, `filter` when the input gradient is not.
    public func backward<T: ConvScalar>(
        _ geometry: ConvGeometry, input: [T]?, filter: [T]?, outputGradient: [T], gradients: GradientSet = .all
    ) throws -> Gradients<T> {
        // Checked before the results are allocated (as in the buffer API, which checks again).
        try checkLength("outputGradient", outputGradient.count, geometry.outputCount)
        if gradients.contains(.input) {
            guard let filter else { throw ConvError.missingBuffer(name: "filter") }
            try checkLength("filter", filter.count, geometry.filterCount)
            try checkResultFitsInMemory("inputGradient", geometry.inputCount, T.self)
        }
        if gradients.contains(.filter) {
            guard let input else { throw ConvError.missingBuffer(name: "input") }
            try checkLength("input", input.count, geometry.inputCount)
            try checkResultFitsInMemory("filterGradient", geometry.filterCount, T.self)
        }
        if let input { try checkLength("input", input.count, geometry.inputCount) }
        if let filter { try checkLength("filter", filter.count, geometry.filterCount) }
        var dX = gradients.contains(.input) ? [T](repeating: 0, count: geometry.inputCount) : nil
        var dF = gradients.contains(.filter) ? [T](repeating: 0, count: geometry.filterCount) : nil
        var dB = gradients.contains(.bias) ? [T](repeating: 0, count: geometry.outputChannels) : nil
        let workspace = ConvWorkspace<T>()
        try withOptionalBuffer(input) { x in
            try withOptionalBuffer(filter) { f in
                try outputGradient.withUnsafeBufferPointer { dO in
                    try withOptionalMutableBuffer(&dX) { dx in
                        try withOptionalMutableBuffer(&dF) { df in
                            try withOptionalMutableBuffer(&dB) { db in
                                try backward(geometry, input: x, filter: f, outputGradient: dO,
                                             inputGradient: dx, filterGradient: df, biasGradient: db,
                                             workspace: workspace)
                            }
                        }
                    }
                }
            }
        }
        return Gradients(input: dX, filter: dF, bias: dB)
    }

    /// dL/dX alone (`geometry.inputCount` elements).
    public func inputGradient<T: ConvScalar>(_ geometry: ConvGeometry, filter: [T], outputGradient: [T]) throws -> [T] {
        try backward(geometry, input: nil, filter: filter, outputGradient: outputGradient, gradients: .input).input!
    }

    /// dL/dF alone (`geometry.filterCount` elements), summed over the batch.
    public func filterGradient<T: ConvScalar>(_ geometry: ConvGeometry, input: [T], outputGradient: [T]) throws -> [T] {
        try backward(geometry, input: input, filter: nil, outputGradient: outputGradient, gradients: .filter).filter!
    }

    /// dL/dB alone (`geometry.outputChannels` elements), summed over the batch and positions.
    public func biasGradient<T: ConvScalar>(_ geometry: ConvGeometry, outputGradient: [T]) throws -> [T] {
        try backward(geometry, input: nil, filter: nil, outputGradient: outputGradient, gradients: .bias).bias!
    }
}

@usableFromInline
internal func withOptionalBuffer<T, R>(_ array: [T]?, _ body: (UnsafeBufferPointer<T>?) throws -> R) rethrows -> R {
    if let array { return try array.withUnsafeBufferPointer { try body($0) } }
    return try body(nil)
}

@usableFromInline
internal func withOptionalMutableBuffer<T, R>(_ array: inout [T]?, _ body: (UnsafeMutableBufferPointer<T>?) throws -> R) rethrows -> R {
    guard var a = array else { return try body(nil) }
    array = nil  // keep `a` uniquely referenced so the mutable buffer does not copy
    defer { array = a }
    return try a.withUnsafeMutableBufferPointer { try body($0) }
}

/// Throws ``ConvError/invalidArgument(name:reason:)`` when an array result of `count` elements would not fit
/// in the machine's physical memory (the array API zero-fills its results, so it would trap or be killed).
@usableFromInline
internal func checkResultFitsInMemory<T>(_ name: String, _ count: Int, _: T.Type) throws {
    let bytes = try checkedProduct(count, MemoryLayout<T>.stride, quantity: "\(name) bytes")
    try checkFitsInMemory(bytes: bytes) {
        .invalidArgument(name: name, reason: "\(bytes) bytes exceed the physical memory (\($0) bytes)")
    }
}
