extension Initializer {
    /// The activation that follows a layer, for the gain of Kaiming's initialisers (PyTorch's
    /// `torch.nn.init.calculate_gain`).
    public enum Nonlinearity: Hashable, Sendable {
        /// No activation (also right for a convolution or sigmoid): gain 1.
        case linear
        /// ReLU: gain √2.
        case relu
        /// Leaky ReLU with negative slope `slope` (PyTorch's `a`): gain `√(2 / (1 + slope²))`.
        case leakyReLU(slope: Double)
        /// tanh: gain 5/3.
        case tanh

        /// The gain: the factor by which the activation's variance is made up for.
        ///
        /// For a non-finite leaky-ReLU slope the gain is 0 or NaN; the initialisers reject such a slope.
        public var gain: Double {
            switch self {
            case .linear: return 1
            case .relu: return (2.0).squareRoot()
            case let .leakyReLU(slope): return (2.0 / (1 + slope * slope)).squareRoot()
            case .tanh: return 5.0 / 3
            }
        }

        /// ``gain``, after checking that a leaky-ReLU slope is finite.
        /// - Throws: ``ConvError/invalidArgument(name:reason:)`` named `slope` for a non-finite slope.
        internal func checkedGain() throws(ConvError) -> Double {
            if case let .leakyReLU(slope) = self, !slope.isFinite {
                throw .invalidArgument(name: "slope", reason: "the leaky ReLU slope \(slope) is not finite")
            }
            return gain
        }
    }
}
