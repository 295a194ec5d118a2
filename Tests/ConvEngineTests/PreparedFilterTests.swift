// Prepared filters: every algorithm's forward pass with a prepared filter is bit for bit the pass with the raw
// filter, at any batch; a prepared filter refuses another geometry or another algorithm.
import Dispatch
import Testing
import ConvEngine

@Suite("Prepared filters")
struct PreparedFilterTests {
    @Test("every algorithm: forward with the prepared filter = forward with F, bit for bit, at other batches too")
    func sameBits() throws {
        var rng = SeededGenerator(seed: 0xF17)
        var transformed: Set<ConvAlgorithm> = [], plain: Set<ConvAlgorithm> = []
        for g in try EpilogueTests.geometries() {
            let f = rng.values(g.filterCount), b = rng.array(g.outputChannels)
            for algorithm in ConvAlgorithm.allCases where algorithm.supports(g) {
                for workers in [1, 2] {
                    let engine = try makeEngine(workers: workers, algorithm: algorithm)
                    for batch in [1, g.batch + 1] {
                        let gb = try g.withBatch(batch)
                        let x = rng.values(gb.inputCount)
                        let context = "\(algorithm)×\(workers) batch \(batch) \(g)"
                        let isTransformed = try check(Float.self, engine, g, gb, x, f, b, context)
                        _ = try check(Double.self, engine, g, gb, x, f, b, context)
                        if isTransformed { transformed.insert(algorithm) } else { plain.insert(algorithm) }
                    }
                }
            }
        }
        #expect(transformed == [.winograd2x2, .winograd4x4, .kernelRowGEMM, .shiftedGEMM])
        #expect(plain == [.im2col, .tiledIm2col, .pointwise, .depthwiseDirect])
    }

    /// Prepares F on `prepared` (another batch than `g`), runs both forward passes on `g`, compares; returns
    /// whether the algorithm had a prepared form.
    private func check<T: ConvScalar>(_: T.Type, _ engine: ConvolutionEngine, _ prepared: ConvGeometry, _ g: ConvGeometry,
                                      _ x: [Double], _ f: [Double], _ b: [Double], _ context: String) throws -> Bool {
        let xs = converted(x, to: T.self), fs = converted(f, to: T.self), bs = converted(b, to: T.self)
        let p = try engine.prepareFilter(prepared, filter: fs)
        let planned = try engine.plan(for: g, scalar: T.self).algorithm
        #expect(p.filter == fs && p.algorithm == planned)
        let workspace = ConvWorkspace<T>()
        for activation: Activation in [.identity, .relu] {
            let raw = try engine.forward(g, input: xs, filter: fs, bias: bs, activation: activation)
            let viaPrepared = try engine.forward(g, input: xs, filter: p, bias: bs, activation: activation,
                                                 workspace: workspace)
            expectBitIdentical(viaPrepared, raw, "\(activation) \(T.self) — \(context)")
        }
        return p.isTransformed
    }

    @Test("another geometry, another algorithm or a wrong filter length throws")
    func refusals() throws {
        let g = try ConvGeometry(batch: 2, inputChannels: 4, inputHeight: 8, inputWidth: 8, outputChannels: 4,
                                 kernelHeight: 3, kernelWidth: 3, padding: 1)
        let winograd = try makeEngine(workers: 1, algorithm: .winograd2x2)
        let f = [Float](repeating: 0.5, count: g.filterCount)
        let p = try winograd.prepareFilter(g, filter: f)
        let x = [Float](repeating: 1, count: g.inputCount)
        let wider = try ConvGeometry(batch: 2, inputChannels: 4, inputHeight: 8, inputWidth: 9, outputChannels: 4,
                                     kernelHeight: 3, kernelWidth: 3, padding: 1)
        #expect(throws: ConvError.self) {
            _ = try winograd.forward(wider, input: [Float](repeating: 1, count: wider.inputCount), filter: p, bias: nil)
        }
        let other = try makeEngine(workers: 1, algorithm: .tiledIm2col)
        do {
            _ = try other.forward(g, input: x, filter: p, bias: nil)
            Issue.record("a filter prepared for winograd2x2 ran on a tiled-im2col engine")
        } catch {
            guard case .invalidArgument(name: "filter", _) = error else { Issue.record("\(error)"); return }
        }
        #expect(throws: ConvError.bufferLength(name: "filter", expected: g.filterCount, actual: 3)) {
            _ = try winograd.prepareFilter(g, filter: [Float](repeating: 0, count: 3))
        }
    }

    @Test("one prepared filter shared by concurrent forward passes gives each the same result")
    func concurrentUse() throws {
        let g = try ConvGeometry(batch: 2, inputChannels: 32, inputHeight: 12, inputWidth: 12, outputChannels: 32,
                                 kernelHeight: 3, kernelWidth: 3, padding: 1)
        var rng = SeededGenerator(seed: 0xF18)
        let engine = try makeEngine(workers: 1, algorithm: .winograd4x4)
        let f = converted(rng.values(g.filterCount), to: Float.self), x = converted(rng.values(g.inputCount), to: Float.self)
        let p = try engine.prepareFilter(g, filter: f)
        let expected = try engine.forward(g, input: x, filter: f, bias: nil)
        let results = ResultBox(count: 4)
        DispatchQueue.concurrentPerform(iterations: 4) { i in
            results.set(i, try? engine.forward(g, input: x, filter: p, bias: nil))
        }
        for i in 0..<4 { expectBitIdentical(results.get(i) ?? [], expected, "thread \(i)") }
    }
}

/// Results written by concurrent iterations, one slot each.
private final class ResultBox: @unchecked Sendable {
    private var slots: [[Float]?]
    private let lock = NSLockLike()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ value: [Float]?) { lock.withLock { slots[i] = value } }
    func get(_ i: Int) -> [Float]? { lock.withLock { slots[i] } }
}

/// A mutex from Dispatch (this file imports no Foundation).
private final class NSLockLike: @unchecked Sendable {
    private let queue = DispatchQueue(label: "PreparedFilterTests.lock")
    func withLock<R>(_ body: () -> R) -> R { queue.sync(execute: body) }
}
