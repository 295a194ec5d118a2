// Determinism: for a fixed worker count, repeated calls give the same bits — with a fresh workspace, a reused
// one, one left full of NaN by a poisoned earlier call, and through the array API. Across worker counts 1, 2
// and 3 every result stays within MATH.md's bound of the Double reference; what the documentation says does not
// depend on the worker count at all (the bias gradient; the forward pass and the input gradient of the per-image
// algorithms im2col, pointwise and depthwiseDirect) is checked bit for bit.
import Foundation
import Testing
import ConvEngine

struct DeterminismTests {
    /// Geometries with every feature, batches that split unevenly over 2 and 3 workers.
    static func geometries() throws -> [ConvGeometry] {
        [
            try ConvGeometry(batch: 5, inputChannels: 4, inputHeight: 9, inputWidth: 8, outputChannels: 6,
                             kernelHeight: 3, kernelWidth: 3, padding: 1),
            try ConvGeometry(batch: 7, inputChannels: 6, inputHeight: 11, inputWidth: 10, outputChannels: 9,
                             kernelHeight: 3, kernelWidth: 2, strideHeight: 2, strideWidth: 3,
                             padding: .explicit(Padding(top: 2, bottom: 0, left: 1, right: 2)),
                             dilationHeight: 2, dilationWidth: 1, groups: 3),
            try ConvGeometry(batch: 4, inputChannels: 5, inputHeight: 7, inputWidth: 7, outputChannels: 10,
                             kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2, padding: 1, groups: 5),
            try ConvGeometry(batch: 3, inputChannels: 8, inputHeight: 6, inputWidth: 5, outputChannels: 4,
                             kernelHeight: 1, kernelWidth: 1),
            try ConvGeometry(batch: 2, inputChannels: 3, inputHeight: 20, inputWidth: 20, outputChannels: 4,
                             kernelHeight: 5, kernelWidth: 5, padding: .same, dilationHeight: 2, dilationWidth: 2),
            try ConvGeometry(batch: 1, inputChannels: 2, inputHeight: 5, inputWidth: 6, outputChannels: 3,
                             kernelHeight: 2, kernelWidth: 3, strideHeight: 3, strideWidth: 2),
        ]
    }

    /// Fills a workspace's whole capacity with NaN (its storage read by reflection), so that a plan that
    /// read scratch memory before writing it would show.
    static func poison<T: ConvScalar>(_ workspace: ConvWorkspace<T>) {
        if workspace.capacity == 0 { return }  // nothing allocated (the plan needs no scratch)
        for child in Mirror(reflecting: workspace).children {
            if let p = child.value as? UnsafeMutablePointer<T> {
                p.update(repeating: .nan, count: workspace.capacity)
                return
            }
        }
        Issue.record("ConvWorkspace's storage was not found by reflection; the poisoned-workspace check did not run")
    }

    @Test(arguments: [false, true])
    func repeatedCallsAreBitIdentical(double: Bool) throws {
        pinBLASThreadsOnce()
        if double { try repeated(Double.self) } else { try repeated(Float.self) }
    }

    func repeated<T: ConvScalar>(_: T.Type) throws {
        var rng = SeededGenerator(seed: 0xDE7E)
        var checked = 0
        let repeats = TestScale.pick(normal: 3, small: 2)
        for g in try Self.geometries() {
            let x = rng.values(g.inputCount).map { T($0) }, f = rng.values(g.filterCount).map { T($0) }
            let b = rng.values(g.outputChannels).map { T($0) }, dO = rng.values(g.outputCount).map { T($0) }
            for plan in TestPlan.all(for: g) {
                let engine = try plan.engine()
                let first = try runAll(engine, g, x: x, f: f, b: b, dO: dO, workspace: ConvWorkspace<T>())
                let reused = ConvWorkspace<T>()
                for i in 0..<repeats {
                    // A reused workspace, poisoned with NaN in between.
                    if i > 0 { Self.poison(reused) }
                    let again = try runAll(engine, g, x: x, f: f, b: b, dO: dO, workspace: reused)
                    if let d = firstBitDifference(again, first) {
                        Issue.record("\(g) \(plan) \(T.self): call \(i + 2) differs: \(d)")
                    }
                }
                // A fresh engine value with the same configuration, through the array API.
                let other = try plan.engine()
                let o = try other.forward(g, input: x, filter: f, bias: b)
                let grads = try other.backward(g, input: x, filter: f, outputGradient: dO)
                let viaArrays = ConvResults(output: o, inputGradient: grads.input!, filterGradient: grads.filter!,
                                           biasGradient: grads.bias!)
                if let d = firstBitDifference(viaArrays, first) {
                    Issue.record("\(g) \(plan) \(T.self): the array API differs: \(d)")
                }
                checked += 1
            }
        }
        #expect(checked > 0, "no plan×geometry pair was checked")
        print("determinism: \(checked) plan×geometry pairs in \(T.self), \(repeats + 2) calls each, bit-identical")
    }

    @Test func workerCountsStayWithinTheBound() throws {
        pinBLASThreadsOnce()
        var rng = SeededGenerator(seed: 0x3A3A)
        var worst = 0.0, maxULPs: [String: UInt64] = [:], identical: [String: Int] = [:], compared = 0
        for g in try Self.geometries() {
            let xd = rng.values(g.inputCount), fd = rng.values(g.filterCount)
            let bd = rng.values(g.outputChannels), dOd = rng.values(g.outputCount)
            // The reference on exactly the Float inputs, in Double.
            let rf = { (v: [Double]) in v.map { Double(Float($0)) } }
            let reference = try ReferenceResults(g, input: rf(xd), filter: rf(fd), bias: rf(bd), outputGradient: rf(dOd))
            let x = xd.map { Float($0) }, f = fd.map { Float($0) }, b = bd.map { Float($0) }, dO = dOd.map { Float($0) }
            for algorithm in ConvAlgorithm.allCases where algorithm.supports(g) {
                for route in InputGradientAlgorithm.allCases {
                    var byWorkers: [ConvResults<Float>] = []
                    for workers in [1, 2, 3] {
                        let plan = TestPlan(algorithm: algorithm, inputGradient: route, workers: workers)
                        let r = try runAll(try plan.engine(), g, x: x, f: f, b: b, dO: dO, workspace: ConvWorkspace<Float>())
                        worst = max(worst, reference.bounded(for: algorithm, route: route, geometry: g)
                                                .check(r, geometry: g, context: "\(g) \(plan)"))
                        byWorkers.append(r)
                    }
                    compared += 1
                    for (name, values) in byWorkers[0].named {
                        let others = byWorkers.dropFirst().map { r in r.named.first { $0.0 == name }!.1 }
                        let same = others.allSatisfy { sameBits($0, values) }
                        if same { identical[name, default: 0] += 1 }
                        for o in others {
                            for i in values.indices {
                                let d = values[i].bitPattern > o[i].bitPattern ? values[i].bitPattern - o[i].bitPattern
                                    : o[i].bitPattern - values[i].bitPattern
                                if values[i].sign == o[i].sign { maxULPs[name] = max(maxULPs[name] ?? 0, UInt64(d)) }
                            }
                        }
                        // Documented: the bias gradient never depends on the worker count; the forward pass and
                        // the input gradient only through the tile size of the tiled algorithms (OpenBLAS may
                        // round a GEMM of another shape differently); the filter gradient through its batch
                        // reduction. The per-image algorithms do not tile.
                        let perImage: [ConvAlgorithm] = [.im2col, .pointwise, .depthwiseDirect]
                        let mayDiffer = name == "dF" || (!perImage.contains(algorithm) && name != "dB")
                        if !mayDiffer && !same {
                            Issue.record("\(g) \(algorithm)+\(route): \(name) differs between 1, 2 and 3 workers")
                        }
                    }
                }
            }
        }
        print("determinism: \(compared) plans × workers 1/2/3 in Float, worst \(String(format: "%.3f", worst)) of MATH.md's "
              + "bound; bit-identical across worker counts: " + ["O", "dX", "dF", "dB"].map { "\($0) \(identical[$0] ?? 0)/\(compared)" }
              .joined(separator: ", ") + "; largest difference in ulps: "
              + ["O", "dX", "dF", "dB"].map { "\($0) \(maxULPs[$0] ?? 0)" }.joined(separator: ", "))
        #expect(worst <= 1)
        #expect(compared > 0)
    }
}
