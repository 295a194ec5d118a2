// Helpers shared by the tests of the operations that run on a 2-D convolution's algorithms (the transposed
// convolution, the 1-D convolution and the 1-D transposed convolution): one protocol over their geometries, so
// that the sweep, the adjoint identities, the finite differences and the hostile checks are written once.
import Foundation
import Testing
import ConvEngine

/// A geometry of the family, seen by the tests: its shapes, its term counts, and its calls on the engine and
/// on the reference.
protocol FamilyGeometry: LayerGeometry {
    /// The operation's name in printed counts, e.g. `transposed`.
    static var operation: String { get }
    /// Shapes of X, F and O (the bias is `[biasCount]`).
    var inputShape: [Int] { get }
    var filterShape: [Int] { get }
    var outputShape: [Int] { get }
    /// MATH.md's L per result.
    var termCounts: ErrorBound.TermCounts { get }
    /// The engine's plan in Double.
    func mappedPlan(_ engine: ConvolutionEngine) throws -> MappedConvPlan
    /// The engine's buffer forms.
    func forward<T: ConvScalar>(_ e: ConvolutionEngine, _ x: UnsafeBufferPointer<T>, _ f: UnsafeBufferPointer<T>,
                                _ b: UnsafeBufferPointer<T>?, _ o: UnsafeMutableBufferPointer<T>,
                                _ ws: ConvWorkspace<T>) throws
    func backward<T: ConvScalar>(_ e: ConvolutionEngine, _ x: UnsafeBufferPointer<T>?, _ f: UnsafeBufferPointer<T>?,
                                 _ dO: UnsafeBufferPointer<T>, _ dx: UnsafeMutableBufferPointer<T>?,
                                 _ df: UnsafeMutableBufferPointer<T>?, _ db: UnsafeMutableBufferPointer<T>?,
                                 _ ws: ConvWorkspace<T>) throws
    /// The reference's results with Σ|terms|, in Double.
    func referenceForward(_ x: [Double], _ f: [Double], _ b: [Double]?) throws -> (output: [Double], magnitudes: [Double])
    func referenceBackward(_ x: [Double], _ f: [Double], _ dO: [Double]) throws
        -> (gradients: Gradients<Double>, magnitudes: Gradients<Double>)
    /// The bound the 2-D plan `plan` is checked with, when it is not Σ|terms| (a Winograd plan).
    func bounded(_ r: FamilyReference, plan: ConvPlan, operands p: FamilyProblem) -> FamilyReference
    /// The reference's buffer forms (for the hostile calls).
    func referenceForward(_ x: UnsafeBufferPointer<Double>, _ f: UnsafeBufferPointer<Double>,
                          _ b: UnsafeBufferPointer<Double>?, _ o: UnsafeMutableBufferPointer<Double>) throws
    func referenceBackward(_ x: UnsafeBufferPointer<Double>?, _ f: UnsafeBufferPointer<Double>?,
                           _ dO: UnsafeBufferPointer<Double>, _ dx: UnsafeMutableBufferPointer<Double>?,
                           _ df: UnsafeMutableBufferPointer<Double>?, _ db: UnsafeMutableBufferPointer<Double>?) throws
    /// The engine's array forms and workspace size.
    func arrayForward(_ e: ConvolutionEngine, input: [Double], filter: [Double]) throws -> [Double]
    func arrayBackward(_ e: ConvolutionEngine, input: [Double]?, filter: [Double]?, outputGradient: [Double],
                       gradients: GradientSet) throws -> Gradients<Double>
    func workspaceCount(_ e: ConvolutionEngine) throws -> Int
    /// The same operation in another memory layout.
    func withLayout(_ layout: ConvLayout) -> Self
}

// The calls on the engine and the reference, written once over LayerGeometry's dispatch and the generic array forms.
extension FamilyGeometry {
    func forward<T: ConvScalar>(_ e: ConvolutionEngine, _ x: UnsafeBufferPointer<T>, _ f: UnsafeBufferPointer<T>,
                                _ b: UnsafeBufferPointer<T>?, _ o: UnsafeMutableBufferPointer<T>, _ ws: ConvWorkspace<T>) throws {
        try forward(on: e, input: x, filter: f, bias: b, output: o, workspace: ws)
    }
    func backward<T: ConvScalar>(_ e: ConvolutionEngine, _ x: UnsafeBufferPointer<T>?, _ f: UnsafeBufferPointer<T>?,
                                 _ dO: UnsafeBufferPointer<T>, _ dx: UnsafeMutableBufferPointer<T>?,
                                 _ df: UnsafeMutableBufferPointer<T>?, _ db: UnsafeMutableBufferPointer<T>?,
                                 _ ws: ConvWorkspace<T>) throws {
        try backward(on: e, input: x, filter: f, outputGradient: dO, inputGradient: dx, filterGradient: df,
                     biasGradient: db, workspace: ws)
    }
    func referenceForward(_ x: UnsafeBufferPointer<Double>, _ f: UnsafeBufferPointer<Double>,
                          _ b: UnsafeBufferPointer<Double>?, _ o: UnsafeMutableBufferPointer<Double>) throws {
        try forward(on: ReferenceConvolution(), input: x, filter: f, bias: b, output: o, workspace: ConvWorkspace<Double>())
    }
    func referenceBackward(_ x: UnsafeBufferPointer<Double>?, _ f: UnsafeBufferPointer<Double>?,
                           _ dO: UnsafeBufferPointer<Double>, _ dx: UnsafeMutableBufferPointer<Double>?,
                           _ df: UnsafeMutableBufferPointer<Double>?, _ db: UnsafeMutableBufferPointer<Double>?) throws {
        try backward(on: ReferenceConvolution(), input: x, filter: f, outputGradient: dO, inputGradient: dx,
                     filterGradient: df, biasGradient: db, workspace: ConvWorkspace<Double>())
    }
    func arrayForward(_ e: ConvolutionEngine, input: [Double], filter: [Double]) throws -> [Double] {
        try e.forward(self, input: input, filter: filter)
    }
    func arrayBackward(_ e: ConvolutionEngine, input: [Double]?, filter: [Double]?, outputGradient: [Double],
                       gradients: GradientSet) throws -> Gradients<Double> {
        try e.backward(self, input: input, filter: filter, outputGradient: outputGradient, gradients: gradients)
    }
    func bounded(_ r: FamilyReference, plan: ConvPlan, operands p: FamilyProblem) -> FamilyReference { r }
    var biasShape: [Int] { [biasCount] }
}

extension TransposedConvGeometry: FamilyGeometry {
    func workspaceCount(_ e: ConvolutionEngine) throws -> Int { try e.workspaceElementCount(for: self, scalar: Double.self) }
    static var operation: String { "transposed" }
    var inputShape: [Int] { [batch, inputChannels, inputHeight, inputWidth] }
    var filterShape: [Int] { [inputChannels, outputChannelsPerGroup, kernelHeight, kernelWidth] }
    var outputShape: [Int] { [batch, outputChannels, outputHeight, outputWidth] }
    var termCounts: ErrorBound.TermCounts { ErrorBound.termCounts(self) }
    func mappedPlan(_ engine: ConvolutionEngine) throws -> MappedConvPlan { try engine.plan(for: self, scalar: Double.self) }
    func referenceForward(_ x: [Double], _ f: [Double], _ b: [Double]?) throws -> (output: [Double], magnitudes: [Double]) {
        try ReferenceConvolution().forwardWithMagnitudes(self, input: x, filter: f, bias: b)
    }
    func referenceBackward(_ x: [Double], _ f: [Double], _ dO: [Double]) throws
        -> (gradients: Gradients<Double>, magnitudes: Gradients<Double>) {
        try ReferenceConvolution().backwardWithMagnitudes(self, input: x, filter: f, outputGradient: dO)
    }

    /// A Winograd plan runs the forward pass as the associated convolution's transform input gradient (with the
    /// col2im route) and the input gradient as its transform forward pass: those two results are checked with
    /// the transform bound (Mag computed by the reference on the associated convolution, plus |Bt| and one term
    /// for the bias added afterwards). Winograd needs dilation 1, so such a geometry is never staged.
    /// With ``FilterGradientAlgorithm/winograd``, dF is the associated convolution's filter gradient by
    /// transform (X = dO, dO = X) and gets its transform bound too.
    func bounded(_ r: FamilyReference, plan: ConvPlan, operands p: FamilyProblem) -> FamilyReference {
        let algorithm = plan.algorithm, route = plan.inputGradientAlgorithm
        guard let m = algorithm.winogradTileSize else { return r }
        var out = r
        let a = associated, t = ErrorBound.termCounts(a, plan: plan)
        do {
            let reference = ReferenceConvolution()
            if plan.filterGradientAlgorithm == .winograd {
                out.magnitudes.filterGradient = try reference.winogradFilterGradientMagnitudes(
                    a, tileSize: m, input: p.outputGradient, outputGradient: p.input)
                out.terms[2] = t.filterGradient
            }
            if route == .col2im {
                var mag = try reference.winogradInputGradientMagnitudes(a, tileSize: m, filter: p.filter, outputGradient: p.input)
                if let b = p.bias {
                    // The channel of output element i: NCHW planes, or NHWC's innermost axis.
                    let plane = layout.activations == .channelsLast ? 1 : outputHeight * outputWidth
                    for i in mag.indices { mag[i] += abs(b[(i / plane) % outputChannels]) }
                }
                out.magnitudes.output = mag
                out.terms[0] = t.inputGradient + 1
            }
            out.magnitudes.inputGradient = try reference.winogradForwardMagnitudes(a, tileSize: m, input: p.outputGradient,
                                                                                   filter: p.filter, bias: nil)
            out.terms[1] = t.output
        } catch {
            Issue.record("transform magnitudes of \(algorithm) on \(self): \(error)")
        }
        return out
    }
}

extension ConvGeometry1D: FamilyGeometry {
    func workspaceCount(_ e: ConvolutionEngine) throws -> Int { try e.workspaceElementCount(for: self, scalar: Double.self) }
    static var operation: String { "1-D" }
    var inputShape: [Int] { [batch, inputChannels, inputLength] }
    var filterShape: [Int] { [outputChannels, inputChannelsPerGroup, kernelLength] }
    var outputShape: [Int] { [batch, outputChannels, outputLength] }
    var termCounts: ErrorBound.TermCounts { ErrorBound.termCounts(self) }
    func mappedPlan(_ engine: ConvolutionEngine) throws -> MappedConvPlan { try engine.plan(for: self, scalar: Double.self) }
    func referenceForward(_ x: [Double], _ f: [Double], _ b: [Double]?) throws -> (output: [Double], magnitudes: [Double]) {
        try ReferenceConvolution().forwardWithMagnitudes(self, input: x, filter: f, bias: b)
    }
    func referenceBackward(_ x: [Double], _ f: [Double], _ dO: [Double]) throws
        -> (gradients: Gradients<Double>, magnitudes: Gradients<Double>) {
        try ReferenceConvolution().backwardWithMagnitudes(self, input: x, filter: f, outputGradient: dO)
    }
}

extension TransposedConvGeometry1D: FamilyGeometry {
    func workspaceCount(_ e: ConvolutionEngine) throws -> Int { try e.workspaceElementCount(for: self, scalar: Double.self) }
    static var operation: String { "1-D transposed" }
    var inputShape: [Int] { [batch, inputChannels, inputLength] }
    var filterShape: [Int] { [inputChannels, outputChannelsPerGroup, kernelLength] }
    var outputShape: [Int] { [batch, outputChannels, outputLength] }
    var termCounts: ErrorBound.TermCounts { ErrorBound.termCounts(self) }
    func mappedPlan(_ engine: ConvolutionEngine) throws -> MappedConvPlan { try engine.plan(for: self, scalar: Double.self) }
    func referenceForward(_ x: [Double], _ f: [Double], _ b: [Double]?) throws -> (output: [Double], magnitudes: [Double]) {
        try ReferenceConvolution().forwardWithMagnitudes(self, input: x, filter: f, bias: b)
    }
    func referenceBackward(_ x: [Double], _ f: [Double], _ dO: [Double]) throws
        -> (gradients: Gradients<Double>, magnitudes: Gradients<Double>) {
        try ReferenceConvolution().backwardWithMagnitudes(self, input: x, filter: f, outputGradient: dO)
    }
}

/// One random problem: X, F, B (or none) and dO, in Double.
struct FamilyProblem: Sendable {
    var input: [Double], filter: [Double], bias: [Double]?, outputGradient: [Double]

    init<G: FamilyGeometry>(_ g: G, useBias: Bool, rng: inout SeededGenerator) {
        input = rng.values(g.inputCount)
        filter = rng.values(g.filterCount)
        bias = useBias ? rng.array(g.biasCount) : nil
        outputGradient = rng.values(g.outputCount)
    }

    init(input: [Double], filter: [Double], bias: [Double]?, outputGradient: [Double]) {
        self.input = input; self.filter = filter; self.bias = bias; self.outputGradient = outputGradient
    }

    /// The same problem as a `T` run sees it (every value rounded to `T`), still in Double.
    func rounded<T: ConvScalar>(to _: T.Type) -> FamilyProblem {
        FamilyProblem(input: roundedThrough(input, T.self), filter: roundedThrough(filter, T.self),
                      bias: bias.map { roundedThrough($0, T.self) },
                      outputGradient: roundedThrough(outputGradient, T.self))
    }
}

/// The reference's four results with Σ|terms| and L per result (O, dX, dF, dB).
struct FamilyReference: Sendable {
    var values: ConvResults<Double>
    var magnitudes: ConvResults<Double>
    var terms: [Int]

    init<G: FamilyGeometry>(_ g: G, _ p: FamilyProblem) throws {
        let (o, mo) = try g.referenceForward(p.input, p.filter, p.bias)
        let (grads, mags) = try g.referenceBackward(p.input, p.filter, p.outputGradient)
        values = ConvResults(output: o, inputGradient: grads.input!, filterGradient: grads.filter!, biasGradient: grads.bias!)
        magnitudes = ConvResults(output: mo, inputGradient: mags.input!, filterGradient: mags.filter!, biasGradient: mags.bias!)
        let t = g.termCounts
        terms = [t.output, t.inputGradient, t.filterGradient, t.biasGradient]
    }

    /// Checks `actual` (one result, named as in ``ConvResults/named``) element by element within the bound.
    func check<T: ConvScalar, G: FamilyGeometry>(_ actual: [T], _ index: Int, name: String, geometry g: G,
                                                 context: some CustomStringConvertible) -> Double {
        let shapes = [g.outputShape, g.inputShape, g.filterShape, g.biasShape]
        return checkWithinBound(actual, reference: values.named[index].1, magnitudes: magnitudes.named[index].1,
                                terms: terms[index], tensor: name, shape: shapes[index], context: context)
    }
}

/// Runs forward, backward with all three gradients and backward with `subset` on `engine` through the buffer
/// API (every destination starting as NaN) and checks every element against `reference`. Returns the worst
/// fraction of the bound.
func checkFamilyPlan<T: ConvScalar, G: FamilyGeometry>(
    _ g: G, _ engine: ConvolutionEngine, _ problem: FamilyProblem, _ reference: FamilyReference,
    subset: GradientSet, _ workspace: ConvWorkspace<T>, context: String
) -> Double {
    let x: [T] = converted(problem.input, to: T.self), f: [T] = converted(problem.filter, to: T.self)
    let b: [T]? = problem.bias.map { converted($0, to: T.self) }
    let dO: [T] = converted(problem.outputGradient, to: T.self)
    var worst = 0.0
    do {
        var o = [T](repeating: .nan, count: g.outputCount)
        var dX: [T]? = [T](repeating: .nan, count: g.inputCount)
        var dF: [T]? = [T](repeating: .nan, count: g.filterCount)
        var dB: [T]? = [T](repeating: .nan, count: g.biasCount)
        var sX: [T]? = subset.contains(.input) ? [T](repeating: .nan, count: g.inputCount) : nil
        var sF: [T]? = subset.contains(.filter) ? [T](repeating: .nan, count: g.filterCount) : nil
        var sB: [T]? = subset.contains(.bias) ? [T](repeating: .nan, count: g.biasCount) : nil
        try x.withUnsafeBufferPointer { xb in
            try f.withUnsafeBufferPointer { fb in
                try dO.withUnsafeBufferPointer { dOb in
                    try o.withUnsafeMutableBufferPointer { ob in
                        try withOptionalBuffer(b) { bb in try g.forward(engine, xb, fb, bb, ob, workspace) }
                    }
                    try withMutableBuffers(&dX, &dF, &dB) { dx, df, db in
                        try g.backward(engine, xb, fb, dOb, dx, df, db, workspace)
                    }
                    // Only the operands the subset needs: X for dF, F for dX.
                    try withMutableBuffers(&sX, &sF, &sB) { dx, df, db in
                        try g.backward(engine, subset.contains(.filter) ? xb : nil, subset.contains(.input) ? fb : nil,
                                       dOb, dx, df, db, workspace)
                    }
                }
            }
        }
        worst = max(worst, reference.check(o, 0, name: "O", geometry: g, context: context))
        for (index, name, values) in [(1, "dX", dX), (1, "dX (subset)", sX), (2, "dF", dF), (2, "dF (subset)", sF),
                                      (3, "dB", dB), (3, "dB (subset)", sB)] {
            guard let values else { continue }
            worst = max(worst, reference.check(values, index, name: name, geometry: g, context: context))
        }
    } catch {
        Issue.record("unexpected error \(error) — \(context)")
        return .infinity
    }
    return worst
}

/// What a family sweep found: cases run, runs per plan, worst fractions of the bound.
struct FamilyTally: Sendable {
    var cases = 0
    var staged = 0
    var casesPerPlan: [String: Int] = [:]
    var worstFloat = 0.0
    var worstDouble = 0.0

    mutating func merge(_ o: FamilyTally) {
        cases += o.cases
        staged += o.staged
        casesPerPlan.merge(o.casesPerPlan, uniquingKeysWith: +)
        worstFloat = max(worstFloat, o.worstFloat)
        worstDouble = max(worstDouble, o.worstDouble)
    }
}

/// Runs one case of a family sweep: every (algorithm, route) pair forced on `workers` (a pair whose algorithm
/// cannot run the convolution the operation maps onto is skipped), in Float and Double, each checked element by
/// element against the reference computed in Double on the same (rounded) inputs.
func runFamilyCase<G: FamilyGeometry>(
    _ g: G, index: Int, dataSeed: UInt64, workers: Int, useBias: Bool, subset: GradientSet,
    _ floatWorkspace: ConvWorkspace<Float>, _ doubleWorkspace: ConvWorkspace<Double>
) -> FamilyTally {
    var tally = FamilyTally()
    tally.cases = 1
    var rng = SeededGenerator(seed: dataSeed)
    let problem = FamilyProblem(g, useBias: useBias, rng: &rng)
    let floatProblem = problem.rounded(to: Float.self)
    do {
        let doubleReference = try FamilyReference(g, problem)
        let floatReference = try FamilyReference(g, floatProblem)
        var counted = false
        for algorithm in ConvAlgorithm.allCases {
            for route in InputGradientAlgorithm.allCases {
                let engine = try makeEngine(workers: workers, algorithm: algorithm, inputGradientAlgorithm: route)
                let plan: MappedConvPlan
                do {
                    plan = try g.mappedPlan(engine)
                } catch ConvError.algorithmNotApplicable {
                    continue
                }
                if !counted { counted = true; if plan.isStaged { tally.staged += 1 } }
                tally.casesPerPlan["\(algorithm)+\(route)", default: 0] += 1
                let context = "\(G.operation) case \(index), data seed 0x\(String(dataSeed, radix: 16)), \(g), plan \(plan)"
                tally.worstDouble = max(tally.worstDouble, checkFamilyPlan(
                    g, engine, problem, g.bounded(doubleReference, plan: plan.plan, operands: problem),
                    subset: subset, doubleWorkspace, context: context + ", Double"))
                tally.worstFloat = max(tally.worstFloat, checkFamilyPlan(
                    g, engine, floatProblem, g.bounded(floatReference, plan: plan.plan, operands: floatProblem),
                    subset: subset, floatWorkspace, context: context + ", Float"))
            }
        }
    } catch {
        Issue.record("unexpected error \(error) — \(G.operation) case \(index), \(g)")
    }
    return tally
}

/// Runs `cases` over two shards (one per core, each with its own workspaces, reused across its cases) and
/// returns the merged tally.
func runFamilySweep<G: FamilyGeometry>(_ cases: [(G, UInt64)]) async -> FamilyTally {
    pinBLASThreadsOnce()
    let subsets: [GradientSet] = [[.input], [.filter], [.bias], [.input, .filter], [.input, .bias], [.filter, .bias]]
    let shards = 2
    var total = FamilyTally()
    await withTaskGroup(of: FamilyTally.self) { group in
        for shard in 0..<shards {
            group.addTask {
                let fw = ConvWorkspace<Float>(), dw = ConvWorkspace<Double>()
                var tally = FamilyTally()
                for (i, (g, seed)) in cases.enumerated() where i % shards == shard {
                    tally.merge(runFamilyCase(g, index: i, dataSeed: seed, workers: i % 5 == 0 ? 3 : 1 + i % 2,
                                              useBias: i % 4 != 1, subset: subsets[i % subsets.count], fw, dw))
                }
                return tally
            }
        }
        for await tally in group { total.merge(tally) }
    }
    return total
}

/// Prints a sweep's counts per plan and checks that every plan in `expected` ran at least `least` cases.
func reportFamilySweep(_ name: String, _ tally: FamilyTally, expected: [String], least: Int,
                       sourceLocation: SourceLocation = #_sourceLocation) {
    print("""
        \(name) sweep: \(tally.cases) geometries (\(tally.staged) staged); cases per plan: \
        \(tally.casesPerPlan.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        \(name) sweep: worst |engine - reference| as a fraction of MATH.md's bound: Float \(tally.worstFloat), Double \(tally.worstDouble)
        """)
    for plan in expected {
        #expect(tally.casesPerPlan[plan, default: 0] >= least, "\(name): plan \(plan) ran on too few cases",
                sourceLocation: sourceLocation)
    }
    #expect(tally.worstFloat <= 1 && tally.worstDouble <= 1, sourceLocation: sourceLocation)
}
