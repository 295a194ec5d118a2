/// The pointwise function a forward pass applies after the bias, `O = f(conv(X, F) + B)`, fused into the pass
/// (each output tile is activated while it is still in cache), and whose derivative the matching backward pass
/// applies to dL/dO before the gradients (<doc:LayersAndTraining>).
///
/// The functions keep a NaN a NaN (as PyTorch's do). Their derivatives are read off the *activated* output
/// `Y = f(Z)`, so a backward pass needs only what the forward pass wrote:
///
/// | activation | f(z) | f′ from the output y |
/// |---|---|---|
/// | ``identity`` | z | 1 |
/// | ``relu`` | max(z, 0) | 1 where y > 0, else 0 |
/// | ``clamp(lower:upper:)`` | min(max(z, lower), upper) | 1 where lower < y < upper, else 0 |
/// | ``leakyReLU(slope:)`` | z where z > 0, else slope·z | 1 where y > 0, else slope |
///
/// These are the derivatives PyTorch's `relu`, `hardtanh` (so `relu6`) and `leaky_relu` backward passes use:
/// 0 at a clamp's bounds and at z = 0. Reading the sign of z from y needs a leaky slope ≥ 0, the condition
/// PyTorch also places on an in-place leaky ReLU's backward.
public enum Activation: Hashable, Sendable, CustomStringConvertible {
    /// f(z) = z: no activation.
    case identity
    /// f(z) = max(z, 0).
    case relu
    /// f(z) = min(max(z, lower), upper) (PyTorch's `hardtanh`/`clamp`); needs lower ≤ upper, neither NaN.
    case clamp(lower: Double, upper: Double)
    /// f(z) = z for z > 0, slope·z otherwise; needs a finite slope ≥ 0 (PyTorch's default is 0.01).
    case leakyReLU(slope: Double)

    /// ReLU6, f(z) = min(max(z, 0), 6) (MobileNet's activation): ``clamp(lower:upper:)`` from 0 to 6.
    public static var relu6: Activation { .clamp(lower: 0, upper: 6) }

    /// The activation's parameters, checked.
    /// - Throws: ``ConvError/invalidArgument(name:reason:)`` (named `"activation"`) for a clamp with a NaN bound
    ///   or lower > upper, or a leaky slope that is negative, infinite or NaN.
    public func validate() throws(ConvError) {
        switch self {
        case .identity, .relu: return
        case .clamp(let lower, let upper):
            guard !lower.isNaN, !upper.isNaN, lower <= upper else {
                throw .invalidArgument(name: "activation", reason: "clamp needs lower ≤ upper, got \(lower) and \(upper)")
            }
        case .leakyReLU(let slope):
            guard slope.isFinite, slope >= 0 else {
                throw .invalidArgument(name: "activation",
                                       reason: "a leaky ReLU's slope must be finite and ≥ 0 (its derivative is read from the output), got \(slope)")
            }
        }
    }

    /// `identity`, `relu`, `clamp(lower, upper)` or `leakyReLU(slope)`.
    public var description: String {
        switch self {
        case .identity: return "identity"
        case .relu: return "relu"
        case .clamp(let lower, let upper): return "clamp(\(lower), \(upper))"
        case .leakyReLU(let slope): return "leakyReLU(\(slope))"
        }
    }
}
