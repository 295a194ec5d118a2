// Command-line options shared by the subcommands, and the parsing of their values.
import ArgumentParser
import ConvEngine
import Foundation

/// Comma-separated integers.
func integers(_ text: String, name: String) throws -> [Int] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        .map { $0.trimmingCharacters(in: .whitespaces) }
    return try parts.map { part in
        guard let v = Int(part) else { throw CLIError("\(name) must be integers separated by commas, got '\(text)'") }
        return v
    }
}

/// The text of `--padding`: `same`, `valid`, or integers whose meaning depends on the number of spatial axes
/// (``ConvolutionOptions/padding(rank:kernel:)``).
enum PaddingText: Equatable {
    case same, valid
    case values([Int])

    static func parse(_ text: String) throws -> PaddingText {
        switch text.lowercased() {
        case "same": return .same
        case "valid": return .valid
        default: return .values(try integers(text, name: "--padding"))
        }
    }

    /// As typed (for messages).
    var text: String {
        switch self {
        case .same: return "same"
        case .valid: return "valid"
        case .values(let v): return v.map(String.init).joined(separator: ",")
        }
    }
}

/// The padding of one convolution: PyTorch's `same`/`valid` or explicit amounts before and after each spatial axis.
enum AxisPadding: Equatable {
    case same, valid
    /// Per axis (depth, height, width; length): the amount before (front, top, left) and after.
    case explicit(before: [Int], after: [Int])
}

/// Stride, padding, dilation and groups: the geometry not implied by the tensors' shapes; and whether the
/// operation is the transposed convolution, with its output padding. Values are per spatial axis: one value for
/// every axis, or one per axis (length; height,width; depth,height,width), checked once the number of axes is
/// known (from the input's rank, or `conv check --dimensions`).
struct ConvolutionOptions: ParsableArguments {
    // `parsing: .unconditional` on the geometry's options: a value such as "-1" is taken as the value (and
    // rejected with the reason), not as an unknown option that leaves the value missing.
    @Option(name: .long, parsing: .unconditional,
            help: ArgumentHelp("Stride: one value for every axis, or one per axis (height,width; depth,height,width). (default: 1)",
                               valueName: "s|sh,sw|sd,sh,sw"),
            transform: { try integers($0, name: "--stride") })
    var stride: [Int] = [1]

    @Option(name: .long, parsing: .unconditional,
            help: ArgumentHelp(
                "Zero padding: one value for every side; per axis (2-D: height,width; 3-D: depth,height,width; before = after); before and after each axis (1-D: left,right; 2-D: top,bottom,left,right; 3-D: front,back,top,bottom,left,right); 'same' (output as large as the input, stride 1 only, odd extra at the end as in PyTorch; not for --transposed); or 'valid' (none). (default: valid)",
                valueName: "p|ph,pw|t,b,l,r|same|valid"),
            transform: PaddingText.parse)
    var padding: PaddingText = .valid

    @Option(name: .long, parsing: .unconditional,
            help: ArgumentHelp("Dilation (kernel taps this far apart): one value, or one per axis. (default: 1)",
                               valueName: "d|dh,dw|dd,dh,dw"),
            transform: { try integers($0, name: "--dilation") })
    var dilation: [Int] = [1]

    @Option(name: .long, parsing: .unconditional, help: "Groups: input and output channels are split into this many independent groups (C and K must be divisible by it; groups = C is depthwise).")
    var groups = 1

    @Flag(help: "The transposed convolution (PyTorch's conv_transpose1d/conv_transpose2d) instead of the convolution: weight (Cin, Cout/groups, kernel), output size (H-1)*stride - padding + dilation*(R-1) + output padding + 1 per axis. For 1-D and 2-D inputs.")
    var transposed = false

    @Option(name: .long, parsing: .unconditional,
            help: ArgumentHelp("With --transposed: rows/columns added at the end of the output, one value for every axis or one per axis; each must be below max(stride, dilation) on its axis, as in PyTorch. (default: 0)",
                               valueName: "op|oph,opw"),
            transform: { try integers($0, name: "--output-padding") })
    var outputPadding: [Int]?

    @Option(name: .long,
            help: ArgumentHelp("Layout of the activation files X, O, dO, dX: nchw, channels first: (N, C, H, W); 1-D (N, C, L); 3-D (N, C, D, H, W). nhwc, channels last (PyTorch's channels_last, TensorFlow's default): (N, H, W, C); 1-D (N, L, C); 3-D (N, D, H, W, C). ncl, nlc, ncdhw, ndhwc are accepted as the same two.",
                               valueName: "nchw|nhwc"))
    var layout: ActivationLayoutOption = .nchw

    @Option(name: .long,
            help: ArgumentHelp("Layout of the filter files F, dF: oihw (K, C/groups, R, S) or ohwi (K, R, S, C/groups), PyTorch's channels_last weight; the kernel axes as many as the input's; with --transposed (Cin, Cout/groups, R, S) or (Cin, R, S, Cout/groups). (default: oihw with --layout nchw, ohwi with --layout nhwc)",
                               valueName: "oihw|ohwi"))
    var filterLayout: FilterLayoutOption?

    /// The library's layout of the files: `--layout`, and `--filter-layout` or the one that goes with `--layout`.
    var convLayout: ConvLayout {
        let filter = filterLayout ?? (layout == .nhwc ? .ohwi : .oihw)
        return ConvLayout(activations: layout == .nhwc ? .channelsLast : .channelsFirst,
                          filter: filter == .ohwi ? .channelsLast : .channelsFirst)
    }

    /// Throws unless `--groups` is at least 1: checked before the channels are compared with it, whose
    /// message (C = C/groups × groups) would not say what is wrong with 0 or a negative count.
    func checkGroups() throws {
        if groups < 1 { throw CLIError.usage("--groups must be at least 1, got \(groups)") }
    }

    /// Throws the usage errors of a combination no operation has: `--output-padding` without `--transposed`, and
    /// `--transposed` on 3-D tensors.
    func checkOperation(rank: Int) throws {
        if outputPadding != nil && !transposed {
            throw CLIError.usage("--output-padding needs --transposed (the convolution has no output padding)")
        }
        if transposed && rank == 3 {
            throw CLIError.usage("--transposed takes 1-D (N, C, L) or 2-D (N, C, H, W) tensors; the 3-D transposed convolution is not supported")
        }
    }

    /// `--stride` for `rank` spatial axes.
    func strides(rank: Int) throws -> [Int] { try perAxis(stride, "--stride", rank: rank) }

    /// `--dilation` for `rank` spatial axes.
    func dilations(rank: Int) throws -> [Int] { try perAxis(dilation, "--dilation", rank: rank) }

    /// `--output-padding` for `rank` spatial axes (zeros when not given).
    func outputPaddings(rank: Int) throws -> [Int] {
        try outputPadding.map { try perAxis($0, "--output-padding", rank: rank) } ?? Array(repeating: 0, count: rank)
    }

    /// `--padding` for `rank` spatial axes. `same` is resolved here for 1-D and 3-D (the library's `PaddingSpec`
    /// is 2-D): a total of dilation·(kernel−1) per axis, the odd extra at the end, at stride 1 only.
    func padding(rank: Int, kernel: [Int]) throws -> AxisPadding {
        switch padding {
        case .same:
            if transposed {
                throw CLIError.usage("--padding same is not defined for a transposed convolution: give the amounts")
            }
            if rank == 2 { return .same }
            let s = try strides(rank: rank), d = try dilations(rank: rank)
            guard s.allSatisfy({ $0 == 1 }) else {
                throw CLIError.usage("invalid geometry: 'same' padding needs stride 1, got stride \(s.map(String.init).joined(separator: ","))")
            }
            let total = zip(d, kernel).map { $0 * ($1 - 1) }
            return .explicit(before: total.map { $0 / 2 }, after: total.map { $0 - $0 / 2 })
        case .valid:
            return .valid
        case .values(let v):
            switch (rank, v.count) {
            case (_, 1): return .explicit(before: Array(repeating: v[0], count: rank), after: Array(repeating: v[0], count: rank))
            case (2, 2), (3, 3): return .explicit(before: v, after: v)
            case (1, 2): return .explicit(before: [v[0]], after: [v[1]])
            case (2, 4): return .explicit(before: [v[0], v[2]], after: [v[1], v[3]])
            case (3, 6): return .explicit(before: [v[0], v[2], v[4]], after: [v[1], v[3], v[5]])
            case (1, _):
                throw CLIError.usage("--padding takes 1 or 2 (left,right) values for a 1-D convolution, 'same' or 'valid'; got '\(padding.text)'")
            case (3, _):
                throw CLIError.usage("--padding takes 1, 3 (depth,height,width) or 6 (front,back,top,bottom,left,right) values for a 3-D convolution, 'same' or 'valid'; got '\(padding.text)'")
            default:
                throw CLIError.usage("--padding takes 1, 2 (height,width) or 4 (top,bottom,left,right) values, 'same' or 'valid'; got '\(padding.text)'")
            }
        }
    }
}

/// `values` of the option `name` for `rank` spatial axes: one value for every axis, or exactly one per axis.
func perAxis(_ values: [Int], _ name: String, rank: Int) throws -> [Int] {
    if values.count == 1 { return Array(repeating: values[0], count: rank) }
    if values.count == rank { return values }
    let text = values.map(String.init).joined(separator: ",")
    switch rank {
    case 1: throw CLIError.usage("\(name) takes one value for a 1-D convolution (length), got '\(text)'")
    case 2: throw CLIError.usage("\(name) takes one value or two (height,width), got '\(text)'")
    default: throw CLIError.usage("\(name) takes one value or three (depth,height,width) for a 3-D convolution, got '\(text)'")
    }
}

/// How the engine runs.
struct EngineOptions: ParsableArguments {
    @Option(name: .long, parsing: .unconditional, help: "Worker threads (1-\(ConvolutionEngine.maximumWorkers)); default: the number of active processors.")
    var workers: Int?

    @Option(name: .long,
            help: ArgumentHelp("Forward/filter-gradient algorithm: auto, \(ConvAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")) (the list is ConvAlgorithm.allCases; for a transposed or 1-D convolution it applies to the 2-D convolution it runs on); for a 3-D convolution: auto, \(ConvAlgorithm3D.allCases.map(\.rawValue).joined(separator: ", ")) (ConvAlgorithm3D).",
                               valueName: "name"))
    var algorithm = "auto"

    @Option(name: .long,
            help: ArgumentHelp("Input-gradient route: auto, \(InputGradientAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")) (fullConvolution is meant for finite data; not for a 3-D convolution).",
                               valueName: "name"))
    var inputGradientAlgorithm = "auto"

    /// The engine for an operation with `rank` spatial axes (2 unless given): a 3-D convolution takes a
    /// `ConvAlgorithm3D`, the others a `ConvAlgorithm`, and a name of the other kind is a usage error rather than
    /// silently unused.
    func makeEngine(rank: Int = 2) throws -> ConvolutionEngine {
        var alg: ConvAlgorithm?
        var volumeAlg: ConvAlgorithm3D?
        let name = algorithm.lowercased()
        let planar = ConvAlgorithm.allCases.first { $0.rawValue.lowercased() == name }
        let volume = ConvAlgorithm3D.allCases.first { $0.rawValue.lowercased() == name }
        if name == "auto" {
            alg = nil
        } else if rank == 3, let volume {
            volumeAlg = volume
        } else if rank != 3, let planar {
            alg = planar
        } else if planar != nil || volume != nil {
            throw CLIError.usage(rank == 3
                ? "--algorithm \(algorithm) is a 2-D algorithm; a 3-D convolution takes auto, \(ConvAlgorithm3D.allCases.map(\.rawValue).joined(separator: ", "))"
                : "--algorithm \(algorithm) is a 3-D algorithm; use auto, \(ConvAlgorithm.allCases.map(\.rawValue).joined(separator: ", "))")
        } else {
            throw CLIError.usage("unknown --algorithm '\(algorithm)': use auto, \(ConvAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")) (3-D: \(ConvAlgorithm3D.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let inputAlg: InputGradientAlgorithm?
        let normalized = inputGradientAlgorithm.lowercased().replacingOccurrences(of: "-", with: "")
        if normalized == "auto" {
            inputAlg = nil
        } else if let a = InputGradientAlgorithm.allCases.first(where: { $0.rawValue.lowercased() == normalized }) {
            if rank == 3 {
                throw CLIError.usage("--input-gradient-algorithm does not apply to a 3-D convolution (its algorithm computes every gradient)")
            }
            inputAlg = a
        } else {
            throw CLIError.usage("unknown --input-gradient-algorithm '\(inputGradientAlgorithm)': use auto, \(InputGradientAlgorithm.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        do {
            return try ConvolutionEngine(workers: workers ?? ProcessInfo.processInfo.activeProcessorCount,
                                         algorithm: alg, inputGradientAlgorithm: inputAlg, volumeAlgorithm: volumeAlg)
        } catch {
            throw CLIError.usage("\(error)")  // a worker count out of range
        }
    }
}

/// `--layout`: where the channel axis of the activation files is. The rank-specific names (NCL, NLC for 1-D; NCDHW,
/// NDHWC for 3-D) are read as the two layouts they name, whatever the files' rank.
enum ActivationLayoutOption: String, ExpressibleByArgument, CaseIterable {
    case nchw, nhwc

    init?(argument: String) {
        switch argument.lowercased() {
        case "nchw", "ncl", "ncdhw": self = .nchw
        case "nhwc", "nlc", "ndhwc": self = .nhwc
        default: return nil
        }
    }
}

/// `--filter-layout`: where the input-channel axis of the filter files is.
enum FilterLayoutOption: String, ExpressibleByArgument, CaseIterable {
    case oihw, ohwi

    init?(argument: String) { self.init(rawValue: argument.lowercased()) }
}

/// The precision forward and backward compute in.
enum Precision: String, ExpressibleByArgument, CaseIterable {
    case auto, float, double
}

/// The precision `conv check` computes in: it has no files for `auto` to follow, so `auto` is not offered.
enum CheckPrecision: String, ExpressibleByArgument, CaseIterable {
    case float, double
}
