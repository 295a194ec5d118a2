// From a plan to the code that runs it: visitors that the algorithm registry calls with the concrete
// algorithm (and input-gradient route) type, so each pass is specialised for its algorithm and element type.

/// The forward pass's workspace elements.
struct ForwardWorkspace: AlgorithmVisitor {
    let geometry: ConvGeometry, plan: ConvPlan
    func visit<A: ConvolutionAlgorithm>(_: A.Type) throws(ConvError) -> Int {
        try A(geometry, plan: plan).layout(for: .forward).total
    }
}

/// A backward pass's workspace elements for `gradients`.
struct BackwardPassWorkspace: AlgorithmVisitor {
    let geometry: ConvGeometry, plan: ConvPlan, gradients: GradientSet
    func visit<A: ConvolutionAlgorithm>(_: A.Type) throws(ConvError) -> Int {
        try AlgorithmRegistry.visit(plan.inputGradientAlgorithm,
                                    BackwardWorkspace(algorithm: A(geometry, plan: plan), geometry: geometry,
                                                      gradients: gradients, workers: plan.workers))
    }
}

/// Runs the forward pass of the plan's algorithm on checked buffers.
struct ForwardRun<T: ConvScalar>: AlgorithmVisitor {
    let geometry: ConvGeometry, plan: ConvPlan
    let input: UnsafePointer<T>, filter: UnsafePointer<T>, bias: UnsafePointer<T>?
    let output: UnsafeMutablePointer<T>, workspace: UnsafeMutablePointer<T>
    let activation: Activation
    var preparedFilter: UnsafePointer<T>? = nil

    func visit<A: ConvolutionAlgorithm>(_: A.Type) throws(ConvError) {
        let algorithm = A(geometry, plan: plan)
        let layout = try algorithm.layout(for: .forward)
        algorithm.forward(ForwardCall(input: input, filter: filter, bias: bias, output: output,
                                      epilogue: Epilogue(activation), preparedFilter: preparedFilter,
                                      workspace: workspace, workers: plan.workers),
                          layout)
    }
}

/// The element count of the plan's prepared filter (`nil`: the algorithm reads F as given).
struct PreparedFilterCount: AlgorithmVisitor {
    let geometry: ConvGeometry, plan: ConvPlan
    func visit<A: ConvolutionAlgorithm>(_: A.Type) throws(ConvError) -> Int? {
        try A(geometry, plan: plan).preparedFilterCount()
    }
}

/// Writes the plan's prepared filter.
struct PrepareFilterRun<T: ConvScalar>: AlgorithmVisitor {
    let geometry: ConvGeometry, plan: ConvPlan
    let filter: UnsafePointer<T>, prepared: UnsafeMutablePointer<T>
    func visit<A: ConvolutionAlgorithm>(_: A.Type) {
        A(geometry, plan: plan).prepareFilter(filter, into: prepared, workers: plan.workers)
    }
}

/// Runs the backward pass of the plan's algorithm, then its input-gradient route, on checked buffers.
struct BackwardRun<T: ConvScalar>: AlgorithmVisitor {
    let geometry: ConvGeometry, plan: ConvPlan
    let call: BackwardCall<T>

    func visit<A: ConvolutionAlgorithm>(_: A.Type) throws(ConvError) {
        try AlgorithmRegistry.visit(plan.inputGradientAlgorithm,
                                    BackwardRouteRun(algorithm: A(geometry, plan: plan), geometry: geometry,
                                                     plan: plan, call: call))
    }
}

/// The second half of ``BackwardRun``, once the route's type is known.
struct BackwardRouteRun<A: ConvolutionAlgorithm, T: ConvScalar>: RouteVisitor {
    let algorithm: A, geometry: ConvGeometry, plan: ConvPlan
    let call: BackwardCall<T>

    func visit<R: InputGradientRoute>(_: R.Type) throws(ConvError) {
        try algorithm.backward(call, route: R.self, geometry: geometry, workers: plan.workers)
    }
}

/// The start of a call's workspace: its buffer's, or, when the plan needs none, a non-null address that is
/// never dereferenced (every region of an empty layout has size 0).
@inline(__always)
func workspaceStart<T>(_ buffer: UnsafeMutableBufferPointer<T>) -> UnsafeMutablePointer<T> {
    // Safe: a nonzero, suitably aligned address; only empty regions are ever formed from it.
    buffer.baseAddress ?? UnsafeMutablePointer<T>(bitPattern: MemoryLayout<T>.alignment)!
}
