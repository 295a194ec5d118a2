// What a new user of `conv` runs into: one exit status per kind of error (64: the command line must
// change, as ArgumentParser's own usage errors; 1: it is valid but running it failed), the --help that
// says so, a --precision list that check accepts in full, .npz and torch.save files named as such, a line
// on success, the --algorithm list taken from ConvAlgorithm, and progress from long reference runs.
import ConvEngine
import ConvEngineNPY
import Foundation
import Testing

@Suite("conv: exit statuses, messages and output for new users")
struct CLIUsageTests {
    static let c = CLIGoldenCase.named("pad_asymmetric")

    static var forward: [String] { ["forward", "--input", c.file("X"), "--filter", c.file("F")] }

    @Test("usage and validation errors exit 64, failures while running exit 1")
    func exitStatuses() throws {
        let scratch = try CLIScratch()
        let out = scratch.path("O.npy")
        let fwd = Self.forward + ["--output", out]
        let usage: [[String]] = [
            fwd + ["--frobnicate"],                                    // ArgumentParser's own
            Array(fwd.dropLast(2)),                                    // --output missing
            fwd + ["--stride", "1,2,3"],
            fwd + ["--stride", "0"],                                   // impossible geometry
            fwd + ["--padding", "-1"],
            fwd + ["--stride", "2", "--padding", "same"],
            fwd + ["--groups", "0"],
            fwd + ["--groups", "2"],                                   // 2 channels per group in F, C = 2
            fwd + ["--dilation", "9"],                                 // kernel larger than the padded input
            fwd + ["--workers", "0"],
            fwd + ["--algorithm", "magic"],
            fwd + ["--algorithm", "pointwise"],                        // cannot run a 3×3 kernel
            fwd + ["--input-gradient-algorithm", "magic"],
            ["backward", "--input", Self.c.file("X"), "--filter", Self.c.file("F"), "--output-gradient", Self.c.file("dO")],
            ["check", "--precision", "auto"],
            ["check", "--repeat", "0"],
            ["check", "--batch", "0"],
            ["check", "--channels", "3", "--groups", "2"],
        ]
        let notNPY = CLIGoldenCase.directory.appendingPathComponent("manifest.json").path
        let failures: [[String]] = [
            ["forward", "--input", scratch.path("missing.npy"), "--filter", Self.c.file("F"), "--output", out],
            ["forward", "--input", Self.c.file("X"), "--filter", notNPY, "--output", out],
            ["forward", "--input", Self.c.file("X"), "--filter", CLIGoldenCase.archive("tensor.pt"), "--output", out],
            fwd + ["--bias", Self.c.file("X")],                        // a file of the wrong shape
            ["forward", "--input", Self.c.file("B"), "--filter", Self.c.file("F"), "--output", out],
            Array(fwd.dropLast(2)) + ["--output", scratch.path("no/such/dir/O.npy")],
        ]
        for (arguments, expected) in usage.map({ ($0, Int32(64)) }) + failures.map({ ($0, Int32(1)) }) {
            let run = try ConvTool.run(arguments)
            #expect(run.status == expected, "\(arguments): exit \(run.status), \(run.stderr)")
            #expect(run.stderr.hasPrefix("conv: error: ") && run.stderr.split(separator: "\n").count == 1,
                    "\(arguments): \(run.stderr)")
        }
    }

    @Test("conv --help documents the exit statuses")
    func helpDocumentsExitStatuses() throws {
        let help = try ConvTool.run(["--help"]).stdout
        for phrase in ["Exit status", "64", "invalid usage", "1 ", "running it failed"] {
            #expect(help.contains(phrase), "\(phrase)")
        }
    }

    @Test("check --help lists only the precisions check accepts, and check accepts both")
    func checkPrecisions() throws {
        let help = try ConvTool.run(["check", "--help"]).stdout
        let start = try #require(help.range(of: "--precision <"), "\(help)")
        let values = help[start.lowerBound...].prefix(200)
        #expect(values.contains("values: float, double"), "\(values)")
        #expect(!values.contains("auto"), "\(values)")
        for precision in ["float", "double"] {
            let run = try ConvTool.run(["check", "--batch", "1", "--channels", "2", "--size", "5", "--filters", "2",
                                        "--repeat", "1", "--precision", precision])
            #expect(run.status == 0, "\(precision): \(run.stderr)")
        }
    }

    @Test("an .npz or torch.save file is named as such, with what to do instead")
    func archives() throws {
        let scratch = try CLIScratch()
        let npz = try ConvTool.run(["forward", "--input", CLIGoldenCase.archive("two_arrays.npz"),
                                    "--filter", Self.c.file("F"), "--output", scratch.path("O.npy")])
        for phrase in ["--input", ".npz archive", "single .npy arrays", "Unzip it", "numpy.load", "numpy.save"] {
            #expect(npz.stderr.contains(phrase), "\(npz.stderr)")
        }
        #expect(!npz.stderr.contains("50 4b"), "\(npz.stderr)")
        let pt = try ConvTool.run(["forward", "--input", Self.c.file("X"), "--filter", CLIGoldenCase.archive("tensor.pt"),
                                   "--output", scratch.path("O.npy")])
        #expect(pt.stderr.contains("torch.save") && pt.stderr.contains("numpy.save"), "\(pt.stderr)")
    }

    @Test("forward and backward print one line naming each file written and its shape")
    func successLine() throws {
        let scratch = try CLIScratch()
        let o = scratch.path("O.npy"), dx = scratch.path("dX.npy"), db = scratch.path("dB.npy")
        let fwd = try ConvTool.run(Self.forward + ["--bias", Self.c.file("B"), "--output", o] + Self.c.geometryArguments)
        #expect(fwd.status == 0, "\(fwd.stderr)")
        let oShape = try NPYArray(contentsOf: URL(fileURLWithPath: o)).shape
        #expect(fwd.stdout == "conv forward: wrote O \(format(oShape)) to \(o) (float64)\n", "\(fwd.stdout)")

        let bwd = try ConvTool.run(["backward", "--input", Self.c.file("X"), "--filter", Self.c.file("F"),
                                    "--output-gradient", Self.c.file("dO"), "--input-gradient", dx,
                                    "--bias-gradient", db, "--precision", "float"] + Self.c.geometryArguments)
        #expect(bwd.status == 0, "\(bwd.stderr)")
        let xShape = try NPYArray(contentsOf: URL(fileURLWithPath: Self.c.file("X"))).shape
        let bShape = try NPYArray(contentsOf: URL(fileURLWithPath: Self.c.file("B"))).shape
        #expect(bwd.stdout == "conv backward: wrote dX \(format(xShape)) to \(dx), dB \(format(bShape)) to \(db) (float32)\n",
                "\(bwd.stdout)")
    }

    @Test("--algorithm's help lists every ConvAlgorithm case")
    func algorithmList() throws {
        for subcommand in ["forward", "backward", "check"] {
            let help = try ConvTool.run([subcommand, "--help"]).stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            for algorithm in ConvAlgorithm.allCases {
                #expect(help.contains(algorithm.rawValue), "\(subcommand) --help lacks \(algorithm.rawValue)")
            }
        }
    }

    @Test("check reports the reference's progress on stderr: each tensor, rising to 100%, then done")
    func progress() throws {
        let run = try ConvTool.run(["check", "--batch", "2", "--channels", "3", "--size", "6", "--filters", "4",
                                    "--repeat", "1", "--progress-interval", "0"])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stderr.split(separator: "\n").map(String.init)
        for (what, parts) in [("reference forward", ["O"]), ("reference backward", ["dX", "dF", "dB"])] {
            for part in parts {
                let percents = lines.filter { $0.hasPrefix("conv check: \(what) \(part) ") }
                    .compactMap { line in line.split(separator: " ").first { $0.hasSuffix("%") }.flatMap { Int($0.dropLast()) } }
                #expect(!percents.isEmpty && percents == percents.sorted() && percents.last == 100, "\(what) \(part): \(lines)")
            }
            #expect(lines.contains { $0.hasPrefix("conv check: \(what) done (") }, "\(lines)")
        }
        // A short check prints no progress at the default interval.
        let quiet = try ConvTool.run(["check", "--batch", "1", "--channels", "2", "--size", "5", "--filters", "2", "--repeat", "1"])
        #expect(quiet.status == 0 && quiet.stderr.isEmpty, "\(quiet.stderr)")
    }
}

/// A shape as Python prints a tuple: (2, 3) and (4,).
private func format(_ shape: [Int]) -> String {
    "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
}
