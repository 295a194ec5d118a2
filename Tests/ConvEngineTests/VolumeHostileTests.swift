// Hostile inputs for the 3-D convolution: every ConvError kind a 3-D call can raise is provoked and names the
// 3-D fields (inputDepth, kernelDepth, padding.front, axis "depth", …); random geometries of zero, negative and
// huge values never trap; wrong buffer lengths, missing operands and overlapping buffers are reported, with
// nothing written.
import Testing
import ConvEngine

@Suite("3-D convolution: hostile inputs")
struct VolumeHostileTests {
    /// The sixteen size fields of the initializer, in order, and a valid value for each.
    static let fields = ["batch", "inputChannels", "inputDepth", "inputHeight", "inputWidth", "outputChannels",
                         "kernelDepth", "kernelHeight", "kernelWidth", "strideDepth", "strideHeight", "strideWidth",
                         "dilationDepth", "dilationHeight", "dilationWidth", "groups"]

    static func make(_ v: [Int], padding: Padding3D = .zero) throws(ConvError) -> ConvGeometry3D {
        try ConvGeometry3D(batch: v[0], inputChannels: v[1], inputDepth: v[2], inputHeight: v[3], inputWidth: v[4],
                           outputChannels: v[5], kernelDepth: v[6], kernelHeight: v[7], kernelWidth: v[8],
                           strideDepth: v[9], strideHeight: v[10], strideWidth: v[11], padding: padding,
                           dilationDepth: v[12], dilationHeight: v[13], dilationWidth: v[14], groups: v[15])
    }

    static let valid = [2, 4, 5, 6, 7, 4, 3, 2, 3, 1, 2, 1, 1, 1, 2, 2]

    @Test("Every geometry error names the 3-D field, axis or quantity")
    func geometryErrors() throws {
        var kinds: Set<String> = []
        func expectError(_ body: () throws(ConvError) -> ConvGeometry3D, _ expected: ConvError,
                         sourceLocation: SourceLocation = #_sourceLocation) {
            do {
                let g = try body()
                Issue.record("expected \(expected), got \(g)", sourceLocation: sourceLocation)
            } catch {
                #expect(error == expected, sourceLocation: sourceLocation)
                kinds.insert(errorKind(error))
            }
        }
        #expect((try? Self.make(Self.valid)) != nil)
        for (i, field) in Self.fields.enumerated() {
            for bad in [0, -1, Int.min] {
                var v = Self.valid
                v[i] = bad
                expectError({ () throws(ConvError) in try Self.make(v) }, .nonPositive(field: field, value: bad))
            }
        }
        for (face, path) in [(0, "front"), (1, "back"), (2, "top"), (3, "bottom"), (4, "left"), (5, "right")] {
            var p = [0, 0, 0, 0, 0, 0]
            p[face] = -2
            let padding = Padding3D(front: p[0], back: p[1], top: p[2], bottom: p[3], left: p[4], right: p[5])
            expectError({ () throws(ConvError) in try Self.make(Self.valid, padding: padding) },
                        .negativePadding(field: "padding.\(path)", value: -2))
        }
        var v = Self.valid
        v[1] = 5
        expectError({ () throws(ConvError) in try Self.make(v) }, .notDivisibleByGroups(field: "inputChannels", value: 5, groups: 2))
        v = Self.valid; v[5] = 3
        expectError({ () throws(ConvError) in try Self.make(v) }, .notDivisibleByGroups(field: "outputChannels", value: 3, groups: 2))
        // Per axis: a dilated kernel larger than the padded input (D = 5, T = 3, dd = 3: reach 7).
        v = Self.valid; v[12] = 3
        expectError({ () throws(ConvError) in try Self.make(v) },
                    .kernelLargerThanPaddedInput(axis: "depth", paddedInput: 5, dilatedKernel: 7))
        expectError({ () throws(ConvError) in try Self.make(v, padding: Padding3D(front: 1, back: 0, top: 0, bottom: 0, left: 0, right: 0)) },
                    .kernelLargerThanPaddedInput(axis: "depth", paddedInput: 6, dilatedKernel: 7))
        v = Self.valid; v[13] = 6
        expectError({ () throws(ConvError) in try Self.make(v) },
                    .kernelLargerThanPaddedInput(axis: "height", paddedInput: 6, dilatedKernel: 7))
        v = Self.valid; v[8] = 8; v[14] = 1
        expectError({ () throws(ConvError) in try Self.make(v) },
                    .kernelLargerThanPaddedInput(axis: "width", paddedInput: 7, dilatedKernel: 8))
        // Overflows: a dilated kernel, a padded extent, an element count.
        v = Self.valid; v[6] = 3; v[12] = Int.max / 2 + 1
        expectError({ () throws(ConvError) in try Self.make(v) }, .sizeOverflow(quantity: "dilated kernel depth"))
        expectError({ () throws(ConvError) in
            try Self.make(Self.valid, padding: Padding3D(front: Int.max, back: Int.max, top: 0, bottom: 0, left: 0, right: 0))
        }, .sizeOverflow(quantity: "padded input depth"))
        v = [Int.max / 4, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
        expectError({ () throws(ConvError) in try Self.make(v) }, .sizeOverflow(quantity: "input element count"))
        // GEMM dimensions beyond Int32: C/G, and a plane lowering D·P·Q.
        v = [1, 1 << 31, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
        expectError({ () throws(ConvError) in try Self.make(v) },
                    .blasDimensionTooLarge(quantity: "input channels per group (C/G)", value: 1 << 31))
        v = [1, 1, 1 << 16, 1 << 8, 1 << 8, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
        expectError({ () throws(ConvError) in try Self.make(v) },
                    .blasDimensionTooLarge(quantity: "column columns (E·P·Q)", value: 1 << 32))
        #expect(kinds == ["nonPositive", "negativePadding", "notDivisibleByGroups", "kernelLargerThanPaddedInput",
                          "sizeOverflow", "blasDimensionTooLarge"])
    }

    @Test("Random geometries of zero, negative and huge values throw typed errors or run; nothing traps")
    func randomGeometries() throws {
        let values = [-7, -1, 0, 1, 2, 3, 5, 1 << 15, Int(Int32.max), 1 << 31, 1 << 40, Int.max / 3, Int.max - 1, Int.max]
        var rng = SeededGenerator(seed: 0x3D_4057)
        var errors: [String: Int] = [:], ran = 0, planned = 0
        for _ in 0..<TestScale.pick(normal: 3000, small: 300) {
            var v = Self.valid.map { $0 }
            for i in v.indices where rng.chance(0.25) { v[i] = rng.pick(values) }
            func pad() -> Int { rng.chance(0.8) ? rng.int(0...2) : rng.pick(values) }
            let padding = Padding3D(front: pad(), back: pad(), top: pad(), bottom: pad(), left: pad(), right: pad())
            let g: ConvGeometry3D
            do { g = try Self.make(v, padding: padding) } catch { errors[errorKind(error), default: 0] += 1; continue }
            // Valid: planning and sizing must throw or answer, for every algorithm.
            for algorithm in ConvAlgorithm3D.allCases + [nil] {
                let engine = try makeVolumeEngine(workers: 2, algorithm: algorithm, workspaceLimit: rng.chance(0.5) ? 1 << 20 : nil)
                do {
                    _ = try engine.plan(for: g, scalar: Double.self)
                    _ = try engine.workspaceBytes(for: g, scalar: Float.self)
                    planned += 1
                } catch { errors[errorKind(error), default: 0] += 1 }
                // Small enough to run: the engine must agree with the reference.
                guard g.inputCount <= 4096, g.outputCount <= 4096, g.filterCount <= 4096, g.forwardFLOPs <= 200_000,
                      (try? engine.plan(for: g, scalar: Double.self)) != nil else { continue }
                let x = rng.array(g.inputCount), f = rng.array(g.filterCount), dO = rng.array(g.outputCount)
                let reference = try VolumeReference(g, input: x, filter: f, bias: nil, outputGradient: dO)
                let results = try runVolume(engine, g, x: x, f: f, b: nil, dO: dO, workspace: ConvWorkspace<Double>())
                reference.check(results, geometry: g, context: "hostile \(g), \(algorithm.map { "\($0)" } ?? "automatic")")
                ran += 1
            }
        }
        print("volume hostile: \(planned) plans, \(ran) runs checked, errors \(errors.sorted { $0.key < $1.key })")
        #expect(ran > 0 && planned > 0)
    }

    @Test("Wrong lengths, missing operands, overlapping buffers, a forced algorithm that cannot apply")
    func buffers() throws {
        let g = try ConvGeometry3D(n: 2, c: 2, d: 3, h: 4, w: 3, k: 2, t: 2, r: 2, s: 2, pad: (1, 0, 0, 1, 1, 0))
        let engine = try makeVolumeEngine(workers: 2, algorithm: nil)
        let reference = ReferenceConvolution()
        let ws = ConvWorkspace<Double>()
        var kinds: Set<String> = []
        func expectKind(_ expected: ConvError, _ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
            let error = thrownError(body)
            #expect(error as? ConvError == expected, "got \(String(describing: error))", sourceLocation: sourceLocation)
            if let error { kinds.insert(errorKind(error)) }
        }
        let x = [Double](repeating: 1, count: g.inputCount), f = [Double](repeating: 1, count: g.filterCount)
        let dO = [Double](repeating: 1, count: g.outputCount)
        for backend in [engine as any Sendable, reference as any Sendable] {
            func forward(_ x: [Double], _ f: [Double], _ b: [Double]?) throws -> [Double] {
                if let e = backend as? ConvolutionEngine { return try e.forward(g, input: x, filter: f, bias: b, workspace: ws) }
                return try (backend as! ReferenceConvolution).forward(g, input: x, filter: f, bias: b, workspace: ws)
            }
            func backward(_ x: [Double]?, _ f: [Double]?, _ dO: [Double], _ set: GradientSet) throws -> Gradients<Double> {
                if let e = backend as? ConvolutionEngine {
                    return try e.backward(g, input: x, filter: f, outputGradient: dO, gradients: set, workspace: ws)
                }
                return try (backend as! ReferenceConvolution).backward(g, input: x, filter: f, outputGradient: dO,
                                                                         gradients: set, workspace: ws)
            }
            expectKind(.bufferLength(name: "input", expected: g.inputCount, actual: 5)) { _ = try forward([1, 2, 3, 4, 5], f, nil) }
            expectKind(.bufferLength(name: "filter", expected: g.filterCount, actual: 0)) { _ = try forward(x, [], nil) }
            expectKind(.bufferLength(name: "bias", expected: 2, actual: 3)) { _ = try forward(x, f, [1, 2, 3]) }
            expectKind(.bufferLength(name: "outputGradient", expected: g.outputCount, actual: 1)) { _ = try backward(x, f, [1], .all) }
            expectKind(.missingBuffer(name: "filter")) { _ = try backward(x, nil, dO, [.input]) }
            expectKind(.missingBuffer(name: "input")) { _ = try backward(nil, f, dO, [.filter]) }
            #expect((try? backward(nil, nil, dO, [.bias]))?.bias?.count == 2)
        }
        // Buffer API: an output overlapping an input or the workspace, a wrong output length; nothing written.
        var storage = [Double](repeating: 7, count: g.inputCount + g.outputCount)
        f.withUnsafeBufferPointer { fp in
            storage.withUnsafeMutableBufferPointer { s in
                let input = UnsafeBufferPointer(rebasing: s[0..<g.inputCount])
                let overlapping = UnsafeMutableBufferPointer(rebasing: s[(g.inputCount - 1)..<(g.inputCount - 1 + g.outputCount)])
                for backend in [engine as any Sendable, reference as any Sendable] {
                    expectKind(.overlappingBuffers(output: "output", other: "input")) {
                        if let e = backend as? ConvolutionEngine {
                            try e.forward(g, input: input, filter: fp, bias: nil, output: overlapping, workspace: ws)
                        } else {
                            try (backend as! ReferenceConvolution).forward(g, input: input, filter: fp, bias: nil,
                                                                          output: overlapping, workspace: ws)
                        }
                    }
                    expectKind(.bufferLength(name: "output", expected: g.outputCount, actual: 3)) {
                        let short = UnsafeMutableBufferPointer(rebasing: s[g.inputCount..<(g.inputCount + 3)])
                        if let e = backend as? ConvolutionEngine {
                            try e.forward(g, input: input, filter: fp, bias: nil, output: short, workspace: ws)
                        } else {
                            try (backend as! ReferenceConvolution).forward(g, input: input, filter: fp, bias: nil,
                                                                          output: short, workspace: ws)
                        }
                    }
                }
                expectKind(.overlappingBuffers(output: "inputGradient", other: "input")) {
                    let dOp = UnsafeBufferPointer(rebasing: s[g.inputCount..<(g.inputCount + g.outputCount)])
                    let dX = UnsafeMutableBufferPointer(mutating: input)
                    try engine.backward(g, input: input, filter: fp, outputGradient: dOp, inputGradient: dX,
                                        filterGradient: nil, biasGradient: nil, workspace: ws)
                }
            }
        }
        #expect(storage.allSatisfy { $0 == 7 }, "a failed call wrote into its buffers")
        // An output overlapping the workspace (the workspace is sized first, so its memory is known).
        let wsf = ConvWorkspace<Float>()
        let gf = try ConvGeometry3D(n: 1, c: 1, d: 2, h: 3, w: 3, k: 1, t: 2, r: 2, s: 2)
        let xf = [Float](repeating: 1, count: gf.inputCount), ff = [Float](repeating: 1, count: gf.filterCount)
        _ = try engine.forward(gf, input: xf, filter: ff, workspace: wsf)
        if let start = workspaceStorage(wsf) {
            expectKind(.overlappingBuffers(output: "output", other: "workspace")) {
                try xf.withUnsafeBufferPointer { xp in
                    try ff.withUnsafeBufferPointer { fp in
                        try engine.forward(gf, input: xp, filter: fp, bias: nil,
                                           output: UnsafeMutableBufferPointer(start: start, count: gf.outputCount), workspace: wsf)
                    }
                }
            }
        }
        // The kernel-depth GEMMs refuse a depth dilation whose lowered planes would dwarf vol2col's.
        let dilated = try ConvGeometry3D(n: 1, c: 1, d: 100_000, h: 1, w: 1, k: 1, t: 2, r: 1, s: 1,
                                         dilation: (99_999, 1, 1))
        let forced = try makeVolumeEngine(workers: 1, algorithm: .kernelDepthGEMM)
        let error = thrownError { _ = try forced.plan(for: dilated, scalar: Float.self) }
        #expect(errorKind(error ?? ConvError.sizeOverflow(quantity: "none")) == "algorithmNotApplicable")
        if let error { kinds.insert(errorKind(error)) }
        // The automatic plan runs it with vol2col.
        #expect(try makeVolumeEngine(workers: 1, algorithm: nil).plan(for: dilated).algorithm == .vol2col)
        let capped = try makeVolumeEngine(workers: 1, algorithm: .vol2col, workspaceLimit: 8)
        let capError = thrownError { _ = try capped.forward(g, input: x, filter: f, workspace: ConvWorkspace<Double>()) }
        #expect(errorKind(capError ?? ConvError.sizeOverflow(quantity: "none")) == "workspaceCapTooSmall")
        if let capError { kinds.insert(errorKind(capError)) }
        #expect(kinds == ["bufferLength", "missingBuffer", "overlappingBuffers", "algorithmNotApplicable", "workspaceCapTooSmall"])
    }
}
