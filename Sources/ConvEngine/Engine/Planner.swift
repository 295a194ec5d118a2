// Planning: the one place where the algorithm, the tile and the work split of a call are chosen, and where
// the workspace a plan needs is measured.

extension ConvolutionEngine {
    /// The plan a call on `geometry` in `scalar` will use.
    ///
    /// Automatic choice: the first ``ConvAlgorithm`` case, in declaration order, that the engine's
    /// ``numerics`` allows and whose rule accepts the geometry (``ConvAlgorithm/depthwiseDirect``,
    /// ``ConvAlgorithm/pointwise``, ``ConvAlgorithm/winograd4x4`` in ``ConvNumerics/fast`` mode,
    /// ``ConvAlgorithm/winograd2x2`` in ``ConvNumerics/default`` and fast mode, ``ConvAlgorithm/kernelRowGEMM``,
    /// then ``ConvAlgorithm/tiledIm2col`` for everything else; ``ConvAlgorithm/im2col`` and
    /// ``ConvAlgorithm/shiftedGEMM`` run only when forced), and the ``InputGradientAlgorithm/col2im`` route.
    /// With measured ``planning``, the first call for a geometry times every applicable algorithm the numerics
    /// mode allows (``ConvPlanning``) and the fastest replaces the rule's choice from then on.
    /// Under a ``workspaceLimit`` the tile is halved (whole images first, then bands of rows) until the
    /// workspace fits; an automatic plan whose algorithm cannot shrink switches to the tiled im2col first.
    ///
    /// **Layouts** (<doc:Layouts>). The geometry's ``ConvGeometry/layout`` decides which implementation of the
    /// chosen ``ConvAlgorithm`` runs: one that reads the layout natively (every algorithm for NCHW; the
    /// channels-last algorithms for NHWC activations), or the channels-first algorithm through the conversion
    /// fallback, which copies the operands into NCHW and a `K×C/G×R×S` filter in the workspace and the results
    /// back. The plan says when the fallback is used: ``ConvPlan/layoutConversion`` is then set (what is copied,
    /// and how many images at a time), and the plan's description ends with it, for example
    /// `tiledIm2col(tile 1 image)+col2im×2 via NCHW copies (2 images at a time) and a K×C/G×R×S filter copy`.
    /// With NCHW activations and a `K×R×S×C/G` filter only the filter is repacked. The automatic rule chooses an
    /// algorithm through copies of the activations only where the algorithm says they pay; under a workspace
    /// limit the conversion's images per chunk are halved before the tile.
    ///
    /// - Parameters:
    ///   - geometry: the convolution.
    ///   - scalar: the element type of the calls (`Float` by default): tiles are sized in bytes.
    /// - Throws: ``ConvError/algorithmNotApplicable(algorithm:reason:)`` if a forced algorithm cannot run
    ///   `geometry`; ``ConvError/workspaceCapTooSmall(required:cap:)`` if no plan fits the workspace limit;
    ///   ``ConvError/sizeOverflow(quantity:)`` if the workspace size overflows `Int`.
    public func plan<T: ConvScalar>(for geometry: ConvGeometry, scalar: T.Type = Float.self) throws(ConvError) -> ConvPlan {
        let g = geometry
        let chosen: ConvAlgorithm
        if let forced = algorithm {
            if let reason = AlgorithmRegistry.inapplicability(of: forced, to: g) {
                throw .algorithmNotApplicable(algorithm: forced.rawValue, reason: reason)
            }
            chosen = forced
        } else if planning != .rule, let measured = try measuredChoice(g, T.self) {
            chosen = measured
        } else {
            chosen = Self.automaticOrder.first { candidate in
                guard candidate.numerics <= numerics else { return false }
                let facts = AlgorithmRegistry.visit(candidate, AlgorithmRegistry.Describe(geometry: g))
                return facts.inapplicability == nil && facts.isAutomaticChoice
            } ?? .tiledIm2col
            // The last resort runs every geometry in the channels-first layout; in another layout it may not.
            if let reason = AlgorithmRegistry.inapplicability(of: chosen, to: g) {
                throw .algorithmNotApplicable(algorithm: chosen.rawValue, reason: reason)
            }
        }
        let policy = TilePolicy(budgetBytes: tileBudgetBytes, forcedRows: tileRows,
                                scalarBytes: MemoryLayout<T>.stride, workers: workers)
        var plan = ConvPlan(algorithm: chosen, inputGradientAlgorithm: inputGradientAlgorithm ?? .col2im,
                            workers: workers, tile: AlgorithmRegistry.visit(chosen, InitialTile(geometry: g, policy: policy)))
        plan.layoutConversion = AlgorithmRegistry.visit(chosen, Conversion(geometry: g, policy: policy))
        plan.filterGradientAlgorithm = try filterGradientWay(chosen, g)
        guard let limit = workspaceLimit else { return plan }
        var bytes = try workspaceBytes(g, plan, T.self)
        if bytes <= limit { return plan }
        if algorithm == nil,
           let fallback = AlgorithmRegistry.visit(chosen, AlgorithmRegistry.Describe(geometry: g)).workspaceFallback {
            plan.algorithm = fallback
            plan.tile = .images(1)
            plan.layoutConversion = AlgorithmRegistry.visit(fallback, Conversion(geometry: g, policy: policy))
            plan.filterGradientAlgorithm = try filterGradientWay(fallback, g)
            bytes = try workspaceBytes(g, plan, T.self)
        }
        // Fewer images per conversion chunk first (the copies), then smaller tiles (the algorithm's GEMMs).
        while bytes > limit, let smaller = plan.layoutConversion?.halved() {
            plan.layoutConversion = smaller
            bytes = try workspaceBytes(g, plan, T.self)
        }
        let initialTile = plan.tile
        func shrinkTiles() throws(ConvError) {
            while bytes > limit, let smaller = AlgorithmRegistry.visit(plan.algorithm, SmallerTile(geometry: g, tile: plan.tile)) {
                plan.tile = smaller
                bytes = try workspaceBytes(g, plan, T.self)
            }
        }
        try shrinkTiles()
        // The filter gradient by transform keeps a sum of |U| per worker, which no tile shrinks: an automatic
        // plan computes it by sum of products instead, and shrinks again.
        if bytes > limit && filterGradientAlgorithm == nil && plan.filterGradientAlgorithm != .sumOfProducts {
            plan.filterGradientAlgorithm = .sumOfProducts
            plan.tile = initialTile
            bytes = try workspaceBytes(g, plan, T.self)
            try shrinkTiles()
        }
        if bytes > limit { throw .workspaceCapTooSmall(required: bytes, cap: limit) }
        return plan
    }

    /// The forced ``filterGradientAlgorithm`` when `algorithm` offers it for `g`, else the algorithm's own choice.
    private func filterGradientWay(_ algorithm: ConvAlgorithm, _ g: ConvGeometry) throws(ConvError) -> FilterGradientAlgorithm {
        let ways = AlgorithmRegistry.visit(algorithm, AlgorithmRegistry.Describe(geometry: g)).filterGradientAlgorithms
        guard let forced = filterGradientAlgorithm else { return ways.first ?? .sumOfProducts }
        guard ways.contains(forced) else {
            throw .algorithmNotApplicable(algorithm: "\(algorithm) with the \(forced) filter gradient",
                                          reason: "\(algorithm) computes the filter gradient of \(g) only by "
                                              + ways.map(\.rawValue).joined(separator: " or "))
        }
        return forced
    }

    /// Workspace elements a forward or backward call on `geometry` needs with this engine's plan: the larger of
    /// the forward pass's and of a backward pass computing all three gradients. It depends on the geometry, the
    /// worker count and the plan's tile, never on the batch size, and stays under ``workspaceLimit``.
    ///
    /// With W workers, T the plan's tile columns (`tile rows·Q`) and `|F|` the filter size, the algorithms need:
    /// - ``ConvAlgorithm/im2col``, ``ConvAlgorithm/tiledIm2col``: `W·C/G·R·S·T` for the column tiles; plus, at a
    ///   horizontal stride sw > 1 below the kernel width (tiled only), `W·(C/G + C)·sw·H·⌈W/sw⌉` for images split
    ///   into stride phases;
    /// - ``ConvAlgorithm/kernelRowGEMM``: `W·C/G·S·φ·(t + ⌊(R−1)·dh/sh⌋)·n·Q` for the lowered tiles (t the tile's
    ///   rows per image, n its images, φ ≤ min(sh, R) the vertical stride phases the kernel reads) and `|F|` for
    ///   the filter repacked per kernel row;
    /// - ``ConvAlgorithm/pointwise``: nothing beyond what every lowering needs;
    /// - ``ConvAlgorithm/shiftedGEMM``: forward, `|F|` for the filter repacked per tap and, per worker, the
    ///   padded images of one GEMM and its result; backward, as ``ConvAlgorithm/tiledIm2col``;
    /// - ``ConvAlgorithm/depthwiseDirect``: `W·2·(H+top+bottom)·(W+left+right)` for its padded planes, and no
    ///   filter-gradient partial sums (it splits by channel);
    /// - ``ConvAlgorithm/winograd2x2``, ``ConvAlgorithm/winograd4x4`` (α = 4 or 6): forward and input gradient,
    ///   `α²·K·C/G` for the transformed filter and `W·α²·(C/G + K/G)·b` for the transformed tiles and GEMM results
    ///   of one block per worker, with `b = 8·⌊clamp(B/(α²·(C/G + K/G)·size), 32, 256)/8⌋` tiles per block
    ///   (B the tile budget; halved, down to 8, under a workspace limit); the filter and bias gradients as
    ///   ``ConvAlgorithm/tiledIm2col``, in the same memory (the backward pass needs the larger), or, with the
    ///   filter gradient by transform (``FilterGradientAlgorithm/winograd``), `W·α²·K·C/G` for the workers'
    ///   sums of dU and the same blocks, in the same memory. An automatic plan that is over a workspace limit
    ///   with the filter gradient by transform computes it by sum of products instead.
    ///
    /// Every lowering also needs `W·K/G·T` when a tile holds several images, and `(W−1)·|F|` for the per-worker
    /// filter-gradient sums (`W·|F|` for the kernel-row lowering, which sums every share packed). The
    /// ``InputGradientAlgorithm/fullConvolution`` route runs after the algorithm in the same workspace and needs
    /// `|F| + W·(K/G·(H+dh(R−1))·(W+dw(S−1)) + K/G·R·S·H·W)`; the backward pass needs the larger of the two.
    ///
    /// A plan through the layout conversion (``ConvPlan/layoutConversion``) needs, before the algorithm's own
    /// workspace (of the same geometry in NCHW), the staging of n = ``LayoutConversion/imagesPerChunk`` images:
    /// `n·(C·H·W + K·P·Q)` forward, `n·(K·P·Q + 2·C·H·W) + |F| + K` for a backward pass with all gradients (dO,
    /// X and dX copies, one chunk's dF and dB), plus `|F|` for the repacked filter and `|F|` for dF in
    /// `K×C/G×R×S` when the filter's layout differs. n is as many images as fill ``tileBudgetBytes`` (at least
    /// one per worker, at most 64), so this too does not depend on the batch.
    ///
    /// - Parameters:
    ///   - geometry: the convolution.
    ///   - scalar: the element type of the calls (`Float` by default).
    /// - Throws: as ``plan(for:scalar:)-(ConvGeometry,_)``.
    public func workspaceElementCount<T: ConvScalar>(for geometry: ConvGeometry,
                                                     scalar: T.Type = Float.self) throws(ConvError) -> Int {
        try largestWorkspace(geometry, plan(for: geometry, scalar: scalar))
    }

    /// ``workspaceElementCount(for:scalar:)-(ConvGeometry,_)`` in bytes.
    ///
    /// - Parameters:
    ///   - geometry: the convolution.
    ///   - scalar: the element type of the calls (`Float` by default).
    /// - Throws: as ``plan(for:scalar:)-(ConvGeometry,_)``.
    public func workspaceBytes<T: ConvScalar>(for geometry: ConvGeometry,
                                              scalar: T.Type = Float.self) throws(ConvError) -> Int {
        try workspaceBytes(geometry, plan(for: geometry, scalar: scalar), T.self)
    }

    private func workspaceBytes<T>(_ g: ConvGeometry, _ plan: ConvPlan, _: T.Type) throws(ConvError) -> Int {
        try checkedProduct(largestWorkspace(g, plan), MemoryLayout<T>.stride, quantity: "workspace bytes")
    }

    /// The larger of the forward pass's and the full backward pass's workspace.
    func largestWorkspace(_ g: ConvGeometry, _ plan: ConvPlan) throws(ConvError) -> Int {
        try AlgorithmRegistry.visit(plan.algorithm, MeasureWorkspace(geometry: g, plan: plan))
    }
}

extension ConvolutionEngine {
    /// The algorithms in the order the automatic rule tries them (kept once: `allCases` builds a new array
    /// on every access, and planning runs on every call).
    static let automaticOrder = ConvAlgorithm.allCases
}

/// An algorithm's starting tile.
private struct InitialTile: AlgorithmVisitor {
    let geometry: ConvGeometry, policy: TilePolicy
    func visit<A: ConvolutionAlgorithm>(_: A.Type) -> ConvTile { A.initialTile(for: geometry, policy: policy) }
}

/// The layout conversion an algorithm's type needs for a geometry (`nil`: none).
private struct Conversion: AlgorithmVisitor {
    let geometry: ConvGeometry, policy: TilePolicy
    func visit<A: ConvolutionAlgorithm>(_: A.Type) -> LayoutConversion? { A.layoutConversion(for: geometry, policy: policy) }
}

/// An algorithm's next smaller tile.
private struct SmallerTile: AlgorithmVisitor {
    let geometry: ConvGeometry, tile: ConvTile
    func visit<A: ConvolutionAlgorithm>(_: A.Type) -> ConvTile? { A.smallerTile(than: tile, for: geometry) }
}

/// The workspace of a plan: the larger of its forward pass and its backward pass with all three gradients.
private struct MeasureWorkspace: AlgorithmVisitor {
    let geometry: ConvGeometry, plan: ConvPlan
    func visit<A: ConvolutionAlgorithm>(_: A.Type) throws(ConvError) -> Int {
        let algorithm = A(geometry, plan: plan)
        let forward = try algorithm.layout(for: .forward).total
        let backward = try AlgorithmRegistry.visit(plan.inputGradientAlgorithm,
                                                   BackwardWorkspace(algorithm: algorithm, geometry: geometry,
                                                                     gradients: .all, workers: plan.workers))
        return max(forward, backward)
    }
}

/// The workspace of a backward pass computing `gradients` with route R after algorithm A, in elements.
struct BackwardWorkspace<A: ConvolutionAlgorithm>: RouteVisitor {
    let algorithm: A, geometry: ConvGeometry, gradients: GradientSet, workers: Int

    func visit<R: InputGradientRoute>(_: R.Type) throws(ConvError) -> Int {
        try algorithm.backwardWorkspace(route: R.self, geometry: geometry, gradients: gradients, workers: workers)
    }
}

/// The layouts of one backward pass: the algorithm's, for the gradients it computes, and, when the route
/// computes the input gradient itself, the route's, which reuses the same memory after the algorithm is done.
struct BackwardLayouts<A: ConvolutionAlgorithm, R: InputGradientRoute> {
    /// The gradients the algorithm computes.
    let algorithmGradients: GradientSet
    let algorithm: A.Layout
    /// The route's layout, when it runs.
    let route: R.Layout?

    init(_ a: A, _ r: R, gradients: GradientSet, workers: Int) throws(ConvError) {
        let routed = gradients.contains(.input) && !R.algorithmComputesInputGradient
        algorithmGradients = routed ? gradients.subtracting(.input) : gradients
        algorithm = try a.layout(for: .backward(algorithmGradients))
        route = routed ? try r.layout(workers: workers) : nil
    }

    var total: Int { max(algorithm.total, route?.total ?? 0) }
}
