// Loading the tensors of one convolution from .npy files, deriving its geometry, and saving results.
import ConvEngine
import ConvEngineNPY
import Foundation

/// One `.npy` file as read, with the option it came from (for messages).
struct TensorFile {
    let option: String
    let path: String
    let array: NPYArray

    init(option: String, path: String) throws {
        self.option = option
        self.path = path
        // Reading copies the file's elements into an array: as many bytes as the file, at most.
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber {
            try checkAllocation("the elements of \(option) \(path)", count: size.intValue, of: UInt8.self)
        }
        do {
            array = try NPYArray(contentsOf: URL(fileURLWithPath: path))
        } catch {
            if case .fileSystem = error { throw CLIError("cannot read \(option) \(error)") }
            throw CLIError("\(option) \(path): \(error)")
        }
    }

    /// Throws unless the array has exactly `shape`; `otherLayout`, the shape the other activation layout would
    /// expect, adds a hint when the file has that one instead.
    func expect(shape: [Int], meaning: String, otherLayout: (shape: [Int], option: String)? = nil) throws {
        guard array.shape == shape else {
            var hint = ""
            if let other = otherLayout, other.shape == array.shape, other.shape != shape {
                hint = "; that is its shape with \(other.option)"
            }
            throw CLIError("\(option) \(path) has shape \(format(array.shape)), expected \(format(shape)) (\(meaning))\(hint)")
        }
    }
}

func format(_ shape: [Int]) -> String {
    "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
}

/// The input and filter files and the operation their shapes imply: the input's rank gives the spatial axes
/// (3: N, C, L; 4: N, C, H, W; 5: N, C, D, H, W, or with `--layout nhwc` N, L, C; N, H, W, C; N, D, H, W, C),
/// `--filter-layout` where the filter's channel axis is, `--transposed` the transposed convolution.
struct ConvolutionProblem {
    let input: TensorFile
    let filter: TensorFile
    let operation: Operation

    init(inputPath: String, filterPath: String, options: ConvolutionOptions) throws {
        input = try TensorFile(option: "--input", path: inputPath)
        filter = try TensorFile(option: "--filter", path: filterPath)
        let x = input.array.shape, f = filter.array.shape
        guard (3...5).contains(x.count) else {
            throw CLIError("--input \(inputPath) has shape \(format(x)); an input must be 4-D (N, C, H, W), 3-D (N, C, L) or 5-D (N, C, D, H, W)")
        }
        let weight = options.transposed ? "(Cin, Cout/groups, kernel)" : "(K, C/groups, kernel)"
        guard f.count == x.count else {
            throw CLIError("--filter \(filterPath) has shape \(format(f)); with a \(x.count)-D input a filter must be \(x.count)-D \(weight)")
        }
        try options.checkGroups()
        try options.checkOperation(rank: x.count - 2)
        // The channel axes: second (channels first) or last (channels last).
        let layout = options.convLayout
        let channelsLast = layout.activations == .channelsLast, filterLast = layout.filter == .channelsLast
        let channels = channelsLast ? x[x.count - 1] : x[1], size = channelsLast ? Array(x[1..<(x.count - 1)]) : Array(x[2...])
        let inner = filterLast ? f[f.count - 1] : f[1], kernel = filterLast ? Array(f[1..<(f.count - 1)]) : Array(f[2...])
        let outputChannels: Int
        if options.transposed {
            guard f[0] == channels else {
                throw CLIError.usage("--filter \(filterPath) has \(f[0]) input channels, but --input has \(channels): a transposed convolution's weight is \(weight)"
                                     + Self.layouts(options, input: x, filter: f))
            }
            outputChannels = inner * options.groups
        } else {
            guard inner * options.groups == channels else {
                throw CLIError.usage("--filter \(filterPath) has \(inner) input channels per group, but --input has \(channels) channels and --groups is \(options.groups): need C = C/groups × groups"
                                     + Self.layouts(options, input: x, filter: f))
            }
            outputChannels = f[0]
        }
        operation = try Operation.make(batch: x[0], inputChannels: channels, size: size,
                                       outputChannels: outputChannels, kernel: kernel, options: options)
    }

    /// For a channel mismatch outside the default layouts: how they read the files' shapes.
    private static func layouts(_ options: ConvolutionOptions, input x: [Int], filter f: [Int]) -> String {
        guard options.convLayout != .nchw else { return "" }
        let last = options.convLayout.activations == .channelsLast
        let filterLast = options.convLayout.filter == .channelsLast
        let spatial = x.count == 3 ? "L" : (x.count == 5 ? "D, H, W" : "H, W")
        let kernel = x.count == 3 ? "S" : (x.count == 5 ? "T, R, S" : "R, S")
        let (outer, inner) = options.transposed ? ("Cin", "Cout/groups") : ("K", "C/groups")
        return " (--layout \(options.layout.rawValue) reads --input \(format(x)) as "
            + (last ? "(N, \(spatial), C)" : "(N, C, \(spatial))")
            + ", --filter-layout \(filterLast ? "ohwi" : "oihw") reads --filter \(format(f)) as "
            + (filterLast ? "(\(outer), \(kernel), \(inner))" : "(\(outer), \(inner), \(kernel))") + ")"
    }

    var outputShape: [Int] { operation.outputShape }

    /// What O's shape is, for messages: `the output's shape for this geometry`, with the layout when channels last.
    var outputMeaning: String {
        "the output's shape for this geometry" + (operation.layout.activations == .channelsLast
            ? ", channels last: (N, spatial..., K) with --layout nhwc" : "")
    }

    /// O's shape in the other activation layout, and the option that selects it (for the hint of a mismatch).
    var otherLayoutOutput: (shape: [Int], option: String) {
        let o = outputShape
        return operation.layout.activations == .channelsLast
            ? ([o[0], o[o.count - 1]] + o[1..<(o.count - 1)], "--layout nchw")
            : ([o[0]] + o[2...] + [o[1]], "--layout nhwc")
    }
}

/// Picks the computing precision: `auto` is float64 when any input file is float64, else float32.
func resolve(_ precision: Precision, files: [TensorFile]) -> NPYDataType {
    switch precision {
    case .float: return .float32
    case .double: return .float64
    case .auto: return files.contains { $0.array.dataType == .float64 } ? .float64 : .float32
    }
}

/// Writes `values` with `shape` to `path`, naming the option on failure.
func save<T: ConvScalar>(_ values: [T], shape: [Int], to path: String, option: String) throws {
    // The file's bytes are assembled in memory first (the header is under 64 KiB).
    try checkAllocation("the .npy bytes of \(option)", count: values.count, of: T.self)
    do {
        try NPYArray(shape: shape, scalars: values).write(to: URL(fileURLWithPath: path))
    } catch {
        throw CLIError("cannot write \(option) \(error)")
    }
}

/// The elements of `file` as `T`, after the library's memory check for the copy a conversion makes.
func scalars<T: ConvScalar>(of file: TensorFile, as _: T.Type) throws -> [T] {
    if file.array.dataType != (T.self == Float.self ? .float32 : .float64) {
        try checkAllocation("\(file.option) \(file.path) as \(T.self)", count: file.array.count, of: T.self)
    }
    return file.array.scalars(as: T.self)
}

/// The library's memory check (`MemoryCheck`) before allocating `count` elements of `T` for `what`: a
/// one-line error where the allocator would trap.
func checkAllocation<T>(_ what: String, count: Int, of type: T.Type) throws {
    do {
        try MemoryCheck.checkAllocation(what, count: count, of: type)
    } catch .invalidArgument(_, let reason) {
        throw CLIError("cannot allocate \(what): \(reason)")
    } catch {
        throw CLIError("cannot allocate \(what): \(error)")
    }
}

/// Runs `body` with the scalar type of `type`.
func withScalar<R>(_ type: NPYDataType, _ body: (any ConvScalar.Type) throws -> R) rethrows -> R {
    try body(type == .float32 ? Float.self : Double.self)
}

/// Turns a library error into a one-line message: a usage error when a forced --algorithm cannot run the
/// geometry (the command line must change), a failure otherwise.
func rethrowingAsCLI<R>(_ what: String, _ body: () throws -> R) throws -> R {
    do {
        return try body()
    } catch let error as CLIError {
        throw error
    } catch let error as ConvError {
        if case .algorithmNotApplicable = error { throw CLIError.usage("\(what): \(error) (see --algorithm)") }
        throw CLIError("\(what): \(error)")
    } catch {
        throw CLIError("\(what): \(error)")
    }
}

/// The one line forward and backward print on success: each file written, with its tensor's name and shape.
func reportWritten(_ command: String, _ files: [(tensor: String, shape: [Int], path: String)], as type: NPYDataType) {
    let written = files.map { "\($0.tensor) \(format($0.shape)) to \($0.path)" }.joined(separator: ", ")
    print("conv \(command): wrote \(written) (\(type == .float32 ? "float32" : "float64"))")
}
