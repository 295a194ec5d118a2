import Foundation

// How ``Initializer`` turns 64-bit draws of ``SeededGenerator`` into values, in the flat row-major order of
// the result: one draw per uniform value, two per pair of normal values (Box–Muller).
extension Initializer {
    /// What one value is drawn from.
    internal enum Distribution {
        case uniform(lower: Double, upper: Double)
        case normal(mean: Double, standardDeviation: Double)
    }

    /// `count` values of `distribution` in flat order, drawn as the type's documentation describes.
    internal static func draw<T: ConvScalar>(_ distribution: Distribution, count: Int,
                                             using generator: inout SeededGenerator) throws(ConvError) -> [T] {
        try MemoryCheck.checkAllocation("initialised values", count: count, of: T.self)
        var values = [T](repeating: 0, count: count)
        switch distribution {
        case let .uniform(lower, upper):
            let width = upper - lower
            for i in 0..<count { values[i] = T(lower + width * unitInterval(&generator)) }
        case let .normal(mean, std):
            var i = 0
            while i < count {
                let (z0, z1) = boxMullerPair(&generator)
                values[i] = T(mean + std * z0)
                if i + 1 < count { values[i + 1] = T(mean + std * z1) }
                i += 2
            }
        }
        return values
    }

    /// A uniform value in [0, 1): the top 53 bits of one 64-bit draw, scaled by 2⁻⁵³.
    private static func unitInterval(_ generator: inout SeededGenerator) -> Double {
        Double(generator.next() >> 11) * 0x1p-53
    }

    /// Two independent standard normal values from two uniform draws (Box–Muller; `u₁` in (0, 1]).
    private static func boxMullerPair(_ generator: inout SeededGenerator) -> (Double, Double) {
        let u1 = Double((generator.next() >> 11) + 1) * 0x1p-53
        let u2 = unitInterval(&generator)
        let r = (-2 * log(u1)).squareRoot()
        let theta = 2 * Double.pi * u2
        return (r * cos(theta), r * sin(theta))
    }
}
