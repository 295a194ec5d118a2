/// One way of computing the convolution: the forward pass and, for the filter gradient and (with the
/// ``InputGradientAlgorithm/col2im`` route) the input gradient, the backward pass.
///
/// Each algorithm is one type. It says whether it can run a geometry, how large a tile it wants, what
/// workspace a pass needs (as a function of the geometry, the workers and the tile, never of the batch), and
/// runs a pass on buffers the engine has already checked. The engine validates, plans, lays out the workspace
/// and dispatches once; it knows no algorithm by name (see ``AlgorithmRegistry``).
///
/// A pass is split into the steps of the GEMM table of <doc:TheMathAndTheLowering>: the forward GEMM
/// (`O = F·col + B`), the weight GEMM (`dF += dO·colᵀ`) and the input GEMM with its col2im
/// (`dcol = Fᵀ·dO`, scattered back into dX). The lowered algorithms (``LoweredAlgorithm``) implement those
/// steps per tile and share one tile driver; the direct ones (depthwise, the shifted forward pass) implement
/// the whole pass.
protocol ConvolutionAlgorithm {
    /// The workspace regions of one pass of this algorithm.
    associatedtype Layout: WorkspaceLayout

    /// The algorithm's public name.
    static var algorithm: ConvAlgorithm { get }

    /// Why the algorithm cannot run `geometry` (for the ``ConvError/algorithmNotApplicable(algorithm:reason:)``
    /// message), or `nil` when it can.
    static func inapplicability(to geometry: ConvGeometry) -> String?

    /// Whether the automatic plan picks this algorithm for `geometry` (the engine asks the algorithms in the
    /// order of ``ConvAlgorithm/allCases`` and takes the first that says yes).
    static func isAutomaticChoice(for geometry: ConvGeometry) -> Bool

    /// Whether the algorithm's passes read and write tensors in `layout` themselves. Default: `.nchw` only.
    /// ``AlgorithmRegistry`` runs an algorithm on any other layout through ``LayoutAdapter``, which converts
    /// the operands into a layout the algorithm runs natively. A native channels-last algorithm says yes for
    /// `.channelsLast` activations (with either filter layout, if it repacks the filter itself).
    static func runsNatively(_ layout: ConvLayout) -> Bool

    /// Whether the automatic plan may pick this algorithm for `geometry` (not in a layout the algorithm runs
    /// natively) through ``LayoutAdapter``'s conversion of the activations, when its own rule
    /// (``isAutomaticChoice(for:)`` on the converted geometry) also says yes. Default `false`: a plan that copies
    /// every activation twice is chosen automatically only where it is known to pay.
    static func isAutomaticThroughActivationConversion(for geometry: ConvGeometry) -> Bool

    /// How the plan converts the operands for this type to run `geometry` (`nil`, the default: it reads the
    /// geometry's layout itself). ``LayoutAdapter`` answers.
    static func layoutConversion(for geometry: ConvGeometry, policy: TilePolicy) -> LayoutConversion?

    /// The tile the plan starts from, before any workspace limit shrinks it.
    static func initialTile(for geometry: ConvGeometry, policy: TilePolicy) -> ConvTile

    /// The next smaller tile under a workspace limit, or `nil` when the algorithm cannot shrink further.
    static func smallerTile(than tile: ConvTile, for geometry: ConvGeometry) -> ConvTile?

    /// The ways this algorithm computes the filter gradient of `geometry`, the automatic plan's choice first.
    /// Default: ``FilterGradientAlgorithm/sumOfProducts`` only. The algorithm reads the plan's
    /// ``ConvPlan/filterGradientAlgorithm``; the engine has checked that it is one of these.
    static func filterGradientAlgorithms(for geometry: ConvGeometry) -> [FilterGradientAlgorithm]

    /// The algorithm an automatic plan switches to when this one's smallest workspace is over the limit
    /// (`nil`: none; the plan then fails with ``ConvError/workspaceCapTooSmall(required:cap:)``).
    static var workspaceFallback: ConvAlgorithm? { get }

    /// The algorithm for one call's geometry and plan.
    init(_ geometry: ConvGeometry, plan: ConvPlan)

    /// The workspace regions `pass` uses, overflow-checked.
    func layout(for pass: ConvPass) throws(ConvError) -> Layout

    /// Elements of the filter in the form this algorithm's forward pass computes with, when that is not F as
    /// given (Winograd's U, a filter repacked per tap or kernel row): a ``PreparedFilter`` holds it, so forward
    /// calls skip the transform. `nil`: the forward pass reads F itself.
    func preparedFilterCount() throws(ConvError) -> Int?

    /// Writes that form of `filter` (``preparedFilterCount()`` elements) into `prepared`.
    func prepareFilter<T: ConvScalar>(_ filter: UnsafePointer<T>, into prepared: UnsafeMutablePointer<T>, workers: Int)

    /// The forward pass: `O = f(conv(X, F) + B)`, overwriting O, with f = `call.epilogue` applied to each output
    /// region as soon as it is final.
    func forward<T: ConvScalar>(_ call: ForwardCall<T>, _ layout: Layout)

    /// The backward pass: whichever of dF, dX and dB `call` carries, each overwritten (dF and dB summed over
    /// the batch).
    func backward<T: ConvScalar>(_ call: BackwardCall<T>, _ layout: Layout)

    /// Workspace elements of a backward pass on `geometry` computing `gradients`, the input gradient through
    /// route R. Default: the larger of the algorithm's pass and the route's, which reuses the same memory after it
    /// (``BackwardLayouts``).
    func backwardWorkspace<R: InputGradientRoute>(route: R.Type, geometry: ConvGeometry, gradients: GradientSet,
                                                  workers: Int) throws(ConvError) -> Int

    /// The backward pass on `geometry` with the input gradient through route R. Default: the algorithm's
    /// ``backward(_:_:)`` for what it computes, then, when R computes dX itself, R's pass in the same workspace.
    /// ``LayoutAdapter`` runs both on its converted copies.
    func backward<T: ConvScalar, R: InputGradientRoute>(_ call: BackwardCall<T>, route: R.Type, geometry: ConvGeometry,
                                                        workers: Int) throws(ConvError)
}

extension ConvolutionAlgorithm {
    static func smallerTile(than tile: ConvTile, for geometry: ConvGeometry) -> ConvTile? { nil }
    static var workspaceFallback: ConvAlgorithm? { nil }
    static func isAutomaticChoice(for geometry: ConvGeometry) -> Bool { false }
    static func filterGradientAlgorithms(for geometry: ConvGeometry) -> [FilterGradientAlgorithm] { [.sumOfProducts] }
    static func runsNatively(_ layout: ConvLayout) -> Bool { layout == .nchw }
    static func isAutomaticThroughActivationConversion(for geometry: ConvGeometry) -> Bool { false }
    static func layoutConversion(for geometry: ConvGeometry, policy: TilePolicy) -> LayoutConversion? { nil }

    func backwardWorkspace<R: InputGradientRoute>(route: R.Type, geometry: ConvGeometry, gradients: GradientSet,
                                                  workers: Int) throws(ConvError) -> Int {
        try BackwardLayouts(self, R(geometry), gradients: gradients, workers: workers).total
    }

    func backward<T: ConvScalar, R: InputGradientRoute>(_ call: BackwardCall<T>, route: R.Type, geometry: ConvGeometry,
                                                        workers: Int) throws(ConvError) {
        let route = R(geometry)
        let layouts = try BackwardLayouts(self, route, gradients: call.gradients, workers: workers)
        var own = call
        if !layouts.algorithmGradients.contains(.input) { own.inputGradient = nil }
        backward(own, layouts.algorithm)
        // The route runs after the algorithm has finished with the workspace, in the same memory.
        if let routeLayout = layouts.route, let dX = call.inputGradient, let f = call.filter {
            route.inputGradient(filter: f, outputGradient: call.outputGradient, inputGradient: dX,
                                workspace: call.workspace, workers: workers, routeLayout)
        }
    }
    static func initialTile(for geometry: ConvGeometry, policy: TilePolicy) -> ConvTile { .images(1) }
    func preparedFilterCount() throws(ConvError) -> Int? { nil }
    func prepareFilter<T: ConvScalar>(_ filter: UnsafePointer<T>, into prepared: UnsafeMutablePointer<T>, workers: Int) {}
}

/// Which pass a workspace layout is for.
enum ConvPass: Hashable {
    /// The forward pass.
    case forward
    /// A backward pass computing `gradients` in the algorithm (the input gradient only with the col2im route).
    case backward(GradientSet)

    /// The gradients of a backward pass (none for the forward pass).
    var gradients: GradientSet {
        if case .backward(let set) = self { return set }
        return []
    }
}

/// The checked operands of a forward pass and the call's resources.
struct ForwardCall<T: ConvScalar> {
    /// X, `N×C×H×W` (the tensors of a call are in the geometry's layout, one the algorithm runs natively).
    let input: UnsafePointer<T>
    /// F, `K×C/G×R×S`.
    let filter: UnsafePointer<T>
    /// B, `K`, or `nil`.
    let bias: UnsafePointer<T>?
    /// O, `N×K×P×Q`, overwritten.
    let output: UnsafeMutablePointer<T>
    /// The activation each output region gets right after it is written (after the bias).
    let epilogue: Epilogue<T>
    /// The algorithm's prepared form of F (``ConvolutionAlgorithm/prepareFilter(_:into:workers:)``), or `nil`:
    /// the pass then prepares it itself, in the workspace.
    let preparedFilter: UnsafePointer<T>?
    /// The start of the workspace, holding at least the layout's total (never dereferenced when that is 0).
    let workspace: UnsafeMutablePointer<T>
    /// Worker threads.
    let workers: Int
}

/// The checked operands of a backward pass and the call's resources. A gradient that is `nil` is not computed.
struct BackwardCall<T: ConvScalar> {
    /// X, present when `filterGradient` is.
    let input: UnsafePointer<T>?
    /// F, present when `inputGradient` is.
    let filter: UnsafePointer<T>?
    /// dL/dO, `N×K×P×Q`.
    let outputGradient: UnsafePointer<T>
    /// dL/dX, `N×C×H×W`, overwritten.
    var inputGradient: UnsafeMutablePointer<T>?
    /// dL/dF, `K×C/G×R×S`, overwritten with the sum over the batch.
    var filterGradient: UnsafeMutablePointer<T>?
    /// dL/dB, `K`, overwritten with the sum over the batch and positions.
    var biasGradient: UnsafeMutablePointer<T>?
    /// As in ``ForwardCall/workspace``.
    let workspace: UnsafeMutablePointer<T>
    /// Worker threads.
    let workers: Int

    /// The gradients this call computes.
    var gradients: GradientSet {
        var set: GradientSet = []
        if inputGradient != nil { set.insert(.input) }
        if filterGradient != nil { set.insert(.filter) }
        if biasGradient != nil { set.insert(.bias) }
        return set
    }
}

/// The engine settings that size tiles.
struct TilePolicy {
    /// Bytes of lowered matrix (plus tile result) a tile aims for.
    let budgetBytes: Int
    /// A forced tile height in output rows, or `nil`.
    let forcedRows: Int?
    /// Bytes of one element.
    let scalarBytes: Int
    /// Worker threads.
    let workers: Int
}
