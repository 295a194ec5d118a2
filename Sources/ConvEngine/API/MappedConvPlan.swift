/// How ``ConvolutionEngine`` carries out an operation it runs on a 2-D convolution's algorithms — a transposed
/// convolution on its associated convolution, a 1-D one on the same convolution with one row: which operation,
/// which convolution actually runs, and that convolution's ``ConvPlan``. Returned by the engine's `plan(for:)`
/// for ``TransposedConvGeometry``, ``ConvGeometry1D`` and ``TransposedConvGeometry1D``.
public struct MappedConvPlan: Hashable, Sendable, CustomStringConvertible {
    /// The operation and what it maps onto, for example `transposed → associated conv` or `1-D → planar conv`.
    public let operation: String
    /// The 2-D convolution whose algorithms run (with batch 1 when ``isStaged``).
    public let convolution: ConvGeometry
    /// Its plan: the forced or chosen algorithm, input-gradient route, workers and tile.
    public let plan: ConvPlan
    /// True when the transposed input is zero-extended into a staging copy in the workspace, one image at a
    /// time: the case `stride ≤ output padding < dilation` on some axis, where the associated convolution has
    /// more output rows or columns than the transposed input (<doc:TransposedConvolution>).
    public let isStaged: Bool

    /// A mapped plan with these parts.
    init(operation: String, convolution: ConvGeometry, plan: ConvPlan, isStaged: Bool = false) {
        self.operation = operation
        self.convolution = convolution
        self.plan = plan
        self.isStaged = isStaged
    }

    /// The plan in one line, for example
    /// `transposed → associated conv N4 C64→K128 128×128 k2×2 s(2,2) p(0,0,0,0) d(1,1) g1 → 64×64: tiledIm2col(tile 1 image)+col2im×2`,
    /// followed by the staging note when ``isStaged``.
    public var description: String {
        "\(operation) \(convolution): \(plan)"
            + (isStaged ? " (input zero-extended to \(convolution.outputHeight)×\(convolution.outputWidth) in a"
                + " workspace staging copy, one image at a time)" : "")
    }
}
