/// A filter transformed and packed once for one engine's forward passes, so that repeated forward calls
/// (inference loops, evaluation) skip the per-call filter work: Winograd's transformed filter U
/// (``ConvAlgorithm/winograd2x2``, ``ConvAlgorithm/winograd4x4``) or the filter repacked per kernel row or
/// per tap (``ConvAlgorithm/kernelRowGEMM``, ``ConvAlgorithm/shiftedGEMM``). The other algorithms read F as
/// it is; for them the value holds F alone. When the plan converts the filter's layout
/// (``ConvPlan/layoutConversion``), the prepared form starts with F in the algorithm's layout, so forward
/// calls skip that repack too. A prepared filter belongs to its geometry's layout: a call in another layout
/// is refused like a call on another geometry.
///
/// Made by ``ConvolutionEngine/prepareFilter(_:filter:)-(_,UnsafeBufferPointer<T>)`` and passed to
/// ``ConvolutionEngine/forward(_:input:filter:bias:activation:output:workspace:)-(_,_,PreparedFilter<T>,_,_,_,_)`` in place of the raw
/// filter. It fixes the geometry except the batch, and the algorithm: a forward call on another geometry,
/// or through an engine that plans another algorithm for it, throws instead of computing something else.
/// Results are bit-for-bit those of the same engine's forward pass with the raw filter.
///
/// An immutable value (`Sendable`): any number of threads may run forward passes with one prepared filter
/// at the same time, each with its own workspace and output. Preparing again is needed whenever F changes
/// (a training step).
public struct PreparedFilter<Scalar: ConvScalar>: Sendable {
    /// The geometry it was prepared for (forward calls may change only the batch).
    public let geometry: ConvGeometry
    /// The algorithm whose form of the filter it holds.
    public let algorithm: ConvAlgorithm
    /// F as given, in the geometry's filter layout (`K×(C/G)×R×S` or `K×R×S×(C/G)`).
    public let filter: [Scalar]
    /// The algorithm's form of F (empty when the algorithm reads F as given).
    let prepared: [Scalar]

    /// Elements held: F plus the prepared form.
    public var elementCount: Int { filter.count + prepared.count }

    /// Whether the algorithm has a prepared form (else forward calls with this value run as with F).
    public var isTransformed: Bool { !prepared.isEmpty }

    init(geometry: ConvGeometry, algorithm: ConvAlgorithm, filter: [Scalar], prepared: [Scalar]) {
        self.geometry = geometry
        self.algorithm = algorithm
        self.filter = filter
        self.prepared = prepared
    }
}
