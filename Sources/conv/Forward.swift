import ArgumentParser
import ConvEngine
import ConvEngineNPY
import Foundation

/// `conv forward`: O = conv(X, F) + B from .npy files (or the transposed convolution, 1-D, 2-D or 3-D).
struct Forward: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Forward pass: write O = conv(X, F) + B.",
        discussion: """
        Reads X (N, C, H, W), F (K, C/groups, R, S) and optionally B (K,), and writes O (N, K, P, Q), where P = floor((H + top + bottom - dh*(R-1) - 1) / sh) + 1 and Q likewise along the width. Prints one line: the file written and O's shape.

        With --layout nhwc, X is (N, H, W, C), F (K, R, S, C/groups) unless --filter-layout oihw, and O is written as (N, P, Q, K).

        A 3-D input (N, C, L) with a 3-D filter (K, C/groups, S) is a 1-D convolution, a 5-D input (N, C, D, H, W) with a 5-D filter (K, C/groups, T, R, S) a 3-D convolution; the geometry options then take one value per axis. With --transposed it is the transposed convolution of a 4-D or 3-D input (PyTorch's conv_transpose2d, conv_transpose1d): the filter is (Cin, Cout/groups, R, S), the bias (Cout,), and the output (N, Cout, Ho, Wo) with Ho = (H-1)*sh - top - bottom + dh*(R-1) + output padding + 1.

        Examples:

          conv forward --input x.npy --filter w.npy --bias b.npy \\
                       --stride 2 --padding 1 --output y.npy
          conv forward --transposed --input x.npy --filter w.npy \\
                       --stride 2 --padding 1 --output-padding 1 --output y.npy
        """)

    @Option(help: ArgumentHelp("Input X, shape (N, C, H, W); (N, C, L) for 1-D, (N, C, D, H, W) for 3-D; the channel axis last with --layout nhwc.", valueName: "x.npy"))
    var input: String

    @Option(help: ArgumentHelp("Filters F, shape (K, C/groups, R, S) (kernel axes as the input's); (Cin, Cout/groups, R, S) with --transposed; the second axis last with --filter-layout ohwi (the default with --layout nhwc).", valueName: "w.npy"))
    var filter: String

    @Option(help: ArgumentHelp("Bias B, shape (K,). Without it there is no bias.", valueName: "b.npy"))
    var bias: String?

    @OptionGroup(title: "Geometry")
    var convolution: ConvolutionOptions

    @Option(help: ArgumentHelp("Where to write the output O, shape (N, K, P, Q) (spatial axes as the input's; (N, P, Q, K) with --layout nhwc) (overwritten).", valueName: "y.npy"))
    var output: String

    @OptionGroup(title: "Engine")
    var engine: EngineOptions

    @Option(help: "Precision to compute and write in: auto (float64 if any input file is float64, else float32), float or double.")
    var precision: Precision = .auto

    @Flag(help: "Compute with the direct-loop reference (ReferenceConvolution) instead of the engine: slow, no BLAS.")
    var reference = false

    func run() throws {
        let problem = try ConvolutionProblem(inputPath: input, filterPath: filter, options: convolution)
        let operation = problem.operation
        let biasFile = try bias.map { try TensorFile(option: "--bias", path: $0) }
        try biasFile?.expect(shape: operation.biasShape, meaning: "one bias per output channel")
        let type = resolve(precision, files: [problem.input, problem.filter] + (biasFile.map { [$0] } ?? []))
        let backend: any OperationBackend = reference ? ReferenceConvolution() : try engine.makeEngine(rank: operation.inputShape.count - 2)

        func compute<T: ConvScalar>(_: T.Type) throws {
            var o: [T] = []
            try rethrowingAsCLI("forward") {
                try operation.forward(backend, input: scalars(of: problem.input, as: T.self),
                                      filter: scalars(of: problem.filter, as: T.self),
                                      bias: biasFile.map { try scalars(of: $0, as: T.self) }, output: &o,
                                      workspace: ConvWorkspace<T>())
            }
            try save(o, shape: problem.outputShape, to: output, option: "--output")
        }
        if type == .float32 { try compute(Float.self) } else { try compute(Double.self) }
        reportWritten("forward", [("O", problem.outputShape, output)], as: type)
    }
}
