@_spi(Tools) import ConvEngine
import Foundation

/// The GEMM shapes of MATH.md's canonical lowering of one convolution, per image and group: the column matrix
/// has `columnRows` = Cg·(kernel taps) rows and `columnColumns` = output positions columns; the filter of a group
/// is Kg × columnRows, the output gradient of an image and group Kg × columnColumns. For a 3-D convolution this
/// is vol2col's (taps T·R·S, positions E·P·Q); a 1-D convolution is the 2-D one with H = R = 1.
struct LoweringShape: Sendable {
    let batch, groups, inputChannels, outputChannels: Int
    /// Elements of one input channel of one image (H·W, or D·H·W).
    let inputPlane: Int
    let columnRows: Int
    let columnColumns: Int
    /// A 1×1 (×1) kernel at stride 1 without padding: the input images are the column matrices.
    let isPointwise: Bool

    var inputChannelsPerGroup: Int { inputChannels / groups }
    var outputChannelsPerGroup: Int { outputChannels / groups }
    var filterCount: Int { outputChannels * columnRows }
    var inputCount: Int { batch * inputChannels * inputPlane }
    var outputCount: Int { batch * outputChannels * columnColumns }

    init(batch: Int, groups: Int, inputChannels: Int, outputChannels: Int, inputPlane: Int, columnRows: Int,
         columnColumns: Int, isPointwise: Bool) {
        self.batch = batch; self.groups = groups
        self.inputChannels = inputChannels; self.outputChannels = outputChannels
        self.inputPlane = inputPlane; self.columnRows = columnRows; self.columnColumns = columnColumns
        self.isPointwise = isPointwise
    }

    init(_ g: ConvGeometry) {
        self.init(batch: g.batch, groups: g.groups, inputChannels: g.inputChannels, outputChannels: g.outputChannels,
                  inputPlane: g.inputHeight * g.inputWidth, columnRows: g.columnRows, columnColumns: g.columnColumns,
                  isPointwise: g.isPointwise)
    }
}

/// One GEMM of the lowering (a row of MATH.md's GEMM table), run per image and group.
enum CeilingGEMM: Sendable {
    /// `O_g = F_g · col` (Kg×CgRS · CgRS×PQ).
    case forward
    /// `dF_g (+)= dO_g · colᵀ` (Kg×PQ · PQ×CgRS), accumulated over a worker's images.
    case filterGradient
    /// `dcol = F_gᵀ · dO_g` (CgRS×Kg · Kg×PQ).
    case inputGradient

    /// A convolution's GEMMs per pass: forward, then the filter and input gradients.
    static func convolution(_ pass: Pass) -> [CeilingGEMM] {
        pass == .forward ? [.forward] : [.filterGradient, .inputGradient]
    }

    /// A transposed convolution's GEMMs per pass, those of its associated convolution (MATH.md): its forward
    /// pass is the associated input gradient, its backward pass the associated forward (dX) and filter gradient.
    static func transposed(_ pass: Pass) -> [CeilingGEMM] {
        pass == .forward ? [.inputGradient] : [.forward, .filterGradient]
    }
}

/// The operands the ceiling's GEMMs read, in the lowered convolution's roles: X (read only when the lowering is
/// pointwise, where the images are the column matrices), F and dO.
struct CeilingOperands<T: ConvScalar> {
    let input: UnsafeMutablePointer<T>
    let filter: UnsafeMutablePointer<T>
    let outputGradient: UnsafeMutablePointer<T>

    /// A 2-D convolution's own tensors.
    init(_ t: LayerTensors<T>) {
        self.init(input: t.input.pointer, filter: t.filter.pointer, outputGradient: t.outputGradient.pointer)
    }

    init(input: UnsafeMutablePointer<T>, filter: UnsafeMutablePointer<T>, outputGradient: UnsafeMutablePointer<T>) {
        self.input = input; self.filter = filter; self.outputGradient = outputGradient
    }
}

/// The GEMM ceiling of one layer: exactly the GEMM calls of MATH.md's canonical lowering (one per image and
/// group per GEMM-table row, with the same M, N, K, transposes and count), on preallocated matrices whose
/// pages are already touched, and nothing else: no im2col, no col2im, no bias.
///
/// | pass | GEMMs per image and group |
/// | --- | --- |
/// | forward | `O_g = F_g · col` (Kg×CgRS · CgRS×PQ) |
/// | backward | `dF_g (+)= dO_g · colᵀ` (Kg×PQ · PQ×CgRS), then `dcol = F_gᵀ · dO_g` (CgRS×Kg · Kg×PQ) |
///
/// (A transposed convolution runs its associated convolution's rows: ``CeilingGEMM/transposed(_:)``.)
/// `col` is one CgRS×PQ matrix per worker, reused image after image as an engine would reuse its column
/// buffer (`dcol` is written into it too); for a 1×1 stride-1 unpadded layer the input images themselves
/// are the column matrices and `dcol` is written straight into an input-gradient buffer. It is a property
/// of the geometry, not of the engine's plan, so a plan better than the canonical lowering may beat it.
final class GEMMCeiling<T: ConvScalar> {
    /// How the GEMMs are spread over threads.
    enum Policy: String, Codable, Sendable {
        /// One GEMM after another in the calling thread, BLAS using however many threads it is set to.
        case serial
        /// Images split into contiguous shares over worker threads, each calling single-threaded BLAS.
        case imageParallel = "images"
    }

    let shape: LoweringShape
    let workers: Int
    private let columns: [Tensor<T>]          // one CgRS×PQ matrix per worker
    private let output: Tensor<T>             // O of the forward GEMMs (not the engine's)
    private let filterGradients: [Tensor<T>]  // dF per worker
    private let inputGradient: Tensor<T>?     // dX of the pointwise case (dcol is dX itself)

    /// Allocates and touches every matrix for up to `workers` threads. The operands (X, F, dO) are passed to
    /// each run.
    /// - Throws: ``ConvError`` when a matrix would not fit in physical memory (``MemoryCheck``).
    init(_ shape: LoweringShape, workers: Int, rng: inout SeededGenerator) throws {
        self.shape = shape
        self.workers = workers
        let n = shape.isPointwise ? 0 : shape.columnRows * shape.columnColumns
        columns = try (0..<workers).map { _ in try Tensor("ceiling column matrix", count: n, uniformIn: -0.5...1, using: &rng) }
        output = try Tensor("ceiling output", count: shape.outputCount)
        filterGradients = try (0..<workers).map { _ in try Tensor("ceiling filter gradient", count: shape.filterCount) }
        inputGradient = shape.isPointwise ? try Tensor("ceiling input gradient", count: shape.inputCount) : nil
    }

    /// A 2-D convolution's ceiling.
    convenience init(_ g: ConvGeometry, workers: Int, rng: inout SeededGenerator) throws {
        try self.init(LoweringShape(g), workers: workers, rng: &rng)
    }

    /// The forward GEMMs of a 2-D convolution with `policy` (`imageParallel` uses `threads` workers; serial uses one).
    func forward(_ t: LayerTensors<T>, policy: Policy, threads: Int) throws {
        try run(CeilingGEMM.convolution(.forward), CeilingOperands(t), policy: policy, threads: threads)
    }

    /// The backward GEMMs (filter and input gradients) of a 2-D convolution with `policy`.
    func backward(_ t: LayerTensors<T>, policy: Policy, threads: Int) throws {
        try run(CeilingGEMM.convolution(.backward), CeilingOperands(t), policy: policy, threads: threads)
    }

    /// `gemms`, in this order for each image and group, on `operands` with `policy`.
    func run(_ gemms: [CeilingGEMM], _ operands: CeilingOperands<T>, policy: Policy, threads: Int) throws {
        let batch = shape.batch
        let split = policy == .serial ? 1 : min(threads, workers, batch)
        if split <= 1 {
            try gemmsOverImages(gemms, operands, worker: 0, images: 0..<batch)
            return
        }
        let box = SendableBox((self, gemms, operands))
        let errors = ErrorSlot()
        DispatchQueue.concurrentPerform(iterations: split) { w in
            let (ceiling, gemms, operands) = box.value
            do {
                try ceiling.gemmsOverImages(gemms, operands, worker: w, images: imageShare(batch, worker: w, of: split))
            } catch { errors.set(error) }
        }
        if let error = errors.error { throw error }
    }

    private func gemmsOverImages(_ gemms: [CeilingGEMM], _ t: CeilingOperands<T>, worker: Int, images: Range<Int>) throws {
        let s = shape
        let Kg = s.outputChannelsPerGroup, Cg = s.inputChannelsPerGroup
        let CgRS = s.columnRows, PQ = s.columnColumns, plane = s.inputPlane
        let dF = filterGradients[worker].pointer
        for n in images {
            for grp in 0..<s.groups {
                let dOg = t.outputGradient + (n * s.outputChannels + grp * Kg) * PQ
                let image = n * s.inputChannels + grp * Cg
                let col: UnsafeMutablePointer<T> = s.isPointwise ? t.input + image * plane : columns[worker].pointer
                let filter = t.filter + grp * Kg * CgRS
                for gemm in gemms {
                    switch gemm {
                    case .forward:
                        try BLAS.gemm(transposeA: .none, transposeB: .none, m: Kg, n: PQ, k: CgRS,
                                      alpha: 1, a: filter, lda: CgRS, b: col, ldb: PQ,
                                      beta: 0, c: output.pointer + (n * s.outputChannels + grp * Kg) * PQ, ldc: PQ)
                    case .filterGradient:
                        try BLAS.gemm(transposeA: .none, transposeB: .transpose, m: Kg, n: CgRS, k: PQ,
                                      alpha: 1, a: dOg, lda: PQ, b: col, ldb: PQ,
                                      beta: n == images.lowerBound ? 0 : 1, c: dF + grp * Kg * CgRS, ldc: CgRS)
                    case .inputGradient:
                        let dcol: UnsafeMutablePointer<T> = s.isPointwise ? inputGradient!.pointer + image * plane : col
                        try BLAS.gemm(transposeA: .transpose, transposeB: .none, m: CgRS, n: PQ, k: Kg,
                                      alpha: 1, a: filter, lda: CgRS, b: dOg, ldb: PQ,
                                      beta: 0, c: dcol, ldc: PQ)
                    }
                }
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
