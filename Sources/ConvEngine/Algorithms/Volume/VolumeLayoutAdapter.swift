/// Runs 3-D algorithm A on a geometry whose layout A does not read natively (NDHWC activations, or a
/// `K×T×R×S×C/G` filter; <doc:Layouts>): the 3-D form of ``LayoutAdapter``, with the same staging
/// (``LayoutStaging``): X and dO copied into NCDHW and O and dX back a chunk of images at a time, F repacked into
/// `K×C/G×T×R×S` once per call and dF permuted back, the bias untouched.
///
/// Workspace: with n images per chunk, `n·(C·D·H·W + K·E·P·Q)` for the forward pass,
/// `n·(K·E·P·Q + C·D·H·W [dF] + C·D·H·W [dX]) + |F| [dF] + K [dB]` for a backward pass, `|F|` for the repacked
/// filter and `|F|` for dF in A's layout when the filter is converted, then A's workspace. n depends on the
/// geometry without its batch, the workers and the tile budget, never on the batch.
struct VolumeLayoutAdapter<A: VolumeAlgorithm>: VolumePasses {
    static var algorithm: ConvAlgorithm3D { A.algorithm }

    /// `geometry` in the layout A runs (``ConvLayout/nearest(to:among:)``).
    static func inner(_ geometry: ConvGeometry3D) -> ConvGeometry3D {
        geometry.withLayout(ConvLayout.nearest(to: geometry.layout, among: A.runsNatively))
    }

    static func inapplicability(to geometry: ConvGeometry3D) -> String? {
        let inner = inner(geometry)
        guard A.runsNatively(inner.layout) else {
            return "\(A.algorithm) runs neither \(geometry.layout) nor any layout it could be converted to"
        }
        return A.inapplicability(to: inner)
    }

    static func isAutomaticChoice(for geometry: ConvGeometry3D) -> Bool { A.isAutomaticChoice(for: inner(geometry)) }

    static func initialPlanes(for geometry: ConvGeometry3D, policy: TilePolicy) -> Int {
        A.initialPlanes(for: inner(geometry), policy: policy)
    }

    static func layoutConversion(for geometry: ConvGeometry3D, policy: TilePolicy) -> LayoutConversion? {
        let shape = ConversionShape(geometry)
        return LayoutConversion(from: geometry.layout, to: inner(geometry).layout,
                                imagesPerChunk: imagesPerChunk(imageElements: shape.inputImage + shape.outputImage,
                                                               policy: policy),
                                rank: 3)
    }

    let staging: LayoutStaging
    /// A on the geometry of a full chunk (in A's layout), and on a shorter last chunk's.
    let full: A, last: A?
    let fullImages: Int
    /// Whether a chunk's geometry could not be made (cannot happen); every pass then throws.
    let invalid: Bool

    init(_ geometry: ConvGeometry3D, plan: ConvPlan3D) {
        let inner = Self.inner(geometry)
        staging = LayoutStaging(ConversionShape(geometry), requested: geometry.layout, algorithm: inner.layout,
                                imagesPerChunk: plan.layoutConversion?.imagesPerChunk)
        var own = plan
        own.layoutConversion = nil
        let chunks = staging.chunkGeometries(inner) { n throws(ConvError) in try inner.withBatch(n) }
        invalid = chunks.invalid
        fullImages = chunks.full.batch
        full = A(chunks.full, plan: own)
        last = chunks.last.map { A($0, plan: own) }
    }

    /// A for a chunk of `images` images (safe unwrap: the last chunk's exists whenever its size differs).
    private func chunk(_ images: Int) -> A { images == fullImages ? full : last! }

    func workspace(for pass: ConvPass) throws(ConvError) -> Int {
        if invalid { throw .sizeOverflow(quantity: "layout conversion chunk geometry") }
        let own = try max(full.workspace(for: pass), last?.workspace(for: pass) ?? 0)
        return try checkedSum(staging.regions(for: pass).total, own,
                              quantity: "workspace (layout conversion staging and \(A.algorithm))")
    }

    func run<T: ConvScalar>(forward call: ForwardCall<T>) throws(ConvError) {
        if invalid { throw .sizeOverflow(quantity: "layout conversion chunk geometry") }
        let regions = try staging.regions(for: .forward)
        let own = try full.layout(for: .forward), lastOwn = try last?.layout(for: .forward)
        staging.forward(call, regions, filter: call.filter, filterConverted: false) { images, x, f, o, ws in
            // Safe unwrap: as in `chunk(_:)`.
            chunk(images).forward(ForwardCall(input: x, filter: f, bias: call.bias, output: o, epilogue: call.epilogue,
                                              preparedFilter: nil, workspace: ws, workers: call.workers),
                                  images == fullImages ? own : lastOwn!)
        }
    }

    func run<T: ConvScalar>(backward call: BackwardCall<T>) throws(ConvError) {
        if invalid { throw .sizeOverflow(quantity: "layout conversion chunk geometry") }
        try staging.backward(call, staging.regions(for: .backward(call.gradients))) { images, chunkCall throws(ConvError) in
            try chunk(images).run(backward: chunkCall)
        }
    }
}

extension ConversionShape {
    /// The tensors of a 3-D convolution.
    init(_ g: ConvGeometry3D) {
        self.init(batch: g.batch, inputChannels: g.inputChannels, inputPixels: g.inputDepth * g.inputHeight * g.inputWidth,
                  outputChannels: g.outputChannels, outputPixels: g.columnColumns,
                  channelsPerGroup: g.inputChannelsPerGroup, taps: g.kernelDepth * g.kernelHeight * g.kernelWidth)
    }
}
