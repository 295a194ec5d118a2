/// A named, shaped tensor a layer trains, with its accumulated gradient and its optimiser state.
///
/// The value and the gradient are row-major arrays of `shape`'s element count (for a convolution weight
/// `[K, C/G, R, S]`, for its bias `[K]`). Layers **add** into ``gradient`` (PyTorch's `.grad` accumulation,
/// so micro-batches sum up) and ``zeroGradient()`` clears it; an ``Optimizer`` reads the gradient, updates
/// ``value`` in place and keeps its buffers in ``optimizerState``.
///
/// ```swift
/// var w = try Parameter<Float>(name: "weight", shape: [16, 3, 3, 3],
///                              value: Initializer.pytorchDefaultWeight(shape: [16, 3, 3, 3], using: &rng))
/// // … a backward pass adds dL/dw into w.gradient …
/// try SGD(learningRate: 0.01, momentum: 0.9).step(&w)
/// w.zeroGradient()
/// ```
///
/// ``value`` and ``gradient`` are settable so that layers can write them in place; an optimiser step
/// checks that both still have ``count`` elements and throws otherwise.
public struct Parameter<T: ConvScalar>: Sendable {
    /// The parameter's name, as in PyTorch's `state_dict` (for example `"weight"` or `"bias"`).
    public let name: String
    /// The tensor's shape, outermost dimension first (for example `[K, C/G, R, S]` or `[K]`; `[]` is a scalar).
    public let shape: [Int]
    /// The element count of ``shape`` (the product of its dimensions, 1 for `[]`), checked for overflow once.
    public let count: Int
    /// The values, row-major in ``shape``, ``count`` elements.
    public var value: [T]
    /// The accumulated gradient dL/dvalue, laid out as ``value``; zero after `init` and ``zeroGradient()``.
    public var gradient: [T]
    /// The buffers of whichever optimiser steps this parameter (empty until its first step).
    public var optimizerState: OptimizerState<T>

    /// A parameter with the given values, a zero gradient and an empty optimiser state.
    ///
    /// - Parameters:
    ///   - name: the name optimisers' errors and saved weights use.
    ///   - shape: the dimensions, each at least 0.
    ///   - value: the row-major values, exactly as many as `shape` holds.
    /// - Throws: ``ConvError/invalidArgument(name:reason:)`` (named `"\(name).shape"`) for a negative
    ///   dimension, ``ConvError/sizeOverflow(quantity:)`` if the element count overflows `Int`, and
    ///   ``ConvError/invalidArgument(name:reason:)`` (named `"\(name).value"`) if `value.count` is not the
    ///   element count.
    public init(name: String, shape: [Int], value: [T]) throws(ConvError) {
        let count = try shapeElementCount(shape, name: "\(name).shape")
        guard value.count == count else {
            throw .invalidArgument(name: "\(name).value",
                                   reason: "shape \(shape) holds \(count) elements, got \(value.count) values")
        }
        self.name = name
        self.shape = shape
        self.count = count
        self.value = value
        self.gradient = [T](repeating: 0, count: count)
        self.optimizerState = OptimizerState()
    }

    /// Sets every element of ``gradient`` to zero, in place (without allocating when the gradient has
    /// ``count`` elements; a gradient of any other length is replaced by ``count`` zeros).
    public mutating func zeroGradient() {
        if gradient.count == count {
            gradient.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        } else {
            gradient = [T](repeating: 0, count: count)
        }
    }

    /// Throws unless ``value`` and ``gradient`` both still have ``count`` elements: what every step checks first.
    internal func checkStepLengths() throws(ConvError) {
        guard value.count == count else {
            throw .invalidArgument(name: "\(name).value",
                                   reason: "has \(value.count) elements, shape \(shape) holds \(count)")
        }
        guard gradient.count == count else {
            throw .gradientLength(gradient: "\(name).gradient", parameters: "\(name).value",
                                  expected: count, actual: gradient.count)
        }
    }
}
