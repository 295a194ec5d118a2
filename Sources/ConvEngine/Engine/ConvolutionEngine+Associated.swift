// The passes of a 2-D convolution run on buffers that are already checked, with a plan and a part of the
// workspace chosen by the caller: how the operations that map onto a convolution (transposed, 1-D) reuse the
// algorithms without a second copy of the lowering.

/// One 2-D convolution with its plan, run on checked pointers. `T` is concrete (`Float` or `Double`) wherever
/// this is called, so the algorithms run specialised.
struct AssociatedConvolution<T: ConvScalar> {
    let geometry: ConvGeometry
    let plan: ConvPlan

    /// `output = conv(input, filter)` (no bias, no activation), overwriting `output` (`geometry.outputCount`);
    /// `workspace` holds at least the plan's workspace.
    func forward(input: UnsafePointer<T>, filter: UnsafePointer<T>, output: UnsafeMutablePointer<T>,
                 workspace: UnsafeMutablePointer<T>) throws(ConvError) {
        try AlgorithmRegistry.visit(plan.algorithm, ForwardRun<T>(
            geometry: geometry, plan: plan, input: input, filter: filter, bias: nil, output: output,
            workspace: workspace, activation: .identity))
    }

    /// The backward pass for whichever of `inputGradient` and `filterGradient` is given (each overwritten, the
    /// filter gradient summed over `geometry.batch`); `workspace` holds at least the plan's workspace.
    func backward(input: UnsafePointer<T>?, filter: UnsafePointer<T>?, outputGradient: UnsafePointer<T>,
                  inputGradient: UnsafeMutablePointer<T>?, filterGradient: UnsafeMutablePointer<T>?,
                  workspace: UnsafeMutablePointer<T>) throws(ConvError) {
        let call = BackwardCall(input: input, filter: filter, outputGradient: outputGradient,
                                inputGradient: inputGradient, filterGradient: filterGradient, biasGradient: nil,
                                workspace: workspace, workers: plan.workers)
        try AlgorithmRegistry.visit(plan.algorithm, BackwardRun(geometry: geometry, plan: plan, call: call))
    }
}

/// `p` as a pointer to `U`, once ``ScalarKind`` has established that `T` is `U` (a no-op).
@inline(__always)
func retype<T, U>(_ p: UnsafeBufferPointer<T>, to _: U.Type) -> UnsafePointer<U>? {
    p.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: U.self) }
}

/// `p` as a mutable pointer to `U`, once ``ScalarKind`` has established that `T` is `U` (a no-op).
@inline(__always)
func retype<T, U>(_ p: UnsafeMutableBufferPointer<T>, to _: U.Type) -> UnsafeMutablePointer<U>? {
    p.baseAddress.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: U.self) }
}
