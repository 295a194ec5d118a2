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

    /// The kernel keeps two padded planes per worker; it applies while they are at most this many times the
    /// input and output planes (plus a small constant for tiny images), so a padding far larger than the image
    /// cannot make a forced call allocate gigabytes of zeros for a few outputs (the lowered algorithms then
    /// run such geometries in a few kilobytes).
    static let paddedPlaneFactor = 16

    static func inapplicability(to g: ConvGeometry) -> String? {
        guard g.isDepthwise else { return "needs groups == input channels; got \(g)" }
        // Safe: H·W and P·Q are at most Int32.max (the geometry checked both).
        let bound = paddedPlaneFactor * (g.inputHeight * g.inputWidth + g.columnColumns) + 4096
        guard let planes = try? DepthwiseKernel.scratchPerWorker(g), planes <= bound else {
            return "needs padded planes of at most \(bound) elements (\(paddedPlaneFactor)× the input and output "
                + "planes plus 4096) per worker; got \(g)"
        }
        return nil
    }

    /// Depthwise geometries with more than one group, unless the padding is far larger than the image (the
    /// kernel's padded planes grow with it: hostile geometries, valid with tiny buffers, whose planes would not
    /// fit in memory or in `Int`).
    static func isAutomaticChoice(for g: ConvGeometry) -> Bool {
        guard g.isDepthwise && g.groups > 1, let planes = try? DepthwiseKernel.scratchPerWorker(g) else { return false }
        return planes <= 8 * g.inputHeight * g.inputWidth + 4096
    }

    func layout(for pass: ConvPass) throws(ConvError) -> Layout {
        var b = WorkspaceLayoutBuilder(workers: workers)
        var l = Layout()
        l.planes = try b.perWorker(DepthwiseKernel.scratchPerWorker(geometry), "depthwise padded planes")
        l.total = b.total
        return l
    }

    func forward<T: ConvScalar>(_ call: ForwardCall<T>, _ layout: Layout) {
        DepthwiseKernel(geometry).forward(call.input, call.filter, call.bias, call.output,
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
