import ConvEngine
import Foundation

enum BenchError: Error, CustomStringConvertible {
    case usage(String)
    var description: String {
        switch self {
        case .usage(let s): return s
        }
    }
}

/// Runs one layer at every thread count and pass: warm-up, timed repetitions alternating engine and GEMM
/// ceiling, verification of the timed run's outputs, the Double re-run, workspace sizes, plan, and the
/// one-image comparison with ``ReferenceConvolution``.
struct LayerRunner<T: ConvScalar> {
    struct Settings {
        var threads: [Int]
        var passes: [Pass]
        var repetitions: RepetitionPolicy
        var samples: Int
        var seed: UInt64
        var reference: Bool
        /// A deliberate error applied to the outputs before verification (the benchmark's own self-test).
        var fault: InjectedFault?
        /// A forced algorithm (`--algorithm`), or `nil` for the automatic plan.
        var algorithm: ConvAlgorithm? = nil
        /// The engines' numerics mode (`--numerics`).
        var numerics: ConvNumerics = .default
        /// A forced tile height in output rows (`--tile-rows`, for tuning), or `nil` for the engine's own.
        var tileRows: Int? = nil
        /// A forced filter-gradient way for Winograd plans (`--filter-gradient`), or `nil` for the rule's.
        var filterGradient: FilterGradientAlgorithm? = nil

        /// An engine with these settings and `workers` threads for `g`: a forced filter-gradient way applies
        /// where the plan offers it (the Winograd plans of NCHW rows); other rows keep the rule's.
        func engine(workers: Int, for g: ConvGeometry, managesBLASThreads: Bool = true) throws -> ConvolutionEngine {
            let automatic = try ConvolutionEngine(workers: workers, algorithm: algorithm, numerics: numerics,
                                                  tileRows: tileRows, managesBLASThreads: managesBLASThreads)
            guard let filterGradient else { return automatic }
            let forced = try ConvolutionEngine(workers: workers, algorithm: algorithm, numerics: numerics, tileRows: tileRows,
                                               managesBLASThreads: managesBLASThreads, filterGradientAlgorithm: filterGradient)
            return (try? forced.plan(for: g)) == nil ? automatic : forced
        }
    }

    let settings: Settings
    let gemmRates: [Int: GEMMRate]

    func run(_ layer: BenchLayer, label: String) throws -> (LayerInfo, [ResultRow]) {
        let g = layer.geometry
        // Data fixed by the seed and the layer's name, so a row can be reproduced alone (--layer); the layer's own
        // name, so that its NCHW and NHWC rows hold the same values (each in its layout).
        var rng = SeededGenerator(seed: settings.seed ^ fnv1a(layer.layerName))
        let data = try LayerTensors<T>(g, rng: &rng)
        let doubleData: LayerTensors<Double>? = T.self == Double.self ? nil : try LayerTensors<Double>(converting: data)
        // Safe: when T is Double, `data` is a LayerTensors<Double>.
        let exact = doubleData ?? (data as! LayerTensors<Double>)
        let started = Clock.nanoseconds()
        let references = ReferenceSamples(exact, count: settings.samples, rng: &rng)
        Progress.say(String(format: "%@   reference samples: %.2f s", label, Double(Clock.nanoseconds() - started) / 1e9))
        let ceiling = try GEMMCeiling<T>(g, workers: settings.threads.max() ?? 1, rng: &rng)

        var referenceMs: [Pass: ReferenceTiming] = [:]
        if settings.reference {
            for pass in settings.passes { referenceMs[pass] = try referenceOneImage(data, pass: pass) }
            let k = referenceMs.values.first?.outputChannels ?? g.outputChannels
            Progress.say("\(label)   reference, one image: "
                         + settings.passes.map { "\($0.short) \(TableWriter.ms(referenceMs[$0]!.milliseconds)) ms" }.joined(separator: ", ")
                         + (k < g.outputChannels ? " (scaled from \(k) of \(g.outputChannels) filters)" : ""))
        }

        var rows: [ResultRow] = []
        // The one-worker engine also runs inside every repetition of the multi-thread cells, right before the
        // multi-worker one, so their speed-up is a ratio of medians over the same repetitions (on a shared machine
        // the load changes between cells measured seconds apart).
        let oneWorker = try settings.engine(workers: 1, for: g, managesBLASThreads: false)
        let oneWorkerSpace = try ConvWorkspace<T>(reserving: oneWorker.workspaceElementCount(for: g, scalar: T.self))
        // The samples' bounds depend on the plan's algorithm, route and filter-gradient way only (not on its
        // workers or tile), and a transform Mag takes a while: computed once per kind of plan.
        var boundsByKind: [String: ReferenceSamples] = [:]
        func bounds(_ plan: ConvPlan) throws -> ReferenceSamples {
            let kind = "\(plan.algorithm) \(plan.inputGradientAlgorithm) \(plan.filterGradientAlgorithm)"
            if let known = boundsByKind[kind] { return known }
            let computed = try references.bounded(for: plan, exact)
            boundsByKind[kind] = computed
            return computed
        }
        for threads in settings.threads {
            BLAS.setThreadCount(1)
            let engine = threads == 1 ? oneWorker
                : try settings.engine(workers: threads, for: g)
            // Winograd rows are checked with the transform bound (Mag of the sampled elements, for this plan).
            let timedBounds = try bounds(engine.plan(for: g, scalar: T.self))
            let workspace = threads == 1
                ? oneWorkerSpace : try ConvWorkspace<T>(reserving: engine.workspaceElementCount(for: g, scalar: T.self))
            for pass in settings.passes {
                var row = try measure(layer, data: data, engine: engine, workspace: workspace, ceiling: ceiling,
                                      pass: pass, threads: threads, label: label,
                                      paired: threads > 1 ? (oneWorker, oneWorkerSpace) : nil)
                // The timed run's own outputs, then the same plan once in Double on the same inputs.
                let fields = pass == .forward ? Field.forward : Field.backward
                try settings.fault?.apply(to: data, pass: pass, engine: engine)
                let timed = timedBounds.check(data, fields: fields)
                var doubleChecks: [FieldCheck]?
                if let doubleData {
                    doubleData.clearOutputs()
                    let doubleWorkspace = try ConvWorkspace<Double>(
                        reserving: engine.workspaceElementCount(for: g, scalar: Double.self))
                    try run(engine, pass, doubleData, doubleWorkspace)
                    try settings.fault?.apply(to: doubleData, pass: pass, engine: engine)
                    doubleChecks = try bounds(engine.plan(for: g, scalar: Double.self)).check(doubleData, fields: fields)
                }
                let worst = (timed + (doubleChecks ?? [])).map(\.worstFraction).max() ?? 0
                row.verification = VerificationInfo(timedRun: timed, doubleRun: doubleChecks, worstFraction: worst,
                                                    passed: worst <= 1)
                if let ref = referenceMs[pass] {
                    let oneImage = try engineOneImage(data, engine: engine, workspace: workspace, pass: pass)
                    row.reference = ReferenceInfo(engineOneImageMs: oneImage, referenceOneImageMs: ref.milliseconds,
                                                  referenceOutputChannels: ref.outputChannels,
                                                  speedup: ref.milliseconds / oneImage)
                }
                Progress.say(String(format: "%@ %@ %dt: %@ ms (min %@), ceiling %@ ms [%@], ratio %.2f, %.1f GFLOP/s, err/bound %@ %@%@",
                                    label, pass.short, threads, TableWriter.ms(row.engine.medianMs),
                                    TableWriter.ms(row.engine.minMs), TableWriter.ms(row.ceiling.medianMs),
                                    row.ceiling.policy, row.ceilingRatio, row.gflops, TableWriter.fraction(worst),
                                    worst <= 1 ? "ok" : "FAIL",
                                    row.speedup.map { String(format: ", %.2f× one worker", $0) } ?? ""))
                rows.append(row)
            }
        }
        var info = LayerInfo(name: layer.name, source: layer.source, geometry: GeometryInfo(g),
                             forwardFLOPs: g.forwardFLOPs, backwardFLOPs: g.backwardFLOPs, layout: layer.layout)
        if !referenceMs.isEmpty {
            info.referenceOneImage = Dictionary(uniqueKeysWithValues: referenceMs.map { ($0.key.rawValue, $0.value) })
        }
        return (info, rows)
    }

    /// Warm-up, then repetitions of: the engine, then each ceiling policy. Returns the row without verification.
    private func measure(_ layer: BenchLayer, data: LayerTensors<T>, engine: ConvolutionEngine,
                         workspace: ConvWorkspace<T>, ceiling: GEMMCeiling<T>, pass: Pass, threads: Int,
                         label: String, paired: (engine: ConvolutionEngine, workspace: ConvWorkspace<T>)?) throws -> ResultRow {
        let g = layer.geometry
        let policies = CeilingPolicyChoice.all(threads: threads)
        let prepared = pass == .forward ? try engine.prepareFilter(g, filter: data.filter.readOnly) : nil
        data.clearOutputs()  // NaN: an element no run writes fails verification
        let cell = try CellTiming(
            repetitions: settings.repetitions, policies: policies,
            engine: { try run(engine, pass, data, workspace) },
            prepared: prepared.map { prepared in { try engine.runForward(data, prepared: prepared, workspace: workspace) } },
            paired: paired.map { paired in { try run(paired.engine, pass, data, paired.workspace) } },
            ceiling: { i in
                // One ceiling run with policy `i`, BLAS set to the policy's threads and back to 1 afterwards.
                let p = policies[i]
                BLAS.setThreadCount(p.blasThreads)
                defer { BLAS.setThreadCount(1) }
                return try Clock.milliseconds {
                    if pass == .forward {
                        try ceiling.forward(data, policy: p.imageParallel ? .imageParallel : .serial, threads: p.workers)
                    } else {
                        try ceiling.backward(data, policy: p.imageParallel ? .imageParallel : .serial, threads: p.workers)
                    }
                }
            })

        let ceilingInfo = cell.ceilingInfo(policies, threads: threads)
        let flops = Double(pass == .forward ? g.forwardFLOPs : g.backwardFLOPs)
        let engineTiming = TimingInfo(cell.engine)
        let gflops = flops / engineTiming.medianMs / 1e6
        let rate = gemmRates[threads]?.gflops ?? .nan
        let doubled = try g.withBatch(2 * g.batch)
        return ResultRow(
            layer: layer.name, pass: pass, threads: threads, plan: try engine.plan(for: g).description,
            warmups: cell.warmups, engine: engineTiming, gflops: gflops, gemmShare: gflops / rate,
            ceiling: ceilingInfo, ceilingRatio: engineTiming.medianMs / ceilingInfo.medianMs,
            verification: VerificationInfo(timedRun: [], doubleRun: nil, worstFraction: 0, passed: true),
            workspaceBytes: WorkspaceInfo(batch: g.batch, bytes: try engine.workspaceBytes(for: g, scalar: T.self),
                                          doubleBatch: doubled.batch,
                                          bytesAtDoubleBatch: try engine.workspaceBytes(for: doubled, scalar: T.self)),
            reference: nil,
            oneWorker: paired == nil ? nil : TimingInfo(cell.paired),
            speedup: paired == nil ? nil : cell.paired.median / engineTiming.medianMs,
            prepared: prepared == nil ? nil : TimingInfo(cell.prepared), layout: layer.layout)
    }

    private func run<U: ConvScalar>(_ engine: ConvolutionEngine, _ pass: Pass, _ t: LayerTensors<U>,
                                    _ workspace: ConvWorkspace<U>) throws {
        switch pass {
        case .forward: try engine.runForward(t, workspace: workspace)
        case .backward: try engine.runBackward(t, workspace: workspace)
        }
    }

    /// ``ReferenceConvolution`` on the first image of the batch, once (it is slow and steady), in ms.
    ///
    /// The direct loops cost exactly in proportion to the output channels K (every loop nest of the forward
    /// pass and of the three gradients runs over K once), and at ~0.3 GFLOP/s a whole VGG image would take
    /// over half a minute. So when one image's nominal FLOPs exceed ``referenceFLOPBudget`` and the layer is
    /// ungrouped, the reference runs on the first K' filters only (inputs are prefixes: F, B and one image's
    /// dO are K-major) and the time is scaled by K/K'; ``ReferenceTiming/outputChannels`` records K'. (In NHWC one
    /// image's dO is not K-major, but its prefix is a valid tensor of the reduced geometry, and only the time is used.)
    private func referenceOneImage(_ data: LayerTensors<T>, pass: Pass) throws -> ReferenceTiming {
        let g = data.geometry
        let g1 = try g.withBatch(1)
        var channels = g.outputChannels
        if g.groups == 1 && g1.forwardFLOPs > Self.referenceFLOPBudget {
            channels = max(1, Int(Double(g.outputChannels) * Double(Self.referenceFLOPBudget) / Double(g1.forwardFLOPs)))
        }
        let reduced = try ConvGeometry(
            batch: 1, inputChannels: g.inputChannels, inputHeight: g.inputHeight, inputWidth: g.inputWidth,
            outputChannels: channels, kernelHeight: g.kernelHeight, kernelWidth: g.kernelWidth,
            strideHeight: g.requestedStrideHeight, strideWidth: g.requestedStrideWidth, padding: .explicit(g.padding),
            dilationHeight: g.dilationHeight, dilationWidth: g.dilationWidth, groups: g.groups, layout: g.layout)
        let scratch = try OneImageBuffers<T>(reduced)
        let ms = try Clock.milliseconds { try scratch.run(ReferenceConvolution(), pass, data) }
        return ReferenceTiming(milliseconds: ms * Double(g.outputChannels) / Double(channels), outputChannels: channels)
    }

    /// Nominal forward FLOPs of one image above which the reference runs on a subset of the filters.
    static var referenceFLOPBudget: Int { 40_000_000 }

    /// The engine on the first image of the batch alone: median of 5 after a warm-up, in ms.
    private func engineOneImage(_ data: LayerTensors<T>, engine: ConvolutionEngine, workspace: ConvWorkspace<T>,
                                pass: Pass) throws -> Double {
        let g1 = try data.geometry.withBatch(1)
        let scratch = try OneImageBuffers<T>(g1)
        BLAS.setThreadCount(1)
        try scratch.run(engine, pass, data, workspace: workspace)
        var samples = Samples()
        for _ in 0..<5 { samples.append(try Clock.milliseconds { try scratch.run(engine, pass, data, workspace: workspace) }) }
        return samples.median
    }
}

/// The reference's time on one image (scaled to all K filters when run on K' of them).
struct ReferenceTiming: Codable {
    var milliseconds: Double
    /// The filters it actually ran (K' ≤ K); the time is scaled by K/K'.
    var outputChannels: Int
}

/// Output buffers for one image; inputs are the first image of the layer's batch (NCHW and NHWC store it first).
private struct OneImageBuffers<T: ConvScalar> {
    let g: ConvGeometry
    let output, inputGradient, filterGradient, biasGradient: Tensor<T>

    init(_ g: ConvGeometry) throws {
        self.g = g
        (output, inputGradient, filterGradient, biasGradient) = try LayerTensors<T>.results(g)
    }

    func run(_ backend: some ConvolutionBackend, _ pass: Pass, _ data: LayerTensors<T>,
             workspace: ConvWorkspace<T> = ConvWorkspace<T>()) throws {
        // Image 0 of X and dO, and the first K filters and biases (K = this geometry's, possibly fewer than
        // the layer's): all prefixes, in either layout (filters are K-major in both).
        let x = data.input.prefix(g.inputCount), dO = data.outputGradient.prefix(g.outputCount)
        let f = data.filter.prefix(g.filterCount), b = data.bias.prefix(g.biasCount)
        switch pass {
        case .forward:
            try backend.forward(g, input: x, filter: f, bias: b, output: output.buffer, workspace: workspace)
        case .backward:
            try backend.backward(g, input: x, filter: f, outputGradient: dO,
                                 inputGradient: inputGradient.buffer, filterGradient: filterGradient.buffer,
                                 biasGradient: biasGradient.buffer, workspace: workspace)
        }
    }
}

/// FNV-1a of a string: a stable per-layer seed component (Swift's `hashValue` is randomised per process).
func fnv1a(_ s: String) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
    return h
}

/// Errors the hidden `--inject-fault` option plants in the outputs after the timed run, to show that the
/// verification catches the mistakes a fast path could make (both the timed run and the Double re-run get
/// the fault, as a wrong code path would be wrong in both precisions).
enum InjectedFault: String, CaseIterable {
    /// Backward: dF and dB summed over images 1..<N only (a dropped image).
    case droppedImage = "dropped-image"
    /// Forward: O scaled by 1 + 1e-5 (a small systematic error, inside Float's bound at long reductions).
    case scaledOutput = "scaled-output"
    /// Forward: the last output row of every channel left unwritten (NaN from the clear before the run).
    case missedRow = "missed-row"

    func apply<U: ConvScalar>(to t: LayerTensors<U>, pass: Pass, engine: ConvolutionEngine) throws {
        let g = t.geometry
        switch (self, pass) {
        case (.droppedImage, .backward) where g.batch > 1:
            let rest = try g.withBatch(g.batch - 1)
            let scratch = try Tensor<U>("scratch input gradient", count: rest.inputCount)
            try engine.backward(rest, input: t.input.slice(g.inputCount / g.batch..<g.inputCount),
                                filter: t.filter.readOnly,
                                outputGradient: t.outputGradient.slice(g.outputCount / g.batch..<g.outputCount),
                                inputGradient: scratch.buffer, filterGradient: t.filterGradient.buffer,
                                biasGradient: t.biasGradient.buffer, workspace: ConvWorkspace<U>())
        case (.scaledOutput, .forward):
            for i in 0..<g.outputCount { t.output.buffer[i] *= U(1 + 1e-5) }
        case (.missedRow, .forward):
            let P = g.outputHeight, Q = g.outputWidth, order = g.orders.output
            for n in 0..<g.batch {
                for k in 0..<g.outputChannels {
                    for q in 0..<Q { t.output.buffer[order.index(n, k, (P - 1) * Q + q)] = .nan }
                }
            }
        default:
            break
        }
    }
}
