import Foundation

/// Wall-clock timing on the monotonic clock.
enum Clock {
    /// Nanoseconds since an arbitrary fixed point (CLOCK_MONOTONIC).
    static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Runs `body` once and returns its duration in milliseconds.
    static func milliseconds(_ body: () throws -> Void) rethrows -> Double {
        let start = nanoseconds()
        try body()
        return Double(nanoseconds() - start) / 1e6
    }
}

/// A set of timed runs in milliseconds, summarised by median and minimum.
struct Samples: Codable, Sendable {
    private(set) var milliseconds: [Double] = []

    mutating func append(_ ms: Double) { milliseconds.append(ms) }

    var count: Int { milliseconds.count }

    /// The median (mean of the two middle values for an even count).
    var median: Double {
        guard !milliseconds.isEmpty else { return .nan }
        let s = milliseconds.sorted()
        let m = s.count / 2
        return s.count % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2
    }

    var minimum: Double { milliseconds.min() ?? .nan }
}

/// How many timed repetitions a layer gets.
///
/// At least `minimum` (7 by default, `--repetitions` raises it); small layers get more, up to `maximum`, so
/// that one (layer, pass, thread count) cell takes roughly `targetSeconds` of engine + ceiling time. The big
/// layers (VGG conv1_2 backward, ≈0.4 s per run at one thread) therefore stay at the minimum.
struct RepetitionPolicy {
    var minimum = 7
    var maximum = 41
    var targetSeconds = 1.2
    /// Forces exactly this many (from `--repetitions`).
    var fixed: Int?
    /// Most warm-up repetitions after the first.
    var maximumExtraWarmups = 4

    /// Repetitions for a cell whose warm-up repetition (engine and every ceiling policy) took `warmupMs`.
    func repetitions(warmupMs: Double) -> Int {
        if let fixed { return fixed }
        guard warmupMs > 0 else { return maximum }
        let wanted = Int((targetSeconds * 1000 / warmupMs).rounded(.down))
        return min(maximum, max(minimum, wanted))
    }

    /// Warm-up repetitions after the first: none when the engine took at least 50 ms, up to
    /// `maximumExtraWarmups` for tiny layers.
    func warmups(firstRunMs: Double) -> Int {
        min(maximumExtraWarmups, firstRunMs >= 50 ? 0 : (firstRunMs >= 5 ? 1 : 4))
    }
}
