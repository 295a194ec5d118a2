/// One way to the input gradient: either inside the plan's algorithm (``Col2imRoute``) or a separate pass
/// after it (``FullConvolutionRoute``). Listed in ``AlgorithmRegistry``.
protocol InputGradientRoute {
    /// The workspace regions of the route's own pass.
    associatedtype Layout: WorkspaceLayout

    /// Whether the plan's algorithm computes dX in its backward pass (the route then has nothing to do).
    static var algorithmComputesInputGradient: Bool { get }

    /// Whether the route's pass reads and writes tensors in `layout` itself (default: `.nchw` only). The
    /// registry runs it on any other layout through ``RouteLayoutAdapter``.
    static func runsNatively(_ layout: ConvLayout) -> Bool

    /// The route for one call's geometry.
    init(_ geometry: ConvGeometry)

    /// The workspace of the route's pass with `workers` threads, overflow-checked.
    func layout(workers: Int) throws(ConvError) -> Layout

    /// dX (overwritten) from F and dO, after the algorithm's backward pass, in the same workspace.
    func inputGradient<T: ConvScalar>(filter: UnsafePointer<T>, outputGradient: UnsafePointer<T>,
                                      inputGradient: UnsafeMutablePointer<T>, workspace: UnsafeMutablePointer<T>,
                                      workers: Int, _ layout: Layout)
}

extension InputGradientRoute {
    static func runsNatively(_ layout: ConvLayout) -> Bool { layout == .nchw }
}

/// A layout with no regions.
struct EmptyLayout: WorkspaceLayout {
    var total: Int { 0 }
}

/// ``InputGradientAlgorithm/col2im``: the algorithm's own input GEMM and col2im (or its direct scatter).
struct Col2imRoute: InputGradientRoute {
    static var algorithmComputesInputGradient: Bool { true }
    /// It has no pass of its own, so no layout to convert.
    static func runsNatively(_ layout: ConvLayout) -> Bool { true }
    init(_ geometry: ConvGeometry) {}
    func layout(workers: Int) -> EmptyLayout { EmptyLayout() }
    func inputGradient<T: ConvScalar>(filter: UnsafePointer<T>, outputGradient: UnsafePointer<T>,
                                      inputGradient: UnsafeMutablePointer<T>, workspace: UnsafeMutablePointer<T>,
                                      workers: Int, _ layout: EmptyLayout) {}
}
