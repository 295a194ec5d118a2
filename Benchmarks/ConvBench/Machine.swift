@_spi(Tools) import ConvEngine
import Foundation

/// What the header says about the machine, and the machine-wide measurements a run needs.
enum Machine {
    /// The CPU model from `/proc/cpuinfo` (`model name`), or "unknown".
    static var cpuModel: String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return "unknown"
    }

    /// The 1-, 5- and 15-minute load averages from `/proc/loadavg` (other work on the machine skews timings).
    static var loadAverage: [Double] {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return [] }
        return text.split(separator: " ").prefix(3).compactMap { Double($0) }
    }

    /// Logical processors the process may use.
    static var processors: Int { ProcessInfo.processInfo.activeProcessorCount }

    /// Whether `/proc/cpuinfo` lists AVX-512F (for the header; OpenBLAS picks its kernel itself).
    static var hasAVX512: Bool {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return false }
        return text.contains(" avx512f")
    }

    /// Waits (up to `limitMs`) until no thread of this process other than the caller uses the CPU.
    ///
    /// After a GEMM with several OpenBLAS threads, OpenBLAS's idle workers keep spinning for a while
    /// (about 0.1 s with the default `OPENBLAS_THREAD_TIMEOUT`), taking a core from whatever runs next
    /// (NOTES.md). Every run that follows a BLAS-threaded one therefore waits here first. Reads each thread's
    /// run time from `/proc/self/task/*/schedstat`; returns the milliseconds waited (0 if it cannot read them).
    @discardableResult
    static func waitForIdleThreads(limitMs: Double = 400) -> Double {
        let start = Clock.nanoseconds()
        let me = currentThreadID()
        var previous = otherThreadsRunTime(except: me)
        guard previous != nil else { return 0 }
        while Double(Clock.nanoseconds() - start) / 1e6 < limitMs {
            usleep(2_000)
            guard let now = otherThreadsRunTime(except: me) else { break }
            // Less than 5% of one core over the 2 ms window: idle.
            if now &- previous! < 100_000 { break }
            previous = now
        }
        return Double(Clock.nanoseconds() - start) / 1e6
    }

    /// The calling thread's id, from `/proc/thread-self` (a link to `<pid>/task/<tid>`).
    private static func currentThreadID() -> String {
        let link = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self")) ?? ""
        return String(link.split(separator: "/").last ?? "")
    }

    /// The summed run time in ns of every thread of the process except `tid`, or nil if not readable.
    private static func otherThreadsRunTime(except tid: String) -> UInt64? {
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return nil }
        var total: UInt64 = 0
        for task in tasks where task != tid {
            guard let text = try? String(contentsOfFile: "/proc/self/task/\(task)/schedstat", encoding: .utf8),
                  let first = text.split(separator: " ").first, let ns = UInt64(first) else { continue }
            total &+= ns
        }
        return total
    }
}

/// The machine's GEMM rate: one square `size³` GEMM (sgemm for Float, dgemm for Double) at a given BLAS
/// thread count, median of several runs after a warm-up. The benchmark's "nominal share" column divides
/// each layer's nominal GFLOP/s by this rate at the same thread count.
struct GEMMRate: Codable, Sendable {
    var threads: Int
    var size: Int
    var medianMs: Double
    var gflops: Double

    static func measure<T: ConvScalar>(_: T.Type, size: Int, threads: Int, repetitions: Int) throws -> GEMMRate {
        var rng = SeededGenerator(seed: 7)
        let a = try Tensor<T>("GEMM A", count: size * size, uniformIn: -1...1, using: &rng)
        let b = try Tensor<T>("GEMM B", count: size * size, uniformIn: -1...1, using: &rng)
        let c = try Tensor<T>("GEMM C", count: size * size)
        BLAS.setThreadCount(threads)
        defer {
            BLAS.setThreadCount(1)
            if threads > 1 { Machine.waitForIdleThreads() }
        }
        func once() throws {
            try BLAS.gemm(transposeA: .none, transposeB: .none, m: size, n: size, k: size, alpha: 1,
                          a: a.pointer, lda: size, b: b.pointer, ldb: size, beta: 0, c: c.pointer, ldc: size)
        }
        try once()
        var samples = Samples()
        for _ in 0..<repetitions { samples.append(try Clock.milliseconds(once)) }
        let flops = 2 * Double(size) * Double(size) * Double(size)
        return GEMMRate(threads: threads, size: size, medianMs: samples.median, gflops: flops / samples.median / 1e6)
    }
}
