import Dispatch
import Foundation

/// Carries a non-Sendable value into `concurrentPerform`'s `@Sendable` closure. Only `parallelFor` uses it,
/// and only while it blocks until every iteration has finished, so the value never outlives the call.
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
}

/// Runs `body(0) … body(workers-1)`, concurrently when `workers > 1`, and returns when all have finished.
/// Each worker index owns a disjoint part of the output and of the workspace, which is what makes the
/// shared pointers the bodies capture safe.
internal func parallelFor(_ workers: Int, _ body: (Int) -> Void) {
    if workers <= 1 {
        if workers == 1 { body(0) }
        return
    }
    withoutActuallyEscaping(body) { escapable in
        let box = UncheckedSendable(value: escapable)
        DispatchQueue.concurrentPerform(iterations: workers) { box.value($0) }
    }
}

/// The half-open share `[lo, hi)` of `count` items that worker `w` of `workers` takes: contiguous, in
/// order, sizes differing by at most one. Written without `count * w` so it cannot overflow.
@inline(__always)
internal func share(of count: Int, worker w: Int, of workers: Int) -> Range<Int> {
    let base = count / workers, extra = count % workers
    let lo = base * w + min(w, extra)
    return lo..<(lo + base + (w < extra ? 1 : 0))
}

/// Runs `body(worker, item)` once for every item in `0..<count`, on up to `workers` threads that take the items
/// in order from a shared counter, and returns when all are done. `worker` is the thread's slot, in
/// `0..<workers`, never held by two threads at once: it selects the thread's part of the workspace.
///
/// Items go to whichever thread is free, not in fixed shares, because a second thread can start late: on a
/// virtual machine whose other core has been idle for a few milliseconds, the second `concurrentPerform`
/// iteration started 1–2 ms after the first (measured here, median 1.5 ms after a 20 ms pause), and with fixed
/// halves the call then took the late start plus half the work, or all the work on the calling thread (a
/// 4-image pointwise layer ran no faster on two workers than on one). Which thread runs an item must not change
/// its result: callers use this only where every item is computed the same way whatever its slot.
internal func parallelItems(_ workers: Int, count: Int, _ body: (_ worker: Int, _ item: Int) -> Void) {
    if workers <= 1 || count <= 1 {
        for item in 0..<count { body(0, item) }
        return
    }
    let next = ItemCounter()
    parallelFor(min(workers, count)) { w in
        while true {
            let item = next.take()
            if item >= count { return }
            body(w, item)
        }
    }
}

/// The shared position of ``parallelItems(_:count:_:)``. A lock rather than `Synchronization.Atomic`, which
/// needs macOS 15: it is taken once per tile (tens of microseconds of work or more), where it costs nothing.
private final class ItemCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    func take() -> Int {
        lock.lock()
        defer { lock.unlock() }
        next += 1
        return next - 1
    }
}
