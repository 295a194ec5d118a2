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

    /// Throws unless the array has exactly `shape`.
    func expect(shape: [Int], meaning: String) throws {
        guard array.shape == shape else {
            throw CLIError("\(option) \(path) has shape \(format(array.shape)), expected \(format(shape)) (\(meaning))")
        }
    }
}

func format(_ shape: [Int]) -> String {
    "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
}

/// The input and filter files and the operation their shapes imply: the input's rank gives the spatial axes
/// (3: N, C, L; 4: N, C, H, W; 5: N, C, D, H, W), `--transposed` the transposed convolution.
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
        let outputChannels: Int
        if options.transposed {
            guard f[0] == x[1] else {
                throw CLIError.usage("--filter \(filterPath) has \(f[0]) input channels, but --input has \(x[1]): a transposed convolution's weight is \(weight)")
            }
            outputChannels = f[1] * options.groups
        } else {
            guard f[1] * options.groups == x[1] else {
                throw CLIError.usage("--filter \(filterPath) has \(f[1]) input channels per group, but --input has \(x[1]) channels and --groups is \(options.groups): need C = C/groups × groups")
            }
            outputChannels = f[0]
        }
        operation = try Operation.make(batch: x[0], inputChannels: x[1], size: Array(x[2...]),
                                       outputChannels: outputChannels, kernel: Array(f[2...]), options: options)
    }

    var outputShape: [Int] { operation.outputShape }
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
