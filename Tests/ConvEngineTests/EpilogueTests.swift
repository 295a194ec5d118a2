// The fused activation: every plan's fused forward pass is f of its plain forward pass bit for bit, the fused
// backward pass is the plain one on dL/dO ⊙ f′ (both written here from the definitions of Activation's table),
// and both stay within MATH.md's bound of the reference followed by a separate activation.
import Testing
import ConvEngine

/// f in the element type (the leaky slope rounded to T, as a Float layer's would be), written from the table
/// in Activation's documentation.
func activate<T: BinaryFloatingPoint>(_ z: T, _ a: Activation) -> T {
    switch a {
    case .identity: return z
    case .relu: return z < 0 ? 0 : z
    case .clamp(let lo, let hi): return z.isNaN ? z : Swift.min(Swift.max(z, T(lo)), T(hi))
    case .leakyReLU(let slope): return z > 0 || z.isNaN ? z : T(slope) * z
    }
}

/// dL/dZ = dL/dO · f′, f′ read from the activated output y (a NaN output passes the gradient, as in PyTorch).
func maskedGradient<T: BinaryFloatingPoint>(_ y: T, _ dO: T, _ a: Activation) -> T {
    switch a {
    case .identity: return dO
    case .relu: return y <= 0 ? 0 : dO
    case .clamp(let lo, let hi): return y <= T(lo) || y >= T(hi) ? 0 : dO
    case .leakyReLU(let slope): return y > 0 ? dO : T(slope) * dO
    }
}

@Suite("Fused activation (epilogue)")
struct EpilogueTests {
    static let activations: [Activation] = [.relu, .relu6, .clamp(lower: -0.3, upper: 0.4), .leakyReLU(slope: 0.1)]

    /// Geometries on which, between them, every algorithm runs, with single- and multi-image tiles.
    static func geometries() throws -> [ConvGeometry] {
        [
            try ConvGeometry(batch: 2, inputChannels: 4, inputHeight: 9, inputWidth: 7, outputChannels: 6,
                             kernelHeight: 3, kernelWidth: 3, padding: 1),
            try ConvGeometry(batch: 4, inputChannels: 3, inputHeight: 4, inputWidth: 5, outputChannels: 4,
                             kernelHeight: 1, kernelWidth: 1),
            try ConvGeometry(batch: 3, inputChannels: 4, inputHeight: 8, inputWidth: 8, outputChannels: 8,
                             kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 1,
                             padding: .explicit(Padding(top: 1, bottom: 0, left: 2, right: 1)), groups: 4),
            try ConvGeometry(batch: 2, inputChannels: 6, inputHeight: 10, inputWidth: 11, outputChannels: 4,
                             kernelHeight: 3, kernelWidth: 3, padding: .explicit(Padding(top: 0, bottom: 2, left: 1, right: 0)),
                             groups: 2),
        ]
    }

    @Test("forward: every plan's fused result is f of its plain result, bit for bit (Float, Double, 1 and 2 workers)")
    func forwardIsActivatedPlainForward() throws {
        var rng = SeededGenerator(seed: 0xE91)
        var cases = 0
        for g in try Self.geometries() {
            let x = rng.values(g.inputCount), f = rng.values(g.filterCount), b = rng.array(g.outputChannels)
            for algorithm in ConvAlgorithm.allCases where algorithm.supports(g) {
                for workers in [1, 2] {
                    let engine = try makeEngine(workers: workers, algorithm: algorithm)
                    for a in Self.activations {
                        try check(Float.self, engine, g, x, f, b, a, "\(algorithm)×\(workers) \(a) \(g)")
                        try check(Double.self, engine, g, x, f, b, a, "\(algorithm)×\(workers) \(a) \(g)")
                        cases += 2
                    }
                }
            }
        }
        #expect(cases >= 4 * 2 * 4 * 2)
    }

    private func check<T: ConvScalar>(_: T.Type, _ engine: ConvolutionEngine, _ g: ConvGeometry, _ x: [Double],
                                      _ f: [Double], _ b: [Double], _ a: Activation, _ context: String) throws {
        let xs = converted(x, to: T.self), fs = converted(f, to: T.self), bs = converted(b, to: T.self)
        let workspace = ConvWorkspace<T>()
        var plain = [T](repeating: 0, count: g.outputCount), fused = [T](repeating: .nan, count: g.outputCount)
        try xs.withUnsafeBufferPointer { xp in
            try fs.withUnsafeBufferPointer { fp in
                try bs.withUnsafeBufferPointer { bp in
                    try plain.withUnsafeMutableBufferPointer { op in
                        try engine.forward(g, input: xp, filter: fp, bias: bp, output: op, workspace: workspace)
                    }
                    try fused.withUnsafeMutableBufferPointer { op in
                        try engine.forward(g, input: xp, filter: fp, bias: bp, activation: a, output: op,
                                           workspace: workspace)
                    }
                }
            }
        }
        let expected = plain.map { activate($0, a) }
        expectBitIdentical(fused, expected, "fused O — \(context)")
    }

    @Test("backward: the fused pass is the plain pass on dO ⊙ f′(y), bit for bit, and dZ is written")
    func backwardIsPlainBackwardOnMaskedGradient() throws {
        var rng = SeededGenerator(seed: 0xE92)
        for g in try Self.geometries() {
            let x = converted(rng.values(g.inputCount), to: Float.self)
            let f = converted(rng.values(g.filterCount), to: Float.self)
            let b = converted(rng.array(g.outputChannels), to: Float.self)
            let dO = converted(rng.values(g.outputCount), to: Float.self)
            for algorithm in ConvAlgorithm.allCases where algorithm.supports(g) {
                for route in InputGradientAlgorithm.allCases {
                    let engine = try makeEngine(workers: 2, algorithm: algorithm, inputGradientAlgorithm: route)
                    for a in Self.activations {
                        let context = "\(algorithm)+\(route) \(a) \(g)"
                        let y = try forward(engine, g, x, f, b, a)
                        let masked = zip(y, dO).map { maskedGradient($0, $1, a) }
                        let plain = try runBackward(engine, g, x, f, dO: masked, activation: nil)
                        let fused = try runBackward(engine, g, x, f, dO: dO, activation: (a, y))
                        expectBitIdentical(fused.dZ, masked, "dZ — \(context)")
                        expectBitIdentical(fused.dX, plain.dX, "dX — \(context)")
                        expectBitIdentical(fused.dF, plain.dF, "dF — \(context)")
                        expectBitIdentical(fused.dB, plain.dB, "dB — \(context)")
                    }
                }
            }
        }
    }

    @Test("fused passes stay within the bound of the reference followed by a separate activation")
    func withinBoundOfReferencePlusActivation() throws {
        var rng = SeededGenerator(seed: 0xE93)
        for g in try Self.geometries() {
            let x = rng.values(g.inputCount), f = rng.values(g.filterCount), b = rng.array(g.outputChannels)
            let dO = rng.values(g.outputCount)
            let xf = converted(x, to: Float.self), ff = converted(f, to: Float.self), bf = converted(b, to: Float.self)
            let xr = widened(xf), fr = widened(ff), br = widened(bf)
            for algorithm in ConvAlgorithm.allCases where algorithm.supports(g) {
                let engine = try makeEngine(workers: 1, algorithm: algorithm, inputGradientAlgorithm: .col2im)
                for a in Self.activations {
                    let context = CheckContext(seed: 0xE93, geometry: g, plan: "\(algorithm) \(a)", scalar: "Float")
                    let y = try forward(engine, g, xf, ff, bf, a)
                    // f is 1-Lipschitz for these activations (slopes ≤ 1), so O's bound carries over to f(O). The
                    // gradients are checked against the reference on the dZ the pass used (exact: see the test above).
                    let fused = try runBackward(engine, g, xf, ff, dO: converted(dO, to: Float.self), activation: (a, y))
                    let reference = try ReferenceResults(g, input: xr, filter: fr, bias: br, outputGradient: widened(fused.dZ))
                        .bounded(for: algorithm, route: .col2im, geometry: g)
                    let activated = ReferenceResults.activated(reference, a)
                    activated.check(ConvResults(output: y, inputGradient: fused.dX, filterGradient: fused.dF,
                                                biasGradient: fused.dB), geometry: g, context: context)
                }
            }
        }
    }

    @Test("bad activations and buffers throw typed errors")
    func errors() throws {
        let g = try ConvGeometry(batch: 1, inputChannels: 1, inputHeight: 4, inputWidth: 4, outputChannels: 1,
                                 kernelHeight: 3, kernelWidth: 3)
        let engine = try makeEngine(workers: 1)
        let x = [Float](repeating: 1, count: g.inputCount), f = [Float](repeating: 1, count: g.filterCount)
        for bad: Activation in [.clamp(lower: 1, upper: 0), .clamp(lower: .nan, upper: 1), .leakyReLU(slope: -0.1),
                                .leakyReLU(slope: .infinity)] {
            #expect(throws: ConvError.self) { try bad.validate() }
            #expect(throws: ConvError.self) { _ = try forward(engine, g, x, f, nil, bad) }
        }
        let y = [Float](repeating: 1, count: g.outputCount)
        var dZ = [Float](repeating: 0, count: g.outputCount - 1)
        var dF = [Float](repeating: 0, count: g.filterCount)
        let ws = ConvWorkspace<Float>()
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeBufferPointer { yp in
                dZ.withUnsafeMutableBufferPointer { dZp in
                    dF.withUnsafeMutableBufferPointer { dFp in
                        _ = #expect(throws: ConvError.bufferLength(name: "preActivationGradient", expected: g.outputCount,
                                                               actual: g.outputCount - 1)) {
                            try engine.backward(g, input: xp, filter: nil, activation: .relu, output: yp,
                                                outputGradient: yp, preActivationGradient: dZp, inputGradient: nil,
                                                filterGradient: dFp, biasGradient: nil, workspace: ws)
                        }
                    }
                }
            }
        }
        // dZ overlapping dO is refused (it must not alias a read-only operand).
        var shared = [Float](repeating: 1, count: g.outputCount)
        shared.withUnsafeMutableBufferPointer { sp in
            dF.withUnsafeMutableBufferPointer { dFp in
                x.withUnsafeBufferPointer { xp in y.withUnsafeBufferPointer { yp in
                    _ = #expect(throws: ConvError.overlappingBuffers(output: "preActivationGradient", other: "outputGradient")) {
                        try engine.backward(g, input: xp, filter: nil, activation: .relu, output: yp,
                                            outputGradient: UnsafeBufferPointer(sp), preActivationGradient: sp,
                                            inputGradient: nil, filterGradient: dFp, biasGradient: nil, workspace: ws)
                    }
                } }
            }
        }
    }

    @Test("NaN stays NaN through every activation; its gradient passes as in PyTorch")
    func nan() throws {
        let g = try ConvGeometry(batch: 1, inputChannels: 1, inputHeight: 1, inputWidth: 3, outputChannels: 1,
                                 kernelHeight: 1, kernelWidth: 1)
        let engine = try ConvolutionEngine(workers: 1, numerics: .strict)
        for a in Self.activations {
            let y = try forward(engine, g, [Float.nan, -2, 2], [1], [0], a)
            #expect(y[0].isNaN, "\(a)")
            #expect(y[1] == activate(Float(-2), a) && y[2] == activate(Float(2), a), "\(a): \(y)")
        }
    }

    // MARK: Runs

    func forward(_ engine: ConvolutionEngine, _ g: ConvGeometry, _ x: [Float], _ f: [Float], _ b: [Float]?,
                 _ a: Activation) throws -> [Float] {
        var o = [Float](repeating: 0, count: g.outputCount)
        try x.withUnsafeBufferPointer { xp in
            try f.withUnsafeBufferPointer { fp in
                try withOptionalBuffer(b) { bp in
                    try o.withUnsafeMutableBufferPointer { op in
                        try engine.forward(g, input: xp, filter: fp, bias: bp, activation: a, output: op,
                                           workspace: ConvWorkspace())
                    }
                }
            }
        }
        return o
    }

    struct Backward { var dZ: [Float], dX: [Float], dF: [Float], dB: [Float] }

    /// All three gradients, through the plain pass (`activation` nil) or the fused one.
    func runBackward(_ engine: ConvolutionEngine, _ g: ConvGeometry, _ x: [Float], _ f: [Float], dO: [Float],
                     activation: (Activation, [Float])?) throws -> Backward {
        var r = Backward(dZ: [Float](repeating: .nan, count: g.outputCount),
                         dX: [Float](repeating: .nan, count: g.inputCount),
                         dF: [Float](repeating: .nan, count: g.filterCount),
                         dB: [Float](repeating: .nan, count: g.outputChannels))
        let ws = ConvWorkspace<Float>()
        try x.withUnsafeBufferPointer { xp in
            try f.withUnsafeBufferPointer { fp in
                try dO.withUnsafeBufferPointer { dOp in
                    try r.dZ.withUnsafeMutableBufferPointer { dZp in
                        try r.dX.withUnsafeMutableBufferPointer { dXp in
                            try r.dF.withUnsafeMutableBufferPointer { dFp in
                                try r.dB.withUnsafeMutableBufferPointer { dBp in
                                    if let (a, y) = activation {
                                        try y.withUnsafeBufferPointer { yp in
                                            try engine.backward(g, input: xp, filter: fp, activation: a, output: yp,
                                                                outputGradient: dOp, preActivationGradient: dZp,
                                                                inputGradient: dXp, filterGradient: dFp,
                                                                biasGradient: dBp, workspace: ws)
                                        }
                                    } else {
                                        try engine.backward(g, input: xp, filter: fp, outputGradient: dOp,
                                                            inputGradient: dXp, filterGradient: dFp,
                                                            biasGradient: dBp, workspace: ws)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return r
    }
}

extension ReferenceResults {
    /// The reference's output with f applied (its magnitudes unchanged: f is 1-Lipschitz here), gradients as they are.
    static func activated(_ r: ReferenceResults, _ a: Activation) -> ReferenceResults {
        var out = r
        out.output = r.output.map { activate($0, a) }
        return out
    }
}
