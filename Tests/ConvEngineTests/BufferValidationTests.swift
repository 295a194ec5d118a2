// The buffer API's checks at the edge: wrong lengths, overlapping buffers, missing inputs for a requested
// gradient, a forced algorithm that cannot run the geometry, and out-of-range engine settings. Both backends
// (the engine and the reference) share the calling convention, so both are held to the same errors.
import Testing
import ConvEngine

@Suite("Buffer and argument validation")
struct BufferValidationTests {
    // N2 C4 6×5, K6 3×3, stride 1, padding 1, groups 2: every buffer has a distinct length.
    static let g: ConvGeometry = try! ConvGeometry(n: 2, c: 4, h: 6, w: 5, k: 6, r: 3, s: 3, pad: (1, 1, 1, 1), groups: 2)

    static func backends() throws -> [(String, any ConvolutionBackend)] {
        var result: [(String, any ConvolutionBackend)] = [("reference", ReferenceConvolution())]
        for (algorithm, route) in allPlans(for: g) {
            result.append(("\(algorithm)+\(route)", try makeEngine(workers: 2, algorithm: algorithm, inputGradientAlgorithm: route)))
        }
        return result
    }

    /// Lengths that are wrong for a buffer of `count` elements: one short, one long, empty.
    static func wrongLengths(_ count: Int) -> [Int] { [count - 1, count + 1, 0] }

    /// Runs a forward pass with buffers of the given lengths (defaults: the right ones).
    static func forward(_ backend: any ConvolutionBackend, input: Int = g.inputCount, filter: Int = g.filterCount,
                        bias: Int = g.outputChannels, output: Int = g.outputCount) throws {
        let x = [Double](repeating: 1, count: input), f = [Double](repeating: 1, count: filter)
        let b = [Double](repeating: 1, count: bias)
        var o = [Double](repeating: 0, count: output)
        try x.withUnsafeBufferPointer { xb in
            try f.withUnsafeBufferPointer { fb in
                try b.withUnsafeBufferPointer { bb in
                    try o.withUnsafeMutableBufferPointer { ob in
                        try backend.forward(g, input: xb, filter: fb, bias: bb, output: ob, workspace: ConvWorkspace<Double>())
                    }
                }
            }
        }
    }

    /// Runs a backward pass for all three gradients with buffers of the given lengths.
    static func backward(_ backend: any ConvolutionBackend, input: Int = g.inputCount, filter: Int = g.filterCount,
                         outputGradient: Int = g.outputCount, inputGradient: Int = g.inputCount,
                         filterGradient: Int = g.filterCount, biasGradient: Int = g.outputChannels) throws {
        let x = [Double](repeating: 1, count: input), f = [Double](repeating: 1, count: filter)
        let dO = [Double](repeating: 1, count: outputGradient)
        var dX: [Double]? = [Double](repeating: 0, count: inputGradient)
        var dF: [Double]? = [Double](repeating: 0, count: filterGradient)
        var dB: [Double]? = [Double](repeating: 0, count: biasGradient)
        try x.withUnsafeBufferPointer { xb in
            try f.withUnsafeBufferPointer { fb in
                try dO.withUnsafeBufferPointer { dOb in
                    try withMutableBuffers(&dX, &dF, &dB) { dx, df, db in
                        try backend.backward(g, input: xb, filter: fb, outputGradient: dOb, inputGradient: dx,
                                             filterGradient: df, biasGradient: db, workspace: ConvWorkspace<Double>())
                    }
                }
            }
        }
    }

    @Test("Correct lengths pass (the baseline of the tests below)")
    func correctLengths() throws {
        for (_, backend) in try Self.backends() {
            try Self.forward(backend)
            try Self.backward(backend)
        }
    }

    @Test("Forward: a buffer one short, one long or empty throws .bufferLength naming it")
    func forwardLengths() throws {
        let g = Self.g
        for (label, backend) in try Self.backends() {
            for n in Self.wrongLengths(g.inputCount) {
                #expect(throws: ConvError.bufferLength(name: "input", expected: g.inputCount, actual: n), "\(label)") {
                    try Self.forward(backend, input: n)
                }
            }
            for n in Self.wrongLengths(g.filterCount) {
                #expect(throws: ConvError.bufferLength(name: "filter", expected: g.filterCount, actual: n), "\(label)") {
                    try Self.forward(backend, filter: n)
                }
            }
            for n in Self.wrongLengths(g.outputChannels) {
                #expect(throws: ConvError.bufferLength(name: "bias", expected: g.outputChannels, actual: n), "\(label)") {
                    try Self.forward(backend, bias: n)
                }
            }
            for n in Self.wrongLengths(g.outputCount) {
                #expect(throws: ConvError.bufferLength(name: "output", expected: g.outputCount, actual: n), "\(label)") {
                    try Self.forward(backend, output: n)
                }
            }
        }
    }

    @Test("Backward: a buffer one short, one long or empty throws .bufferLength naming it")
    func backwardLengths() throws {
        let g = Self.g
        for (label, backend) in try Self.backends() {
            for n in Self.wrongLengths(g.inputCount) {
                #expect(throws: ConvError.bufferLength(name: "input", expected: g.inputCount, actual: n), "\(label)") {
                    try Self.backward(backend, input: n)
                }
                #expect(throws: ConvError.bufferLength(name: "inputGradient", expected: g.inputCount, actual: n), "\(label)") {
                    try Self.backward(backend, inputGradient: n)
                }
            }
            for n in Self.wrongLengths(g.filterCount) {
                #expect(throws: ConvError.bufferLength(name: "filter", expected: g.filterCount, actual: n), "\(label)") {
                    try Self.backward(backend, filter: n)
                }
                #expect(throws: ConvError.bufferLength(name: "filterGradient", expected: g.filterCount, actual: n), "\(label)") {
                    try Self.backward(backend, filterGradient: n)
                }
            }
            for n in Self.wrongLengths(g.outputCount) {
                #expect(throws: ConvError.bufferLength(name: "outputGradient", expected: g.outputCount, actual: n), "\(label)") {
                    try Self.backward(backend, outputGradient: n)
                }
            }
            for n in Self.wrongLengths(g.outputChannels) {
                #expect(throws: ConvError.bufferLength(name: "biasGradient", expected: g.outputChannels, actual: n), "\(label)") {
                    try Self.backward(backend, biasGradient: n)
                }
            }
        }
    }

    @Test("Array API: wrong lengths throw too")
    func arrayLengths() throws {
        let g = Self.g
        for (label, backend) in try Self.backends() {
            let x = [Double](repeating: 1, count: g.inputCount), f = [Double](repeating: 1, count: g.filterCount)
            let dO = [Double](repeating: 1, count: g.outputCount)
            #expect(throws: ConvError.bufferLength(name: "input", expected: g.inputCount, actual: g.inputCount - 1), "\(label)") {
                _ = try backend.forward(g, input: Array(x.dropLast()), filter: f)
            }
            #expect(throws: ConvError.bufferLength(name: "bias", expected: g.outputChannels, actual: 0), "\(label)") {
                _ = try backend.forward(g, input: x, filter: f, bias: [Double]())
            }
            #expect(throws: ConvError.bufferLength(name: "outputGradient", expected: g.outputCount, actual: g.outputCount + 1), "\(label)") {
                _ = try backend.backward(g, input: x, filter: f, outputGradient: dO + [0])
            }
        }
    }

    /// One allocation carved into buffers at the given element offsets, so tests can make them overlap.
    final class Arena {
        let memory: UnsafeMutableBufferPointer<Double>
        init(_ count: Int) {
            memory = .allocate(capacity: count)
            memory.initialize(repeating: 0.5)
        }
        deinit { memory.deallocate() }
        func buffer(at offset: Int, count: Int) -> UnsafeMutableBufferPointer<Double> {
            UnsafeMutableBufferPointer(rebasing: memory[offset..<(offset + count)])
        }
    }

    @Test("Forward: output overlapping the input, filter or bias throws .overlappingBuffers; adjacent buffers do not")
    func forwardOverlap() throws {
        let g = Self.g
        let (ni, nf, nb, no) = (g.inputCount, g.filterCount, g.outputChannels, g.outputCount)
        let x = [Double](repeating: 1, count: ni), f = [Double](repeating: 1, count: nf), b = [Double](repeating: 1, count: nb)
        for (label, backend) in try Self.backends() {
            let ws = ConvWorkspace<Double>()
            // `count` elements of one buffer, then the output starting at `shift` elements before its end
            // (0: adjacent, 1: sharing one element).
            func run(_ which: String, shift: Int) throws {
                let count = which == "input" ? ni : which == "filter" ? nf : nb
                let arena = Arena(count + no)
                let shared = UnsafeBufferPointer(arena.buffer(at: 0, count: count))
                let output = arena.buffer(at: count - shift, count: no)
                try x.withUnsafeBufferPointer { xb in
                    try f.withUnsafeBufferPointer { fb in
                        try b.withUnsafeBufferPointer { bb in
                            try backend.forward(g, input: which == "input" ? shared : xb,
                                                filter: which == "filter" ? shared : fb,
                                                bias: which == "bias" ? shared : bb, output: output, workspace: ws)
                        }
                    }
                }
            }
            for which in ["input", "filter", "bias"] {
                #expect(throws: Never.self, "\(label): output right after \(which)") { try run(which, shift: 0) }
                #expect(throws: ConvError.overlappingBuffers(output: "output", other: which), "\(label)") {
                    try run(which, shift: 1)
                }
            }
            // Fully in place (the output is the input) on a geometry where the two have the same length.
            let square = try ConvGeometry(n: 1, c: 2, h: 4, w: 4, k: 2, r: 3, s: 3, pad: (1, 1, 1, 1))
            let arena = Arena(square.inputCount)
            let sf = [Double](repeating: 1, count: square.filterCount)
            sf.withUnsafeBufferPointer { fb -> Void in
                #expect(throws: ConvError.overlappingBuffers(output: "output", other: "input"), "\(label)") {
                    try backend.forward(square, input: UnsafeBufferPointer(arena.memory), filter: fb, bias: nil,
                                        output: arena.memory, workspace: ws)
                }
            }
        }
    }

    @Test("Backward: gradients overlapping an input, each other or the output gradient throw .overlappingBuffers")
    func backwardOverlap() throws {
        let g = Self.g
        let (ni, nf, no, nb) = (g.inputCount, g.filterCount, g.outputCount, g.outputChannels)
        // Layout: input | filter | outputGradient | inputGradient | filterGradient | biasGradient.
        let arena = Arena(ni + nf + no + ni + nf + nb + 8)
        let x = UnsafeBufferPointer(arena.buffer(at: 0, count: ni))
        let f = UnsafeBufferPointer(arena.buffer(at: ni, count: nf))
        let dO = UnsafeBufferPointer(arena.buffer(at: ni + nf, count: no))
        let dXOffset = ni + nf + no, dFOffset = dXOffset + ni, dBOffset = dFOffset + nf
        func isOverlap(_ e: any Error, _ a: String, _ b: String) -> Bool {
            guard case let ConvError.overlappingBuffers(output, other)? = e as? ConvError else { return false }
            return Set([output, other]) == Set([a, b])
        }
        for (label, backend) in try Self.backends() {
            let ws = ConvWorkspace<Double>()
            func run(dX: Int, dF: Int, dB: Int) throws {
                try backend.backward(g, input: x, filter: f, outputGradient: dO,
                                     inputGradient: arena.buffer(at: dX, count: ni),
                                     filterGradient: arena.buffer(at: dF, count: nf),
                                     biasGradient: arena.buffer(at: dB, count: nb), workspace: ws)
            }
            try run(dX: dXOffset, dF: dFOffset, dB: dBOffset)  // adjacent: fine
            let cases: [(String, String, Int, Int, Int)] = [
                ("inputGradient", "outputGradient", dXOffset - 1, dFOffset, dBOffset),
                ("inputGradient", "input", 0, dFOffset, dBOffset),                        // in place
                ("filterGradient", "filter", dXOffset, ni, dBOffset),                     // in place
                ("filterGradient", "inputGradient", dXOffset, dXOffset + ni - 1, dBOffset),
                ("biasGradient", "filterGradient", dXOffset, dFOffset, dFOffset + nf - 1),
                ("biasGradient", "outputGradient", dXOffset, dFOffset, ni + nf),
            ]
            for (a, b, dX, dF, dB) in cases {
                do {
                    try run(dX: dX, dF: dF, dB: dB)
                    Issue.record("\(label): \(a) overlapping \(b) did not throw")
                } catch {
                    #expect(isOverlap(error, a, b), "\(label): \(a) overlapping \(b) threw \(error)")
                }
            }
        }
    }

    @Test("An output overlapping the engine's workspace throws .overlappingBuffers")
    func workspaceOverlap() throws {
        let g = Self.g
        for (algorithm, route) in allPlans(for: g) {
            let engine = try makeEngine(workers: 1, algorithm: algorithm, inputGradientAlgorithm: route)
            let needed = try engine.workspaceElementCount(for: g, scalar: Double.self)
            guard needed > 0 else { continue }  // a plan that needs no workspace cannot overlap it
            // Reserve enough up front so the call does not reallocate, then aim the output at the workspace.
            let ws = try ConvWorkspace<Double>(reserving: max(needed, g.outputCount, g.inputCount))
            let storage = try #require(workspaceStorage(ws), "ConvWorkspace's storage is not visible by reflection")
            let x = [Double](repeating: 1, count: g.inputCount), f = [Double](repeating: 1, count: g.filterCount)
            let dO = [Double](repeating: 1, count: g.outputCount)
            x.withUnsafeBufferPointer { xb in
                f.withUnsafeBufferPointer { fb in
                    dO.withUnsafeBufferPointer { dOb -> Void in
                        #expect(throws: ConvError.overlappingBuffers(output: "output", other: "workspace"), "\(algorithm)+\(route)") {
                            try engine.forward(g, input: xb, filter: fb, bias: nil,
                                               output: UnsafeMutableBufferPointer(start: storage, count: g.outputCount),
                                               workspace: ws)
                        }
                        #expect(throws: ConvError.overlappingBuffers(output: "inputGradient", other: "workspace"), "\(algorithm)+\(route)") {
                            try engine.backward(g, input: xb, filter: fb, outputGradient: dOb,
                                                inputGradient: UnsafeMutableBufferPointer(start: storage, count: g.inputCount),
                                                filterGradient: nil, biasGradient: nil, workspace: ws)
                        }
                    }
                }
            }
        }
    }

    @Test("A requested gradient without the input or filter it needs throws .missingBuffer")
    func missingBuffers() throws {
        let g = Self.g
        let x = [Double](repeating: 1, count: g.inputCount), f = [Double](repeating: 1, count: g.filterCount)
        let dO = [Double](repeating: 1, count: g.outputCount)
        for (label, backend) in try Self.backends() {
            #expect(throws: ConvError.missingBuffer(name: "filter"), "\(label)") {
                _ = try backend.backward(g, input: x, filter: nil, outputGradient: dO, gradients: [.input])
            }
            #expect(throws: ConvError.missingBuffer(name: "input"), "\(label)") {
                _ = try backend.backward(g, input: nil, filter: f, outputGradient: dO, gradients: [.filter])
            }
            #expect(throws: ConvError.missingBuffer(name: "input"), "\(label)") {
                _ = try backend.backward(g, input: nil, filter: f, outputGradient: dO, gradients: .all)
            }
            // Not needed, not required: the bias gradient alone needs neither, dX needs no X, dF no F.
            #expect(throws: Never.self, "\(label)") {
                _ = try backend.backward(g, input: nil, filter: nil, outputGradient: dO, gradients: [.bias])
                _ = try backend.backward(g, input: nil, filter: f, outputGradient: dO, gradients: [.input, .bias])
                _ = try backend.backward(g, input: x, filter: nil, outputGradient: dO, gradients: [.filter, .bias])
            }
        }
    }

    @Test("A forced algorithm that cannot run the geometry throws .algorithmNotApplicable (pointwise on 3×3 and more)")
    func algorithmNotApplicable() throws {
        let x3 = Self.g  // 3×3 kernel
        let pointwise = try makeEngine(workers: 1, algorithm: .pointwise)
        func isNotApplicable(_ e: (any Error)?, _ name: String) -> Bool {
            guard case let ConvError.algorithmNotApplicable(algorithm, _)? = e as? ConvError else { return false }
            return algorithm == name
        }
        let x = [Double](repeating: 1, count: x3.inputCount), f = [Double](repeating: 1, count: x3.filterCount)
        let dO = [Double](repeating: 1, count: x3.outputCount)
        #expect(isNotApplicable(thrownError { _ = try pointwise.forward(x3, input: x, filter: f) }, "pointwise"))
        #expect(isNotApplicable(thrownError { _ = try pointwise.backward(x3, input: x, filter: f, outputGradient: dO) },
                                "pointwise"))
        #expect(isNotApplicable(thrownError { _ = try pointwise.plan(for: x3) }, "pointwise"))

        // Every algorithm, on geometries that are pointwise, depthwise, both and neither: it runs where it says
        // it supports the geometry and throws .algorithmNotApplicable where it does not. A 1×1 kernel with
        // stride 2 or with padding is not pointwise (darknet's bug was to ignore the stride).
        let geometries = try [
            x3,
            ConvGeometry(n: 1, c: 3, h: 4, w: 4, k: 2, r: 1, s: 1),                       // pointwise
            ConvGeometry(n: 1, c: 3, h: 4, w: 4, k: 2, r: 1, s: 1, stride: (2, 1)),       // 1×1, stride 2
            ConvGeometry(n: 1, c: 3, h: 4, w: 4, k: 2, r: 1, s: 1, stride: (1, 3)),       // 1×1, stride 3
            ConvGeometry(n: 1, c: 3, h: 4, w: 4, k: 2, r: 1, s: 1, pad: (0, 0, 1, 0)),    // 1×1, padded
            ConvGeometry(n: 1, c: 3, h: 4, w: 4, k: 2, r: 1, s: 1, pad: (0, 2, 0, 0)),    // 1×1, padded
            ConvGeometry(n: 1, c: 3, h: 5, w: 4, k: 2, r: 3, s: 1),                       // 3×1
            ConvGeometry(n: 1, c: 3, h: 4, w: 5, k: 2, r: 1, s: 3),                       // 1×3
            ConvGeometry(n: 1, c: 3, h: 5, w: 5, k: 6, r: 3, s: 3, groups: 3),           // depthwise
            ConvGeometry(n: 1, c: 3, h: 5, w: 5, k: 3, r: 1, s: 1, groups: 3),           // depthwise and pointwise
        ]
        #expect(ConvAlgorithm.pointwise.supports(geometries[1]) && ConvAlgorithm.pointwise.supports(geometries.last!))
        for g in geometries[2...7] { #expect(!ConvAlgorithm.pointwise.supports(g), "pointwise cannot run \(g)") }
        for g in geometries {
            let x = [Double](repeating: 1, count: g.inputCount), f = [Double](repeating: 1, count: g.filterCount)
            for algorithm in ConvAlgorithm.allCases {
                let engine = try makeEngine(workers: 1, algorithm: algorithm)
                if algorithm.supports(g) {
                    #expect(throws: Never.self, "\(algorithm) on \(g)") { _ = try engine.forward(g, input: x, filter: f) }
                } else {
                    #expect(isNotApplicable(thrownError { _ = try engine.forward(g, input: x, filter: f) }, algorithm.rawValue),
                            "\(algorithm) on \(g)")
                }
            }
        }
    }

    @Test("Worker counts outside 1…maximumWorkers throw .invalidArgument", arguments: [0, -1, ConvolutionEngine.maximumWorkers + 1])
    func workers(_ n: Int) {
        let error = thrownError { _ = try ConvolutionEngine(workers: n) }
        guard case let ConvError.invalidArgument(name, _)? = error as? ConvError else {
            Issue.record("workers: \(n) threw \(String(describing: error)), expected .invalidArgument")
            return
        }
        #expect(name == "workers")
    }

    @Test("Worker counts 1 and maximumWorkers are accepted")
    func workersInRange() throws {
        pinBLASThreadsOnce()
        #expect(try ConvolutionEngine(workers: 1).workers == 1)
        #expect(try ConvolutionEngine(workers: ConvolutionEngine.maximumWorkers).workers == ConvolutionEngine.maximumWorkers)
    }
}
