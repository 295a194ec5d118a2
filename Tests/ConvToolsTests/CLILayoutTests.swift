// `conv --layout nhwc` and `--filter-layout`: each operation (2-D, transposed 2-D, 1-D, transposed 1-D, 3-D) through
// forward and backward on channels-last files. The test writes the files by moving the channel axis of NCHW data
// last with its own index arithmetic, moves the results' channel axis back the same way, and compares every element
// with ReferenceConvolution on the NCHW data (within MATH.md's bound). Also `conv check` in NHWC, and the shape
// checks per layout (exit 64 for input and filter channels that disagree, 1 for a file of the wrong shape).
import ConvEngine
import ConvEngineNPY
import Foundation
import Testing

@Suite("conv: channels-last files (--layout, --filter-layout)")
struct CLILayoutTests {
    /// One case: the NCHW problem (a ``CLIFamilyTests/Case``, or the 2-D one below) and the layout options.
    struct Case: CustomStringConvertible, Sendable {
        var problem: CLIFamilyTests.Case
        /// The files' layouts: channels-last activations (X, O, dO, dX), channels-last filter (F, dF).
        var activationsLast: Bool, filterLast: Bool
        var layoutOptions: [String]
        var description: String { "\(problem.name) \(layoutOptions.joined(separator: " "))" }
    }

    /// A grouped, strided, asymmetrically padded 2-D convolution.
    static let conv2D = CLIFamilyTests.Case(name: "2-D", input: [2, 4, 5, 6], filter: [6, 2, 3, 2],
                                            options: ["--groups", "2", "--stride", "2,1", "--padding", "1,0,0,1"])

    static func family(_ name: String) -> CLIFamilyTests.Case { CLIFamilyTests.cases.first { $0.name == name }! }

    static let cases: [Case] = [
        Case(problem: conv2D, activationsLast: true, filterLast: true, layoutOptions: ["--layout", "nhwc"]),
        Case(problem: conv2D, activationsLast: true, filterLast: false, layoutOptions: ["--layout", "nhwc", "--filter-layout", "oihw"]),
        Case(problem: conv2D, activationsLast: false, filterLast: true, layoutOptions: ["--filter-layout", "ohwi"]),
        Case(problem: CLIFamilyTests.Case(name: "2-D, 1×1", input: [2, 8, 4, 3], filter: [5, 8, 1, 1], options: []),
             activationsLast: true, filterLast: true, layoutOptions: ["--layout", "nhwc"]),
        Case(problem: CLIFamilyTests.Case(name: "2-D, depthwise", input: [2, 4, 5, 5], filter: [4, 1, 3, 3],
                                          options: ["--groups", "4", "--padding", "1"]),
             activationsLast: true, filterLast: true, layoutOptions: ["--layout", "nhwc"]),
        Case(problem: family("transposed 2-D"), activationsLast: true, filterLast: true, layoutOptions: ["--layout", "nhwc"]),
        Case(problem: family("transposed 1-D"), activationsLast: true, filterLast: true, layoutOptions: ["--layout", "nlc"]),
        Case(problem: family("1-D"), activationsLast: true, filterLast: true, layoutOptions: ["--layout", "nhwc"]),
        Case(problem: family("3-D"), activationsLast: true, filterLast: true, layoutOptions: ["--layout", "ndhwc"]),
    ]

    /// `values` of an NCHW-like `shape` (outer, channels, positions…) stored with the channel axis last.
    static func channelsLast(_ values: [Double], _ shape: [Int]) -> [Double] {
        let outer = shape[0], channels = shape[1], positions = shape[2...].reduce(1, *)
        var result = values
        for n in 0..<outer {
            for c in 0..<channels {
                for p in 0..<positions { result[(n * positions + p) * channels + c] = values[(n * channels + c) * positions + p] }
            }
        }
        return result
    }

    /// The inverse: `values` stored channels last, of the NCHW-like `shape`, back in NCHW order.
    static func channelsFirst(_ values: [Double], _ shape: [Int]) -> [Double] {
        let outer = shape[0], channels = shape[1], positions = shape[2...].reduce(1, *)
        var result = values
        for n in 0..<outer {
            for c in 0..<channels {
                for p in 0..<positions { result[(n * channels + c) * positions + p] = values[(n * positions + p) * channels + c] }
            }
        }
        return result
    }

    /// `shape` with its second axis moved last.
    static func lastShape(_ shape: [Int]) -> [Int] { [shape[0]] + shape[2...] + [shape[1]] }

    /// The reference's results for the NCHW problem (the 2-D ones here, the family's through ``CLIFamilyTests``).
    static func expected(_ c: CLIFamilyTests.Case, x: [Double], f: [Double], b: [Double], dO: [Double]?) throws
        -> (outputShape: [Int], forward: (output: [Double], magnitudes: [Double]),
            backward: (gradients: Gradients<Double>, magnitudes: Gradients<Double>)?) {
        guard c.name.hasPrefix("2-D") else { return try CLIFamilyTests.results(c, x: x, f: f, b: b, dO: dO) }
        let groups = c.options.firstIndex(of: "--groups").map { Int(c.options[$0 + 1])! } ?? 1
        let g: ConvGeometry
        switch c.name {
        case "2-D":
            g = try ConvGeometry(batch: 2, inputChannels: 4, inputHeight: 5, inputWidth: 6, outputChannels: 6,
                                 kernelHeight: 3, kernelWidth: 2, strideHeight: 2, strideWidth: 1,
                                 padding: .explicit(Padding(top: 1, bottom: 0, left: 0, right: 1)), groups: groups)
        default:
            let padding = c.options.firstIndex(of: "--padding").map { Int(c.options[$0 + 1])! } ?? 0
            g = try ConvGeometry(batch: c.input[0], inputChannels: c.input[1], inputHeight: c.input[2],
                                 inputWidth: c.input[3], outputChannels: c.filter[0], kernelHeight: c.filter[2],
                                 kernelWidth: c.filter[3], padding: .explicit(Padding(padding)), groups: groups)
        }
        let r = ReferenceConvolution()
        return ([g.batch, g.outputChannels, g.outputHeight, g.outputWidth],
                try r.forwardWithMagnitudes(g, input: x, filter: f, bias: b),
                try dO.map { try r.backwardWithMagnitudes(g, input: x, filter: f, outputGradient: $0) })
    }

    @Test("forward and backward on channels-last files match ReferenceConvolution on the NCHW data", arguments: CLILayoutTests.cases)
    func forwardAndBackward(_ c: Case) throws {
        let p = c.problem
        let scratch = try CLIScratch()
        var rng = SeededGenerator(seed: 29)
        let x = CLIFamilyTests.random(p.input.reduce(1, *), &rng), f = CLIFamilyTests.random(p.filter.reduce(1, *), &rng)
        let transposed = p.options.contains("--transposed")
        let groups = p.options.firstIndex(of: "--groups").map { Int(p.options[$0 + 1])! } ?? 1
        let outputChannels = transposed ? p.filter[1] * groups : p.filter[0]
        let b = CLIFamilyTests.random(outputChannels, &rng)
        let shape = try Self.expected(p, x: x, f: f, b: b, dO: nil).outputShape
        let dO = CLIFamilyTests.random(shape.reduce(1, *), &rng)
        let expected = try Self.expected(p, x: x, f: f, b: b, dO: dO)

        // The files in their layouts, and how to read the results back into NCHW order.
        func stored(_ v: [Double], _ s: [Int], last: Bool) -> (values: [Double], shape: [Int]) {
            last ? (Self.channelsLast(v, s), Self.lastShape(s)) : (v, s)
        }
        func canonical(_ v: [Double], _ s: [Int], last: Bool) -> [Double] { last ? Self.channelsFirst(v, s) : v }
        let xFile = stored(x, p.input, last: c.activationsLast), fFile = stored(f, p.filter, last: c.filterLast)
        let dOFile = stored(dO, shape, last: c.activationsLast)
        try CLIFamilyTests.write(xFile.values, xFile.shape, scratch.path("x.npy"))
        try CLIFamilyTests.write(fFile.values, fFile.shape, scratch.path("w.npy"))
        try CLIFamilyTests.write(b, [outputChannels], scratch.path("b.npy"))
        try CLIFamilyTests.write(dOFile.values, dOFile.shape, scratch.path("dy.npy"))
        let options = p.options + c.layoutOptions

        let fwd = try ConvTool.run(["forward", "--input", scratch.path("x.npy"), "--filter", scratch.path("w.npy"),
                                    "--bias", scratch.path("b.npy"), "--output", scratch.path("y.npy")] + options)
        #expect(fwd.status == 0, "\(c): \(fwd.stderr)")
        guard fwd.status == 0 else { return }
        let o = try CLIFamilyTests.read(scratch.path("y.npy"))
        #expect(o.shape == dOFile.shape, "\(c): O shape \(o.shape), expected \(dOFile.shape)")
        #expect(fwd.stdout.contains("O \(format(dOFile.shape))"), "\(c): \(fwd.stdout)")
        CLIFamilyTests.expectWithinBound(canonical(o.values, shape, last: c.activationsLast), expected.forward.output,
                                         expected.forward.magnitudes, "\(c) O")

        let bwd = try ConvTool.run(["backward", "--input", scratch.path("x.npy"), "--filter", scratch.path("w.npy"),
                                    "--output-gradient", scratch.path("dy.npy"), "--input-gradient", scratch.path("dx.npy"),
                                    "--filter-gradient", scratch.path("dw.npy"), "--bias-gradient", scratch.path("db.npy")]
                                   + options)
        #expect(bwd.status == 0, "\(c): \(bwd.stderr)")
        guard bwd.status == 0, let (grads, mags) = expected.backward else { return }
        for (file, canonicalShape, last, reference, magnitude, what) in [
            ("dx.npy", p.input, c.activationsLast, grads.input, mags.input, "dX"),
            ("dw.npy", p.filter, c.filterLast, grads.filter, mags.filter, "dF"),
            ("db.npy", [outputChannels], false, grads.bias, mags.bias, "dB"),
        ] {
            let result = try CLIFamilyTests.read(scratch.path(file))
            let storedShape = last ? Self.lastShape(canonicalShape) : canonicalShape
            #expect(result.shape == storedShape, "\(c): \(what) shape \(result.shape), expected \(storedShape)")
            CLIFamilyTests.expectWithinBound(canonical(result.values, canonicalShape, last: last), reference ?? [],
                                             magnitude ?? [], "\(c) \(what)")
        }
    }

    @Test("check passes on channels-last tensors", arguments: [
        ["--channels", "6", "--size", "7,6", "--filters", "4", "--kernel", "3,2", "--stride", "2,1", "--padding", "1", "--groups", "2"],
        ["--channels", "4", "--size", "6", "--filters", "8", "--kernel", "1"],
        ["--channels", "4", "--size", "6", "--filters", "4", "--kernel", "3", "--groups", "4", "--padding", "same"],
        ["--dimensions", "1", "--channels", "3", "--size", "20", "--filters", "4", "--kernel", "3", "--dilation", "2"],
        ["--dimensions", "3", "--channels", "2", "--size", "4,5,6", "--filters", "4", "--kernel", "2,3,2", "--padding", "1"],
        ["--transposed", "--channels", "4", "--size", "5,6", "--filters", "6", "--kernel", "4,3", "--stride", "2",
         "--padding", "1", "--output-padding", "1,0", "--groups", "2"],
        ["--filter-layout", "ohwi", "--channels", "4", "--size", "6", "--filters", "4", "--kernel", "3"],
    ])
    func check(_ arguments: [String]) throws {
        let layout = arguments.contains("--filter-layout") ? [] : ["--layout", "nhwc"]
        for precision in ["float", "double"] {
            let run = try ConvTool.run(["check", "--batch", "2", "--repeat", "1", "--precision", precision] + layout + arguments)
            #expect(run.status == 0, "\(arguments) \(precision): \(run.stderr)")
            #expect(run.stdout.contains("PASS"), "\(arguments): \(run.stdout)")
        }
    }

    @Test("shapes are checked in their layout: channels that disagree exit 64, a wrong file exits 1, one line naming the expected shape")
    func refused() throws {
        let scratch = try CLIScratch()
        var rng = SeededGenerator(seed: 31)
        // NCHW files (x, w, dO of a 3×3 convolution, 8 → 4 channels, 5×5 → 3×3), and NHWC ones of the same problem.
        let files: [(String, [Int])] = [("x", [2, 8, 5, 5]), ("w", [4, 8, 3, 3]), ("dy", [2, 4, 3, 3]),
                                        ("xl", [2, 5, 5, 8]), ("wl", [4, 3, 3, 8]), ("dyl", [2, 3, 3, 4])]
        for (name, shape) in files {
            try CLIFamilyTests.write(CLIFamilyTests.random(shape.reduce(1, *), &rng), shape, scratch.path("\(name).npy"))
        }
        func forward(_ x: String, _ w: String) -> [String] {
            ["forward", "--input", scratch.path("\(x).npy"), "--filter", scratch.path("\(w).npy"), "--output", scratch.path("o.npy")]
        }
        func backward(_ x: String, _ w: String, _ dy: String) -> [String] {
            ["backward", "--input", scratch.path("\(x).npy"), "--filter", scratch.path("\(w).npy"),
             "--output-gradient", scratch.path("\(dy).npy"), "--input-gradient", scratch.path("dx.npy")]
        }
        let cases: [(arguments: [String], status: Int32, mentions: [String])] = [
            // NCHW files read as NHWC: C = 5 (the last axis of x), C/groups = 3 (the last axis of w).
            (forward("x", "w") + ["--layout", "nhwc"], 64,
             ["need C = C/groups × groups", "--layout nhwc reads --input (2, 8, 5, 5) as (N, H, W, C)",
              "--filter-layout ohwi reads --filter (4, 8, 3, 3) as (K, R, S, C/groups)"]),
            (forward("xl", "wl") + ["--layout", "nhwc", "--filter-layout", "oihw"], 64,
             ["has 3 input channels per group, but --input has 8 channels",
              "--filter-layout oihw reads --filter (4, 3, 3, 8) as (K, C/groups, R, S)"]),
            (forward("xl", "wl"), 64, ["need C = C/groups × groups"]),
            (forward("xl", "wl") + ["--layout", "chwn"], 64, ["--layout"]),
            (forward("xl", "wl") + ["--layout", "nhwc", "--filter-layout", "hwio"], 64, ["--filter-layout"]),
            // dO in the NCHW shape with NHWC X and F: the expected shape, and the layout it does fit.
            (backward("xl", "wl", "dy") + ["--layout", "nhwc"], 1,
             ["expected (2, 3, 3, 4)", "channels last", "that is its shape with --layout nchw"]),
            (backward("x", "w", "dyl"), 1, ["expected (2, 4, 3, 3)", "that is its shape with --layout nhwc"]),
        ]
        for (arguments, status, mentions) in cases {
            let run = try ConvTool.run(arguments)
            #expect(run.status == status, "\(arguments): exit \(run.status), \(run.stderr)")
            #expect(run.stderr.hasPrefix("conv: error: ") && run.stderr.split(separator: "\n").count == 1,
                    "\(arguments): \(run.stderr)")
            for mention in mentions { #expect(run.stderr.contains(mention), "\(arguments): \(run.stderr) lacks \(mention)") }
        }
        // The NHWC files of the same problem are accepted, and so are NHWC activations with the OIHW filter.
        #expect(try ConvTool.run(forward("xl", "wl") + ["--layout", "nhwc"]).status == 0)
        #expect(try ConvTool.run(backward("xl", "wl", "dyl") + ["--layout", "nhwc"]).status == 0)
        #expect(try ConvTool.run(forward("xl", "w") + ["--layout", "nhwc", "--filter-layout", "oihw"]).status == 0)
    }

    @Test("--help documents --layout and --filter-layout")
    func help() throws {
        let root = try ConvTool.run(["--help"]).stdout
        for phrase in ["--layout", "nhwc", "channels_last", "--filter-layout", "ohwi"] {
            #expect(root.contains(phrase), "conv --help lacks \(phrase)")
        }
        for subcommand in ["forward", "backward", "check"] {
            let help = try ConvTool.run([subcommand, "--help"]).stdout
            for option in ["--layout <nchw|nhwc>", "--filter-layout <oihw|ohwi>", "channels_last"] {
                #expect(help.contains(option), "\(subcommand) --help lacks \(option)")
            }
        }
    }
}

/// A shape as Python prints a tuple: (2, 3) and (4,).
private func format(_ shape: [Int]) -> String {
    "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
}
