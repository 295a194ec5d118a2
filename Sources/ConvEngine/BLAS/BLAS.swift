// The only file of the library that imports CBLAS: every BLAS call goes through here, so the
// Int32-shaped, platform-specific surface is in one place and the rest of the engine is generic.
import CBLAS

/// Matrix transposition flag for ``BLAS/gemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)``.
///
/// Part of the `Tools` SPI (`@_spi(Tools) import ConvEngine`), like `BLAS.gemm`: for the benchmark and tests,
/// not a stable API.
@_spi(Tools)
public enum Transpose: Sendable {
    /// Use the matrix as stored.
    case none
    /// Use its transpose.
    case transpose
}

/// OpenBLAS, as ConvEngine uses it: row-major GEMM for `Float` and `Double`, the build string and the
/// process-wide thread setting.
///
/// The public part is the thread setting and the build string. The benchmark's GEMM ceiling and the tests also
/// call `BLAS.gemm` through the `Tools` SPI (`@_spi(Tools) import ConvEngine`), so that only this module imports
/// `CBLAS`; that SPI is not a stable API.
public enum BLAS {
    /// `C = alpha·op(A)·op(B) + beta·C`, row-major; `op(A)` is `m×k`, `op(B)` is `k×n`, `C` is `m×n`.
    ///
    /// - Throws: ``ConvError/blasDimensionTooLarge(quantity:value:)`` when a dimension or leading dimension
    ///   does not fit OpenBLAS's 32-bit integers, ``ConvError/nonPositive(field:value:)`` for a negative one,
    ///   ``ConvError/invalidArgument(name:reason:)`` for a leading dimension below its matrix's row length.
    ///   The pointers must cover the matrices their dimensions describe (that part is the caller's duty).
    @_spi(Tools)
    public static func gemm<T: ConvScalar>(
        transposeA: Transpose, transposeB: Transpose, m: Int, n: Int, k: Int,
        alpha: T, a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
        beta: T, c: UnsafeMutablePointer<T>, ldc: Int
    ) throws(ConvError) {
        for (name, value) in [("m", m), ("n", n), ("k", k), ("lda", lda), ("ldb", ldb), ("ldc", ldc)] {
            if value < 0 { throw .nonPositive(field: "GEMM \(name)", value: value) }
            if value > Int(Int32.max) { throw .blasDimensionTooLarge(quantity: "GEMM \(name)", value: value) }
        }
        // Row-major: each leading dimension must be at least its stored matrix's row length (OpenBLAS would
        // otherwise print an error and return with C untouched).
        let rowA = transposeA == .none ? k : m, rowB = transposeB == .none ? n : k
        for (name, value, least) in [("lda", lda, rowA), ("ldb", ldb, rowB), ("ldc", ldc, n)] where value < least {
            throw .invalidArgument(name: "GEMM \(name)", reason: "\(value) is less than the stored row length \(least)")
        }
        uncheckedGEMM(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                      a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }

    /// The GEMM used inside the engine, whose dimensions come from a validated ``ConvGeometry``
    /// (its initializer has already proved they fit in `Int32`).
    internal static func uncheckedGEMM<T: ConvScalar>(
        transposeA: Transpose, transposeB: Transpose, m: Int, n: Int, k: Int,
        alpha: T, a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
        beta: T, c: UnsafeMutablePointer<T>, ldc: Int
    ) {
        if m == 0 || n == 0 { return }
        let ta = transposeA == .none ? CblasNoTrans : CblasTrans
        let tb = transposeB == .none ? CblasNoTrans : CblasTrans
        // Safe: the geometry (or `gemm`) checked every value against Int32.max; BLAS wants lda ≥ 1 even when empty.
        let (m32, n32, k32) = (Int32(m), Int32(n), Int32(k))
        let (lda32, ldb32, ldc32) = (Int32(max(lda, 1)), Int32(max(ldb, 1)), Int32(max(ldc, 1)))
        switch ScalarKind.of(T.self) {
        case .float:
            cblas_sgemm(CblasRowMajor, ta, tb, m32, n32, k32, Float(alpha),
                        UnsafeRawPointer(a).assumingMemoryBound(to: Float.self), lda32,
                        UnsafeRawPointer(b).assumingMemoryBound(to: Float.self), ldb32, Float(beta),
                        UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self), ldc32)
        case .double:
            cblas_dgemm(CblasRowMajor, ta, tb, m32, n32, k32, Double(alpha),
                        UnsafeRawPointer(a).assumingMemoryBound(to: Double.self), lda32,
                        UnsafeRawPointer(b).assumingMemoryBound(to: Double.self), ldb32, Double(beta),
                        UnsafeMutableRawPointer(c).assumingMemoryBound(to: Double.self), ldc32)
        }
    }

    /// OpenBLAS's build description, for example `"OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64"`.
    public static var configuration: String {
        guard let c = openblas_get_config() else { return "unknown" }
        return String(cString: c)
    }

    /// The number of threads OpenBLAS currently uses for one GEMM (process-wide).
    public static var threadCount: Int { Int(openblas_get_num_threads()) }

    /// Sets OpenBLAS's process-wide thread count (clamped to at least 1).
    ///
    /// This is global state shared by every caller in the process. ConvEngine itself only ever sets it to 1,
    /// once, the first time an engine with more than one worker runs (see ``ConvolutionEngine``); call this
    /// yourself only if you manage BLAS threads (and then create engines with `managesBLASThreads: false`).
    public static func setThreadCount(_ count: Int) {
        openblas_set_num_threads(Int32(clamping: max(1, count)))
    }

    /// Sets OpenBLAS to one thread the first time it is called in the process; later calls do nothing,
    /// so the setting never flips while other calls are running.
    internal static func pinToOneThreadOnce() {
        _ = pinnedOnce
    }

    private static let pinnedOnce: Void = {
        openblas_set_num_threads(1)
    }()
}
