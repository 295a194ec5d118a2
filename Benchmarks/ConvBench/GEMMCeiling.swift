@_spi(Tools) import ConvEngine
import Foundation

/// The GEMM ceiling of one layer: exactly the GEMM calls of MATH.md's canonical lowering (one per image and
/// group per GEMM-table row, with the same M, N, K, transposes and count), on preallocated matrices whose
/// pages are already touched, and nothing else: no im2col, no col2im, no bias.
///
/// | pass | GEMMs per image and group |
/// | --- | --- |
/// | forward | `O_g = F_g · col` (Kg×CgRS · CgRS×PQ) |
/// | backward | `dF_g (+)= dO_g · colᵀ` (Kg×PQ · PQ×CgRS), then `dcol = F_gᵀ · dO_g` (CgRS×Kg · Kg×PQ) |
///
/// `col` is one CgRS×PQ matrix per worker, reused image after image as an engine would reuse its column
/// buffer (`dcol` is written into it too); for a 1×1 stride-1 unpadded layer the input images themselves
/// are the column matrices and `dcol` is written straight into the input-gradient buffer. It is a property
/// of the geometry, not of the engine's plan, so a plan better than the canonical lowering may beat it.
final class GEMMCeiling<T: ConvScalar> {
    /// How the GEMMs are spread over threads.
    enum Policy: String, Codable, Sendable {
        /// One GEMM after another in the calling thread, BLAS using however many threads it is set to.
        case serial
        /// Images split into contiguous shares over worker threads, each calling single-threaded BLAS.
        case imageParallel = "images"
    }

    let geometry: ConvGeometry
    let workers: Int
    private let columns: [Tensor<T>]          // one CgRS×PQ matrix per worker
    private let output: Tensor<T>             // O of the forward GEMMs (not the engine's)
    private let filterGradients: [Tensor<T>]  // dF per worker
    private let inputGradient: Tensor<T>?     // dX of the pointwise case (dcol is dX itself)

    /// Allocates and touches every matrix for up to `workers` threads. The inputs (X, F, dO) are those of the
    /// ``LayerTensors`` passed to each run.
    /// - Throws: ``ConvError`` when a matrix would not fit in physical memory (``MemoryCheck``).
    init(_ g: ConvGeometry, workers: Int, rng: inout SeededGenerator) throws {
        geometry = g
        self.workers = workers
        let n = g.isPointwise ? 0 : g.columnRows * g.columnColumns
        columns = try (0..<workers).map { _ in try Tensor("ceiling column matrix", count: n, uniformIn: -0.5...1, using: &rng) }
        output = try Tensor("ceiling output", count: g.outputCount)
        filterGradients = try (0..<workers).map { _ in try Tensor("ceiling filter gradient", count: g.filterCount) }
        inputGradient = g.isPointwise ? try Tensor("ceiling input gradient", count: g.inputCount) : nil
    }

    /// The forward GEMMs with `policy` (`imageParallel` uses `threads` workers; serial uses one).
    func forward(_ t: LayerTensors<T>, policy: Policy, threads: Int) throws {
        try run(policy: policy, threads: threads) { worker, images in
            try self.forwardGEMMs(t, worker: worker, images: images)
        }
    }

    /// The backward GEMMs (filter and input gradients) with `policy`.
    func backward(_ t: LayerTensors<T>, policy: Policy, threads: Int) throws {
        try run(policy: policy, threads: threads) { worker, images in
            try self.backwardGEMMs(t, worker: worker, images: images)
        }
    }

    private func run(policy: Policy, threads: Int, _ body: @escaping (Int, Range<Int>) throws -> Void) throws {
        let batch = geometry.batch
        let split = policy == .serial ? 1 : min(threads, workers, batch)
        if split <= 1 {
            try body(0, 0..<batch)
            return
        }
        let box = SendableBox(body)
        let errors = ErrorSlot()
        DispatchQueue.concurrentPerform(iterations: split) { w in
            do { try box.value(w, imageShare(batch, worker: w, of: split)) } catch { errors.set(error) }
        }
        if let error = errors.error { throw error }
    }

    private func forwardGEMMs(_ t: LayerTensors<T>, worker: Int, images: Range<Int>) throws {
        let g = geometry
        let Kg = g.outputChannelsPerGroup, Cg = g.inputChannelsPerGroup
        let CgRS = g.columnRows, PQ = g.columnColumns, HW = g.inputHeight * g.inputWidth
        for n in images {
            for grp in 0..<g.groups {
                let b: UnsafePointer<T> = g.isPointwise
                    ? UnsafePointer(t.input.pointer + (n * g.inputChannels + grp * Cg) * HW)
                    : UnsafePointer(columns[worker].pointer)
                try BLAS.gemm(transposeA: .none, transposeB: .none, m: Kg, n: PQ, k: CgRS,
                              alpha: 1, a: t.filter.pointer + grp * Kg * CgRS, lda: CgRS, b: b, ldb: PQ,
                              beta: 0, c: output.pointer + (n * g.outputChannels + grp * Kg) * PQ, ldc: PQ)
            }
        }
    }

    private func backwardGEMMs(_ t: LayerTensors<T>, worker: Int, images: Range<Int>) throws {
        let g = geometry
        let Kg = g.outputChannelsPerGroup, Cg = g.inputChannelsPerGroup
        let CgRS = g.columnRows, PQ = g.columnColumns, HW = g.inputHeight * g.inputWidth
        let dF = filterGradients[worker].pointer
        for n in images {
            for grp in 0..<g.groups {
                let dOg = t.outputGradient.pointer + (n * g.outputChannels + grp * Kg) * PQ
                let image = n * g.inputChannels + grp * Cg
                let col: UnsafeMutablePointer<T> = g.isPointwise ? t.input.pointer + image * HW : columns[worker].pointer
                try BLAS.gemm(transposeA: .none, transposeB: .transpose, m: Kg, n: CgRS, k: PQ,
                              alpha: 1, a: dOg, lda: PQ, b: col, ldb: PQ,
                              beta: n == images.lowerBound ? 0 : 1, c: dF + grp * Kg * CgRS, ldc: CgRS)
                let dcol: UnsafeMutablePointer<T> = g.isPointwise ? inputGradient!.pointer + image * HW : col
                try BLAS.gemm(transposeA: .transpose, transposeB: .none, m: CgRS, n: PQ, k: Kg,
                              alpha: 1, a: t.filter.pointer + grp * Kg * CgRS, lda: CgRS, b: dOg, ldb: PQ,
                              beta: 0, c: dcol, ldc: PQ)
            }
        }
    }
}

/// The contiguous share `[lo, hi)` of `count` items that worker `w` of `workers` takes (sizes differ by at most one).
func imageShare(_ count: Int, worker w: Int, of workers: Int) -> Range<Int> {
    let base = count / workers, extra = count % workers
    let lo = base * w + min(w, extra)
    return lo..<(lo + base + (w < extra ? 1 : 0))
}

/// Carries a value into `concurrentPerform`'s `@Sendable` closure; used only while that call blocks, and
/// each worker touches only its own share of the buffers.
struct SendableBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// The first error thrown by any worker.
final class ErrorSlot: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Error?
    func set(_ e: Error) { lock.withLock { if stored == nil { stored = e } } }
    var error: Error? { lock.withLock { stored } }
}
