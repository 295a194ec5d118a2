/// Where the algorithms are listed: the one place that maps a public ``ConvAlgorithm`` or
/// ``InputGradientAlgorithm`` to the type that implements it. Adding an algorithm is adding its type (a file
/// or folder under `Algorithms/`), its public name, and one line here.
///
/// Dispatch goes through a visitor with a concrete type per line, not through an existential, so every pass
/// runs code specialised for its algorithm and element type.
///
/// The registry also decides the layout (<doc:Layouts>), from the visitor's geometry: for channels-last
/// activations it lists the native channels-last types by the same public names, and any type that does not
/// run the geometry's layout natively (``ConvolutionAlgorithm/runsNatively(_:)``) runs through
/// ``LayoutAdapter``, which converts the operands. The engine never tests layouts itself.
enum AlgorithmRegistry {
    /// Calls `visitor` with the type that runs `algorithm` on the visitor's geometry: the algorithm's own type
    /// when it runs that geometry's layout natively, else ``LayoutAdapter`` over it.
    static func visit<V: AlgorithmVisitor>(_ algorithm: ConvAlgorithm, _ visitor: V) throws(V.Failure) -> V.Result {
        let layout = visitor.geometry.layout
        let choice = LayoutChoice(visitor: visitor, layout: layout)
        if layout.activations == .channelsLast {
            // The native channels-last algorithms, one line each, by the public name they implement, in the
            // form `case .pointwise: return try choice.visit(ChannelsLastPointwiseAlgorithm.self)`. A name not
            // listed here runs its channels-first type through the conversion.
            switch algorithm {
            case .pointwise: return try choice.visit(ChannelsLastPointwiseAlgorithm.self)
            case .tiledIm2col: return try choice.visit(ChannelsLastTiledIm2colAlgorithm.self)
            case .im2col: return try choice.visit(ChannelsLastIm2colAlgorithm.self)
            case .depthwiseDirect: return try choice.visit(ChannelsLastDepthwiseAlgorithm.self)
            case .winograd4x4: return try choice.visit(ChannelsLastWinogradAlgorithm<WinogradF4>.self)
            case .winograd2x2: return try choice.visit(ChannelsLastWinogradAlgorithm<WinogradF2>.self)
            default: break
            }
        }
        return try visitListed(algorithm, choice)
    }

    /// The channels-first algorithms (the default layout's), one line each.
    private static func visitListed<V: AlgorithmVisitor>(_ algorithm: ConvAlgorithm,
                                                         _ visitor: LayoutChoice<V>) throws(V.Failure) -> V.Result {
        switch algorithm {
        case .depthwiseDirect: return try visitor.visit(DepthwiseDirectAlgorithm.self)
        case .pointwise: return try visitor.visit(PointwiseAlgorithm.self)
        case .winograd4x4: return try visitor.visit(WinogradAlgorithm<WinogradF4>.self)
        case .winograd2x2: return try visitor.visit(WinogradAlgorithm<WinogradF2>.self)
        case .kernelRowGEMM: return try visitor.visit(KernelRowGEMMAlgorithm.self)
        case .tiledIm2col: return try visitor.visit(TiledIm2colAlgorithm.self)
        case .im2col: return try visitor.visit(Im2colAlgorithm.self)
        case .shiftedGEMM: return try visitor.visit(ShiftedGEMMAlgorithm.self)
        }
    }

    /// Calls `visitor` with the type that runs `route` on the visitor's geometry: the route's own type when it
    /// runs that geometry's layout natively, else ``RouteLayoutAdapter`` over it.
    static func visit<V: RouteVisitor>(_ route: InputGradientAlgorithm, _ visitor: V) throws(V.Failure) -> V.Result {
        let choice = RouteLayoutChoice(visitor: visitor, layout: visitor.geometry.layout)
        switch route {
        case .col2im: return try choice.visit(Col2imRoute.self)
        case .fullConvolution: return try choice.visit(FullConvolutionRoute.self)
        }
    }

    /// Why `algorithm` cannot run `geometry`, or `nil`.
    static func inapplicability(of algorithm: ConvAlgorithm, to geometry: ConvGeometry) -> String? {
        visit(algorithm, Describe(geometry: geometry)).inapplicability
    }

    /// The facts about an algorithm that planning needs, read from its type.
    struct Description {
        var inapplicability: String?
        var isAutomaticChoice: Bool
        var workspaceFallback: ConvAlgorithm?
        /// The ways it computes the filter gradient, the automatic choice first.
        var filterGradientAlgorithms: [FilterGradientAlgorithm]
    }

    /// Reads an algorithm type's ``Description`` for one geometry.
    struct Describe: AlgorithmVisitor {
        let geometry: ConvGeometry
        func visit<A: ConvolutionAlgorithm>(_: A.Type) -> Description {
            Description(inapplicability: A.inapplicability(to: geometry),
                        isAutomaticChoice: A.isAutomaticChoice(for: geometry),
                        workspaceFallback: A.workspaceFallback,
                        filterGradientAlgorithms: A.filterGradientAlgorithms(for: geometry))
        }
    }
}

/// Something done with an algorithm's type, for ``AlgorithmRegistry``.
protocol AlgorithmVisitor {
    associatedtype Result
    associatedtype Failure: Error = Never
    /// The geometry the algorithm is for: its layout decides which type the registry passes.
    var geometry: ConvGeometry { get }
    func visit<A: ConvolutionAlgorithm>(_: A.Type) throws(Failure) -> Result
}

/// Passes a listed algorithm type to the visitor as it is when it runs the layout natively, else wrapped in
/// ``LayoutAdapter``.
struct LayoutChoice<V: AlgorithmVisitor> {
    let visitor: V
    let layout: ConvLayout

    func visit<A: ConvolutionAlgorithm>(_: A.Type) throws(V.Failure) -> V.Result {
        if A.runsNatively(layout) { return try visitor.visit(A.self) }
        return try visitor.visit(LayoutAdapter<A>.self)
    }
}

/// Something done with an input-gradient route's type.
protocol RouteVisitor {
    associatedtype Result
    associatedtype Failure: Error = Never
    /// The geometry the route is for: its layout decides which type the registry passes.
    var geometry: ConvGeometry { get }
    func visit<R: InputGradientRoute>(_: R.Type) throws(Failure) -> Result
}

/// Passes a listed route type to the visitor as it is when it runs the layout natively, else wrapped in
/// ``RouteLayoutAdapter``.
struct RouteLayoutChoice<V: RouteVisitor> {
    let visitor: V
    let layout: ConvLayout

    func visit<R: InputGradientRoute>(_: R.Type) throws(V.Failure) -> V.Result {
        if R.runsNatively(layout) { return try visitor.visit(R.self) }
        return try visitor.visit(RouteLayoutAdapter<R>.self)
    }
}
