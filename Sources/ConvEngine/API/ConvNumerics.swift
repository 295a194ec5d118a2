/// Which kinds of algorithm a ``ConvolutionEngine``'s automatic plan may choose, by how they round
/// (<doc:ComparingResults>).
///
/// The modes are ordered: each allows what the one before it allows, and more. A forced
/// ``ConvolutionEngine/algorithm`` runs in any mode.
///
/// - ``strict``: only algorithms that sum the exact products of the definition (every lowering, the direct
///   kernels). Each element is within the `Σ|terms|` bound of ``ErrorBound``, padding is multiplied
///   literally, and a NaN or ±∞ reaches exactly the results whose sums contain it.
/// - ``default``: also ``ConvAlgorithm/winograd2x2`` on the geometries where it measured faster. Its results
///   are within the transform bound (``ErrorBound/transformTermCount(channelsSummed:outputTileSize:)``; on the
///   benchmark layers about 1e-6 of the largest output in Float), and a NaN or ±∞ in X or dO spreads to
///   every output of the 2×2 tiles that read it (and ∞ − ∞ inside a transform gives NaN).
/// - ``fast``: also ``ConvAlgorithm/winograd4x4`` (about 1e-5 relative in Float; the same non-finite rule
///   over 4×4 tiles).
public enum ConvNumerics: String, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    /// Sum-of-products algorithms only: today's bound and non-finite promise.
    case strict
    /// Also Winograd F(2×2, 3×3) where the automatic rule finds it faster.
    case `default`
    /// Also Winograd F(4×4, 3×3).
    case fast

    /// The order of the modes: ``strict`` < ``default`` < ``fast``.
    public static func < (a: ConvNumerics, b: ConvNumerics) -> Bool { a.rank < b.rank }

    private var rank: Int {
        switch self {
        case .strict: return 0
        case .default: return 1
        case .fast: return 2
        }
    }

    /// The mode's name, its raw value (for example `strict`).
    public var description: String { rawValue }
}
