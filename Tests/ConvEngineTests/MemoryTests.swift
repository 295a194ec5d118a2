// Workspace memory: the peak a call uses (ConvWorkspace.peakElementCount) never exceeds what
// ConvolutionEngine.workspaceElementCount(for:) promised, for every plan, precision and gradient subset, and
// never exceeds a caller's workspace cap (or the engine throws workspaceCapTooSmall, naming a requirement above
// the cap). Resident memory over 10,000 calls is checked in its own process by `convmemcheck` (make test).
import Foundation
import Testing
import ConvEngine

struct MemoryTests {
    static func geometries(_ rng: inout SeededGenerator, count: Int) -> [ConvGeometry] {
        var result: [ConvGeometry] = [
            try! ConvGeometry(batch: 3, inputChannels: 4, inputHeight: 40, inputWidth: 40, outputChannels: 8,
                              kernelHeight: 3, kernelWidth: 3, padding: 1),
            try! ConvGeometry(batch: 5, inputChannels: 6, inputHeight: 17, inputWidth: 23, outputChannels: 6,
                              kernelHeight: 3, kernelWidth: 2, strideHeight: 2, strideWidth: 3, padding: 2,
                              dilationHeight: 2, dilationWidth: 1, groups: 3),
            try! ConvGeometry(batch: 2, inputChannels: 8, inputHeight: 9, inputWidth: 9, outputChannels: 16,
                              kernelHeight: 3, kernelWidth: 3, padding: 1, groups: 8),
            try! ConvGeometry(batch: 4, inputChannels: 16, inputHeight: 12, inputWidth: 12, outputChannels: 8,
                              kernelHeight: 1, kernelWidth: 1),
        ]
        while result.count < count {
            let groups = rng.pick([1, 1, 2])
            if let g = try? ConvGeometry(
                batch: rng.int(1...5), inputChannels: groups * rng.int(1...4), inputHeight: rng.int(3...30),
                inputWidth: rng.int(3...30), outputChannels: groups * rng.int(1...4), kernelHeight: rng.int(1...4),
                kernelWidth: rng.int(1...4), strideHeight: rng.int(1...3), strideWidth: rng.int(1...3),
                padding: .explicit(Padding(top: rng.int(0...2), bottom: rng.int(0...2), left: rng.int(0...2), right: rng.int(0...2))),
                dilationHeight: rng.int(1...2), dilationWidth: rng.int(1...2), groups: groups) {
                result.append(g)
            }
        }
        return result
    }

    /// Forward, then backward with each gradient subset, on one fresh workspace; the peak after each call.
    static func peaks<T: ConvScalar>(_: T.Type, _ engine: ConvolutionEngine, _ g: ConvGeometry, _ rng: inout SeededGenerator,
                                     workspace: ConvWorkspace<T>) throws -> [(String, Int)] {
        let x = rng.values(g.inputCount).map { T($0) }, f = rng.values(g.filterCount).map { T($0) }
        let dO = rng.values(g.outputCount).map { T($0) }
        var o = [T](repeating: 0, count: g.outputCount)
        var peaks: [(String, Int)] = []
        try x.withUnsafeBufferPointer { xp in
            try f.withUnsafeBufferPointer { fp in
                try o.withUnsafeMutableBufferPointer {
                    try engine.forward(g, input: xp, filter: fp, bias: nil, output: $0, workspace: workspace)
                }
            }
        }
        peaks.append(("forward", workspace.peakElementCount))
        for raw in 1...7 {
            let set = GradientSet(rawValue: raw)
            var dX = [T](repeating: 0, count: set.contains(.input) ? g.inputCount : 0)
            var dF = [T](repeating: 0, count: set.contains(.filter) ? g.filterCount : 0)
            var dB = [T](repeating: 0, count: set.contains(.bias) ? g.outputChannels : 0)
            try x.withUnsafeBufferPointer { xp in
                try f.withUnsafeBufferPointer { fp in
                    try dO.withUnsafeBufferPointer { dOp in
                        try dX.withUnsafeMutableBufferPointer { dx in
                            try dF.withUnsafeMutableBufferPointer { df in
                                try dB.withUnsafeMutableBufferPointer { db in
                                    try engine.backward(g, input: xp, filter: fp, outputGradient: dOp,
                                                        inputGradient: set.contains(.input) ? dx : nil,
                                                        filterGradient: set.contains(.filter) ? df : nil,
                                                        biasGradient: set.contains(.bias) ? db : nil, workspace: workspace)
                                }
                            }
                        }
                    }
                }
            }
            peaks.append(("backward \(raw)", workspace.peakElementCount))
        }
        return peaks
    }

    @Test(arguments: [false, true])
    func peakNeverExceedsThePrediction(double: Bool) throws {
        pinBLASThreadsOnce()
        var rng = SeededGenerator(seed: double ? 0x3E3 : 0x3E4)
        var calls = 0, tightest = 0.0
        for g in Self.geometries(&rng, count: TestScale.pick(normal: 14, small: 6)) {
            for plan in TestPlan.all(for: g) {
                let engine = try plan.engine()
                let predicted = double ? try engine.workspaceElementCount(for: g, scalar: Double.self)
                    : try engine.workspaceElementCount(for: g, scalar: Float.self)
                let observed = double ? try Self.peaks(Double.self, engine, g, &rng, workspace: ConvWorkspace<Double>())
                    : try Self.peaks(Float.self, engine, g, &rng, workspace: ConvWorkspace<Float>())
                for (call, peak) in observed where peak > predicted {
                    Issue.record("\(g) \(plan): \(call) used \(peak) workspace elements, predicted at most \(predicted)")
                }
                if predicted > 0 { tightest = max(tightest, Double(observed.map(\.1).max()!) / Double(predicted)) }
                calls += observed.count
            }
        }
        #expect(calls > 0, "no call was measured")
        print("memory: \(calls) calls in \(double ? "Double" : "Float"), workspace peak ≤ workspaceElementCount(for:) "
              + "every time (largest peak/prediction \(String(format: "%.2f", tightest)))")
    }

    /// One workspace serving many geometries and plans: its peak is the largest prediction, never more.
    @Test func sharedWorkspacePeakIsTheLargestPrediction() throws {
        pinBLASThreadsOnce()
        var rng = SeededGenerator(seed: 0x5EA)
        let workspace = ConvWorkspace<Float>()
        var largest = 0
        for g in Self.geometries(&rng, count: TestScale.pick(normal: 12, small: 5)) {
            for plan in TestPlan.all(for: g, workers: [1, 3]) {
                let engine = try plan.engine()
                largest = max(largest, try engine.workspaceElementCount(for: g, scalar: Float.self))
                _ = try Self.peaks(Float.self, engine, g, &rng, workspace: workspace)
                #expect(workspace.peakElementCount <= largest, "\(g) \(plan)")
                #expect(workspace.capacity <= largest, "\(g) \(plan): capacity \(workspace.capacity) above \(largest)")
            }
        }
        #expect(largest > 0 && workspace.peakElementCount > 0)
        print("memory: one workspace over many geometries and plans: peak \(workspace.peakElementCount) elements, "
              + "largest prediction \(largest)")
    }

    /// A workspace cap (bytes): every call stays under it — the engine shrinks its tiles — or, when even the
    /// smallest plan needs more, throws workspaceCapTooSmall with a requirement above the cap. The capped results
    /// stay within MATH.md's bound of the reference.
    @Test func workspaceCapIsNeverExceeded() throws {
        pinBLASThreadsOnce()
        var rng = SeededGenerator(seed: 0xCA9)
        var ran = 0, refused = 0, shrunk = 0
        for g in Self.geometries(&rng, count: TestScale.pick(normal: 10, small: 5)) {
            let x = rng.values(g.inputCount), f = rng.values(g.filterCount)
            let b = rng.values(g.outputChannels), dO = rng.values(g.outputCount)
            let reference = try ReferenceResults(g, input: x, filter: f, bias: b, outputGradient: dO)
            for plan in TestPlan.all(for: g, workers: [1, 2]) {
                let uncapped = try plan.engine().workspaceBytes(for: g, scalar: Double.self)
                for cap in Set([0, 64, 1_024, 16_384, uncapped / 2, uncapped / 8, uncapped]).sorted() {
                    let engine = try plan.engine(workspaceLimit: cap)
                    let workspace = ConvWorkspace<Double>()
                    do {
                        let predicted = try engine.workspaceBytes(for: g, scalar: Double.self)
                        #expect(predicted <= cap, "\(g) \(plan) cap \(cap): prediction \(predicted) bytes")
                        let r = try runAll(engine, g, x: x, f: f, b: b, dO: dO, workspace: workspace)
                        _ = try Self.peaks(Double.self, engine, g, &rng, workspace: workspace)
                        #expect(workspace.peakElementCount * 8 <= cap,
                                "\(g) \(plan): peak \(workspace.peakElementCount * 8) bytes above the cap \(cap)")
                        reference.bounded(for: engine, geometry: g, scalar: Double.self).check(r, geometry: g, context: "\(g) \(plan) cap \(cap)")
                        ran += 1
                        if cap < uncapped { shrunk += 1 }
                    } catch let ConvError.workspaceCapTooSmall(required, reportedCap) {
                        #expect(reportedCap == cap && required > cap, "\(g) \(plan): required \(required), cap \(reportedCap) for \(cap)")
                        #expect(workspace.peakElementCount == 0, "\(g) \(plan): a refused call used the workspace")
                        refused += 1
                    }
                }
            }
        }
        #expect(shrunk > 0, "no capped plan ran below its uncapped size")
        print("memory: workspace caps: \(ran) capped runs under their cap (\(shrunk) below the uncapped size), "
              + "\(refused) refused with workspaceCapTooSmall")
    }
}
