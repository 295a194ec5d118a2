/// Runs a channels-first algorithm on a geometry of another layout (<doc:Layouts>) by converting its operands.
///
/// Not implemented yet: until it is, every plan that would need it is refused while planning, with
/// ``ConvError/algorithmNotApplicable(algorithm:reason:)``, so no pass ever reads tensors of one layout as
/// another.
struct LayoutAdapter<A: ConvolutionAlgorithm>: ConvolutionAlgorithm {
    typealias Layout = EmptyLayout

    static var algorithm: ConvAlgorithm { A.algorithm }
    static func runsNatively(_ layout: ConvLayout) -> Bool { true }

    static func inapplicability(to geometry: ConvGeometry) -> String? {
        "\(A.algorithm) does not run \(geometry.layout) tensors natively, and the conversion fallback is not implemented yet"
    }

    init(_ geometry: ConvGeometry, plan: ConvPlan) {}
    func layout(for pass: ConvPass) -> EmptyLayout { EmptyLayout() }
    func forward<T: ConvScalar>(_ call: ForwardCall<T>, _ layout: EmptyLayout) {
        preconditionFailure("planning refuses every geometry this adapter would run")
    }
    func backward<T: ConvScalar>(_ call: BackwardCall<T>, _ layout: EmptyLayout) {
        preconditionFailure("planning refuses every geometry this adapter would run")
    }
}
