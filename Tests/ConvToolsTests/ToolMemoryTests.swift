// Every tool allocates through the library's memory check (MemoryCheck): a geometry too large for the
// machine ends in a one-line error and a non-zero exit status, never in the allocator's trap (signal 6).
// The tools run under `ulimit -v` so that a missed check fails the test instead of exhausting the machine.
import ConvDemoKit
import ConvEngine
import ConvEngineNPY
import Foundation
import Testing

@Suite("tools and the memory check")
struct ToolMemoryTests {
    /// 4 GB of address space: far below what the geometries below need (tens of gigabytes and more), and
    /// enough for the tools themselves.
    static let limitKiB = 4_000_000

    /// Checks that `run` was a clean exit with status 1 and a one-line error on stderr that mentions memory.
    static func expectCleanMemoryError(_ run: ConvTool.Run, _ tool: String) {
        #expect(run.reason == .exit, "\(tool) died of signal \(run.status): \(run.stderr)")
        #expect(run.status == 1, "\(tool) exit status \(run.status): \(run.stderr)")
        let lines = run.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(tool) stderr: \(run.stderr)")
        #expect(run.stderr.contains("memory"), "\(tool) stderr: \(run.stderr)")
        #expect(!run.stderr.contains("Fatal error"), "\(tool) stderr: \(run.stderr)")
    }

    @Test("conv check on a 65 GB input fails cleanly, naming the bytes and the physical memory")
    func convCheckTooLarge() throws {
        let run = try ConvTool.run(["check", "--size", "2000", "--channels", "64", "--filters", "64", "--batch", "64",
                                    "--kernel", "3"], virtualMemoryLimitKiB: Self.limitKiB)
        Self.expectCleanMemoryError(run, "conv check")
        // 64·64·2000·2000 Float elements.
        #expect(run.stderr.hasPrefix("conv: error: cannot allocate input X: 65536000000 bytes exceed the physical memory"),
                "\(run.stderr)")
    }

    @Test("conv check in double precision fails the same way")
    func convCheckTooLargeDouble() throws {
        let run = try ConvTool.run(["check", "--size", "2000", "--channels", "64", "--filters", "64", "--batch", "64",
                                    "--kernel", "3", "--precision", "double"], virtualMemoryLimitKiB: Self.limitKiB)
        Self.expectCleanMemoryError(run, "conv check --precision double")
    }

    @Test("conv forward whose output would not fit fails cleanly")
    func convForwardTooLarge() throws {
        // A small input (1000 images of 1×1) and a 1×1 filter with padding 10,000: the output is
        // 1000 · 20,001² doubles (3.2 TB), each image's plane within OpenBLAS's 32-bit dimensions.
        let scratch = try CLIScratch()
        try NPYWriter.write(shape: [1000, 1, 1, 1], values: (0..<1000).map(Double.init), to: scratch.path("x.npy"))
        try NPYWriter.write(shape: [1, 1, 1, 1], values: [3], to: scratch.path("w.npy"))
        let run = try ConvTool.run(["forward", "--input", scratch.path("x.npy"), "--filter", scratch.path("w.npy"),
                                    "--padding", "10000", "--output", scratch.path("y.npy")],
                                   virtualMemoryLimitKiB: Self.limitKiB)
        Self.expectCleanMemoryError(run, "conv forward")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("y.npy")))
    }

    @Test("the demo with images too large for memory fails cleanly")
    func demoTooLarge() throws {
        let run = try ConvTool.run(["--size", "1000", "--batch", "100000", "--steps", "1"], tool: "demo",
                                   virtualMemoryLimitKiB: Self.limitKiB)
        Self.expectCleanMemoryError(run, "demo")
        #expect(run.stderr.hasPrefix("demo: error: "), "\(run.stderr)")
    }

    @Test("convbench with a batch too large for memory fails cleanly")
    func benchTooLarge() throws {
        let run = try ConvTool.run(["--quick", "--layer", "mnist", "--batch", "1000000000", "--threads", "1",
                                    "--generated", "0", "--no-reference"], tool: "convbench",
                                   virtualMemoryLimitKiB: Self.limitKiB)
        #expect(run.reason == .exit, "convbench died of signal \(run.status): \(run.stderr)")
        #expect(run.status != 0)
        #expect(run.stderr.contains("physical memory"), "\(run.stderr)")
        #expect(!run.stderr.contains("Fatal error"), "\(run.stderr)")
    }

    @Test("the training loop throws instead of allocating images that cannot fit")
    func trainingTooLarge() {
        var c = EdgeDetectorTraining.Configuration()
        c.imageSize = 1000
        c.batch = 100_000
        c.steps = 1
        #expect(throws: ConvError.self) { try EdgeDetectorTraining(c).run() }
    }

    @Test("MemoryCheck.checkAllocation: what fits passes; overflow, a negative count and too many bytes throw")
    func checkAllocation() throws {
        try MemoryCheck.checkAllocation("nothing", count: 0, of: Double.self)
        try MemoryCheck.checkAllocation("a little", count: 1 << 20, of: Float.self)
        #expect(throws: ConvError.sizeOverflow(quantity: "huge bytes")) {
            try MemoryCheck.checkAllocation("huge", count: Int.max / 2, of: Double.self)
        }
        #expect(throws: ConvError.invalidArgument(name: "negative", reason: "-1 elements is negative")) {
            try MemoryCheck.checkAllocation("negative", count: -1, of: Float.self)
        }
        let physical = ProcessInfo.processInfo.physicalMemory
        let count = Int(clamping: physical / 4 + 1)
        do {
            try MemoryCheck.checkAllocation("too much", count: count, of: Float.self)
            Issue.record("\(count) Floats accepted with \(physical) bytes of memory")
        } catch {
            guard case let .invalidArgument(name, reason) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(name == "too much")
            #expect(reason.contains("\(count * 4) bytes") && reason.contains("\(physical)"), "\(reason)")
        }
    }
}

/// Writes small float64 `.npy` files for the tests (through the library's writer).
enum NPYWriter {
    static func write(shape: [Int], values: [Double], to path: String) throws {
        try NPYArray(shape: shape, doubles: values).write(to: URL(fileURLWithPath: path))
    }
}
