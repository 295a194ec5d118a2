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
    /// dL/dX, `N×C×H×W` (in the geometry's layout).
    public var input: [Scalar]?
    /// dL/dF, `K×(C/G)×R×S` (in the geometry's filter layout).
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
    ) throws(ConvError)

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
    ) throws(ConvError)
}
