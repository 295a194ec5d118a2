// Concurrency: a dozen convolutions at once — from OS threads started together, from Swift tasks and from
// detached tasks — with mixed geometries, precisions and plans (including two- and three-worker engines, which
// run their own parallel loops inside), each with its own workspace, several sharing one read-only filter
// array and one engine value. Every result must be bit-identical to the same call run alone.
import Dispatch
import Foundation
import Testing
@_spi(Tools) import ConvEngine
import ConvEngineNPY

/// One convolution job: a geometry, an engine, inputs (the filter possibly shared with other jobs), and the
/// precision to run in. Everything here is an immutable value, so jobs cross threads freely.
struct ConcurrencyJob: Sendable {
    let name: String
    let geometry: ConvGeometry
    let engine: ConvolutionEngine
    let double: Bool
    let x: [Double], f: [Double], b: [Double], dO: [Double]

    /// Forward and backward `iterations` times with one workspace; the bits of every result of every iteration.
    func run(iterations: Int) throws -> [[[UInt64]]] {
        if double { return try run(Double.self, iterations) }
        return try run(Float.self, iterations)
    }

    private func run<T: ConvScalar>(_: T.Type, _ iterations: Int) throws -> [[[UInt64]]] {
        let workspace = ConvWorkspace<T>()
        let xt = x.map { T($0) }, ft = f.map { T($0) }, bt = b.map { T($0) }, dOt = dO.map { T($0) }
        var all: [[[UInt64]]] = []
        for _ in 0..<iterations {
            let r = try runAll(engine, geometry, x: xt, f: ft, b: bt, dO: dOt, workspace: workspace)
            all.append(r.named.map { $0.1.map(\.bits64) })
        }
        return all
    }
}

// These two use NSLock (a pthread mutex, which ThreadSanitizer sees) rather than Synchronization's Mutex,
// whose futex-based lock on Linux is invisible to ThreadSanitizer and makes it report a false race.

/// How many jobs are running right now, and the most there ever were.
final class ConcurrencyGauge: @unchecked Sendable {
    private let lock = NSLock()
    private var active = 0, maximum = 0

    func enter() { lock.withLock { active += 1; maximum = max(maximum, active) } }
    func leave() { lock.withLock { active -= 1 } }
    var peak: Int { lock.withLock { maximum } }
}

/// Results collected from many threads.
final class ConcurrencyResults: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Int: Result<[[[UInt64]]], ConvError>] = [:]

    func set(_ index: Int, _ result: Result<[[[UInt64]]], ConvError>) { lock.withLock { storage[index] = result } }
    var all: [Int: Result<[[[UInt64]]], ConvError>] { lock.withLock { storage } }
}

struct ConcurrencyTests {
    static let iterations = TestScale.pick(normal: 12, small: 3)

    /// The jobs: 12 calls over 6 geometries, Float and Double, every algorithm, 1–3 workers, a workspace cap.
    static func jobs() throws -> [ConcurrencyJob] {
        pinBLASThreadsOnce()
        var rng = SeededGenerator(seed: 0xC0C0)
        let g1 = try ConvGeometry(batch: 4, inputChannels: 8, inputHeight: 12, inputWidth: 12, outputChannels: 16,
                                  kernelHeight: 3, kernelWidth: 3, padding: 1)
        let depthwise = try ConvGeometry(batch: 3, inputChannels: 6, inputHeight: 9, inputWidth: 9, outputChannels: 12,
                                         kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2, padding: 1,
                                         groups: 6)
        let pointwise = try ConvGeometry(batch: 2, inputChannels: 16, inputHeight: 10, inputWidth: 10, outputChannels: 8,
                                         kernelHeight: 1, kernelWidth: 1)
        let mixed = try ConvGeometry(batch: 5, inputChannels: 6, inputHeight: 15, inputWidth: 13, outputChannels: 6,
                                     kernelHeight: 3, kernelWidth: 2, strideHeight: 2, strideWidth: 3,
                                     padding: .explicit(Padding(top: 2, bottom: 1, left: 0, right: 2)),
                                     dilationHeight: 2, dilationWidth: 1, groups: 3)
        let same = try ConvGeometry(batch: 1, inputChannels: 3, inputHeight: 32, inputWidth: 32, outputChannels: 4,
                                    kernelHeight: 5, kernelWidth: 5, padding: .same)
        let strided = try ConvGeometry(batch: 7, inputChannels: 4, inputHeight: 6, inputWidth: 6, outputChannels: 4,
                                       kernelHeight: 2, kernelWidth: 2, strideHeight: 2, strideWidth: 2)
        // Shared read-only filters (one array value per geometry, used by several jobs).
        var filters: [ConvGeometry: [Double]] = [:]
        for g in [g1, depthwise, pointwise, mixed, same, strided] { filters[g] = rng.values(g.filterCount) }
        let shared2 = try ConvolutionEngine(workers: 2)  // one engine value used by several jobs at once
        func job(_ name: String, _ g: ConvGeometry, _ engine: ConvolutionEngine, double: Bool) -> ConcurrencyJob {
            ConcurrencyJob(name: name, geometry: g, engine: engine, double: double, x: rng.values(g.inputCount),
                           f: filters[g]!, b: rng.values(g.outputChannels), dO: rng.values(g.outputCount))
        }
        return [
            job("g1 auto ×2 (shared engine)", g1, shared2, double: false),
            job("g1 im2col ×1", g1, try ConvolutionEngine(workers: 1, algorithm: .im2col), double: false),
            job("g1 tiled+fullConvolution ×3", g1, try ConvolutionEngine(workers: 3, algorithm: .tiledIm2col,
                                                                           inputGradientAlgorithm: .fullConvolution), double: false),
            job("g1 tiled ×2 capped", g1, try ConvolutionEngine(workers: 2, algorithm: .tiledIm2col,
                                                                 workspaceLimit: 16 * 1024), double: false),
            job("depthwise direct ×2 (shared engine)", depthwise, shared2, double: true),
            job("depthwise im2col ×2", depthwise, try ConvolutionEngine(workers: 2, algorithm: .im2col), double: false),
            job("pointwise ×2 (shared engine)", pointwise, shared2, double: false),
            job("mixed tiled ×2", mixed, try ConvolutionEngine(workers: 2, algorithm: .tiledIm2col), double: true),
            job("mixed im2col ×1", mixed, try ConvolutionEngine(workers: 1, algorithm: .im2col), double: true),
            job("same auto ×1", same, try ConvolutionEngine(workers: 1), double: false),
            job("same fullConvolution ×2", same, try ConvolutionEngine(workers: 2, inputGradientAlgorithm: .fullConvolution),
                double: true),
            job("strided tiled ×3", strided, try ConvolutionEngine(workers: 3, algorithm: .tiledIm2col), double: false),
        ]
    }

    /// Each job alone, one after the other: the expected bits (one iteration; all must equal it).
    static func sequential(_ jobs: [ConcurrencyJob]) throws -> [[[UInt64]]] {
        try jobs.map { try $0.run(iterations: 1)[0] }
    }

    static func check(_ jobs: [ConcurrencyJob], _ expected: [[[UInt64]]], _ results: [Int: Result<[[[UInt64]]], ConvError>],
                      _ how: String) {
        #expect(results.count == jobs.count, "\(how): \(results.count) of \(jobs.count) jobs reported")
        for (i, job) in jobs.enumerated() {
            switch results[i] {
            case .none:
                Issue.record("\(how): job \(job.name) did not finish")
            case .failure(let e)?:
                Issue.record("\(how): job \(job.name) threw \(e)")
            case .success(let runs)?:
                for (iteration, bits) in runs.enumerated() where bits != expected[i] {
                    let which = zip(["O", "dX", "dF", "dB"], zip(bits, expected[i])).first { $0.1.0 != $0.1.1 }?.0 ?? "?"
                    Issue.record("\(how): job \(job.name) (\(job.geometry)) iteration \(iteration): \(which) differs from the sequential run")
                    break
                }
            }
        }
    }

    @Test func concurrentThreadsAreBitIdenticalToSequentialRuns() throws {
        let jobs = try Self.jobs()
        let expected = try Self.sequential(jobs)
        let results = ConcurrencyResults()
        let gauge = ConcurrencyGauge()
        let ready = DispatchGroup(), gate = DispatchGroup(), done = DispatchGroup()
        gate.enter()
        let iterations = Self.iterations
        // Two threads per job: 24 OS threads, released together.
        let copies = 2
        for copy in 0..<copies {
            for (i, job) in jobs.enumerated() {
                ready.enter(); done.enter()
                let thread = Thread {
                    ready.leave()
                    gate.wait()
                    gauge.enter()
                    let r = Self.result { try job.run(iterations: iterations) }
                    gauge.leave()
                    results.set(copy * jobs.count + i, r)
                    done.leave()
                }
                thread.stackSize = 4 << 20
                thread.start()
            }
        }
        ready.wait()
        let start = Date()
        gate.leave()
        done.wait()
        let seconds = Date().timeIntervalSince(start)
        let all = results.all
        for copy in 0..<copies {
            var mine: [Int: Result<[[[UInt64]]], ConvError>] = [:]
            for i in jobs.indices { mine[i] = all[copy * jobs.count + i] }
            Self.check(jobs, expected, mine, "threads (copy \(copy))")
        }
        print("concurrency: \(copies * jobs.count) threads × \(iterations) forward+backward, at most \(gauge.peak) at once, "
              + "\(String(format: "%.2f", seconds)) s, compared bit for bit with the sequential runs")
        #expect(gauge.peak >= 8, "only \(gauge.peak) convolutions overlapped")
    }

    @Test func concurrentTasksAreBitIdenticalToSequentialRuns() async throws {
        let jobs = try Self.jobs()
        let expected = try Self.sequential(jobs)
        let gauge = ConcurrencyGauge()
        let iterations = Self.iterations
        // Structured child tasks and detached tasks at the same time.
        let detached = jobs.enumerated().filter { $0.offset % 3 == 0 }.map { (i, job) in
            Task.detached { () -> (Int, Result<[[[UInt64]]], ConvError>) in
                gauge.enter(); defer { gauge.leave() }
                return (i, Self.result { try job.run(iterations: iterations) })
            }
        }
        var results: [Int: Result<[[[UInt64]]], ConvError>] = [:]
        await withTaskGroup(of: (Int, Result<[[[UInt64]]], ConvError>).self) { group in
            for (i, job) in jobs.enumerated() where i % 3 != 0 {
                group.addTask {
                    gauge.enter(); defer { gauge.leave() }
                    return (i, Self.result { try job.run(iterations: iterations) })
                }
            }
            for await (i, r) in group { results[i] = r }
        }
        for task in detached {
            let (i, r) = await task.value
            results[i] = r
        }
        Self.check(jobs, expected, results, "tasks")
        print("concurrency: \(jobs.count) tasks (\(detached.count) detached) × \(iterations) forward+backward, "
              + "at most \(gauge.peak) at once on the cooperative pool")
    }

    static func result(_ body: () throws -> [[[UInt64]]]) -> Result<[[[UInt64]]], ConvError> {
        do { return .success(try body()) } catch let e as ConvError { return .failure(e) } catch {
            return .failure(.invalidArgument(name: "job", reason: "\(error)"))
        }
    }

    /// Sends `value` to a detached task and back: compiles only for a `Sendable` `T` (the compile-time check), and
    /// returns what arrived on the other side (the run-time one).
    static func sentThroughDetachedTask<T: Sendable>(_ value: T) async -> T {
        await Task.detached { value }.value
    }

    /// The values that cross concurrency domains are Sendable (checked at compile time by
    /// ``sentThroughDetachedTask(_:)``; ConvWorkspace is deliberately not: one workspace per thread or task), and
    /// arrive intact: each comes back equal, and an engine, a reference, a plan and an SGD step sent to another task
    /// compute there exactly what they compute here.
    @Test func publicValueTypesAreSendableAndUsableInAnotherTask() async throws {
        pinBLASThreadsOnce()
        let g = try ConvGeometry(batch: 2, inputChannels: 2, inputHeight: 5, inputWidth: 4, outputChannels: 2,
                                 kernelHeight: 3, kernelWidth: 2, strideHeight: 2, strideWidth: 1,
                                 padding: .explicit(Padding(top: 1, bottom: 0, left: 1, right: 1)), groups: 2)
        let engine = try ConvolutionEngine(workers: 2, algorithm: .tiledIm2col, inputGradientAlgorithm: .fullConvolution,
                                           workspaceLimit: 1 << 20)
        let plan = try engine.plan(for: g, scalar: Float.self)
        var rng = SeededGenerator(seed: 0x5E4D)
        let x = rng.values(g.inputCount).map { Float($0) }, f = rng.values(g.filterCount).map { Float($0) }
        let dO = rng.values(g.outputCount).map { Float($0) }
        let here = try engine.forward(g, input: x, filter: f)
        let gradsHere = try engine.backward(g, input: x, filter: f, outputGradient: dO)

        // Plain values come back equal.
        #expect(await Self.sentThroughDetachedTask(g) == g)
        #expect(await Self.sentThroughDetachedTask(g.padding) == g.padding)
        #expect(await Self.sentThroughDetachedTask(PaddingSpec.same) == .same)
        #expect(await Self.sentThroughDetachedTask(plan) == plan)
        #expect(await Self.sentThroughDetachedTask(ConvAlgorithm.kernelRowGEMM) == .kernelRowGEMM)
        #expect(await Self.sentThroughDetachedTask(InputGradientAlgorithm.fullConvolution) == .fullConvolution)
        let error = ConvError.bufferLength(name: "input", expected: 3, actual: 2)
        #expect(await Self.sentThroughDetachedTask(error) == error)
        #expect(await Self.sentThroughDetachedTask(GradientSet([.input, .bias])) == [.input, .bias])
        #expect(await Self.sentThroughDetachedTask(ErrorBound.termCounts(g)) == ErrorBound.termCounts(g))
        #expect(await Self.sentThroughDetachedTask(SeededGenerator(seed: 7)) == SeededGenerator(seed: 7))
        let grads = await Self.sentThroughDetachedTask(gradsHere)
        #expect(sameBits(try #require(grads.input), try #require(gradsHere.input)))
        #expect(sameBits(try #require(grads.filter), try #require(gradsHere.filter)))
        #expect(sameBits(try #require(grads.bias), try #require(gradsHere.bias)))
        let doubleGrads = await Self.sentThroughDetachedTask(Gradients<Double>(bias: [1, 2]))
        #expect(doubleGrads.bias == [1, 2] && doubleGrads.input == nil && doubleGrads.filter == nil)
        let transpose = await Self.sentThroughDetachedTask(Transpose.transpose)
        #expect("\(transpose)" == "\(Transpose.transpose)")

        // An engine, the reference and an SGD step used in the other task compute the same bits as here.
        let sentEngine = await Self.sentThroughDetachedTask(engine)
        #expect(sentEngine.workers == 2 && sentEngine.algorithm == .tiledIm2col
                && sentEngine.inputGradientAlgorithm == .fullConvolution && sentEngine.workspaceLimit == 1 << 20)
        let there = try await Task.detached { try sentEngine.forward(g, input: x, filter: f) }.value
        #expect(sameBits(there, here), "the engine computed other bits in another task")
        let reference = await Self.sentThroughDetachedTask(ReferenceConvolution())
        let referenceThere = try await Task.detached { try reference.forward(g, input: x, filter: f) }.value
        #expect(sameBits(referenceThere, try ReferenceConvolution().forward(g, input: x, filter: f)))
        let sgd = await Self.sentThroughDetachedTask(try SGD(learningRate: 0.5))
        let stepped = try await Task.detached { () throws -> [Float] in
            var p: [Float] = [1, 2]
            try sgd.step(&p, gradient: [2, -2])
            return p
        }.value
        #expect(stepped == [0, 3])
    }
}
