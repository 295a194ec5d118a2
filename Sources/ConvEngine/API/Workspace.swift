import Foundation

/// Scratch memory reused across calls, so that repeated convolutions allocate (and page-fault) nothing.
///
/// A workspace grows to the largest size a call has needed and keeps that memory until it is released;
/// calls never shrink it. How much a call needs is given by
/// ``ConvolutionEngine/workspaceElementCount(for:scalar:)-(ConvGeometry,_)`` (it depends on the geometry and the worker
/// count, never on the batch size).
///
/// A workspace is **not** thread-safe: give each thread or task that convolves at the same time its own
/// workspace. One workspace can serve any sequence of geometries and engines.
public final class ConvWorkspace<Scalar: ConvScalar> {
    private(set) var storage: UnsafeMutablePointer<Scalar>?
    /// Elements currently allocated.
    public private(set) var capacity: Int = 0
    /// The largest number of elements any call has used (a workspace cap can be checked against it).
    public private(set) var peakElementCount: Int = 0

    /// An empty workspace; memory is allocated on first use.
    public init() {}

    /// A workspace with `elementCount` elements allocated (and touched) up front.
    public init(reserving elementCount: Int) throws(ConvError) {
        try reserve(elementCount)
    }

    deinit {
        storage?.deallocate()
    }

    /// The allocated bytes (`capacity × MemoryLayout<Scalar>.stride`).
    public var byteCount: Int { capacity * MemoryLayout<Scalar>.stride }

    /// Makes sure at least `elementCount` elements are allocated. New memory is zero-filled once, here,
    /// so the page faults of first touch are paid outside the timed calls.
    ///
    /// - Throws: ``ConvError/invalidArgument(name:reason:)`` for a negative count,
    ///   ``ConvError/sizeOverflow(quantity:)`` when the bytes overflow `Int`, and
    ///   ``ConvError/workspaceCapTooSmall(required:cap:)`` (the cap being the machine's physical memory) when
    ///   they exceed the physical memory.
    public func reserve(_ elementCount: Int) throws(ConvError) {
        if elementCount < 0 {
            throw .invalidArgument(name: "workspace element count", reason: "\(elementCount) is negative")
        }
        let bytes = try checkedProduct(elementCount, MemoryLayout<Scalar>.stride, quantity: "workspace bytes")
        if elementCount <= capacity { return }
        // A workspace is zero-filled (touched) at once: one larger than the machine's memory could only trap
        // in the allocator or be killed while touching it, so it is a thrown error instead.
        try checkFitsInMemory(bytes: bytes) { .workspaceCapTooSmall(required: bytes, cap: $0) }
        storage?.deallocate()
        storage = nil
        capacity = 0
        let p = UnsafeMutablePointer<Scalar>.allocate(capacity: elementCount)
        // As bytes (the zero of a ConvScalar is all zero bits): a generic element-wise fill is not specialized here.
        UnsafeMutableRawPointer(p).initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        storage = p
        capacity = elementCount
    }

    /// Frees the memory; the next call allocates again.
    public func release() {
        storage?.deallocate()
        storage = nil
        capacity = 0
    }

    /// Reserves and returns `elementCount` elements for one call.
    func buffer(_ elementCount: Int) throws(ConvError) -> UnsafeMutableBufferPointer<Scalar> {
        try reserve(elementCount)
        peakElementCount = max(peakElementCount, elementCount)
        return UnsafeMutableBufferPointer(start: storage, count: elementCount)
    }
}

/// Throws `error(physicalMemory)` when `bytes` is more than the machine's physical memory: memory that will be
/// touched at once (a workspace, an array result) and cannot fit is reported instead of trapping in the allocator.
internal func checkFitsInMemory(bytes: Int, _ error: (Int) -> ConvError) throws(ConvError) {
    let physical = ProcessInfo.processInfo.physicalMemory
    if bytes > 0, UInt64(bytes) > physical { throw error(Int(clamping: physical)) }
}
