/// Scratch memory reused across calls, so that repeated convolutions allocate (and page-fault) nothing.
///
/// A workspace grows to the largest size a call has needed and keeps that memory until it is released;
/// calls never shrink it. How much a call needs is given by
/// ``ConvolutionEngine/workspaceElementCount(for:scalar:)`` (it depends on the geometry and the worker
/// count, never on the batch size).
///
/// A workspace is **not** thread-safe: give each thread or task that convolves at the same time its own
/// workspace. One workspace can serve any sequence of geometries and engines.
public final class ConvWorkspace<Scalar: ConvScalar> {
    @usableFromInline internal private(set) var storage: UnsafeMutablePointer<Scalar>?
    /// Elements currently allocated.
    public private(set) var capacity: Int = 0
    /// The largest number of elements any call has used (a workspace cap can be checked against it).
    public private(set) var peakElementCount: Int = 0

    /// An empty workspace; memory is allocated on first use.
    public init() {}

    /// A workspace with `elementCount` elements allocated (and touched) up front.
    public init(reserving elementCount: Int) throws {
        try reserve(elementCount)
    }

    deinit {
        storage?.deallocate()
    }

    /// The allocated bytes (`capacity × MemoryLayout<Scalar>.stride`).
    public var byteCount: Int { capacity * MemoryLayout<Scalar>.stride }

    /// Makes sure at least `elementCount` elements are allocated. New memory is zero-filled once, here,
    /// so the page faults of first touch are paid outside the timed calls.
    public func reserve(_ elementCount: Int) throws {
        if elementCount < 0 {
            throw ConvError.invalidArgument(name: "workspace element count", reason: "\(elementCount) is negative")
        }
        _ = try checkedProduct(elementCount, MemoryLayout<Scalar>.stride, quantity: "workspace bytes")
        if elementCount <= capacity { return }
        storage?.deallocate()
        storage = nil
        capacity = 0
        let p = UnsafeMutablePointer<Scalar>.allocate(capacity: elementCount)
        p.initialize(repeating: 0, count: elementCount)
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
    @usableFromInline
    internal func buffer(_ elementCount: Int) throws -> UnsafeMutableBufferPointer<Scalar> {
        try reserve(elementCount)
        peakElementCount = max(peakElementCount, elementCount)
        return UnsafeMutableBufferPointer(start: storage, count: elementCount)
    }
}
