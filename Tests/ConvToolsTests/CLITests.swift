// The `conv` command-line tool, run as a separate process on the PyTorch golden files.
//
// Where the binary is found: SwiftPM puts every product of a build in one folder (for example
// .build/debug/ or .build/x86_64-unknown-linux-gnu/debug/), next to the test bundle
// ConvEnginePackageTests.xctest. The tests look for `conv` in the folder of the running test executable
// (Bundle.main / CommandLine.arguments[0] on Linux, the .xctest bundle's folder on macOS), so `conv` must have
// been built by the same build: `swift build --build-tests` (what `make test` runs before
// `swift test --skip-build`) or a plain `swift test`, which builds all products. The environment variable
// CONV_EXECUTABLE overrides the search with an explicit path.
import ConvEngine
import ConvEngineNPY
import Foundation
import Testing

/// Finds and runs the built `conv` tool.
enum ConvTool {
    /// Folders where SwiftPM may have put the products of the build that built this test bundle.
    static func candidateDirectories() -> [URL] {
        var dirs: [URL] = []
        if let exe = Bundle.main.executableURL { dirs.append(exe.deletingLastPathComponent()) }
        if let first = CommandLine.arguments.first, !first.isEmpty {
            dirs.append(URL(fileURLWithPath: first).deletingLastPathComponent())
        }
        #if os(macOS)
        // There the test bundle is …/debug/X.xctest, loaded by another executable. (Not on Linux, where the
        // bundle is the executable above, and where Bundle.allBundles leaks under LeakSanitizer.)
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            dirs.append(bundle.bundleURL.deletingLastPathComponent())
        }
        #endif
        return dirs
    }

    static let executable: URL? = {
        if let path = ProcessInfo.processInfo.environment["CONV_EXECUTABLE"] {
            return URL(fileURLWithPath: path)
        }
        return product("conv")
    }()

    /// The executable product `name` (`conv`, `demo`, `convbench`) of the same build, if it was built.
    static func product(_ name: String) -> URL? {
        for dir in candidateDirectories() {
            let url = dir.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }

    struct Run {
        let status: Int32
        let stdout: String
        let stderr: String
        /// `.exit` for a normal exit (`status` is the exit status), `.uncaughtSignal` for a crash (`status` is the signal).
        var reason: Process.TerminationReason = .exit
    }

    /// Runs `conv` (or the product `tool`) with `arguments`; with `virtualMemoryLimitKiB`, under
    /// `ulimit -v` of that many KiB (through /bin/sh), so an allocation too large cannot take the machine down.
    static func run(_ arguments: [String], in directory: URL? = nil, tool: String = "conv",
                    virtualMemoryLimitKiB: Int? = nil, environment: [String: String] = [:]) throws -> Run {
        guard let executable = tool == "conv" ? executable : product(tool) else {
            throw CLITestError("""
                \(tool) executable not found next to the test bundle (looked in \
                \(candidateDirectories().map(\.path).joined(separator: ", "))); build it with \
                `swift build --build-tests` before `swift test --skip-build`, or set CONV_EXECUTABLE
                """)
        }
        // Output goes to files, so a full pipe can never block the child.
        let scratch = try CLIScratch()
        _ = FileManager.default.createFile(atPath: scratch.path("stdout"), contents: nil)
        _ = FileManager.default.createFile(atPath: scratch.path("stderr"), contents: nil)
        let out = try FileHandle(forWritingTo: scratch.url.appendingPathComponent("stdout"))
        let err = try FileHandle(forWritingTo: scratch.url.appendingPathComponent("stderr"))
        let process = Process()
        // Under a sanitizer (`make sanitize` sets CONVENGINE_SANITIZER) the tools reserve terabytes of shadow
        // address space at start-up, so no `ulimit -v` leaves room for them: the limit is dropped. The tools'
        // memory check compares with physical memory before allocating, so they still refuse without it, and an
        // allocation that slipped past the check would end in the sanitizer's own allocation error (a crash the
        // tests report).
        let underSanitizer = ProcessInfo.processInfo.environment["CONVENGINE_SANITIZER"] != nil
        if let limit = virtualMemoryLimitKiB, !underSanitizer {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -v \(limit) && exec \"$0\" \"$@\"", executable.path] + arguments
        } else {
            process.executableURL = executable
            process.arguments = arguments
        }
        if let directory { process.currentDirectoryURL = directory }
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        return Run(status: process.terminationStatus,
                   stdout: try String(contentsOfFile: scratch.path("stdout"), encoding: .utf8),
                   stderr: try String(contentsOfFile: scratch.path("stderr"), encoding: .utf8),
                   reason: process.terminationReason)
    }
}

struct CLITestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A temporary folder, removed when the test is done.
final class CLIScratch {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("conv-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}

/// One golden case from manifest.json and the command-line geometry options that describe it.
struct CLIGoldenCase: Decodable, CustomStringConvertible {
    /// Tests/ConvEngineTests/Golden (the engine tests' PyTorch files), found from this source file.
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("ConvEngineTests/Golden")

    let name: String
    let strideHeight, strideWidth, padTop, padBottom, padLeft, padRight, dilationHeight, dilationWidth, groups: Int

    var description: String { name }

    static let all: [CLIGoldenCase] = {
        struct Manifest: Decodable { let cases: [CLIGoldenCase] }
        let url = CLIGoldenCase.directory.appendingPathComponent("manifest.json")
        // Safe: the manifest is committed with the golden files; a failure here is a broken checkout.
        return try! JSONDecoder().decode(Manifest.self, from: Data(contentsOf: url)).cases
    }()

    static func named(_ name: String) -> CLIGoldenCase { all.first { $0.name == name }! }

    /// A zip archive of Tests/ConvEngineNPYTests/Archives (an .npz, a torch.save file), given where a .npy belongs.
    static func archive(_ name: String) -> String {
        directory.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ConvEngineNPYTests/Archives/\(name)").path
    }

    func file(_ tensor: String) -> String {
        CLIGoldenCase.directory.appendingPathComponent("\(name)_\(tensor).npy").path
    }

    /// Padding always as four values (top, bottom, left, right), stride and dilation as two.
    var geometryArguments: [String] {
        ["--stride", "\(strideHeight),\(strideWidth)", "--padding", "\(padTop),\(padBottom),\(padLeft),\(padRight)",
         "--dilation", "\(dilationHeight),\(dilationWidth)", "--groups", "\(groups)"]
    }
}

/// `|a - b| ≤ tolerance · max(1, |b|)` element by element, with the same shape.
func expectClose(_ path: String, _ goldenPath: String, tolerance: Double, _ what: String) throws {
    let a = try NPYArray(contentsOf: URL(fileURLWithPath: path))
    let b = try NPYArray(contentsOf: URL(fileURLWithPath: goldenPath))
    #expect(a.shape == b.shape, "\(what): shape")
    let x = a.scalars(as: Double.self), y = b.scalars(as: Double.self)
    guard x.count == y.count else { return }
    let worst = zip(x, y).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
    #expect(worst <= tolerance, "\(what): worst difference \(worst)")
}

@Suite("conv command-line tool")
struct CLITests {
    /// Plain, strided, padded (symmetric, asymmetric with four values, wider than the kernel), dilated,
    /// grouped, depthwise, rectangular, batched, pointwise, and everything at once.
    static let cases = ["textbook", "stride2", "pad_symmetric", "pad_asymmetric", "pad_wide_asym_stride2",
                        "dilation2", "groups2", "groups4", "depthwise_mult2", "rect_5x2", "nonsquare_batch2",
                        "pointwise_1x1", "mixed_stride_dilation", "combo_grouped_strided_dilated"]

    @Test("forward on the golden files matches PyTorch", arguments: cases)
    func forward(name: String) throws {
        let c = CLIGoldenCase.named(name)
        let scratch = try CLIScratch()
        let run = try ConvTool.run(["forward", "--input", c.file("X"), "--filter", c.file("F"), "--bias", c.file("B"),
                                    "--output", scratch.path("O.npy")] + c.geometryArguments)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.isEmpty)
        try expectClose(scratch.path("O.npy"), c.file("O"), tolerance: 1e-12, "\(name) O")
    }

    @Test("backward on the golden files matches PyTorch's autograd", arguments: cases)
    func backward(name: String) throws {
        let c = CLIGoldenCase.named(name)
        let scratch = try CLIScratch()
        let run = try ConvTool.run(["backward", "--input", c.file("X"), "--filter", c.file("F"),
                                    "--output-gradient", c.file("dO"), "--input-gradient", scratch.path("dX.npy"),
                                    "--filter-gradient", scratch.path("dF.npy"), "--bias-gradient", scratch.path("dB.npy"),
                                    "--workers", "2"] + c.geometryArguments)
        #expect(run.status == 0, "\(run.stderr)")
        for t in ["dX", "dF", "dB"] {
            try expectClose(scratch.path("\(t).npy"), c.file(t), tolerance: 1e-12, "\(name) \(t)")
        }
    }

    @Test("the other spellings of stride, padding and dilation give the same geometry")
    func optionSpellings() throws {
        let scratch = try CLIScratch()
        // pad_symmetric: padding 1 on every side = "1" = "1,1" = "1,1,1,1" = "same" (3×3 kernel, stride 1).
        let c = CLIGoldenCase.named("pad_symmetric")
        for padding in ["1", "1,1", "1,1,1,1", "same", "SAME"] {
            let run = try ConvTool.run(["forward", "--input", c.file("X"), "--filter", c.file("F"), "--bias", c.file("B"),
                                        "--padding", padding, "--stride", "1", "--dilation", "1,1",
                                        "--output", scratch.path("O.npy")])
            #expect(run.status == 0, "\(padding): \(run.stderr)")
            try expectClose(scratch.path("O.npy"), c.file("O"), tolerance: 1e-12, "padding \(padding)")
        }
        // stride2 has no padding: "valid" and the default.
        let s = CLIGoldenCase.named("stride2")
        for extra in [["--padding", "valid"], [], ["--padding", "0"]] {
            let run = try ConvTool.run(["forward", "--input", s.file("X"), "--filter", s.file("F"), "--bias", s.file("B"),
                                        "--stride", "2", "--output", scratch.path("O.npy")] + extra)
            #expect(run.status == 0, "\(run.stderr)")
            try expectClose(scratch.path("O.npy"), s.file("O"), tolerance: 1e-12, "stride2 \(extra)")
        }
        // rect_3x1 pads (1, 1, 0, 0): two values, height then width.
        let r = CLIGoldenCase.named("rect_3x1")
        let run = try ConvTool.run(["forward", "--input", r.file("X"), "--filter", r.file("F"), "--bias", r.file("B"),
                                    "--padding", "1,0", "--output", scratch.path("O.npy")])
        #expect(run.status == 0, "\(run.stderr)")
        try expectClose(scratch.path("O.npy"), r.file("O"), tolerance: 1e-12, "rect_3x1")
    }

    @Test("a subset of gradients writes only those files; the reference and float32 agree")
    func subsetsReferenceAndPrecision() throws {
        let c = CLIGoldenCase.named("combo_grouped_strided_dilated")
        let scratch = try CLIScratch()
        let base = ["backward", "--input", c.file("X"), "--filter", c.file("F"), "--output-gradient", c.file("dO")]
            + c.geometryArguments
        var run = try ConvTool.run(base + ["--bias-gradient", scratch.path("dB.npy")])
        #expect(run.status == 0, "\(run.stderr)")
        try expectClose(scratch.path("dB.npy"), c.file("dB"), tolerance: 1e-12, "dB alone")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("dX.npy")))

        run = try ConvTool.run(base + ["--filter-gradient", scratch.path("dF.npy"), "--reference"])
        #expect(run.status == 0, "\(run.stderr)")
        try expectClose(scratch.path("dF.npy"), c.file("dF"), tolerance: 1e-12, "dF by the reference")

        run = try ConvTool.run(base + ["--input-gradient", scratch.path("dX.npy"), "--precision", "float",
                                       "--input-gradient-algorithm", "fullConvolution", "--workers", "1"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try NPYArray(contentsOf: URL(fileURLWithPath: scratch.path("dX.npy"))).dataType == .float32)
        try expectClose(scratch.path("dX.npy"), c.file("dX"), tolerance: 1e-5, "dX in float32")

        run = try ConvTool.run(["forward", "--input", c.file("X"), "--filter", c.file("F"), "--bias", c.file("B"),
                                "--output", scratch.path("O.npy"), "--reference"] + c.geometryArguments)
        #expect(run.status == 0, "\(run.stderr)")
        try expectClose(scratch.path("O.npy"), c.file("O"), tolerance: 1e-12, "O by the reference")
    }

    @Test("float32 inputs are computed and written in float32")
    func float32Files() throws {
        let c = CLIGoldenCase.named("groups2")
        let scratch = try CLIScratch()
        for t in ["X", "F", "B"] {
            let a = try NPYArray(contentsOf: URL(fileURLWithPath: c.file(t)))
            try NPYArray(shape: a.shape, scalars: a.scalars(as: Float.self)).write(to: URL(fileURLWithPath: scratch.path("\(t).npy")))
        }
        let run = try ConvTool.run(["forward", "--input", scratch.path("X.npy"), "--filter", scratch.path("F.npy"),
                                    "--bias", scratch.path("B.npy"), "--output", scratch.path("O.npy")] + c.geometryArguments)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try NPYArray(contentsOf: URL(fileURLWithPath: scratch.path("O.npy"))).dataType == .float32)
        try expectClose(scratch.path("O.npy"), c.file("O"), tolerance: 1e-5, "groups2 in float32")
    }

    @Test("every error is one line on stderr and a non-zero exit status")
    func errors() throws {
        let c = CLIGoldenCase.named("pad_asymmetric")
        let scratch = try CLIScratch()
        let out = scratch.path("O.npy")
        let fwd = ["forward", "--input", c.file("X"), "--filter", c.file("F"), "--output", out]
        let bwd = ["backward", "--input", c.file("X"), "--filter", c.file("F"), "--output-gradient", c.file("dO")]
        let notNPY = CLIGoldenCase.directory.appendingPathComponent("manifest.json").path
        let cases: [(arguments: [String], mentions: String)] = [
            (["forward", "--input", scratch.path("missing.npy"), "--filter", c.file("F"), "--output", out], "missing.npy"),
            (["forward", "--input", c.file("X"), "--filter", notNPY, "--output", out], "not a .npy file"),
            (["forward", "--input", c.file("X"), "--output", out], "--filter"),
            (fwd + ["--padding", "1,2,3"], "--padding"),
            (fwd + ["--padding", "sometimes"], "--padding"),
            (fwd + ["--padding=-1"], "must not be negative"),
            (fwd + ["--padding", "-1"], "must not be negative"),  // the value, not a missing one
            (fwd + ["--groups", "0"], "--groups must be at least 1, got 0"),
            (fwd + ["--filter", CLIGoldenCase.archive("two_arrays.npz")], ".npz archive"),
            (fwd + ["--stride", "0"], "strideHeight must be at least 1"),
            (fwd + ["--stride", "1,2,3"], "--stride"),
            (fwd + ["--dilation", "x"], "--dilation"),
            (fwd + ["--stride", "2", "--padding", "same"], "'same' padding needs stride 1"),
            (fwd + ["--groups", "2"], "--groups"),
            (fwd + ["--dilation", "9"], "larger than the padded input"),
            (fwd + ["--bias", c.file("X")], "--bias"),
            (fwd + ["--workers", "0"], "workers"),
            (fwd + ["--algorithm", "magic"], "--algorithm"),
            (fwd + ["--algorithm", "pointwise"], "pointwise"),
            (fwd + ["--input-gradient-algorithm", "magic"], "--input-gradient-algorithm"),
            (fwd + ["--precision", "half"], "--precision"),
            (fwd + ["--frobnicate"], "--frobnicate"),
            (fwd.dropLast(2) + ["--output", scratch.path("no/such/dir/O.npy")], "cannot write --output"),
            (["forward", "--input", c.file("B"), "--filter", c.file("F"), "--output", out], "4-D"),
            (bwd, "nothing to compute"),
            (bwd + ["--db", scratch.path("dB.npy")], "Unknown option '--db'"),
            (bwd + ["--padding", "1", "--input-gradient", scratch.path("dX.npy")], "--output-gradient"),
            (["check", "--channels", "3", "--groups", "2"], "divisible by groups"),
            (["check", "--precision", "auto"], "'float' and 'double'"),
            (["check", "--groups", "-2"], "--groups must be at least 1, got -2"),
            (["unknown-subcommand"], "unknown-subcommand"),
        ]
        for (arguments, mention) in cases {
            let run = try ConvTool.run(arguments)
            let lines = run.stderr.split(separator: "\n")
            #expect(run.status != 0, "\(arguments)")
            #expect(lines.count == 1, "\(arguments): \(run.stderr)")
            #expect(run.stderr.hasPrefix("conv: error: "), "\(arguments): \(run.stderr)")
            #expect(run.stderr.contains(mention), "\(arguments): \(run.stderr)")
        }
    }

    @Test("--help documents every subcommand and option; --version prints the library version")
    func help() throws {
        let root = try ConvTool.run(["--help"])
        #expect(root.status == 0)
        for word in ["forward", "backward", "check", "NCHW", "Exit status"] { #expect(root.stdout.contains(word)) }
        let expected: [String: [String]] = [
            "forward": ["--input", "--filter", "--bias", "--output", "--stride", "--padding", "--dilation", "--groups",
                        "--workers", "--algorithm", "--precision", "--reference", "same", "valid", "top,bottom,left,right"],
            "backward": ["--output-gradient", "--input-gradient", "--filter-gradient", "--bias-gradient",
                         "--input-gradient-algorithm", "--reference"],
            "check": ["--batch", "--channels", "--size", "--filters", "--kernel", "--stride", "--padding", "--dilation",
                      "--groups", "--workers", "--algorithm", "--input-gradient-algorithm", "--precision", "--seed",
                      "--repeat", "bound"],
        ]
        for (subcommand, words) in expected {
            let run = try ConvTool.run([subcommand, "--help"])
            #expect(run.status == 0)
            for word in words { #expect(run.stdout.contains(word), "\(subcommand) --help lacks \(word)") }
        }
        let version = try ConvTool.run(["--version"])
        #expect(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == LibraryVersion.string)
    }

    @Test("check compares the engine with the reference and passes within the bound")
    func check() throws {
        for precision in ["float", "double"] {
            let run = try ConvTool.run(["check", "--batch", "2", "--channels", "4", "--size", "7,9", "--filters", "6",
                                        "--kernel", "3,2", "--stride", "2,1", "--padding", "1,0,2,1", "--dilation", "2",
                                        "--groups", "2", "--workers", "2", "--precision", precision, "--repeat", "1"])
            #expect(run.status == 0, "\(run.stderr)")
            for word in ["geometry", "O ", "dX", "dF", "dB", "forward", "backward", "PASS"] {
                #expect(run.stdout.contains(word), "\(precision): \(run.stdout)")
            }
        }
    }
}
