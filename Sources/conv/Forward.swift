import ArgumentParser
import ConvEngine
import ConvEngineNPY
import Foundation

/// `conv forward`: O = conv(X, F) + B from .npy files.
struct Forward: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Forward pass: write O = conv(X, F) + B.",
        discussion: """
        Reads X (N, C, H, W), F (K, C/groups, R, S) and optionally B (K,), and writes O (N, K, P, Q), where P = floor((H + top + bottom - dh*(R-1) - 1) / sh) + 1 and Q likewise along the width. Prints one line: the file written and O's shape.

        Example:

          conv forward --input x.npy --filter w.npy --bias b.npy \\
                       --stride 2 --padding 1 --output y.npy
        """)

    @Option(help: ArgumentHelp("Input X, shape (N, C, H, W).", valueName: "x.npy"))
    var input: String

    @Option(help: ArgumentHelp("Filters F, shape (K, C/groups, R, S).", valueName: "w.npy"))
    var filter: String

    @Option(help: ArgumentHelp("Bias B, shape (K,). Without it there is no bias.", valueName: "b.npy"))
    var bias: String?

    @OptionGroup(title: "Geometry")
    var convolution: ConvolutionOptions

    @Option(help: ArgumentHelp("Where to write the output O, shape (N, K, P, Q) (overwritten).", valueName: "y.npy"))
    var output: String

    @OptionGroup(title: "Engine")
    var engine: EngineOptions

    @Option(help: "Precision to compute and write in: auto (float64 if any input file is float64, else float32), float or double.")
    var precision: Precision = .auto

    @Flag(help: "Compute with the direct-loop reference (ReferenceConvolution) instead of the engine: slow, no BLAS.")
    var reference = false

    func run() throws {
        let problem = try ConvolutionProblem(inputPath: input, filterPath: filter, options: convolution)
        let g = problem.geometry
        let biasFile = try bias.map { try TensorFile(option: "--bias", path: $0) }
        try biasFile?.expect(shape: [g.outputChannels], meaning: "one bias per output channel")
        let type = resolve(precision, files: [problem.input, problem.filter] + (biasFile.map { [$0] } ?? []))
        let backend: any ConvolutionBackend = reference ? ReferenceConvolution() : try engine.makeEngine()

        func compute<T: ConvScalar>(_: T.Type) throws {
            let o: [T] = try rethrowingAsCLI("forward") {
                try backend.forward(g, input: scalars(of: problem.input, as: T.self),
                                    filter: scalars(of: problem.filter, as: T.self),
                                    bias: biasFile.map { try scalars(of: $0, as: T.self) })
            }
            try save(o, shape: problem.outputShape, to: output, option: "--output")
        }
        if type == .float32 { try compute(Float.self) } else { try compute(Double.self) }
        reportWritten("forward", [("O", problem.outputShape, output)], as: type)
    }
}
