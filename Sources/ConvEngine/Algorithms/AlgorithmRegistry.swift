/// Where the algorithms are listed: the one place that maps a public ``ConvAlgorithm`` or
/// ``InputGradientAlgorithm`` to the type that implements it. Adding an algorithm is adding its type (a file
/// or folder under `Algorithms/`), its public name, and one line here.
///
/// Dispatch goes through a visitor with a concrete type per line, not through an existential, so every pass
/// runs code specialised for its algorithm and element type.
enum AlgorithmRegistry {
    /// Calls `visitor` with the type that implements `algorithm`.
    static func visit<V: AlgorithmVisitor>(_ algorithm: ConvAlgorithm, _ visitor: V) throws(V.Failure) -> V.Result {
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

    /// Calls `visitor` with the type that implements `route`.
    static func visit<V: RouteVisitor>(_ route: InputGradientAlgorithm, _ visitor: V) throws(V.Failure) -> V.Result {
        switch route {
        case .col2im: return try visitor.visit(Col2imRoute.self)
        case .fullConvolution: return try visitor.visit(FullConvolutionRoute.self)
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
    }

    /// Reads an algorithm type's ``Description`` for one geometry.
    struct Describe: AlgorithmVisitor {
        let geometry: ConvGeometry
        func visit<A: ConvolutionAlgorithm>(_: A.Type) -> Description {
            Description(inapplicability: A.inapplicability(to: geometry),
                        isAutomaticChoice: A.isAutomaticChoice(for: geometry),
                        workspaceFallback: A.workspaceFallback)
        }
    }
}

/// Something done with an algorithm's type, for ``AlgorithmRegistry``.
protocol AlgorithmVisitor {
    associatedtype Result
    associatedtype Failure: Error = Never
    func visit<A: ConvolutionAlgorithm>(_: A.Type) throws(Failure) -> Result
}

/// Something done with an input-gradient route's type.
protocol RouteVisitor {
    associatedtype Result
    associatedtype Failure: Error = Never
    func visit<R: InputGradientRoute>(_: R.Type) throws(Failure) -> Result
}
