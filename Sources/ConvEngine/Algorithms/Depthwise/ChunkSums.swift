// The register sums of a run of vector chunks, and the protocol of the row kernels that use them.

/// A compile-time number of vector chunks (1 to 8) computed together by a row kernel.
protocol ChunkCount { static var count: Int { get } }
enum Chunks1: ChunkCount { static var count: Int { 1 } }
enum Chunks2: ChunkCount { static var count: Int { 2 } }
enum Chunks3: ChunkCount { static var count: Int { 3 } }
enum Chunks4: ChunkCount { static var count: Int { 4 } }
enum Chunks5: ChunkCount { static var count: Int { 5 } }
enum Chunks6: ChunkCount { static var count: Int { 6 } }
enum Chunks7: ChunkCount { static var count: Int { 7 } }
enum Chunks8: ChunkCount { static var count: Int { 8 } }

/// Eight vector sums, of which a run of `N.count` chunks uses the first ones: named so that they live in
/// registers, and each chunk a fixed assignment of outputs.
struct ChunkSums<V: SIMD, N: ChunkCount> where V.Scalar: ConvScalar {
    var a0: V, a1: V, a2: V, a3: V, a4: V, a5: V, a6: V, a7: V
    /// Chunk i starts at `q0 + i·L`, except the last, which starts at `last`.
    let q0: Int, last: Int

    @inline(__always)
    init(_ initial: V, _ q0: Int, _ last: Int) {
        (a0, a1, a2, a3, a4, a5, a6, a7) = (initial, initial, initial, initial, initial, initial, initial, initial)
        self.q0 = q0
        self.last = last
    }

    @inline(__always)
    func offset(_ i: Int) -> Int { i == N.count - 1 ? last : q0 + i * V.scalarCount }

    /// Adds `tap · src[offset(i) ..< offset(i) + L]` to every chunk's sum.
    @inline(__always)
    mutating func add(_ tap: V.Scalar, _ src: UnsafePointer<V.Scalar>) {
        let v = V(repeating: tap)
        a0 += v * DepthwiseKernel.load(V.self, src + offset(0))
        if N.count > 1 { a1 += v * DepthwiseKernel.load(V.self, src + offset(1)) }
        if N.count > 2 { a2 += v * DepthwiseKernel.load(V.self, src + offset(2)) }
        if N.count > 3 { a3 += v * DepthwiseKernel.load(V.self, src + offset(3)) }
        if N.count > 4 { a4 += v * DepthwiseKernel.load(V.self, src + offset(4)) }
        if N.count > 5 { a5 += v * DepthwiseKernel.load(V.self, src + offset(5)) }
        if N.count > 6 { a6 += v * DepthwiseKernel.load(V.self, src + offset(6)) }
        if N.count > 7 { a7 += v * DepthwiseKernel.load(V.self, src + offset(7)) }
    }

    /// Adds `tap · src[offset(i) ..< offset(i) + L]` to every chunk's sum and `otherTap` times the same
    /// vectors to `other`'s (loading each vector once).
    @inline(__always)
    mutating func add(_ tap: V.Scalar, _ src: UnsafePointer<V.Scalar>, and otherTap: V.Scalar,
                      into other: inout ChunkSums) {
        let v = V(repeating: tap), u = V(repeating: otherTap)
        @inline(__always) func at(_ i: Int) -> V { DepthwiseKernel.load(V.self, src + offset(i)) }
        var x = at(0)
        a0 += v * x; other.a0 += u * x
        if N.count > 1 { x = at(1); a1 += v * x; other.a1 += u * x }
        if N.count > 2 { x = at(2); a2 += v * x; other.a2 += u * x }
        if N.count > 3 { x = at(3); a3 += v * x; other.a3 += u * x }
        if N.count > 4 { x = at(4); a4 += v * x; other.a4 += u * x }
        if N.count > 5 { x = at(5); a5 += v * x; other.a5 += u * x }
        if N.count > 6 { x = at(6); a6 += v * x; other.a6 += u * x }
        if N.count > 7 { x = at(7); a7 += v * x; other.a7 += u * x }
    }

    /// Stores every chunk's sum at `dst + offset(i)`.
    @inline(__always)
    func store(_ dst: UnsafeMutablePointer<V.Scalar>) {
        DepthwiseKernel.store(a0, dst + offset(0))
        if N.count > 1 { DepthwiseKernel.store(a1, dst + offset(1)) }
        if N.count > 2 { DepthwiseKernel.store(a2, dst + offset(2)) }
        if N.count > 3 { DepthwiseKernel.store(a3, dst + offset(3)) }
        if N.count > 4 { DepthwiseKernel.store(a4, dst + offset(4)) }
        if N.count > 5 { DepthwiseKernel.store(a5, dst + offset(5)) }
        if N.count > 6 { DepthwiseKernel.store(a6, dst + offset(6)) }
        if N.count > 7 { DepthwiseKernel.store(a7, dst + offset(7)) }
    }
}

/// One row of outputs that ``DepthwiseKernel/sweepRow(_:_:)`` can drive: a run of `N.count` vector
/// chunks (see ``ChunkSums``), or one element alone.
protocol RowChunks {
    associatedtype Scalar: ConvScalar
    func run<V: SIMD, N: ChunkCount>(_: V.Type, _: N.Type, _ q0: Int, _ last: Int) where V.Scalar == Scalar
    func one(_ q: Int)
}
