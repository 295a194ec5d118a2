/// ``ConvAlgorithm/depthwiseDirect``: the direct ``DepthwiseKernel`` (no lowering, no GEMM), which computes the
/// bias gradient in the same pass over dO as the filter gradient.
struct DepthwiseDirectAlgorithm: ConvolutionAlgorithm {
    static var algorithm: ConvAlgorithm { .depthwiseDirect }

    /// Per worker: the kernel's padded input and input-gradient planes.
    struct Layout: WorkspaceLayout {
        var planes = WorkspaceRegion()
        var total = 0
    }

    let geometry: ConvGeometry
    let workers: Int

    init(_ geometry: ConvGeometry, plan: ConvPlan) {
        self.geometry = geometry
        workers = plan.workers
    }

    static func inapplicability(to g: ConvGeometry) -> String? {
        guard g.isDepthwise else { return "needs groups == input channels; got \(g)" }
        // Its two padded planes per worker grow with the padding (see ScratchBound). Safe: H·W and P·Q are at
        // most Int32.max (the geometry checked both).
        return ScratchBound.violation("padded planes per worker", size: try? DepthwiseKernel.scratchPerWorker(g),
                                      canonical: g.inputHeight * g.inputWidth + g.columnColumns)
            .map { "\($0); got \(g)" }
    }

    /// Depthwise geometries with more than one group (the planner asks only when the algorithm applies, so a
    /// padding far larger than the image is already refused by ``inapplicability(to:)``).
    static func isAutomaticChoice(for g: ConvGeometry) -> Bool { g.isDepthwise && g.groups > 1 }
    /// Also through the layout conversion, where no channels-last form is listed: otherwise the rule would fall
    /// back to the im2col lowering (one GEMM of one input channel per group), which the rule avoids for these
    /// geometries in NCHW; the conversion adds two passes over the activations.
    static func isAutomaticThroughActivationConversion(for g: ConvGeometry) -> Bool { true }

    func layout(for pass: ConvPass) throws(ConvError) -> Layout {
        var b = WorkspaceLayoutBuilder(workers: workers)
        var l = Layout()
        l.planes = try b.perWorker(DepthwiseKernel.scratchPerWorker(geometry), "depthwise padded planes")
        l.total = b.total
        return l
    }

    func forward<T: ConvScalar>(_ call: ForwardCall<T>, _ layout: Layout) {
        DepthwiseKernel(geometry).forward(call.input, call.filter, call.bias, call.output, epilogue: call.epilogue,
                                          scratch: layout.planes.at(call.workspace),
                                          scratchPerWorker: layout.planes.perWorker, workers: call.workers)
    }

    /// Split by channel over the whole batch: no partial sums, and the filter- and bias-gradient sums run in an
    /// order that does not depend on the worker count.
    func backward<T: ConvScalar>(_ call: BackwardCall<T>, _ layout: Layout) {
        let any = call.inputGradient != nil || call.filterGradient != nil || call.biasGradient != nil
        DepthwiseKernel(geometry).backward(call.input, call.filter, call.outputGradient, call.inputGradient,
                                           call.filterGradient, call.biasGradient,
                                           scratch: layout.planes.at(call.workspace),
                                           scratchPerWorker: layout.planes.perWorker, workers: any ? call.workers : 0)
    }
}
