// Command-line options shared by the subcommands, and the parsing of their values.
import ArgumentParser
import ConvEngine
import Foundation

/// Two integers for the height and width axes.
struct AxisPair: Equatable {
    var height: Int
    var width: Int

    /// `"2"` (both axes) or `"2,1"` (height, width).
    static func parse(_ text: String, name: String) throws -> AxisPair {
        let values = try integers(text, name: name)
        switch values.count {
        case 1: return AxisPair(height: values[0], width: values[0])
        case 2: return AxisPair(height: values[0], width: values[1])
        default: throw CLIError("\(name) takes one value or two (height,width), got '\(text)'")
        }
    }
}

/// Comma-separated integers.
func integers(_ text: String, name: String) throws -> [Int] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        .map { $0.trimmingCharacters(in: .whitespaces) }
    return try parts.map { part in
        guard let v = Int(part) else { throw CLIError("\(name) must be integers separated by commas, got '\(text)'") }
        return v
    }
}

/// `"1"`, `"1,2"` (height, width), `"1,2,3,4"` (top, bottom, left, right), `"same"` or `"valid"`.
func parsePadding(_ text: String) throws -> PaddingSpec {
    switch text.lowercased() {
    case "same": return .same
    case "valid": return .valid
    default: break
    }
    let v = try integers(text, name: "--padding")
    switch v.count {
    case 1: return .explicit(Padding(v[0]))
    case 2: return .explicit(Padding(height: v[0], width: v[1]))
    case 4: return .explicit(Padding(top: v[0], bottom: v[1], left: v[2], right: v[3]))
    default:
        throw CLIError("--padding takes 1, 2 (height,width) or 4 (top,bottom,left,right) values, 'same' or 'valid'; got '\(text)'")
    }
}

/// Stride, padding, dilation and groups: the geometry not implied by the tensors' shapes.
struct ConvolutionOptions: ParsableArguments {
    // `parsing: .unconditional` on the geometry's options: a value such as "-1" is taken as the value (and
    // rejected with the reason), not as an unknown option that leaves the value missing.
    @Option(name: .long, parsing: .unconditional,
            help: ArgumentHelp("Stride: one value for both axes, or two: height,width. (default: 1)", valueName: "s|sh,sw"),
            transform: { try AxisPair.parse($0, name: "--stride") })
    var stride = AxisPair(height: 1, width: 1)

    @Option(name: .long, parsing: .unconditional,
            help: ArgumentHelp(
                "Zero padding: one value for every side; two: height,width (top=bottom, left=right); four: top,bottom,left,right; 'same' (output as large as the input, stride 1 only, odd extra at bottom/right as in PyTorch); or 'valid' (none). (default: valid)",
                valueName: "p|ph,pw|t,b,l,r|same|valid"),
            transform: parsePadding)
    var padding: PaddingSpec = .valid

    @Option(name: .long, parsing: .unconditional,
            help: ArgumentHelp("Dilation (kernel taps this far apart): one value, or two: height,width. (default: 1)", valueName: "d|dh,dw"),
            transform: { try AxisPair.parse($0, name: "--dilation") })
    var dilation = AxisPair(height: 1, width: 1)

    @Option(name: .long, parsing: .unconditional, help: "Groups: input and output channels are split into this many independent groups (C and K must be divisible by it; groups = C is depthwise).")
    var groups = 1

    /// Throws unless `--groups` is at least 1: checked before the channels are compared with it, whose
    /// message (C = C/groups × groups) would not say what is wrong with 0 or a negative count.
    func checkGroups() throws {
        if groups < 1 { throw CLIError.usage("--groups must be at least 1, got \(groups)") }
    }
}

/// How the engine runs.
struct EngineOptions: ParsableArguments {
    @Option(name: .long, parsing: .unconditional, help: "Worker threads (1-\(ConvolutionEngine.maximumWorkers)); default: the number of active processors.")
    var workers: Int?

    @Option(name: .long,
            help: ArgumentHelp("Forward/filter-gradient algorithm: auto, \(ConvAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")) (the list is ConvAlgorithm.allCases).",
                               valueName: "name"))
    var algorithm = "auto"

    @Option(name: .long,
            help: ArgumentHelp("Input-gradient route: auto, \(InputGradientAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")) (fullConvolution is meant for finite data).",
                               valueName: "name"))
    var inputGradientAlgorithm = "auto"

    func makeEngine() throws -> ConvolutionEngine {
        let alg: ConvAlgorithm?
        if algorithm.lowercased() == "auto" {
            alg = nil
        } else if let a = ConvAlgorithm.allCases.first(where: { $0.rawValue.lowercased() == algorithm.lowercased() }) {
            alg = a
        } else {
            throw CLIError.usage("unknown --algorithm '\(algorithm)': use auto, \(ConvAlgorithm.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let inputAlg: InputGradientAlgorithm?
        let normalized = inputGradientAlgorithm.lowercased().replacingOccurrences(of: "-", with: "")
        if normalized == "auto" {
            inputAlg = nil
        } else if let a = InputGradientAlgorithm.allCases.first(where: { $0.rawValue.lowercased() == normalized }) {
            inputAlg = a
        } else {
            throw CLIError.usage("unknown --input-gradient-algorithm '\(inputGradientAlgorithm)': use auto, \(InputGradientAlgorithm.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        do {
            return try ConvolutionEngine(workers: workers ?? ProcessInfo.processInfo.activeProcessorCount,
                                         algorithm: alg, inputGradientAlgorithm: inputAlg)
        } catch {
            throw CLIError.usage("\(error)")  // a worker count out of range
        }
    }
}

/// The precision forward and backward compute in.
enum Precision: String, ExpressibleByArgument, CaseIterable {
    case auto, float, double
}

/// The precision `conv check` computes in: it has no files for `auto` to follow, so `auto` is not offered.
enum CheckPrecision: String, ExpressibleByArgument, CaseIterable {
    case float, double
}

extension ConvGeometry {
    /// Builds the geometry, turning a `ConvError` into a one-line usage error (the options describe no
    /// convolution of these sizes).
    static func make(batch: Int, channels: Int, height: Int, width: Int, filters: Int, kernel: AxisPair,
                     options: ConvolutionOptions) throws -> ConvGeometry {
        try options.checkGroups()
        do {
            return try ConvGeometry(
                batch: batch, inputChannels: channels, inputHeight: height, inputWidth: width,
                outputChannels: filters, kernelHeight: kernel.height, kernelWidth: kernel.width,
                strideHeight: options.stride.height, strideWidth: options.stride.width, padding: options.padding,
                dilationHeight: options.dilation.height, dilationWidth: options.dilation.width, groups: options.groups)
        } catch {
            throw CLIError.usage("invalid geometry: \(error)")
        }
    }
}
