/// How the forward pass and the filter gradient are lowered to GEMM.
public enum ConvAlgorithm: String, Sendable, CaseIterable, CustomStringConvertible {
    /// im2col per image and group, then one GEMM each (MATH.md's canonical lowering). Runs every geometry.
    case im2col
    /// For 1×1 kernels at stride 1 without padding: the image is its own column matrix, so no im2col.
    case pointwise

    /// Whether this algorithm can run `geometry`.
    public func supports(_ geometry: ConvGeometry) -> Bool {
        switch self {
        case .im2col: return true
        case .pointwise: return geometry.isPointwise
        }
    }

    public var description: String { rawValue }
}

/// How the input gradient is computed.
public enum InputGradientAlgorithm: String, Sendable, CaseIterable, CustomStringConvertible {
    /// `dcol = Fᵀ·dO` by GEMM, then col2im scatters (and adds) it back into the input's shape.
    case col2im
    /// MATH.md's full-convolution route: the stride-upsampled output gradient placed in a zero array,
    /// cross-correlated at stride 1 with the 180°-rotated filters (K and C/G swapped per group).
    /// Meant for finite data: the zeros it inserts can turn an infinite value into NaN where the
    /// definition does not.
    case fullConvolution

    public var description: String { rawValue }
}

/// The way one call is carried out: chosen by ``ConvolutionEngine/plan(for:)`` in one place, or forced
/// through the engine's configuration (tests force every plan and compare it with the reference).
public struct ConvPlan: Hashable, Sendable, CustomStringConvertible {
    /// The forward / filter-gradient lowering.
    public var algorithm: ConvAlgorithm
    /// The input-gradient route.
    public var inputGradientAlgorithm: InputGradientAlgorithm
    /// Worker threads the work is split over (each calls single-threaded BLAS when more than one).
    public var workers: Int

    public var description: String {
        "\(algorithm)+\(inputGradientAlgorithm)×\(workers)"
    }
}
