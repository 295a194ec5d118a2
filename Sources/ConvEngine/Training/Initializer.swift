import Foundation

/// Weight initialisers drawing from a ``SeededGenerator``: Kaiming/He and Xavier/Glorot (normal and uniform)
/// and PyTorch's default `Conv2d` / `Linear` initialisation, with PyTorch's `torch.nn.init` formulas.
///
/// Every initialiser returns a new row-major array for `shape` and draws its values **in that flat order**,
/// one value after another from `generator`, so the same seed gives the same weights on every platform
/// (not PyTorch's weights: its generator is a different one). Values are drawn in `Double` and rounded to
/// `T`, so a `Float` and a `Double` run from the same seed agree to `Float` rounding.
///
/// - Uniform values: `u = (next() >> 11)·2⁻⁵³` in [0, 1), then `lower + (upper − lower)·u`, one 64-bit draw
///   per value (as `torch.Tensor.uniform_(lower, upper)`: in [lower, upper) before the rounding to `T`, so
///   within [`T(lower)`, `T(upper)`] after it).
/// - Normal values: the Box–Muller transform of two such draws, `u₁` moved to (0, 1] so its logarithm is
///   finite: `r = √(−2 ln u₁)`, `z₀ = r·cos 2πu₂`, `z₁ = r·sin 2πu₂`; elements `2i` and `2i + 1` take `z₀`
///   and `z₁` of the `i`-th pair (an odd count drops the last `z₁`), then `mean + std·z`.
///
/// ```swift
/// var rng = SeededGenerator(seed: 1)
/// let w: [Float] = try Initializer.kaimingNormal(shape: [64, 32, 3, 3], nonlinearity: .relu, using: &rng)
/// let b: [Float] = try Initializer.pytorchDefaultBias(count: 64, fanIn: 32 * 3 * 3, using: &rng)
/// ```
///
/// Fans are those of `torch.nn.init._calculate_fan_in_and_fan_out` (see ``fans(shape:)``).
public enum Initializer {
    /// Which fan a Kaiming initialiser normalises by (PyTorch's `mode`).
    public enum FanMode: Hashable, Sendable {
        /// `fan_in`: keeps the variance of the forward pass's activations (PyTorch's default).
        case fanIn
        /// `fan_out`: keeps the variance of the backward pass's gradients.
        case fanOut
    }

    // MARK: Kaiming / He

    /// Kaiming/He normal: N(0, std²) with `std = gain / √fan` (PyTorch's `kaiming_normal_`).
    ///
    /// - Parameters:
    ///   - shape: `[out, in, k…]` (a convolution weight `[K, C/G, R, S]`, a linear weight `[out, in]`).
    ///   - mode: the fan to normalise by.
    ///   - nonlinearity: the activation after the layer, for the gain (PyTorch's default, `leaky_relu` with
    ///     `a = 0`, is ``Nonlinearity/relu``'s √2).
    ///   - generator: the source of random bits, advanced by one draw per value.
    /// - Returns: `shape`'s element count of values, row-major.
    /// - Throws: ``ConvError/invalidArgument(name:reason:)`` for a shape of fewer than 2 dimensions, a
    ///   negative dimension, a zero fan or a non-finite slope; ``ConvError/sizeOverflow(quantity:)`` when a
    ///   count overflows; what ``MemoryCheck/checkAllocation(_:count:of:)`` throws for a result that cannot fit.
    public static func kaimingNormal<T: ConvScalar>(shape: [Int], mode: FanMode = .fanIn,
                                                    nonlinearity: Nonlinearity = .relu,
                                                    using generator: inout SeededGenerator) throws(ConvError) -> [T] {
        let std = try kaimingStandardDeviation(shape: shape, mode: mode, nonlinearity: nonlinearity)
        return try draw(.normal(mean: 0, standardDeviation: std), count: shapeElementCount(shape, name: "shape"), using: &generator)
    }

    /// Kaiming/He uniform: U(−bound, bound) with `bound = √3 · gain / √fan` (PyTorch's `kaiming_uniform_`).
    ///
    /// - Parameters: as ``kaimingNormal(shape:mode:nonlinearity:using:)``.
    /// - Returns: `shape`'s element count of values, row-major, each within ±`T(bound)`.
    /// - Throws: as ``kaimingNormal(shape:mode:nonlinearity:using:)``.
    public static func kaimingUniform<T: ConvScalar>(shape: [Int], mode: FanMode = .fanIn,
                                                     nonlinearity: Nonlinearity = .relu,
                                                     using generator: inout SeededGenerator) throws(ConvError) -> [T] {
        let bound = try kaimingUniformBound(shape: shape, mode: mode, nonlinearity: nonlinearity)
        return try draw(.uniform(lower: -bound, upper: bound), count: shapeElementCount(shape, name: "shape"), using: &generator)
    }

    /// The bound of ``kaimingUniform(shape:mode:nonlinearity:using:)``, `√3 · gain / √fan`, computed as
    /// PyTorch computes it (`std = gain / sqrt(fan)`, then `sqrt(3) * std`).
    /// - Throws: as ``kaimingNormal(shape:mode:nonlinearity:using:)``.
    public static func kaimingUniformBound(shape: [Int], mode: FanMode = .fanIn,
                                           nonlinearity: Nonlinearity = .relu) throws(ConvError) -> Double {
        (3.0).squareRoot() * (try kaimingStandardDeviation(shape: shape, mode: mode, nonlinearity: nonlinearity))
    }

    // MARK: Xavier / Glorot

    /// Xavier/Glorot normal: N(0, std²) with `std = gain · √(2 / (fan_in + fan_out))` (PyTorch's
    /// `xavier_normal_`).
    ///
    /// - Parameters:
    ///   - shape: `[out, in, k…]`, as ``fans(shape:)``.
    ///   - gain: the scale, finite and ≥ 0 (for example ``Nonlinearity/gain``); PyTorch's default is 1.
    ///   - generator: the source of random bits, advanced by one draw per value.
    /// - Throws: ``ConvError/invalidArgument(name:reason:)`` for a shape of fewer than 2 dimensions, a
    ///   negative dimension, fans summing to 0 or a negative or non-finite gain;
    ///   ``ConvError/sizeOverflow(quantity:)`` when a count overflows; what
    ///   ``MemoryCheck/checkAllocation(_:count:of:)`` throws for a result that cannot fit.
    public static func xavierNormal<T: ConvScalar>(shape: [Int], gain: Double = 1,
                                                   using generator: inout SeededGenerator) throws(ConvError) -> [T] {
        let std = try xavierStandardDeviation(shape: shape, gain: gain)
        return try draw(.normal(mean: 0, standardDeviation: std), count: shapeElementCount(shape, name: "shape"), using: &generator)
    }

    /// Xavier/Glorot uniform: U(−a, a) with `a = gain · √(6 / (fan_in + fan_out))` (PyTorch's
    /// `xavier_uniform_`, which computes it as `sqrt(3) * std`).
    ///
    /// - Parameters: as ``xavierNormal(shape:gain:using:)``.
    /// - Returns: `shape`'s element count of values, row-major, each within ±`T(a)`.
    /// - Throws: as ``xavierNormal(shape:gain:using:)``.
    public static func xavierUniform<T: ConvScalar>(shape: [Int], gain: Double = 1,
                                                    using generator: inout SeededGenerator) throws(ConvError) -> [T] {
        let bound = (3.0).squareRoot() * (try xavierStandardDeviation(shape: shape, gain: gain))
        return try draw(.uniform(lower: -bound, upper: bound), count: shapeElementCount(shape, name: "shape"), using: &generator)
    }

    // MARK: PyTorch's layer defaults

    /// PyTorch's default weight of `nn.Conv2d` and `nn.Linear`: `kaiming_uniform_(w, a=√5)`, that is
    /// U(−bound, bound) with `bound = √3 · √(2 / (1 + 5)) / √fan_in` = `1/√fan_in` (up to `Double` rounding).
    ///
    /// - Parameters:
    ///   - shape: `[K, C/G, R, S]` for a convolution (`fan_in = C/G·R·S`), `[out, in]` for a linear layer
    ///     (`fan_in = in`).
    ///   - generator: the source of random bits, advanced by one draw per value.
    /// - Returns: `shape`'s element count of values, row-major.
    /// - Throws: as ``kaimingNormal(shape:mode:nonlinearity:using:)``.
    public static func pytorchDefaultWeight<T: ConvScalar>(shape: [Int],
                                                           using generator: inout SeededGenerator) throws(ConvError) -> [T] {
        try kaimingUniform(shape: shape, mode: .fanIn, nonlinearity: .leakyReLU(slope: (5.0).squareRoot()),
                           using: &generator)
    }

    /// PyTorch's default bias of `nn.Conv2d` and `nn.Linear`: U(−1/√fan_in, 1/√fan_in), with `fan_in` the
    /// layer weight's (``fans(shape:)``).
    ///
    /// - Parameters:
    ///   - count: the number of biases (output channels or features), at least 0.
    ///   - fanIn: the weight's fan-in, at least 1 (PyTorch leaves the bias uninitialised for a fan-in of 0).
    ///   - generator: the source of random bits, advanced by one draw per value.
    /// - Throws: ``ConvError/invalidArgument(name:reason:)`` named `count` or `fanIn` when out of range;
    ///   what ``MemoryCheck/checkAllocation(_:count:of:)`` throws for a result that cannot fit.
    public static func pytorchDefaultBias<T: ConvScalar>(count: Int, fanIn: Int,
                                                         using generator: inout SeededGenerator) throws(ConvError) -> [T] {
        guard count >= 0 else { throw .invalidArgument(name: "count", reason: "\(count) is negative") }
        guard fanIn >= 1 else { throw .invalidArgument(name: "fanIn", reason: "must be at least 1, got \(fanIn)") }
        let bound = 1 / Double(fanIn).squareRoot()
        return try draw(.uniform(lower: -bound, upper: bound), count: count, using: &generator)
    }

    // MARK: Plain distributions

    /// `count` values from N(mean, standardDeviation²) (PyTorch's `normal_`), by the Box–Muller pairs
    /// described above.
    /// - Throws: ``ConvError/invalidArgument(name:reason:)`` for a negative `count`, a non-finite `mean` or a
    ///   negative or non-finite `standardDeviation`; what ``MemoryCheck/checkAllocation(_:count:of:)`` throws.
    public static func normal<T: ConvScalar>(count: Int, mean: Double = 0, standardDeviation: Double = 1,
                                             using generator: inout SeededGenerator) throws(ConvError) -> [T] {
        guard count >= 0 else { throw .invalidArgument(name: "count", reason: "\(count) is negative") }
        try checkHyperparameter("mean", mean, atLeast: -.infinity)
        try checkHyperparameter("standardDeviation", standardDeviation, atLeast: 0)
        return try draw(.normal(mean: mean, standardDeviation: standardDeviation), count: count, using: &generator)
    }

    /// `count` values from U(lowerBound, upperBound) (PyTorch's `uniform_`), one draw each as described above.
    /// - Throws: ``ConvError/invalidArgument(name:reason:)`` for a negative `count`, a non-finite bound or
    ///   `lowerBound > upperBound`; what ``MemoryCheck/checkAllocation(_:count:of:)`` throws.
    public static func uniform<T: ConvScalar>(count: Int, lowerBound: Double, upperBound: Double,
                                              using generator: inout SeededGenerator) throws(ConvError) -> [T] {
        guard count >= 0 else { throw .invalidArgument(name: "count", reason: "\(count) is negative") }
        try checkHyperparameter("lowerBound", lowerBound, atLeast: -.infinity)
        try checkHyperparameter("upperBound", upperBound, atLeast: lowerBound)
        return try draw(.uniform(lower: lowerBound, upper: upperBound), count: count, using: &generator)
    }
}

extension Initializer {
    /// `gain / √fan` for Kaiming's initialisers.
    private static func kaimingStandardDeviation(shape: [Int], mode: FanMode,
                                                 nonlinearity: Nonlinearity) throws(ConvError) -> Double {
        let fans = try fans(shape: shape)
        let fan = mode == .fanIn ? fans.fanIn : fans.fanOut
        guard fan > 0 else {
            throw .invalidArgument(name: "shape", reason: "\(mode == .fanIn ? "fan_in" : "fan_out") of \(shape) is 0")
        }
        return try nonlinearity.checkedGain() / Double(fan).squareRoot()
    }

    /// `gain · √(2 / (fan_in + fan_out))` for Xavier's initialisers.
    private static func xavierStandardDeviation(shape: [Int], gain: Double) throws(ConvError) -> Double {
        try checkHyperparameter("gain", gain, atLeast: 0)
        let fans = try fans(shape: shape)
        let sum = try checkedSum(fans.fanIn, fans.fanOut, quantity: "fan_in + fan_out of \(shape)")
        guard sum > 0 else { throw .invalidArgument(name: "shape", reason: "fan_in + fan_out of \(shape) is 0") }
        return gain * (2.0 / Double(sum)).squareRoot()
    }
}
