import ArgumentParser
import BenchChart
import ConvEngine
import Foundation

/// `convbench`: ConvEngine's throughput, layer by layer, against the GEMM ceiling, with verified outputs.
@main
struct ConvBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convbench",
        abstract: "ConvEngine throughput per layer: GFLOP/s, the share of the GEMM ceiling, verified outputs.",
        discussion: """
            Runs the nine-layer suite, generated geometries and the convolution family's five rows (transposed,
            1-D and 3-D convolutions), forward and backward, at each thread count, each layer in NCHW and in NHWC
            (the row <layer>/nhwc: channels-last activations, K×R×S×C/G filters; --layout to choose).
            The table goes to stdout, progress to stderr. Exits non-zero if any row fails verification.
            See Benchmarks/README.md for the columns and the JSON schema.
            """)

    @Option(name: [.customLong("layer"), .customShort("l")],
            help: "Only layers whose name contains this (repeatable, or comma-separated; e.g. res2, vgg, gen, convT, conv3d).")
    var layers: [String] = []

    @Option(help: "Override every layer's batch size.")
    var batch: Int?

    @Option(help: ArgumentHelp("Layouts each layer runs in, comma-separated: nchw, nhwc (channels-last activations and K×R×S×C/G filters, the row <layer>/nhwc; NLC and NDHWC for the 1-D and 3-D rows). (default: nchw,nhwc)",
                               valueName: "nchw,nhwc"))
    var layout: String?

    @Option(help: "Element type: float or double.")
    var precision: PrecisionOption = .float

    @Option(help: "Thread counts, comma-separated (default: 1,2, or 1 on a one-core machine).")
    var threads: String?

    @Option(help: "Passes: forward, backward or both.")
    var pass: PassOption = .both

    @Option(help: "Timed repetitions per row, exactly (default: adaptive, at least 7).")
    var repetitions: Int?

    @Option(help: "Seed of the geometry generator and the data.")
    var seed: UInt64 = GeometryGenerator.defaultSeed

    @Option(help: "Number of generated geometries (at least 5 for a complete run).")
    var generated: Int = 5

    @Option(help: "Sampled elements verified per result (O, dX, dF, dB).")
    var samples: Int = 1000

    @Option(help: "Also write everything in the table as JSON to this path.")
    var json: String?

    @Option(help: "Also write a chart of engine/ceiling per layer, pass and thread count as SVG to this path.")
    var chart: String?

    @Flag(help: "Small shapes: the whole run takes seconds (what `make test` runs).")
    var quick = false

    @Option(help: "Force an algorithm on every layer (e.g. winograd4x4, kernelRowGEMM); layers it cannot run are skipped.")
    var algorithm: String?

    @Option(help: "Force how Winograd plans compute the filter gradient: sumOfProducts or winograd (default: the rule's choice).")
    var filterGradient: String?

    @Option(help: "The engines' numerics mode for the automatic plan: strict, default or fast.")
    var numerics: String = ConvNumerics.default.rawValue

    @Option(help: "Force the tiled algorithms' tile height in output rows (at or above P: whole images), for tuning.")
    var tileRows: Int?

    @Flag(help: "Skip the table of the rule's plan beside measured planning's winner.")
    var noPlanning = false

    @Flag(help: "Skip the one-image comparison with ReferenceConvolution.")
    var noReference = false

    @Option(help: .hidden)  // self-test of the verification: dropped-image, scaled-output, missed-row
    var injectFault: String?

    enum PrecisionOption: String, ExpressibleByArgument { case float, double }
    enum PassOption: String, ExpressibleByArgument { case forward, backward, both }

    func validate() throws {
        if let batch, batch < 1 { throw ValidationError("--batch must be at least 1") }
        if let repetitions, repetitions < 1 { throw ValidationError("--repetitions must be at least 1") }
        if generated < 0 { throw ValidationError("--generated must not be negative") }
        if samples < 1 { throw ValidationError("--samples must be at least 1") }
        _ = try threadCounts()
        _ = try layouts()
        if let algorithm, ConvAlgorithm(rawValue: algorithm) == nil {
            throw ValidationError("--algorithm takes " + ConvAlgorithm.allCases.map(\.rawValue).joined(separator: ", "))
        }
        if let filterGradient, FilterGradientAlgorithm(rawValue: filterGradient) == nil {
            throw ValidationError("--filter-gradient takes " + FilterGradientAlgorithm.allCases.map(\.rawValue).joined(separator: ", "))
        }
        if ConvNumerics(rawValue: numerics) == nil {
            throw ValidationError("--numerics takes " + ConvNumerics.allCases.map(\.rawValue).joined(separator: ", "))
        }
        if let injectFault, InjectedFault(rawValue: injectFault) == nil {
            throw ValidationError("--inject-fault takes " + InjectedFault.allCases.map(\.rawValue).joined(separator: ", "))
        }
    }

    func threadCounts() throws -> [Int] {
        guard let threads else { return Machine.processors >= 2 ? [1, 2] : [1] }
        let parts = threads.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let values = parts.compactMap { Int($0) }
        guard !values.isEmpty, values.count == parts.count, values.allSatisfy({ (1...ConvolutionEngine.maximumWorkers).contains($0) })
        else { throw ValidationError("--threads takes comma-separated counts in 1...\(ConvolutionEngine.maximumWorkers), got '\(threads)'") }
        var seen = Set<Int>()
        return values.filter { seen.insert($0).inserted }
    }

    func layouts() throws -> [BenchLayout] {
        guard let layout else { return [.nchw, .nhwc] }
        guard let values = BenchLayout.parse(layout) else {
            throw ValidationError("--layout takes comma-separated layouts among "
                                  + BenchLayout.allCases.map(\.rawValue).joined(separator: ", ") + ", got '\(layout)'")
        }
        return values
    }

    mutating func run() throws {
        switch precision {
        case .float: try runBenchmark(Float.self)
        case .double: try runBenchmark(Double.self)
        }
    }

    private func runBenchmark<T: ConvScalar>(_: T.Type) throws {
        let start = Clock.nanoseconds()
        let threadList = try threadCounts()
        let passes: [Pass] = pass == .both ? [.forward, .backward] : [pass == .forward ? .forward : .backward]
        let filters = layers.flatMap { $0.split(separator: ",").map { String($0).lowercased() } }
        let layoutList = try layouts()

        // Every layer in each layout, its NHWC row right after its NCHW row (`--layer` sees the rows' names).
        var all = try quick ? LayerSuite.quick(batch: batch) : LayerSuite.full(batch: batch)
        all += try GeometryGenerator(seed: seed, quick: quick).layers(count: generated, batch: batch)
        all = all.flatMap { l in layoutList.map { l.inLayout($0) } }
        let forced = algorithm.flatMap(ConvAlgorithm.init(rawValue:))
        let selected = (filters.isEmpty ? all : all.filter { l in filters.contains { l.name.lowercased().contains($0) } })
            .filter { forced?.supports($0.geometry) ?? true }
        // The convolution family's rows (issue 13), after the 2-D layers, selected by the same filters.
        let family = try FamilySuite.layers(quick: quick, batch: batch).flatMap { l in try layoutList.map { try l.inLayout($0) } }
        let selectedFamily = (filters.isEmpty ? family : family.filter { l in filters.contains { l.name.lowercased().contains($0) } })
            .filter { l in forced.map { l.geometry.supports($0) } ?? true }
        guard !selected.isEmpty || !selectedFamily.isEmpty else {
            throw BenchError.usage("no layer matches --layer \(filters.joined(separator: ",")); layers: "
                                   + (all.map(\.name) + family.map(\.name)).joined(separator: ", "))
        }

        var repetitionPolicy = RepetitionPolicy()
        repetitionPolicy.fixed = repetitions
        if quick {
            repetitionPolicy.maximum = 7
            repetitionPolicy.maximumExtraWarmups = 1
        }

        let machine = MachineInfo(cpu: Machine.cpuModel, processors: Machine.processors, avx512: Machine.hasAVX512,
                                  blasConfiguration: BLAS.configuration, loadAverage: Machine.loadAverage)
        let options = OptionsInfo(precision: Precision(T.self), quick: quick, seed: seed, generatedCount: generated,
                                  batch: batch, threads: threadList, passes: passes, layerFilter: filters,
                                  minimumRepetitions: repetitionPolicy.minimum, fixedRepetitions: repetitions,
                                  samples: samples, layouts: layoutList, numerics: numerics)
        print(TableWriter.header(machine: machine, options: options), terminator: "")
        print("layers:")
        print(TableWriter.legend(selected.map { ($0.name, $0.geometry.shortDescription) }
                                 + selectedFamily.map { ($0.name, $0.shortDescription) }), terminator: "")
        flushStdout()

        // The machine's GEMM rate at each thread count, measured now (in this run) for the %gemm column.
        var rates: [GEMMRate] = []
        for t in threadList {
            Progress.say("measuring 2048³ \(T.self == Float.self ? "sgemm" : "dgemm") at \(t) thread\(t == 1 ? "" : "s")")
            rates.append(try GEMMRate.measure(T.self, size: quick ? 1024 : 2048, threads: t, repetitions: quick ? 3 : 5))
        }
        print(TableWriter.gemmRates(rates, precision: Precision(T.self)))
        flushStdout()

        let runner = LayerRunner<T>(
            settings: .init(threads: threadList, passes: passes, repetitions: repetitionPolicy, samples: samples,
                            seed: seed, reference: !noReference, fault: injectFault.flatMap(InjectedFault.init),
                            algorithm: forced, numerics: ConvNumerics(rawValue: numerics) ?? .default,
                            tileRows: tileRows, filterGradient: filterGradient.flatMap(FilterGradientAlgorithm.init)),
            gemmRates: Dictionary(uniqueKeysWithValues: rates.map { ($0.threads, $0) }))
        let familyRunner = FamilyRunner<T>(settings: runner.settings, gemmRates: runner.gemmRates)
        var layerInfos: [LayerInfo] = []
        var rows: [ResultRow] = []
        let count = selected.count + selectedFamily.count
        // Runs one layer (2-D or family) with its progress lines.
        func runLayer(_ index: Int, _ name: String, _ description: String,
                      _ body: (String) throws -> (LayerInfo, [ResultRow])) throws {
            let label = "[\(index)/\(count)] \(name)"
            Progress.say("\(label): \(description)")
            let layerStart = Clock.nanoseconds()
            let (info, layerRows) = try body(label)
            Progress.say(String(format: "%@: %.1f s (run so far %.0f s)", label, Double(Clock.nanoseconds() - layerStart) / 1e9,
                                Double(Clock.nanoseconds() - start) / 1e9))
            layerInfos.append(info)
            rows += layerRows
        }
        for (i, layer) in selected.enumerated() {
            try runLayer(i + 1, layer.name, layer.geometry.shortDescription) { try runner.run(layer, label: $0) }
        }
        for (i, layer) in selectedFamily.enumerated() {
            try runLayer(selected.count + i + 1, layer.name, layer.shortDescription) { try familyRunner.run(layer, label: $0) }
        }

        // Rows grouped by pass then thread count, layers in suite order within each group.
        var ordered = passes.flatMap { p in threadList.flatMap { t in rows.filter { $0.pass == p && $0.threads == t } } }
        LayoutComparison.fillRatios(&ordered)
        let familyNames = Set(selectedFamily.map(\.name))
        // The headline means are over the NCHW rows (comparable with runs before NHWC rows existed); the NHWC rows
        // have their own.
        var geomeans: [String: Double] = [:], familyGeomeans: [String: Double] = [:], nhwcGeomeans: [String: Double] = [:]
        for p in passes {
            for t in threadList {
                let cell = ordered.filter { $0.pass == p && $0.threads == t }
                let key = "\(p.rawValue)@\(t)"
                geomeans[key] = geometricMean(cell.filter { $0.layout == .nchw }.map(\.ceilingRatio))
                familyGeomeans[key] = geometricMean(cell.filter { $0.layout == .nchw && familyNames.contains($0.layer) }
                    .map(\.ceilingRatio))
                nhwcGeomeans[key] = geometricMean(cell.filter { $0.layout == .nhwc }.map(\.ceilingRatio))
            }
        }
        let failures = ordered.filter { !$0.verification.passed }.count
        var worstLayers: [String] = []
        var seenLayers = Set<String>()
        for row in ordered.sorted(by: { $0.ceilingRatio > $1.ceilingRatio }) where seenLayers.insert(row.layer).inserted {
            worstLayers.append(String(format: "%@ %@ %dt %.2f", row.layer, row.pass.short, row.threads, row.ceilingRatio))
            if worstLayers.count == 3 { break }
        }
        var summary = Summary(rows: ordered.count, failures: failures, geomeanCeilingRatio: geomeans,
                              totalSeconds: Double(Clock.nanoseconds() - start) / 1e9, worstCeilingRatios: worstLayers)
        summary.familyGeomeanCeilingRatio = familyGeomeans
        summary.nhwcGeomeanCeilingRatio = nhwcGeomeans
        let pointwise = Set(selected.filter { $0.geometry.isOneByOne }.map(\.name))
        summary.layouts = LayoutComparison(ordered, passes: passes, threads: threadList, pointwise: pointwise)
        for p in passes {
            for t in threadList where t > 1 {
                let paired = ordered.filter { $0.pass == p && $0.threads == t && $0.speedup != nil }
                if let low = paired.min(by: { $0.speedup! < $1.speedup! }) {
                    summary.lowestSpeedups["\(p.rawValue)@\(t)"] = String(format: "%@ %.2f", low.layer, low.speedup!)
                }
                summary.slowerThanOneWorker += paired.filter { $0.speedup! < 1 }
                    .map { String(format: "%@ %@ %dt %.2f", $0.layer, $0.pass.short, $0.threads, $0.speedup!) }
            }
        }
        print(TableWriter.table(ordered, precision: Precision(T.self)))
        print(TableWriter.notes)
        if ordered.contains(where: { $0.layout != .nchw }) { print(TableWriter.layoutNotes) }
        print(TableWriter.summary(summary), terminator: "")
        flushStdout()
        if !noPlanning && algorithm == nil && !selected.isEmpty {
            let planning = try PlanningReport.measure(selected, threads: threadList,
                                                      numerics: ConvNumerics(rawValue: numerics) ?? .default,
                                                      scalar: T.self)
            print("\n" + PlanningReport.table(planning), terminator: "")
            flushStdout()
        }

        if let json {
            let formatter = ISO8601DateFormatter()
            let report = RunReport(date: formatter.string(from: Date()), machine: machine, options: options,
                                   gemmRates: rates, layers: layerInfos, results: ordered, summary: summary)
            try JSONOutput.write(report, to: json)
            Progress.say("wrote \(json)")
        }
        if let chart {
            let svg = CeilingChart.make(ordered, machine: machine, options: options).svg()
            try svg.write(toFile: chart, atomically: true, encoding: .utf8)
            Progress.say("wrote \(chart)")
        }
        if failures > 0 {
            Progress.say("FAIL: \(failures) row(s) outside MATH.md's error bound")
            throw ExitCode(1)
        }
    }
}

/// The geometric mean of `values`, or nil when there are none.
func geometricMean(_ values: [Double]) -> Double? {
    values.isEmpty ? nil : exp(values.map { log($0) }.reduce(0, +) / Double(values.count))
}

/// Flushes stdout (so the table and stderr progress interleave in order on a terminal).
func flushStdout() { fflush(nil) }
