// `conv` on the convolution family: a transposed 2-D, transposed 1-D, 1-D and 3-D convolution each through forward,
// backward and check, the results compared element by element with ReferenceConvolution (within MATH.md's bound),
// and the combinations it refuses (exit 64 for the command line, 1 for the files).
import ConvEngine
import ConvEngineNPY
import Foundation
import Testing

@Suite("conv: transposed, 1-D and 3-D convolutions")
struct CLIFamilyTests {
    /// One small problem: the files' shapes, the geometry options, and the library geometry they describe.
    struct Case: CustomStringConvertible, Sendable {
        var name: String
        var input: [Int], filter: [Int]
        var options: [String]
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "transposed 2-D", input: [2, 4, 3, 4], filter: [4, 3, 3, 2],
             options: ["--transposed", "--groups", "2", "--stride", "2,1", "--padding", "1,0,0,1",
                       "--output-padding", "1,0"]),
        Case(name: "transposed 1-D", input: [2, 2, 5], filter: [2, 3, 3],
             options: ["--transposed", "--stride", "2", "--padding", "1,0", "--output-padding", "1", "--dilation", "2"]),
        Case(name: "1-D", input: [2, 3, 9], filter: [4, 3, 3],
             options: ["--stride", "2", "--padding", "1,2", "--dilation", "2"]),
        Case(name: "3-D", input: [1, 2, 3, 4, 5], filter: [4, 1, 2, 3, 2],
             options: ["--groups", "2", "--stride", "1,2,1", "--padding", "1,0,0,1,1,0", "--dilation", "1,1,2"]),
        // Forced algorithms: a 2-D one applies to the convolution a transposed one runs on; a 3-D one to 3-D.
        Case(name: "transposed 2-D, im2col", input: [2, 4, 3, 4], filter: [4, 3, 3, 2],
             options: ["--transposed", "--groups", "2", "--stride", "2,1", "--padding", "1,0,0,1",
                       "--output-padding", "1,0", "--algorithm", "im2col", "--input-gradient-algorithm", "fullConvolution"]),
        Case(name: "3-D, kernelDepthGEMM", input: [1, 2, 3, 4, 5], filter: [4, 1, 2, 3, 2],
             options: ["--groups", "2", "--stride", "1,2,1", "--padding", "1,0,0,1,1,0", "--dilation", "1,1,2",
                       "--algorithm", "kernelDepthGEMM"]),
    ]

    /// The same case's geometry, built here from the library (not through the tool).
    static func results(_ c: Case, x: [Double], f: [Double], b: [Double], dO: [Double]?) throws
        -> (outputShape: [Int], forward: (output: [Double], magnitudes: [Double]),
            backward: (gradients: Gradients<Double>, magnitudes: Gradients<Double>)?) {
        let r = ReferenceConvolution()
        switch c.name.split(separator: ",")[0] {
        case "transposed 2-D":
            let g = try TransposedConvGeometry(batch: 2, inputChannels: 4, inputHeight: 3, inputWidth: 4, outputChannels: 6,
                                               kernelHeight: 3, kernelWidth: 2, strideHeight: 2, strideWidth: 1,
                                               padding: Padding(top: 1, bottom: 0, left: 0, right: 1),
                                               outputPaddingHeight: 1, outputPaddingWidth: 0, groups: 2)
            return ([2, 6, g.outputHeight, g.outputWidth], try r.forwardWithMagnitudes(g, input: x, filter: f, bias: b),
                    try dO.map { try r.backwardWithMagnitudes(g, input: x, filter: f, outputGradient: $0) })
        case "transposed 1-D":
            let g = try TransposedConvGeometry1D(batch: 2, inputChannels: 2, inputLength: 5, outputChannels: 3,
                                                 kernelLength: 3, stride: 2, padding: Padding1D(left: 1, right: 0),
                                                 outputPadding: 1, dilation: 2)
            return ([2, 3, g.outputLength], try r.forwardWithMagnitudes(g, input: x, filter: f, bias: b),
                    try dO.map { try r.backwardWithMagnitudes(g, input: x, filter: f, outputGradient: $0) })
        case "1-D":
            let g = try ConvGeometry1D(batch: 2, inputChannels: 3, inputLength: 9, outputChannels: 4, kernelLength: 3,
                                       stride: 2, padding: Padding1D(left: 1, right: 2), dilation: 2)
            return ([2, 4, g.outputLength], try r.forwardWithMagnitudes(g, input: x, filter: f, bias: b),
                    try dO.map { try r.backwardWithMagnitudes(g, input: x, filter: f, outputGradient: $0) })
        default:
            let g = try ConvGeometry3D(batch: 1, inputChannels: 2, inputDepth: 3, inputHeight: 4, inputWidth: 5,
                                       outputChannels: 4, kernelDepth: 2, kernelHeight: 3, kernelWidth: 2,
                                       strideDepth: 1, strideHeight: 2, strideWidth: 1,
                                       padding: Padding3D(front: 1, back: 0, top: 0, bottom: 1, left: 1, right: 0),
                                       dilationDepth: 1, dilationHeight: 1, dilationWidth: 2, groups: 2)
            return ([1, 4, g.outputDepth, g.outputHeight, g.outputWidth],
                    try r.forwardWithMagnitudes(g, input: x, filter: f, bias: b),
                    try dO.map { try r.backwardWithMagnitudes(g, input: x, filter: f, outputGradient: $0) })
        }
    }

    /// `count` values uniform in [-1, 1] from `rng`.
    static func random(_ count: Int, _ rng: inout SeededGenerator) -> [Double] {
        (0..<count).map { _ in Double(rng.next() >> 11) * 0x1p-52 - 1 }
    }

    /// Writes `values` with `shape` as a float64 .npy file.
    static func write(_ values: [Double], _ shape: [Int], _ path: String) throws {
        try NPYArray(shape: shape, scalars: values).write(to: URL(fileURLWithPath: path))
    }

    /// Reads a .npy file written by the tool: its shape and elements (float64).
    static func read(_ path: String) throws -> (shape: [Int], values: [Double]) {
        let a = try NPYArray(contentsOf: URL(fileURLWithPath: path))
        return (a.shape, a.scalars(as: Double.self))
    }

    /// Every element of `actual` within MATH.md's bound (Double) of the reference, with `L` = 1000, above every term
    /// count of these small cases (the files hold the exact Double results, so any indexing mistake is far outside).
    static func expectWithinBound(_ actual: [Double], _ reference: [Double], _ magnitudes: [Double], _ what: String) {
        #expect(actual.count == reference.count, "\(what): \(actual.count) elements, reference \(reference.count)")
        guard actual.count == reference.count else { return }
        let worst = actual.indices.map {
            ErrorBound.fraction(value: actual[$0], reference: reference[$0], terms: 1000, magnitude: magnitudes[$0],
                                scalar: Double.self)
        }.max() ?? 0
        #expect(worst <= 1, "\(what): worst error \(worst) of the bound")
    }

    @Test("forward and backward through the CLI match ReferenceConvolution", arguments: CLIFamilyTests.cases)
    func forwardAndBackward(_ c: Case) throws {
        let scratch = try CLIScratch()
        var rng = SeededGenerator(seed: 13)
        let x = Self.random(c.input.reduce(1, *), &rng), f = Self.random(c.filter.reduce(1, *), &rng)
        let transposed = c.options.contains("--transposed")
        let groups = c.options.firstIndex(of: "--groups").map { Int(c.options[$0 + 1])! } ?? 1
        let outputChannels = transposed ? c.filter[1] * groups : c.filter[0]
        let b = Self.random(outputChannels, &rng)
        let shape = try Self.results(c, x: x, f: f, b: b, dO: nil).outputShape
        let dO = Self.random(shape.reduce(1, *), &rng)
        let expected = try Self.results(c, x: x, f: f, b: b, dO: dO)
        try Self.write(x, c.input, scratch.path("x.npy"))
        try Self.write(f, c.filter, scratch.path("w.npy"))
        try Self.write(b, [outputChannels], scratch.path("b.npy"))
        try Self.write(dO, shape, scratch.path("dy.npy"))

        let fwd = try ConvTool.run(["forward", "--input", scratch.path("x.npy"), "--filter", scratch.path("w.npy"),
                                    "--bias", scratch.path("b.npy"), "--output", scratch.path("y.npy")] + c.options)
        #expect(fwd.status == 0, "\(c.name): \(fwd.stderr)")
        guard fwd.status == 0 else { return }
        let o = try Self.read(scratch.path("y.npy"))
        #expect(o.shape == shape, "\(c.name): O shape")
        Self.expectWithinBound(o.values, expected.forward.output, expected.forward.magnitudes, "\(c.name) O")

        let bwd = try ConvTool.run(["backward", "--input", scratch.path("x.npy"), "--filter", scratch.path("w.npy"),
                                    "--output-gradient", scratch.path("dy.npy"), "--input-gradient", scratch.path("dx.npy"),
                                    "--filter-gradient", scratch.path("dw.npy"), "--bias-gradient", scratch.path("db.npy")]
                                   + c.options)
        #expect(bwd.status == 0, "\(c.name): \(bwd.stderr)")
        guard bwd.status == 0, let (grads, mags) = expected.backward else { return }
        for (file, shape, reference, magnitude, what) in [
            ("dx.npy", c.input, grads.input, mags.input, "dX"), ("dw.npy", c.filter, grads.filter, mags.filter, "dF"),
            ("db.npy", [outputChannels], grads.bias, mags.bias, "dB"),
        ] {
            let result = try Self.read(scratch.path(file))
            #expect(result.shape == shape, "\(c.name): \(what) shape")
            Self.expectWithinBound(result.values, reference ?? [], magnitude ?? [], "\(c.name) \(what)")
        }
    }

    @Test("check runs each operation and passes", arguments: [
        ["--dimensions", "1", "--channels", "3", "--size", "20", "--filters", "4", "--kernel", "3", "--stride", "2",
         "--padding", "1,2", "--dilation", "2"],
        ["--dimensions", "3", "--channels", "2", "--size", "4,5,6", "--filters", "4", "--kernel", "2,3,2", "--padding",
         "same", "--groups", "2"],
        ["--transposed", "--channels", "4", "--size", "5,6", "--filters", "6", "--kernel", "4,3", "--stride", "2",
         "--padding", "1", "--output-padding", "1,0", "--groups", "2"],
        ["--transposed", "--dimensions", "1", "--channels", "2", "--size", "7", "--filters", "3", "--kernel", "3",
         "--stride", "1", "--dilation", "3", "--output-padding", "2"],
    ])
    func check(_ arguments: [String]) throws {
        for precision in ["float", "double"] {
            let run = try ConvTool.run(["check", "--batch", "2", "--repeat", "1", "--precision", precision] + arguments)
            #expect(run.status == 0, "\(arguments) \(precision): \(run.stderr)")
            #expect(run.stdout.contains("PASS"), "\(arguments): \(run.stdout)")
        }
    }

    @Test("refused combinations: usage errors exit 64, wrong files exit 1, one line each")
    func refused() throws {
        let scratch = try CLIScratch()
        var rng = SeededGenerator(seed: 7)
        let files: [(String, [Int])] = [("x1", [1, 2, 6]), ("w1", [3, 2, 2]), ("wt1", [2, 3, 2]), ("x2", [1, 2, 5, 5]), ("w2", [2, 3, 3, 3]), ("wc2", [3, 2, 3, 3]),
                                        ("x3", [1, 2, 3, 4, 4]), ("w3", [3, 2, 2, 2, 2]), ("x6", [1, 1, 1, 1, 1, 1])]
        for (name, shape) in files { try Self.write(Self.random(shape.reduce(1, *), &rng), shape, scratch.path("\(name).npy")) }
        func forward(_ x: String, _ w: String) -> [String] {
            ["forward", "--input", scratch.path("\(x).npy"), "--filter", scratch.path("\(w).npy"),
             "--output", scratch.path("o.npy")]
        }
        let usage: [(arguments: [String], mentions: String)] = [
            (forward("x2", "w2") + ["--output-padding", "1"], "--output-padding needs --transposed"),
            (forward("x3", "w3") + ["--transposed"], "3-D transposed convolution is not supported"),
            (forward("x1", "w1") + ["--stride", "1,2"], "--stride takes one value for a 1-D convolution"),
            (forward("x3", "w3") + ["--dilation", "1,2"], "--dilation takes one value or three"),
            (forward("x3", "w3") + ["--padding", "1,1,1,1"], "--padding takes 1, 3"),
            (forward("x1", "w1") + ["--padding", "1,2,3"], "--padding takes 1 or 2"),
            (forward("x1", "w1") + ["--padding", "same", "--stride", "2"], "'same' padding needs stride 1"),
            (forward("x2", "w2") + ["--transposed", "--padding", "same"], "not defined for a transposed convolution"),
            (forward("x2", "w2") + ["--transposed", "--stride", "2", "--output-padding", "2"], "outputPadding"),
            (forward("x1", "wt1") + ["--transposed", "--output-padding", "1,1"], "--output-padding takes one value"),
            (forward("x2", "w2") + ["--transposed", "--groups", "4"], "divisible"),
            (forward("x1", "w1") + ["--transposed"], "a transposed convolution's weight is (Cin, Cout/groups, kernel)"),
            (forward("x3", "w3") + ["--algorithm", "pointwise"], "a 3-D convolution takes auto, vol2col"),
            (forward("x2", "wc2") + ["--algorithm", "vol2col"], "is a 3-D algorithm"),
            (forward("x3", "w3") + ["--input-gradient-algorithm", "col2im"], "does not apply to a 3-D convolution"),
            (["check", "--dimensions", "4"], "--dimensions must be 1, 2 or 3"),
            (["check", "--dimensions", "3", "--transposed"], "3-D transposed convolution is not supported"),
            (["check", "--dimensions", "1", "--size", "8,8"], "--size takes one value for a 1-D convolution"),
        ]
        let failures: [(arguments: [String], mentions: String)] = [
            (forward("x2", "w1"), "with a 4-D input a filter must be 4-D"),
            (forward("x1", "w3") + ["--transposed"], "with a 3-D input a filter must be 3-D (Cin, Cout/groups, kernel)"),
            (forward("x6", "w2"), "3-D (N, C, L) or 5-D (N, C, D, H, W)"),
        ]
        let all: [(arguments: [String], mentions: String, status: Int32)] =
            usage.map { ($0.arguments, $0.mentions, 64) } + failures.map { ($0.arguments, $0.mentions, 1) }
        for (arguments, mention, status) in all {
            let run = try ConvTool.run(arguments)
            #expect(run.status == status, "\(arguments): exit \(run.status), \(run.stderr)")
            #expect(run.stderr.hasPrefix("conv: error: ") && run.stderr.split(separator: "\n").count == 1,
                    "\(arguments): \(run.stderr)")
            #expect(run.stderr.contains(mention), "\(arguments): \(run.stderr)")
        }
    }

    @Test("--help documents the family: --transposed, --output-padding, the ranks, --dimensions")
    func help() throws {
        let root = try ConvTool.run(["--help"]).stdout
        for phrase in ["--transposed", "(N, C, L)", "(N, C, D, H, W)", "conv_transpose2d"] {
            #expect(root.contains(phrase), "conv --help lacks \(phrase)")
        }
        for subcommand in ["forward", "backward", "check"] {
            let help = try ConvTool.run([subcommand, "--help"]).stdout
            for option in ["--transposed", "--output-padding"] {
                #expect(help.contains(option), "\(subcommand) --help lacks \(option)")
            }
        }
        #expect(try ConvTool.run(["check", "--help"]).stdout.contains("--dimensions"))
    }
}
