// Progress of conv check's long computations on stderr, so a reference run of minutes is not silent.
import Foundation

/// Prints `conv check: <what> <n>% (<elapsed>)` to standard error at most every `interval` seconds, the
/// first line only once `interval` has passed (a run shorter than that prints nothing), and a closing line
/// for a computation that printed any.
final class ProgressReporter {
    let interval: Double
    private var started: ContinuousClock.Instant?
    private var lastLine: ContinuousClock.Instant?
    private var current: String?

    init(interval: Double) { self.interval = interval }

    /// Starts timing a computation (`what` names it in the lines).
    func begin(_ what: String) {
        started = .now
        lastLine = nil
        current = what
    }

    /// `done` of `total` steps of the current computation (`part` names a piece of it, e.g. "dF").
    func report(_ part: String, done: Int, total: Int) {
        guard let started, let what = current else { return }
        let now = ContinuousClock.now
        guard seconds(now - (lastLine ?? started)) >= interval else { return }
        lastLine = now
        let percent = total > 0 ? 100 * Double(done) / Double(total) : 100
        printError("conv check: \(what) \(part) \(String(format: "%.0f", percent.rounded(.down)))% (\(elapsed(now - started)))")
    }

    /// Ends the current computation; says so if progress was printed for it.
    func end() {
        if let started, let what = current, lastLine != nil {
            printError("conv check: \(what) done (\(elapsed(.now - started)))")
        }
        current = nil
    }

    private func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    private func elapsed(_ d: Duration) -> String {
        let s = seconds(d)
        return s < 60 ? String(format: "%.0f s", s) : String(format: "%d min %02.0f s", Int(s) / 60, s.truncatingRemainder(dividingBy: 60))
    }
}
