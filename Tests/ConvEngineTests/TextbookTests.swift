// MATH.md's textbook example with concrete numbers: every expected value below was worked out by hand from
// the eighteen identities at the end of MATH.md (not produced by any code). All inputs are small integers
// (and one half), so every partial sum is exactly representable in Float and Double: any summation order
// gives exactly these values, and the comparison is `==`.
import Testing
import ConvEngine

@Suite("Textbook example (MATH.md)")
struct TextbookTests {
    // Single channel, 3×3 input, 2×2 filter, stride 1, no padding (1-based names as in MATH.md).
    //   X = | 1 -2  3 |   F = |  2 -1 |   B = 0.5   dO = | 1 -2 |
    //       | 5  4 -1 |       | -2  3 |                  | 3 -1 |
    //       | 2  1 -3 |
    static let x: [Double] = [1, -2, 3,
                              5, 4, -1,
                              2, 1, -3]
    static let f: [Double] = [2, -1,
                              -2, 3]
    static let b: [Double] = [0.5]
    static let dO: [Double] = [1, -2,
                               3, -1]

    // O11 = 1·2 + (-2)(-1) + 5(-2) + 4·3 + 0.5         =   6.5
    // O12 = (-2)2 + 3(-1) + 4(-2) + (-1)3 + 0.5         = -17.5
    // O21 = 5·2 + 4(-1) + 2(-2) + 1·3 + 0.5             =   5.5
    // O22 = 4·2 + (-1)(-1) + 1(-2) + (-3)3 + 0.5        =  -1.5
    static let expectedO: [Double] = [6.5, -17.5,
                                      5.5, -1.5]
    // dF11 = 1·1 + (-2)(-2) + 3·5 + (-1)4               =  16
    // dF12 = 1(-2) + (-2)3 + 3·4 + (-1)(-1)             =   5
    // dF21 = 1·5 + (-2)4 + 3·2 + (-1)1                  =   2
    // dF22 = 1·4 + (-2)(-1) + 3·1 + (-1)(-3)            =  12
    static let expectedDF: [Double] = [16, 5,
                                       2, 12]
    // dB = 1 - 2 + 3 - 1                                 =   1
    static let expectedDB: [Double] = [1]
    // dX11 = 1·2 = 2                dX12 = 1(-1) + (-2)2 = -5           dX13 = (-2)(-1) = 2
    // dX21 = 1(-2) + 3·2 = 4        dX22 = 1·3 + (-2)(-2) + 3(-1) + (-1)2 = 2
    // dX23 = (-2)3 + (-1)(-1) = -5  dX31 = 3(-2) = -6
    // dX32 = 3·3 + (-1)(-2) = 11    dX33 = (-1)3 = -3
    static let expectedDX: [Double] = [2, -5, 2,
                                       4, 2, -5,
                                       -6, 11, -3]

    static func geometry() throws -> ConvGeometry {
        try ConvGeometry(batch: 1, inputChannels: 1, inputHeight: 3, inputWidth: 3,
                         outputChannels: 1, kernelHeight: 2, kernelWidth: 2)
    }

    /// Runs `backend` in `T` and expects all 18 values exactly.
    static func expectTextbookValues<T: ConvScalar>(_ backend: some ConvolutionBackend, _: T.Type, label: String) throws {
        let g = try geometry()
        #expect(g.outputHeight == 2 && g.outputWidth == 2)
        let o = try backend.forward(g, input: converted(x, to: T.self), filter: converted(f, to: T.self),
                                    bias: converted(b, to: T.self))
        let grads = try backend.backward(g, input: converted(x, to: T.self), filter: converted(f, to: T.self),
                                         outputGradient: converted(dO, to: T.self))
        #expect(widened(o) == expectedO, "O, \(label) \(T.self)")
        #expect(grads.filter.map(widened) == expectedDF, "dF, \(label) \(T.self)")
        #expect(grads.bias.map(widened) == expectedDB, "dB, \(label) \(T.self)")
        #expect(grads.input.map(widened) == expectedDX, "dX, \(label) \(T.self)")
        // The single-gradient conveniences give the same values.
        #expect(widened(try backend.inputGradient(g, filter: converted(f, to: T.self), outputGradient: converted(dO, to: T.self)))
                == expectedDX, "inputGradient, \(label) \(T.self)")
        #expect(widened(try backend.filterGradient(g, input: converted(x, to: T.self), outputGradient: converted(dO, to: T.self)))
                == expectedDF, "filterGradient, \(label) \(T.self)")
        #expect(widened(try backend.biasGradient(g, outputGradient: converted(dO, to: T.self))) == expectedDB,
                "biasGradient, \(label) \(T.self)")
    }

    @Test("GEMM engine: every supporting algorithm × both input-gradient routes × 1 and 2 workers")
    func engine() throws {
        let g = try Self.geometry()
        let plans = allPlans(for: g)
        #expect(plans.contains { $0.0 == .im2col } && !plans.contains { $0.0 == .pointwise })
        for (algorithm, route) in plans {
            for workers in [1, 2] {
                let engine = try makeEngine(workers: workers, algorithm: algorithm, inputGradientAlgorithm: route)
                let label = "\(algorithm)+\(route)×\(workers)"
                try Self.expectTextbookValues(engine, Float.self, label: label)
                try Self.expectTextbookValues(engine, Double.self, label: label)
            }
        }
        // And the automatic plan.
        try Self.expectTextbookValues(try makeEngine(workers: 1), Double.self, label: "automatic")
    }

    @Test("ReferenceConvolution")
    func reference() throws {
        try Self.expectTextbookValues(ReferenceConvolution(), Float.self, label: "reference")
        try Self.expectTextbookValues(ReferenceConvolution(), Double.self, label: "reference")
    }

    // Σ|terms| per element, by hand from the same products (MATH.md's bound scales with it, so an inflated
    // magnitude would hide errors everywhere else in the suite):
    //   O:  |2|+|2|+|-10|+|12|+0.5 = 26.5,  |-4|+|-3|+|-8|+|-3|+0.5 = 18.5,
    //       |10|+|-4|+|-4|+|3|+0.5 = 21.5,  |8|+|1|+|-2|+|-9|+0.5 = 20.5
    //   dF: |1|+|4|+|15|+|-4| = 24,  |-2|+|-6|+|12|+|1| = 21,  |5|+|-8|+|6|+|-1| = 20,  |4|+|2|+|3|+|3| = 12
    //   dB: 1+2+3+1 = 7
    //   dX: 2, |-1|+|-4| = 5, 2;  |-2|+|6| = 8, |3|+|4|+|-3|+|-2| = 12, |-6|+|1| = 7;  6, |9|+|2| = 11, 3
    @Test("ReferenceConvolution's Σ|terms| per element")
    func referenceMagnitudes() throws {
        let g = try Self.geometry()
        let reference = ReferenceConvolution()
        let (o, mo) = try reference.forwardWithMagnitudes(g, input: Self.x, filter: Self.f, bias: Self.b)
        #expect(o == Self.expectedO)
        #expect(mo == [26.5, 18.5, 21.5, 20.5])
        let (grads, mags) = try reference.backwardWithMagnitudes(g, input: Self.x, filter: Self.f, outputGradient: Self.dO)
        #expect(grads.filter == Self.expectedDF && grads.bias == Self.expectedDB && grads.input == Self.expectedDX)
        #expect(mags.filter == [24, 21, 20, 12])
        #expect(mags.bias == [7])
        #expect(mags.input == [2, 5, 2, 8, 12, 7, 6, 11, 3])
        // Float magnitudes too, and without bias the forward magnitudes drop the 0.5.
        let (_, mof) = try reference.forwardWithMagnitudes(g, input: converted(Self.x, to: Float.self),
                                                           filter: converted(Self.f, to: Float.self))
        #expect(mof == [26, 18, 21, 20])
    }

    // A 1×1 example by hand, so the pointwise plan is held to hand-computed values too.
    // N=1, C=2, H=1, W=2, K=2:  X[c0] = [1, -2], X[c1] = [3, 0.5];  F[k0] = [2, -1], F[k1] = [0.5, 4];
    // B = [1, -1];  dO[k0] = [1, 2], dO[k1] = [-1, 3].
    //   O[k0] = [2·1 - 1·3 + 1, 2(-2) - 1(0.5) + 1]     = [0, -3.5]
    //   O[k1] = [0.5·1 + 4·3 - 1, 0.5(-2) + 4(0.5) - 1] = [11.5, 0]
    //   dF[k0] = [1·1 + 2(-2), 1·3 + 2(0.5)]            = [-3, 4]
    //   dF[k1] = [(-1)1 + 3(-2), (-1)3 + 3(0.5)]        = [-7, -1.5]
    //   dB = [1 + 2, -1 + 3]                             = [3, 2]
    //   dX[c0] = [2·1 + 0.5(-1), 2·2 + 0.5·3]           = [1.5, 5.5]
    //   dX[c1] = [(-1)1 + 4(-1), (-1)2 + 4·3]           = [-5, 10]
    @Test("Pointwise 1×1 example: every plan and the reference")
    func pointwiseByHand() throws {
        let g = try ConvGeometry(batch: 1, inputChannels: 2, inputHeight: 1, inputWidth: 2,
                                 outputChannels: 2, kernelHeight: 1, kernelWidth: 1)
        #expect(g.isPointwise)
        let x: [Double] = [1, -2, 3, 0.5], f: [Double] = [2, -1, 0.5, 4], b: [Double] = [1, -1]
        let dO: [Double] = [1, 2, -1, 3]
        let expectedO: [Double] = [0, -3.5, 11.5, 0]
        let expectedDF: [Double] = [-3, 4, -7, -1.5]
        let expectedDB: [Double] = [3, 2]
        let expectedDX: [Double] = [1.5, 5.5, -5, 10]
        var backends: [(String, any ConvolutionBackend)] = [("reference", ReferenceConvolution())]
        let plans = allPlans(for: g)
        #expect(plans.contains { $0.0 == .pointwise } && plans.contains { $0.0 == .im2col })
        for (algorithm, route) in plans {
            for workers in [1, 2] {
                backends.append(("\(algorithm)+\(route)×\(workers)",
                                 try makeEngine(workers: workers, algorithm: algorithm, inputGradientAlgorithm: route)))
            }
        }
        for (label, backend) in backends {
            func run<T: ConvScalar>(_: T.Type) throws {
                let o = try backend.forward(g, input: converted(x, to: T.self), filter: converted(f, to: T.self),
                                            bias: converted(b, to: T.self))
                let grads = try backend.backward(g, input: converted(x, to: T.self), filter: converted(f, to: T.self),
                                                 outputGradient: converted(dO, to: T.self))
                #expect(widened(o) == expectedO, "O, \(label) \(T.self)")
                #expect(grads.filter.map(widened) == expectedDF, "dF, \(label) \(T.self)")
                #expect(grads.bias.map(widened) == expectedDB, "dB, \(label) \(T.self)")
                #expect(grads.input.map(widened) == expectedDX, "dX, \(label) \(T.self)")
            }
            try run(Float.self)
            try run(Double.self)
        }
    }
}
