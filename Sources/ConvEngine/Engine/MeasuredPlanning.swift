import Foundation

// Measured planning (ConvPlanning): the candidates timed once per geometry, the winners cached per engine.

/// The measured winners of an engine and its copies. A lock, not an actor, because planning is synchronous;
/// it is held while a geometry is measured, so concurrent first calls measure once, one after the other.
final class PlanCache: @unchecked Sendable {
    struct Key: Hashable {
        let geometry: ConvGeometry
        let scalarBytes: Int
    }

    private let lock = NSLock()
    private var winners: [Key: [ConvolutionEngine.MeasuredTiming]] = [:]

    /// The cached timings for `key`, or those `measure` returns (then cached), under the lock.
    func timings(for key: Key,
                 measure: () throws(ConvError) -> [ConvolutionEngine.MeasuredTiming]) throws(ConvError) -> [ConvolutionEngine.MeasuredTiming] {
        lock.lock()
        defer { lock.unlock() }
        if let known = winners[key] { return known }
        let measured = try measure()
        winners[key] = measured
        return measured
    }

    /// The cached timings for `key`, without measuring.
    func cached(_ key: Key) -> [ConvolutionEngine.MeasuredTiming]? {
        lock.lock()
        defer { lock.unlock() }
        return winners[key]
    }
}

extension ConvolutionEngine {
    /// One candidate's measured time.
    public struct MeasuredTiming: Hashable, Sendable {
        /// The candidate algorithm.
        public let algorithm: ConvAlgorithm
        /// Its fastest of three timed runs, in seconds (a forward pass, or a forward and a backward pass for
        /// ``ConvPlanning/measureTraining``).
        public let seconds: Double
    }

    /// What measured planning timed for `geometry` in `scalar`, fastest first, or `nil` when this engine has
    /// not measured it (``ConvPlanning/rule``, a forced algorithm, or a geometry not planned yet).
    public func measuredTimings<T: ConvScalar>(for geometry: ConvGeometry,
                                               scalar: T.Type = Float.self) -> [MeasuredTiming]? {
        planCache.cached(PlanCache.Key(geometry: geometry, scalarBytes: MemoryLayout<T>.stride))
    }

    /// The measured winner for `g` (measuring on first use), or `nil` when no candidate could be timed.
    func measuredChoice<T: ConvScalar>(_ g: ConvGeometry, _: T.Type) throws(ConvError) -> ConvAlgorithm? {
        let key = PlanCache.Key(geometry: g, scalarBytes: MemoryLayout<T>.stride)
        let timings = try planCache.timings(for: key) { () throws(ConvError) in try measureCandidates(g, T.self) }
        return timings.first?.algorithm
    }

    /// Every applicable candidate the numerics mode allows, timed; fastest first.
    /// Whether `algorithm` computes the filter gradient of `g` the forced way (any algorithm when none is forced).
    private func offers(_ way: FilterGradientAlgorithm?, _ algorithm: ConvAlgorithm, _ g: ConvGeometry) -> Bool {
        guard let way else { return true }
        return AlgorithmRegistry.visit(algorithm, AlgorithmRegistry.Describe(geometry: g)).filterGradientAlgorithms.contains(way)
    }

    private func measureCandidates<T: ConvScalar>(_ g: ConvGeometry, _: T.Type) throws(ConvError) -> [MeasuredTiming] {
        let candidates = Self.automaticOrder.filter {
            $0.numerics <= numerics && AlgorithmRegistry.inapplicability(of: $0, to: g) == nil
                && offers(filterGradientAlgorithm, $0, g)
        }
        let training = planning == .measureTraining
        let tensors = try MeasurementTensors<T>(g, training: training)
        var timings: [MeasuredTiming] = []
        for candidate in candidates {
            let engine = try ConvolutionEngine(
                workers: workers, algorithm: candidate, numerics: numerics,
                inputGradientAlgorithm: inputGradientAlgorithm, workspaceLimit: workspaceLimit,
                tileBudgetBytes: tileBudgetBytes, tileRows: tileRows, managesBLASThreads: false,
                filterGradientAlgorithm: filterGradientAlgorithm)
            let workspace = ConvWorkspace<T>()
            do {
                try workspace.reserve(engine.workspaceElementCount(for: g, scalar: T.self))
            } catch {
                continue  // over the workspace limit, or no memory for it: not a candidate
            }
            var best = Double.infinity
            for run in 0..<4 {
                let start = ContinuousClock.now
                try tensors.run(engine, workspace: workspace)
                let elapsed = ContinuousClock.now - start
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
                if run > 0 { best = min(best, seconds) }
            }
            timings.append(MeasuredTiming(algorithm: candidate, seconds: best))
        }
        return timings.sorted { $0.seconds < $1.seconds }
    }
}

/// Scratch tensors of one geometry for measured planning: X, F, B and dO of a fixed pattern in [−1, 1], and
/// O (with dX, dF and dB for a training step), allocated once so the timed calls allocate nothing.
private final class MeasurementTensors<T: ConvScalar> {
    let geometry: ConvGeometry
    let training: Bool
    private let input, filter, bias, output, outputGradient, inputGradient, filterGradient, biasGradient:
        UnsafeMutableBufferPointer<T>

    init(_ g: ConvGeometry, training: Bool) throws(ConvError) {
        geometry = g
        self.training = training
        let counts = [g.inputCount, g.filterCount, g.outputChannels, g.outputCount]
            + (training ? [g.outputCount, g.inputCount, g.filterCount, g.outputChannels] : [0, 0, 0, 0])
        for (i, count) in counts.enumerated() {
            try MemoryCheck.checkAllocation("measured planning's tensor \(i)", count: count, of: T.self)
        }
        var rng = SeededGenerator(seed: 0x9E37_79B9)
        func make(_ count: Int, pattern: Bool) -> UnsafeMutableBufferPointer<T> {
            let b = UnsafeMutableBufferPointer<T>.allocate(capacity: count)
            for i in 0..<count { b[i] = pattern ? T(Double(rng.next() >> 11) * 0x1p-52 - 1) : 0 }
            return b
        }
        input = make(counts[0], pattern: true)
        filter = make(counts[1], pattern: true)
        bias = make(counts[2], pattern: true)
        output = make(counts[3], pattern: false)
        outputGradient = make(counts[4], pattern: true)
        inputGradient = make(counts[5], pattern: false)
        filterGradient = make(counts[6], pattern: false)
        biasGradient = make(counts[7], pattern: false)
    }

    deinit {
        for b in [input, filter, bias, output, outputGradient, inputGradient, filterGradient, biasGradient] {
            b.deallocate()
        }
    }

    /// One forward pass (and, for training, one backward pass with all three gradients).
    func run(_ engine: ConvolutionEngine, workspace: ConvWorkspace<T>) throws(ConvError) {
        try engine.forward(geometry, input: UnsafeBufferPointer(input), filter: UnsafeBufferPointer(filter),
                           bias: UnsafeBufferPointer(bias), output: output, workspace: workspace)
        guard training else { return }
        try engine.backward(geometry, input: UnsafeBufferPointer(input), filter: UnsafeBufferPointer(filter),
                            outputGradient: UnsafeBufferPointer(outputGradient), inputGradient: inputGradient,
                            filterGradient: filterGradient, biasGradient: biasGradient, workspace: workspace)
    }
}
