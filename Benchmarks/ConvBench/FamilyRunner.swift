import ConvEngine
import Foundation

/// Inputs and outputs of one family layer in one precision: X, F (the weight), B and dO, then O, dX, dF, dB.
/// The data are drawn as ``LayerTensors``' are (nonzero mean, so that a dropped term shows in Float's bound).
final class FamilyTensors<T: ConvScalar> {
    let input, filter, bias, outputGradient: Tensor<T>
    let output, inputGradient, filterGradient, biasGradient: Tensor<T>

    /// Fresh random inputs from `rng`, stored in the layer's layout (the same values in every layout).
    /// - Throws: ``ConvError`` when a tensor would not fit in physical memory (``MemoryCheck``).
    init(_ layer: FamilyLayer, rng: inout SeededGenerator) throws {
        let range = LayerTensors<T>.inputRange, s = layer.geometry.shape, orders = layer.orders
        input = try Tensor("input", count: s.inputCount, uniformIn: range, using: &rng, order: orders.input)
        filter = try Tensor("filter", count: s.filterCount, uniformIn: range, using: &rng, order: orders.filter)
        bias = try Tensor("bias", count: s.biasCount, uniformIn: -1...1, using: &rng)
        outputGradient = try Tensor("output gradient", count: s.outputCount, uniformIn: range, using: &rng,
                                    order: orders.output)
        (output, inputGradient, filterGradient, biasGradient) = try Self.results(s)
    }

    /// The same inputs as `other`, converted exactly (Float → Double), with fresh output buffers.
    init<U: ConvScalar>(_ s: any ConvolutionShape, converting other: FamilyTensors<U>) throws {
        input = try Tensor("input (\(T.self))", converting: other.input, count: s.inputCount)
        filter = try Tensor("filter (\(T.self))", converting: other.filter, count: s.filterCount)
        bias = try Tensor("bias (\(T.self))", converting: other.bias, count: s.biasCount)
        outputGradient = try Tensor("output gradient (\(T.self))", converting: other.outputGradient, count: s.outputCount)
        (output, inputGradient, filterGradient, biasGradient) = try Self.results(s)
    }

    private static func results(_ s: any ConvolutionShape) throws -> (Tensor<T>, Tensor<T>, Tensor<T>, Tensor<T>) {
        (try Tensor("output", count: s.outputCount), try Tensor("input gradient", count: s.inputCount),
         try Tensor("filter gradient", count: s.filterCount), try Tensor("bias gradient", count: s.biasCount))
    }

    /// The result tensor of `field`.
    func result(_ field: Field) -> Tensor<T> {
        switch field {
        case .output: return output
        case .inputGradient: return inputGradient
        case .filterGradient: return filterGradient
        case .biasGradient: return biasGradient
        }
    }

    /// Clears the outputs (so a verified value can only come from the run that follows).
    func clearOutputs(with value: T = .nan) {
        for field in Field.allCases { result(field).buffer.update(repeating: value) }
    }

    /// One pass of `engine` on these tensors.
    func run(_ engine: ConvolutionEngine, _ g: FamilyGeometry, _ pass: Pass, workspace: ConvWorkspace<T>) throws {
        switch pass {
        case .forward:
            try g.forward(engine, input: input.readOnly, filter: filter.readOnly, bias: bias.readOnly,
                          output: output.buffer, workspace: workspace)
        case .backward:
            try g.backward(engine, input: input.readOnly, filter: filter.readOnly, outputGradient: outputGradient.readOnly,
                           inputGradient: inputGradient.buffer, filterGradient: filterGradient.buffer,
                           biasGradient: biasGradient.buffer, workspace: workspace)
        }
    }
}

/// Runs one family layer at every thread count and pass, as ``LayerRunner`` runs a 2-D layer: timed repetitions
/// alternating the engine and its own GEMM ceiling (the canonical lowering of the convolution it is: the
/// associated convolution's GEMMs for a transposed layer, vol2col's for 3-D), the one-worker engine paired in
/// every repetition, verification of the timed run's sampled elements and of the same plan re-run in Double, and
/// the workspace at the batch and twice it. (No prepared-filter or one-image reference columns: those are 2-D API.)
struct FamilyRunner<T: ConvScalar> {
    let settings: LayerRunner<T>.Settings
    let gemmRates: [Int: GEMMRate]

    func run(_ layer: FamilyLayer, label: String) throws -> (LayerInfo, [ResultRow]) {
        let g = layer.geometry, shape = g.shape
        // The layer's own name: its NCHW and NHWC rows hold the same values.
        var rng = SeededGenerator(seed: settings.seed ^ fnv1a(layer.layerName))
        let data = try FamilyTensors<T>(layer, rng: &rng)
        let doubleData: FamilyTensors<Double>? = T.self == Double.self ? nil : try FamilyTensors<Double>(shape, converting: data)
        // Safe: when T is Double, `data` is a FamilyTensors<Double>.
        let exact = doubleData ?? (data as! FamilyTensors<Double>)
        let started = Clock.nanoseconds()
        let references = ReferenceSamples(layer, exact, count: settings.samples, rng: &rng)
        Progress.say(String(format: "%@   reference samples: %.2f s", label, Double(Clock.nanoseconds() - started) / 1e9))

        let (lowering, transposed) = g.lowering
        let ceiling = try GEMMCeiling<T>(lowering, workers: settings.threads.max() ?? 1, rng: &rng)
        let operands = try ceilingOperands(g, data)

        var rows: [ResultRow] = []
        let oneWorker = try ConvolutionEngine(workers: 1, algorithm: settings.algorithm, numerics: settings.numerics,
                                              tileRows: settings.tileRows, managesBLASThreads: false)
        let oneWorkerSpace = try ConvWorkspace<T>(reserving: g.workspaceElementCount(oneWorker, scalar: T.self))
        for threads in settings.threads {
            BLAS.setThreadCount(1)
            let engine = threads == 1 ? oneWorker
                : try ConvolutionEngine(workers: threads, algorithm: settings.algorithm, numerics: settings.numerics,
                                       tileRows: settings.tileRows)
            let workspace = threads == 1
                ? oneWorkerSpace : try ConvWorkspace<T>(reserving: g.workspaceElementCount(engine, scalar: T.self))
            for pass in settings.passes {
                let policies = CeilingPolicyChoice.all(threads: threads)
                let gemms = transposed ? CeilingGEMM.transposed(pass) : CeilingGEMM.convolution(pass)
                data.clearOutputs()  // NaN: an element no run writes fails verification
                let cell = try CellTiming(
                    repetitions: settings.repetitions, policies: policies,
                    engine: { try data.run(engine, g, pass, workspace: workspace) },
                    prepared: nil,
                    paired: threads > 1 ? { try data.run(oneWorker, g, pass, workspace: oneWorkerSpace) } : nil,
                    ceiling: { i in
                        let p = policies[i]
                        BLAS.setThreadCount(p.blasThreads)
                        defer { BLAS.setThreadCount(1) }
                        return try Clock.milliseconds {
                            try ceiling.run(gemms, operands.value, policy: p.imageParallel ? .imageParallel : .serial,
                                            threads: p.workers)
                        }
                    })

                // The timed run's own outputs, then the same plan once in Double on the same inputs.
                let fields = pass == .forward ? Field.forward : Field.backward
                let timed = references.check(fields: fields, results: data.result)
                var doubleChecks: [FieldCheck]?
                if let doubleData {
                    doubleData.clearOutputs()
                    let doubleWorkspace = try ConvWorkspace<Double>(
                        reserving: g.workspaceElementCount(engine, scalar: Double.self))
                    try doubleData.run(engine, g, pass, workspace: doubleWorkspace)
                    doubleChecks = references.check(fields: fields, results: doubleData.result)
                }
                let worst = (timed + (doubleChecks ?? [])).map(\.worstFraction).max() ?? 0

                let ceilingInfo = cell.ceilingInfo(policies, threads: threads)
                let engineTiming = TimingInfo(cell.engine)
                let gflops = Double(pass == .forward ? layer.forwardFLOPs : layer.backwardFLOPs) / engineTiming.medianMs / 1e6
                let doubled = try layer.withBatch(2 * layer.spec.batch)
                let row = ResultRow(
                    layer: layer.name, pass: pass, threads: threads, plan: try g.plan(engine, scalar: T.self),
                    warmups: cell.warmups, engine: engineTiming, gflops: gflops,
                    gemmShare: gflops / (gemmRates[threads]?.gflops ?? .nan),
                    ceiling: ceilingInfo, ceilingRatio: engineTiming.medianMs / ceilingInfo.medianMs,
                    verification: VerificationInfo(timedRun: timed, doubleRun: doubleChecks, worstFraction: worst,
                                                   passed: worst <= 1),
                    workspaceBytes: WorkspaceInfo(
                        batch: layer.spec.batch, bytes: try g.workspaceBytes(engine, scalar: T.self),
                        doubleBatch: doubled.spec.batch,
                        bytesAtDoubleBatch: try doubled.geometry.workspaceBytes(engine, scalar: T.self)),
                    reference: nil,
                    oneWorker: threads > 1 ? TimingInfo(cell.paired) : nil,
                    speedup: threads > 1 ? cell.paired.median / engineTiming.medianMs : nil, layout: layer.layout)
                Progress.say(String(format: "%@ %@ %dt: %@ ms (min %@), ceiling %@ ms [%@], ratio %.2f, %.1f GFLOP/s, err/bound %@ %@%@",
                                    label, pass.short, threads, TableWriter.ms(row.engine.medianMs),
                                    TableWriter.ms(row.engine.minMs), TableWriter.ms(row.ceiling.medianMs),
                                    row.ceiling.policy, row.ceilingRatio, row.gflops, TableWriter.fraction(worst),
                                    worst <= 1 ? "ok" : "FAIL",
                                    row.speedup.map { String(format: ", %.2f× one worker", $0) } ?? ""))
                rows.append(row)
            }
        }
        let info = LayerInfo(name: layer.name, source: .family, operation: layer.spec.operation.rawValue,
                             geometry: nil, family: layer.info,
                             forwardFLOPs: layer.forwardFLOPs, backwardFLOPs: layer.backwardFLOPs, layout: layer.layout)
        return (info, rows)
    }

    /// The ceiling's operands in the lowered convolution's roles. A convolution's are its own tensors. A
    /// transposed layer's associated convolution reads X = dOt and dO = Xt, the latter zero-extended at the
    /// bottom/right to the associated P × Q when the output padding reaches past the stride (MATH.md); the
    /// extension (when needed) is kept alive with the operands.
    private func ceilingOperands(_ g: FamilyGeometry, _ data: FamilyTensors<T>) throws -> KeptOperands<T> {
        guard let e = g.transposedInputExtension else {
            return KeptOperands(value: CeilingOperands(input: data.input.pointer, filter: data.filter.pointer,
                                                       outputGradient: data.outputGradient.pointer), kept: nil)
        }
        if e.p == e.height && e.q == e.width {
            return KeptOperands(value: CeilingOperands(input: data.outputGradient.pointer, filter: data.filter.pointer,
                                                       outputGradient: data.input.pointer), kept: nil)
        }
        let planes = g.shape.inputCount / (e.height * e.width)
        let extended = try Tensor<T>("ceiling extended input", count: planes * e.p * e.q)
        for plane in 0..<planes {
            for h in 0..<e.height {
                for w in 0..<e.width {
                    extended.buffer[(plane * e.p + h) * e.q + w] = data.input.buffer[(plane * e.height + h) * e.width + w]
                }
            }
        }
        return KeptOperands(value: CeilingOperands(input: data.outputGradient.pointer, filter: data.filter.pointer,
                                                   outputGradient: extended.pointer), kept: extended)
    }
}

/// Ceiling operands with the buffer they may point into (kept alive as long as they are used).
struct KeptOperands<T: ConvScalar> {
    let value: CeilingOperands<T>
    let kept: Tensor<T>?
}
