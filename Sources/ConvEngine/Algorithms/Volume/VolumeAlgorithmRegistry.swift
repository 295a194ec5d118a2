/// Where the 3-D algorithms are listed: the one place that maps a public ``ConvAlgorithm3D`` to the type that
/// implements it. Dispatch goes through a visitor with a concrete type per line, so every pass runs code
/// specialised for its algorithm and element type. As ``AlgorithmRegistry`` does for 2-D, it decides the
/// layout from the visitor's geometry: an algorithm that does not read it natively runs through
/// ``VolumeLayoutAdapter``.
enum VolumeAlgorithmRegistry {
    /// Calls `visitor` with the type that runs `algorithm` on the visitor's geometry.
    static func visit<V: VolumeAlgorithmVisitor>(_ algorithm: ConvAlgorithm3D, _ visitor: V) throws(V.Failure) -> V.Result {
        let choice = VolumeLayoutChoice(visitor: visitor)
        switch algorithm {
        case .vol2col: return try choice.visit(Vol2colAlgorithm.self)
        case .kernelDepthGEMM: return try choice.visit(KernelDepthGEMMAlgorithm.self)
        }
    }

    /// Why `algorithm` cannot run `geometry`, or `nil`.
    static func inapplicability(of algorithm: ConvAlgorithm3D, to geometry: ConvGeometry3D) -> String? {
        visit(algorithm, Describe(geometry: geometry)).inapplicability
    }

    /// Whether the automatic rule picks `algorithm` for `geometry` (and it applies).
    static func isAutomaticChoice(_ algorithm: ConvAlgorithm3D, for geometry: ConvGeometry3D) -> Bool {
        let facts = visit(algorithm, Describe(geometry: geometry))
        return facts.inapplicability == nil && facts.isAutomaticChoice
    }

    /// What planning reads from an algorithm's type for one geometry.
    struct Describe: VolumeAlgorithmVisitor {
        let geometry: ConvGeometry3D
        func visit<A: VolumePasses>(_: A.Type) -> (inapplicability: String?, isAutomaticChoice: Bool) {
            (A.inapplicability(to: geometry), A.isAutomaticChoice(for: geometry))
        }
    }
}

/// Something done with a 3-D algorithm's type, for ``VolumeAlgorithmRegistry``.
protocol VolumeAlgorithmVisitor {
    associatedtype Result
    associatedtype Failure: Error = Never
    /// The geometry the algorithm is for: its layout decides which type the registry passes.
    var geometry: ConvGeometry3D { get }
    func visit<A: VolumePasses>(_: A.Type) throws(Failure) -> Result
}

/// Passes a listed 3-D algorithm to the visitor as it is when it reads the geometry's layout, else wrapped in
/// ``VolumeLayoutAdapter``.
struct VolumeLayoutChoice<V: VolumeAlgorithmVisitor> {
    let visitor: V

    func visit<A: VolumeAlgorithm>(_: A.Type) throws(V.Failure) -> V.Result {
        if A.runsNatively(visitor.geometry.layout) { return try visitor.visit(A.self) }
        return try visitor.visit(VolumeLayoutAdapter<A>.self)
    }
}
