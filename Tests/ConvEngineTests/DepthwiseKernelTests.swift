import ConvEngine
import Testing

/// ``ConvAlgorithm/depthwiseDirect`` on the geometries that exercise the structure of its kernels: the forward
/// pass's column phases at horizontal stride above 1 (a dilation that wraps around the phases, one that stays in
/// one phase, a stride that is not a multiple of the dilation), its one-element fallback for a stride so wide that
/// the phases would not fit the scratch, rows shorter than one vector, the paired rows at stride 1, and channel
/// multipliers above 1. The randomized sweep runs it on every depthwise geometry as well.
@Suite("Depthwise kernel")
struct DepthwiseKernelTests {
    static let geometries: [(String, ConvGeometry)] = {
        func g(_ label: String, _ make: () throws -> ConvGeometry) -> (String, ConvGeometry) { (label, try! make()) }
        return [
            g("3×3/2, padding 1 (MobileNet's strided layer)") {
                try ConvGeometry(n: 2, c: 3, h: 23, w: 29, k: 3, r: 3, s: 3, stride: (2, 2), pad: (1, 1, 1, 1), groups: 3)
            },
            g("3×3/2, dilation 3: taps wrap around the phases") {
                try ConvGeometry(n: 1, c: 2, h: 17, w: 31, k: 4, r: 3, s: 3, stride: (2, 2), pad: (2, 1, 3, 0),
                                 dilation: (1, 3), groups: 2)
            },
            g("5×4/3, dilation 3: every tap in one phase") {
                try ConvGeometry(n: 2, c: 2, h: 19, w: 40, k: 2, r: 5, s: 4, stride: (3, 3), pad: (1, 1, 2, 2),
                                 dilation: (2, 3), groups: 2)
            },
            g("3×3/4, dilation 2: four phases, two used") {
                try ConvGeometry(n: 1, c: 3, h: 15, w: 45, k: 6, r: 3, s: 3, stride: (1, 4), pad: (1, 1, 1, 1),
                                 dilation: (1, 2), groups: 3)
            },
            g("3×3/9 on a 3-wide image: phases would not fit, one element at a time") {
                try ConvGeometry(n: 2, c: 2, h: 7, w: 3, k: 2, r: 3, s: 3, stride: (1, 9), groups: 2)
            },
            g("2×2/2: rows of fewer outputs than one vector") {
                try ConvGeometry(n: 3, c: 4, h: 6, w: 5, k: 4, r: 2, s: 2, stride: (2, 2), groups: 4)
            },
            g("3×3/1 same padding (paired rows), odd output height") {
                try ConvGeometry(n: 2, c: 3, h: 9, w: 21, k: 6, r: 3, s: 3, pad: (1, 1, 1, 1), groups: 3)
            },
        ]
    }()

    @Test("forward and gradients match the reference at 1, 2 and 3 workers", arguments: 0..<geometries.count)
    func matchesReference(_ index: Int) throws {
        let (label, g) = Self.geometries[index]
        var rng = SeededGenerator(seed: 0x6477_6b65 &+ UInt64(index))
        let problem = Problem(g, rng: &rng).rounded(to: Float.self)
        let reference = try ReferenceResults(g, input: problem.input, filter: problem.filter, bias: problem.bias,
                                             outputGradient: problem.outputGradient)
        let x: [Float] = converted(problem.input, to: Float.self)
        let f: [Float] = converted(problem.filter, to: Float.self)
        let b: [Float] = converted(problem.bias, to: Float.self)
        let dO: [Float] = converted(problem.outputGradient, to: Float.self)
        var outputs: [[Float]] = []
        for workers in [1, 2, 3] {
            pinBLASThreadsOnce()
            let engine = try ConvolutionEngine(workers: workers, algorithm: .depthwiseDirect)
            let context = CheckContext(geometry: g, plan: "\(try engine.plan(for: g)) (\(label))", scalar: "Float")
            let o = try engine.forward(g, input: x, filter: f, bias: b)
            let grads = try engine.backward(g, input: x, filter: f, outputGradient: dO)
            reference.checkRun(output: o, inputGradient: grads.input!, filterGradient: grads.filter!,
                               biasGradient: grads.bias!, geometry: g, context: context)
            outputs.append(o)
        }
        // Every output element sums the bias, then the taps in (r, s) order, whichever worker computes it.
        #expect(outputs.allSatisfy { $0.map(\.bitPattern) == outputs[0].map(\.bitPattern) },
                "\(label): the forward pass differs between worker counts")
    }

    /// Valid geometries whose dilation or stride is huge (up to `Int.max`) on an axis where it never steps (a
    /// kernel one tap high or wide, or one output row): the kernel multiplies such a step only where it is taken,
    /// so it runs (and matches the reference) or throws a typed ``ConvError``, and never traps on overflow.
    static let hugeSteps: [(String, @Sendable () throws -> ConvGeometry)] = [
        ("3×1 kernel, dilationWidth Int.max", {
            try ConvGeometry(batch: 1, inputChannels: 2, inputHeight: 5, inputWidth: 5, outputChannels: 2,
                             kernelHeight: 3, kernelWidth: 1, dilationWidth: Int.max, groups: 2)
        }),
        ("1×3 kernel, dilationHeight Int.max", {
            try ConvGeometry(batch: 1, inputChannels: 2, inputHeight: 5, inputWidth: 5, outputChannels: 2,
                             kernelHeight: 1, kernelWidth: 3, dilationHeight: Int.max, groups: 2)
        }),
        ("3×3 kernel, one output row, strideHeight Int.max", {
            try ConvGeometry(batch: 1, inputChannels: 2, inputHeight: 3, inputWidth: 5, outputChannels: 2,
                             kernelHeight: 3, kernelWidth: 3, strideHeight: Int.max, groups: 2)
        }),
        ("1×3 kernel at strideWidth 2 (column phases), dilationHeight Int.max", {
            try ConvGeometry(batch: 1, inputChannels: 2, inputHeight: 5, inputWidth: 9, outputChannels: 4,
                             kernelHeight: 1, kernelWidth: 3, strideWidth: 2, dilationHeight: Int.max, groups: 2)
        }),
        ("1×1 kernel, one output row, strideHeight Int.max, dilationHeight Int.max - 1", {
            try ConvGeometry(batch: 1, inputChannels: 2, inputHeight: 3, inputWidth: 5, outputChannels: 2,
                             kernelHeight: 1, kernelWidth: 1, strideHeight: Int.max, dilationHeight: Int.max - 1,
                             groups: 2)
        }),
    ]

    @Test("a huge dilation or stride that never steps neither traps nor changes the result",
          arguments: 0..<hugeSteps.count)
    func hugeStepThatNeverSteps(_ index: Int) throws {
        let (label, make) = Self.hugeSteps[index]
        let g: ConvGeometry
        do { g = try make() } catch is ConvError { return }  // a geometry that normalises or rejects it is fine too
        let ones = { (count: Int) in [Double](repeating: 1, count: count) }
        let x = ones(g.inputCount), f = ones(g.filterCount), b = ones(g.outputChannels), dO = ones(g.outputCount)
        let reference = try ReferenceResults(g, input: x, filter: f, bias: b, outputGradient: dO)
        let engine = try ConvolutionEngine(workers: 1, algorithm: .depthwiseDirect)
        let context = CheckContext(geometry: g, plan: "depthwiseDirect (\(label))", scalar: "Double")
        do {
            let o = try engine.forward(g, input: x, filter: f, bias: b)
            let grads = try engine.backward(g, input: x, filter: f, outputGradient: dO)
            reference.checkRun(output: o, inputGradient: grads.input!, filterGradient: grads.filter!,
                               biasGradient: grads.bias!, geometry: g, context: context)
        } catch {
            // A typed refusal (for example a workspace that would not fit) is an accepted outcome.
        }
    }
}
