/// The element-wise error bound for comparing a result with the reference (<doc:ComparingResults>):
///
///     |engine - reference| ≤ c · L · (ε · Σ|terms| + η)
///
/// with `L` the number of products summed into the element, `ε` the engine type's machine epsilon, `η` its
/// smallest nonzero magnitude (for products that underflow), `c` a small constant and `Σ|terms|` the sum of
/// the products' absolute values, which ``ReferenceConvolution`` returns per element. Unlike a relative
/// error against `max|reference|`, this bound does not fail on cancellation.
public enum ErrorBound {
    /// The constant `c` used unless another is given.
    public static let defaultConstant: Double = 3

    /// `L` per computation: products summed into one element of each result.
    public struct TermCounts: Hashable, Sendable {
        /// Forward: `C/G·R·S`, plus one for the bias.
        public var output: Int
        /// Filter gradient: `N·P·Q`.
        public var filterGradient: Int
        /// Bias gradient: `N·P·Q`.
        public var biasGradient: Int
        /// Input gradient: at most `K/G·R·S`.
        public var inputGradient: Int
    }

    /// The term counts of `g`.
    public static func termCounts(_ g: ConvGeometry) -> TermCounts {
        let npq = g.batch * g.outputHeight * g.outputWidth  // Safe: at most outputCount.
        return TermCounts(output: g.columnRows + 1, filterGradient: npq, biasGradient: npq,
                          inputGradient: g.outputChannelsPerGroup * g.kernelHeight * g.kernelWidth)
    }

    /// The bound `c · L · (ε · magnitude + η)` for results computed in `scalar`.
    public static func bound<T: ConvScalar>(
        terms: Int, magnitude: Double, scalar: T.Type, constant: Double = defaultConstant
    ) -> Double {
        constant * Double(terms) * (Double(T.ulpOfOne) * magnitude + Double(T.leastNonzeroMagnitude))
    }

    /// `|value - reference|` as a fraction of the bound: at most 1 passes. Two NaNs, or two infinities of the
    /// same sign, count as agreeing (0); any other disagreement in finiteness is `.infinity`.
    public static func fraction<T: ConvScalar>(
        value: Double, reference: Double, terms: Int, magnitude: Double, scalar: T.Type,
        constant: Double = defaultConstant
    ) -> Double {
        if value.isNaN || reference.isNaN { return value.isNaN && reference.isNaN ? 0 : .infinity }
        if value.isInfinite || reference.isInfinite { return value == reference ? 0 : .infinity }
        let diff = abs(value - reference)
        if diff == 0 { return 0 }
        return diff / bound(terms: terms, magnitude: magnitude, scalar: scalar, constant: constant)
    }
}
