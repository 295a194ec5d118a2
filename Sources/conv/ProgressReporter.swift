// Progress of conv check's long computations on stderr, so a reference run of minutes is not silent.
import Foundation
import Synchronization

/// Prints `conv check: <what> <part> <n>% (<elapsed>)` to standard error at most every `interval` seconds,
/// the first line only once `interval` has passed (a run shorter than that prints nothing), and a closing
/// line for a computation that printed any. Sendable (the reference takes a `@Sendable` hook); it is called
/// on the thread that runs the reference.
final class ProgressReporter: Sendable {
    let interval: Double

    private struct State {
        var what: String?
        var started: ContinuousClock.Instant?
        var lastLine: ContinuousClock.Instant?
    }
    private let state = Mutex(State())

    init(interval: Double) { self.interval = interval }

    /// Starts timing a computation (`what` names it in the lines).
    func begin(_ what: String) {
        state.withLock { $0 = State(what: what, started: .now, lastLine: nil) }
    }

    /// `done` of `total` steps of the current computation (`part` names a piece of it, for example "dF").
    func report(_ part: String, done: Int, total: Int) {
        let line: String? = state.withLock { s in
            guard let what = s.what, let started = s.started else { return nil }
            let now = ContinuousClock.now
            guard Self.seconds(now - (s.lastLine ?? started)) >= interval else { return nil }
            s.lastLine = now
            let percent = total > 0 ? (100 * Double(done) / Double(total)).rounded(.down) : 100
            return "conv check: \(what) \(part) \(String(format: "%.0f", percent))% (\(Self.elapsed(now - started)))"
        }
        if let line { printError(line) }
    }

    /// Ends the current computation; says so if progress was printed for it.
    func end() {
        let line: String? = state.withLock { s in
            defer { s = State() }
            guard let what = s.what, let started = s.started, s.lastLine != nil else { return nil }
            return "conv check: \(what) done (\(Self.elapsed(.now - started)))"
        }
        if let line { printError(line) }
    }

    private static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    private static func elapsed(_ d: Duration) -> String {
        let s = seconds(d)
        return s < 60 ? String(format: "%.0f s", s) : String(format: "%d min %02.0f s", Int(s) / 60, s.truncatingRemainder(dividingBy: 60).rounded(.down))
    }
}
