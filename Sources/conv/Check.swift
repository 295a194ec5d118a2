import ArgumentParser
@_spi(Tools) import ConvEngine  // the reference's progress reports
import Foundation

/// `conv check`: the engine against the reference on random data, with the library's error bound (ErrorBound) and timings.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the engine against the direct-loop reference on random data, and time both.",
        discussion: """
        Fills X, F, B and dO with uniform random values in [-1, 1] (from --seed) in the chosen precision, for a 2-D convolution, or with --dimensions 1 or 3 a 1-D or 3-D one, or with --transposed (and --output-padding) a transposed convolution (1-D or 2-D; --channels is then Cin and --filters Cout), in the layouts --layout and --filter-layout give (the engine and the reference then both read and write them in that layout), then runs the engine's forward pass and all three gradients, and the reference: direct loops over the definitions, in double precision on the same values, which also give the sum of |terms| of every element. For each tensor it prints the worst element's error as a fraction of the library's error bound (ErrorBound)

          |engine - reference| <= c * L * (eps * sum|terms| + eta),  c = \(ErrorBound.defaultConstant)

        (L: products summed into the element; eps, eta: the machine epsilon and smallest subnormal of the engine's precision), and the time of each pass for both. The exit status is 1 if any fraction exceeds 1. The reference is slow (the convolution's full cost without BLAS): keep the geometry moderate. A computation that takes longer than a few seconds reports its progress on standard error every few seconds (which tensor, % done).

        Example:

          conv check --batch 4 --channels 16 --size 32 --filters 32 --kernel 3 \\
                     --stride 2 --padding 1 --workers 2 --precision double
          conv check --dimensions 3 --channels 8 --size 6,10,10 --filters 8 --kernel 3 --padding 1
          conv check --transposed --channels 16 --size 8 --filters 8 --kernel 4 \\
                     --stride 2 --padding 1 --output-padding 1
          conv check --layout nhwc --channels 16 --size 14 --filters 32 --kernel 3 --padding 1
        """)

    // `parsing: .unconditional`: "-1" is taken as the value (and rejected with the reason), not as an option.
    @Option(parsing: .unconditional, help: "Images in the batch (N).")
    var batch = 2

    @Option(parsing: .unconditional, help: "Input channels (C; with --transposed, Cin).")
    var channels = 4

    @Option(parsing: .unconditional,
            help: ArgumentHelp("Spatial axes: 2 (images N, C, H, W), 1 (sequences N, C, L) or 3 (volumes N, C, D, H, W); --size, --kernel and the geometry options then take one value for every axis or one per axis.",
                               valueName: "1|2|3"))
    var dimensions = 2

    @Option(parsing: .unconditional,
            help: ArgumentHelp("Input size: one value (every axis) or one per axis (height,width; length; depth,height,width).",
                               valueName: "h|h,w|d,h,w"),
            transform: { try integers($0, name: "--size") })
    var size: [Int] = [16]

    @Option(parsing: .unconditional, help: "Output channels, the number of filters (K); with --transposed, Cout.")
    var filters = 8

    @Option(parsing: .unconditional,
            help: ArgumentHelp("Kernel size: one value (every axis) or one per axis (R,S; S; T,R,S).", valueName: "r|r,s|t,r,s"),
            transform: { try integers($0, name: "--kernel") })
    var kernel: [Int] = [3]

    @OptionGroup(title: "Geometry")
    var convolution: ConvolutionOptions

    @OptionGroup(title: "Engine")
    var engine: EngineOptions

    @Option(help: "Precision the engine computes in: float or double.")
    var precision: CheckPrecision = .float

    @Option(help: "Seed of the random data.")
    var seed: UInt64 = 1

    @Option(parsing: .unconditional, help: "Engine timings are the best of this many runs (the reference runs once).")
    var `repeat` = 3

    // Seconds between progress lines on stderr (the first after as long); hidden: the tests set 0.
    @Option(help: .hidden)
    var progressInterval = 5.0

    func run() throws {
        // Checked here rather than in validate(), which runs before unknown options are reported.
        if `repeat` < 1 { throw ValidationError("--repeat must be at least 1") }
        if !(progressInterval >= 0) { throw ValidationError("--progress-interval must not be negative") }
        guard (1...3).contains(dimensions) else {
            throw ValidationError("--dimensions must be 1, 2 or 3, got \(dimensions)")
        }
        let operation = try Operation.make(batch: batch, inputChannels: channels,
                                           size: perAxis(size, "--size", rank: dimensions), outputChannels: filters,
                                           kernel: perAxis(kernel, "--kernel", rank: dimensions), options: convolution)
        let engine = try engine.makeEngine(rank: dimensions)
        if precision == .double {
            try check(Double.self, operation, engine)
        } else {
            try check(Float.self, operation, engine)
        }
    }

    private func check<T: ConvScalar>(_: T.Type, _ operation: Operation, _ engine: ConvolutionEngine) throws {
        let g = operation.shape
        // Every tensor below goes through the library's memory check before it is allocated: the engine's
        // inputs and results in T, the reference's copies and results (value and Σ|terms|) in Double.
        let tensors = [("X", g.inputCount), ("F", g.filterCount), ("B", g.biasCount), ("dO", g.outputCount)]
        for (name, count) in tensors {
            try checkAllocation("input \(name)", count: count, of: T.self)
            try checkAllocation("input \(name) in double precision", count: count, of: Double.self)
        }
        for (name, count) in [("O", g.outputCount), ("dX", g.inputCount), ("dF", g.filterCount), ("dB", g.biasCount)] {
            try checkAllocation("result \(name)", count: count, of: T.self)
            try checkAllocation("reference \(name) and its magnitudes", count: count, of: Double.self)
        }
        var rng = CheckRandom(seed: seed)
        func random(_ count: Int) -> [T] { (0..<count).map { _ in T(rng.uniform()) } }
        let x = random(g.inputCount), f = random(g.filterCount), b = random(g.biasCount), dO = random(g.outputCount)
        let plan = try rethrowingAsCLI("engine") { try operation.plan(engine) }
        print("geometry   \(operation.name): \(operation.description)")
        print("engine     \(plan), \(T.self), \(BLAS.configuration)")

        // The engine, through the array API with kept results and one workspace (nothing allocated per call),
        // best of `repeat` runs.
        let workspace = ConvWorkspace<T>()
        var o = [T](repeating: 0, count: g.outputCount)
        var grads = Gradients<T>(input: [T](repeating: 0, count: g.inputCount),
                                 filter: [T](repeating: 0, count: g.filterCount),
                                 bias: [T](repeating: 0, count: g.biasCount))
        var forwardTime = Double.infinity, backwardTime = Double.infinity
        try rethrowingAsCLI("engine") {
            for _ in 0..<`repeat` {
                forwardTime = min(forwardTime, try seconds {
                    try operation.forward(engine, input: x, filter: f, bias: b, output: &o, workspace: workspace)
                })
                backwardTime = min(backwardTime, try seconds {
                    try operation.backward(engine, input: x, filter: f, outputGradient: dO, gradients: .all,
                                           into: &grads, workspace: workspace)
                })
            }
        }

        // The reference, in double precision on the same values.
        let progress = ProgressReporter(interval: progressInterval)
        let reference = ReferenceConvolution { part, done, total in progress.report(part, done: done, total: total) }
        let xd = x.map(Double.init), fd = f.map(Double.init), bd = b.map(Double.init), dOd = dO.map(Double.init)
        var refO: (output: [Double], magnitudes: [Double]) = ([], [])
        var refG: (gradients: Gradients<Double>, magnitudes: Gradients<Double>) = (Gradients(), Gradients())
        progress.begin("reference forward")
        let refForwardTime = try rethrowingAsCLI("reference") {
            try seconds { refO = try operation.forwardWithMagnitudes(reference, input: xd, filter: fd, bias: bd) }
        }
        progress.end()
        progress.begin("reference backward")
        let refBackwardTime = try rethrowingAsCLI("reference") {
            try seconds { refG = try operation.backwardWithMagnitudes(reference, input: xd, filter: fd, outputGradient: dOd) }
        }
        progress.end()

        let L = operation.termCounts
        let rows: [(String, [T], [Double], [Double], Int)] = [
            ("O", o, refO.output, refO.magnitudes, L.output),
            ("dX", grads.input ?? [], refG.gradients.input ?? [], refG.magnitudes.input ?? [], L.inputGradient),
            ("dF", grads.filter ?? [], refG.gradients.filter ?? [], refG.magnitudes.filter ?? [], L.filterGradient),
            ("dB", grads.bias ?? [], refG.gradients.bias ?? [], refG.magnitudes.bias ?? [], L.biasGradient),
        ]
        print("tensor     elements   L (terms)   worst |error| / bound")
        var worst = 0.0, worstTensor = "O"
        for (name, value, ref, magnitude, terms) in rows {
            var tensorWorst = value.count == ref.count && magnitude.count == ref.count ? 0.0 : .infinity
            for i in value.indices where i < ref.count && i < magnitude.count {
                let fraction = ErrorBound.fraction(value: Double(value[i]), reference: ref[i], terms: terms,
                                                   magnitude: magnitude[i], scalar: T.self)
                if !(fraction <= tensorWorst) { tensorWorst = fraction }  // NaN counts as the worst
            }
            print("  \(pad(name, 8)) \(pad(String(value.count), 10, right: true)) \(pad(String(terms), 11, right: true))   \(String(format: "%.4f", tensorWorst))")
            if !(tensorWorst <= worst) { worst = tensorWorst; worstTensor = name }
        }
        print("time       engine (best of \(`repeat`))   reference   speed-up")
        for (name, e, r) in [("forward", forwardTime, refForwardTime), ("backward", backwardTime, refBackwardTime)] {
            print("  \(pad(name, 8)) \(pad(milliseconds(e), 20, right: true)) \(pad(milliseconds(r), 11, right: true))   \(String(format: "%.1f", r / e))×")
        }
        guard worst <= 1 else {
            throw CLIError("FAIL: worst error is \(String(format: "%.4g", worst)) × the error bound (in \(worstTensor)) for \(operation.description)")
        }
        print("result     PASS: worst error \(String(format: "%.4f", worst)) of the bound (\(worstTensor)), at most 1 passes")
    }
}

/// Wall time of `body` in seconds.
private func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = ContinuousClock.now
    try body()
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}

private func milliseconds(_ s: Double) -> String { String(format: "%.3f ms", s * 1e3) }

private func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, width - s.count))
    return right ? fill + s : s + fill
}

/// Deterministic data for a given seed: the library's SeededGenerator (SplitMix64), so a seed gives the
/// same data as before.
struct CheckRandom {
    var generator: SeededGenerator
    init(seed: UInt64) { generator = SeededGenerator(seed: seed) }
    /// Uniform in [-1, 1).
    mutating func uniform() -> Double { Double(generator.next() >> 11) * 0x1p-52 - 1 }
}
