import ArgumentParser
import ConvEngine
import ConvEngineNPY
import Foundation

/// `conv backward`: any subset of dX, dF, dB from .npy files.
struct Backward: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Backward pass: write any of the gradients dX, dF, dB given dO.",
        discussion: """
        Reads X (N, C, H, W), F (K, C/groups, R, S) and the output gradient dO (N, K, P, Q), and writes the gradients requested (at least one): dX (the shape of X), dF (the shape of F, summed over the batch) and dB (K,) (summed over the batch and all positions). X and F are always read, because their shapes give the geometry. Prints one line: each file written and its shape.

        With --layout nhwc the activations X, dO and dX are channels last ((N, H, W, C), (N, P, Q, K)) and F and dF (K, R, S, C/groups) unless --filter-layout oihw.

        As for forward, 3-D files (N, C, L) are a 1-D convolution, 5-D files (N, C, D, H, W) a 3-D one, and --transposed (with --output-padding) the transposed convolution of 3-D or 4-D files (filter (Cin, Cout/groups, kernel), dO and dB with Cout channels).

        Example:

          conv backward --input x.npy --filter w.npy --output-gradient dy.npy \\
                        --stride 2 --padding 1 --input-gradient dx.npy \\
                        --filter-gradient dw.npy --bias-gradient db.npy
        """)

    @Option(help: ArgumentHelp("Input X, shape (N, C, H, W); (N, C, L) for 1-D, (N, C, D, H, W) for 3-D; the channel axis last with --layout nhwc.", valueName: "x.npy"))
    var input: String

    @Option(help: ArgumentHelp("Filters F, shape (K, C/groups, R, S) (kernel axes as the input's); (Cin, Cout/groups, R, S) with --transposed; the second axis last with --filter-layout ohwi (the default with --layout nhwc).", valueName: "w.npy"))
    var filter: String

    @Option(help: ArgumentHelp("Output gradient dL/dO, shape (N, K, P, Q) (spatial axes as the input's; (N, P, Q, K) with --layout nhwc).", valueName: "dy.npy"))
    var outputGradient: String

    @OptionGroup(title: "Geometry")
    var convolution: ConvolutionOptions

    @Option(help: ArgumentHelp("Where to write dL/dX, the shape of X (in its layout).", valueName: "dx.npy"))
    var inputGradient: String?

    @Option(help: ArgumentHelp("Where to write dL/dF, the shape of F (in its layout).", valueName: "dw.npy"))
    var filterGradient: String?

    @Option(help: ArgumentHelp("Where to write dL/dB, shape (K,).", valueName: "db.npy"))
    var biasGradient: String?

    @OptionGroup(title: "Engine")
    var engine: EngineOptions

    @Option(help: "Precision to compute and write in: auto (float64 if any input file is float64, else float32), float or double.")
    var precision: Precision = .auto

    @Flag(help: "Compute with the direct-loop reference (ReferenceConvolution) instead of the engine: slow, no BLAS.")
    var reference = false

    func run() throws {
        // Checked here rather than in validate(), which runs before unknown options are reported.
        if inputGradient == nil && filterGradient == nil && biasGradient == nil {
            throw ValidationError("nothing to compute: give at least one of --input-gradient, --filter-gradient, --bias-gradient")
        }
        let problem = try ConvolutionProblem(inputPath: input, filterPath: filter, options: convolution)
        let operation = problem.operation
        let dO = try TensorFile(option: "--output-gradient", path: outputGradient)
        try dO.expect(shape: problem.outputShape, meaning: problem.outputMeaning, otherLayout: problem.otherLayoutOutput)
        let type = resolve(precision, files: [problem.input, problem.filter, dO])
        var wanted: GradientSet = []
        if inputGradient != nil { wanted.insert(.input) }
        if filterGradient != nil { wanted.insert(.filter) }
        if biasGradient != nil { wanted.insert(.bias) }
        let backend: any OperationBackend = reference ? ReferenceConvolution() : try engine.makeEngine(rank: operation.inputShape.count - 2)

        var written: [(tensor: String, shape: [Int], path: String)] = []
        func compute<T: ConvScalar>(_: T.Type) throws {
            var gradients = Gradients<T>()
            try rethrowingAsCLI("backward") {
                try operation.backward(backend, input: scalars(of: problem.input, as: T.self),
                                       filter: scalars(of: problem.filter, as: T.self),
                                       outputGradient: scalars(of: dO, as: T.self), gradients: wanted,
                                       into: &gradients, workspace: ConvWorkspace<T>())
            }
            if let path = inputGradient, let dX = gradients.input {
                try save(dX, shape: problem.input.array.shape, to: path, option: "--input-gradient")
                written.append(("dX", problem.input.array.shape, path))
            }
            if let path = filterGradient, let dF = gradients.filter {
                try save(dF, shape: problem.filter.array.shape, to: path, option: "--filter-gradient")
                written.append(("dF", problem.filter.array.shape, path))
            }
            if let path = biasGradient, let dB = gradients.bias {
                try save(dB, shape: operation.biasShape, to: path, option: "--bias-gradient")
                written.append(("dB", operation.biasShape, path))
            }
        }
        if type == .float32 { try compute(Float.self) } else { try compute(Double.self) }
        reportWritten("backward", written, as: type)
    }
}
