/// The errors ConvEngine throws. Every case names what is wrong and the values involved.
///
/// ConvEngine never traps on caller input: an impossible geometry, a buffer of the wrong length,
/// overlapping buffers or sizes that overflow are reported with one of these cases.
public enum ConvError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A size, stride, dilation or group count that must be at least 1 is not.
    case nonPositive(field: String, value: Int)
    /// A padding amount is negative.
    case negativePadding(field: String, value: Int)
    /// `field` (input or output channels) is not a multiple of `groups`.
    case notDivisibleByGroups(field: String, value: Int, groups: Int)
    /// Along `axis` ("height" or "width"), the dilated kernel (`dilation*(kernel-1)+1`) is larger
    /// than the padded input (`input + padding`), so there is no output position.
    case kernelLargerThanPaddedInput(axis: String, paddedInput: Int, dilatedKernel: Int)
    /// `same` padding was requested with a stride other than 1 (as in PyTorch, it is only defined at stride 1).
    case samePaddingRequiresUnitStride(strideHeight: Int, strideWidth: Int)
    /// An element count, FLOP count or workspace size named by `quantity` does not fit in `Int`.
    case sizeOverflow(quantity: String)
    /// A GEMM dimension or leading dimension of the lowering does not fit OpenBLAS's 32-bit integers.
    case blasDimensionTooLarge(quantity: String, value: Int)
    /// The buffer `name` has `actual` elements where the geometry needs `expected`.
    case bufferLength(name: String, expected: Int, actual: Int)
    /// The output buffer `output` shares memory with `other` (an input, another output or the workspace).
    case overlappingBuffers(output: String, other: String)
    /// An optimiser step (``SGD``, ``Adam``, ``AdamW``) was given a gradient (`gradient`, for example
    /// `"gradients.filter"` or `"weight.gradient"`) with `actual` elements for parameters (`parameters`, for
    /// example `"filter"` or `"weight.value"`) with `expected` elements: a step needs one gradient element per
    /// parameter.
    case gradientLength(gradient: String, parameters: String, expected: Int, actual: Int)
    /// A computation needs the buffer `name`, which was not given (for example the input for the filter gradient).
    case missingBuffer(name: String)
    /// The forced algorithm cannot run this geometry (for example the pointwise plan on a 3×3 kernel).
    case algorithmNotApplicable(algorithm: String, reason: String)
    /// The workspace would need `required` bytes, more than the cap of `cap` bytes the caller set,
    /// even at the smallest tile the engine can use; or, without a cap, more than the machine's physical
    /// memory (then `cap` is that memory's size).
    case workspaceCapTooSmall(required: Int, cap: Int)
    /// Any other argument that is out of its documented range (for example a worker count of 0).
    case invalidArgument(name: String, reason: String)

    /// A one-line message naming the problem and the values involved.
    public var description: String {
        switch self {
        case let .nonPositive(field, value):
            return "\(field) must be at least 1, got \(value)"
        case let .negativePadding(field, value):
            return "\(field) must not be negative, got \(value)"
        case let .notDivisibleByGroups(field, value, groups):
            return "\(field) (\(value)) is not divisible by groups (\(groups))"
        case let .kernelLargerThanPaddedInput(axis, paddedInput, dilatedKernel):
            return "dilated kernel \(axis) \(dilatedKernel) is larger than the padded input \(axis) \(paddedInput): no output position"
        case let .samePaddingRequiresUnitStride(sh, sw):
            return "'same' padding needs stride 1, got stride (\(sh), \(sw))"
        case let .sizeOverflow(quantity):
            return "\(quantity) overflows Int"
        case let .blasDimensionTooLarge(quantity, value):
            return "\(quantity) = \(value) exceeds OpenBLAS's 32-bit limit \(Int32.max)"
        case let .bufferLength(name, expected, actual):
            return "\(name) has \(actual) elements, the geometry needs \(expected)"
        case let .overlappingBuffers(output, other):
            return "\(output) shares memory with \(other): an output buffer must not overlap any other buffer"
        case let .gradientLength(gradient, parameters, expected, actual):
            return "\(gradient) has \(actual) elements but \(parameters) has \(expected): an optimiser step needs one gradient element per parameter"
        case let .missingBuffer(name):
            return "\(name) is required for the requested computation but was not given"
        case let .algorithmNotApplicable(algorithm, reason):
            return "algorithm \(algorithm) cannot run this geometry: \(reason)"
        case let .workspaceCapTooSmall(required, cap):
            return "workspace needs at least \(required) bytes, above the cap of \(cap) bytes"
        case let .invalidArgument(name, reason):
            return "invalid \(name): \(reason)"
        }
    }
}
