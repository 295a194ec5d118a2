import Dispatch

/// Carries a non-Sendable value into `concurrentPerform`'s `@Sendable` closure. Only `parallelFor` uses it,
/// and only while it blocks until every iteration has finished, so the value never outlives the call.
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
}

/// Runs `body(0) … body(workers-1)`, concurrently when `workers > 1`, and returns when all have finished.
/// Each worker index owns a disjoint part of the output and of the workspace, which is what makes the
/// shared pointers the bodies capture safe.
@usableFromInline
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
@inline(__always) @usableFromInline
internal func share(of count: Int, worker w: Int, of workers: Int) -> Range<Int> {
    let base = count / workers, extra = count % workers
    let lo = base * w + min(w, extra)
    return lo..<(lo + base + (w < extra ? 1 : 0))
}
