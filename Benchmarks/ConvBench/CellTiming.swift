import ConvEngine

/// One way of running the GEMM ceiling in a cell: how the GEMMs are spread, BLAS's threads and the workers.
struct CeilingPolicyChoice: Sendable {
    /// `serial` (GEMMs one after another) or `images` (images over workers).
    let imageParallel: Bool
    let blasThreads: Int
    let workers: Int

    /// At one thread the ceiling is BLAS's single thread; above, the faster of BLAS-threaded GEMMs in series
    /// and images over `threads` workers with single-threaded BLAS.
    static func all(threads: Int) -> [CeilingPolicyChoice] {
        threads == 1
            ? [CeilingPolicyChoice(imageParallel: false, blasThreads: 1, workers: 1)]
            : [CeilingPolicyChoice(imageParallel: true, blasThreads: 1, workers: threads),
               CeilingPolicyChoice(imageParallel: false, blasThreads: threads, workers: 1)]
    }

    /// The name in the table and JSON: `serial`, `images×N` or `blas×N`.
    func name(threads: Int) -> String {
        threads == 1 ? "serial" : (imageParallel ? "images×\(threads)" : "blas×\(threads)")
    }
}

/// The timed repetitions of one cell (a layer, a pass and a thread count): what every row of the table is made of.
struct CellTiming {
    var engine = Samples()
    /// The one-worker engine, timed after the engine in every repetition (rows above one thread).
    var paired = Samples()
    /// The engine with a prepared filter, timed after the engine in every repetition (forward rows of 2-D layers).
    var prepared = Samples()
    /// One per ceiling policy, in the order given.
    var ceilings: [Samples]
    /// Untimed repetitions before the timed ones.
    var warmups = 1

    /// Warm-up, then repetitions of: the engine, `prepared` and `paired` if given, then each single-threaded-BLAS
    /// ceiling policy (`ceiling(i)` runs policy `i` once, BLAS threads set by the caller and back to 1
    /// afterwards). The BLAS-threaded policies run after the repetitions, in one block per policy, each block
    /// followed by a wait for OpenBLAS's spinning threads.
    ///
    /// They do not alternate with the engine because of that wait (OpenBLAS's idle threads spin for a while
    /// after a threaded GEMM): a run that follows an idle pause starts on a virtual machine whose host may have
    /// let the second vCPU go, so a wait before every engine run timed the host's scheduler rather than the
    /// engine (Benchmarks/README.md has the measurement).
    init(repetitions policy: RepetitionPolicy, policies: [CeilingPolicyChoice], engine: () throws -> Void,
         prepared: (() throws -> Void)?, paired: (() throws -> Void)?, ceiling: (Int) throws -> Double) throws {
        ceilings = [Samples](repeating: Samples(), count: policies.count)
        let interleaved = policies.indices.filter { policies[$0].blasThreads == 1 }
        let blocked = policies.indices.filter { policies[$0].blasThreads > 1 }
        var lastEngineMs = 0.0

        // One repetition: the engine, then each interleaved ceiling policy. Returns its wall-clock milliseconds.
        func repetition(record: Bool) throws -> Double {
            let start = Clock.nanoseconds()
            BLAS.setThreadCount(1)
            let e = try Clock.milliseconds(engine)
            lastEngineMs = e
            if record { self.engine.append(e) }
            if let prepared {
                let p = try Clock.milliseconds(prepared)
                if record { self.prepared.append(p) }
            }
            if let paired {
                // After the timed run, not before: while one worker runs, the other core idles, and on a virtual
                // machine an idle core wakes 1–2 ms late, which the next multi-worker run would then pay.
                let one = try Clock.milliseconds(paired)
                if record { self.paired.append(one) }
            }
            for i in interleaved {
                let c = try ceiling(i)
                if record { ceilings[i].append(c) }
            }
            return Double(Clock.nanoseconds() - start) / 1e6
        }

        var last = try repetition(record: false)
        let extra = policy.warmups(firstRunMs: lastEngineMs)
        for _ in 0..<extra { last = try repetition(record: false) }
        warmups = 1 + extra
        // The budget covers the blocked policies too: a run each per repetition, estimated at the engine's time.
        let reps = policy.repetitions(warmupMs: last + Double(blocked.count) * lastEngineMs)
        for _ in 0..<reps { _ = try repetition(record: true) }
        for i in blocked {
            _ = try ceiling(i)
            for _ in 0..<reps { ceilings[i].append(try ceiling(i)) }
            Machine.waitForIdleThreads()
        }
    }

    /// The ceiling column: every policy's timing and the faster one's.
    func ceilingInfo(_ policies: [CeilingPolicyChoice], threads: Int) -> CeilingInfo {
        let timings = policies.enumerated().map { i, p in
            CeilingInfo.PolicyTiming(policy: p.name(threads: threads), blasThreads: p.blasThreads, workers: p.workers,
                                     timing: TimingInfo(ceilings[i]))
        }
        let best = timings.min { $0.timing.medianMs < $1.timing.medianMs }!  // Safe: at least one policy.
        return CeilingInfo(medianMs: best.timing.medianMs, minMs: best.timing.minMs, policy: best.policy,
                           policies: timings)
    }
}
