/// The library's check that an allocation can succeed, for code that allocates its own tensors.
///
/// The array API checks each result it allocates against the machine's physical memory and throws instead
/// of trapping in the allocator; ``checkAllocation(_:count:of:)`` is the same check, for the buffers a caller
/// allocates itself (inputs, outputs, gradients, copies in another precision), so that a program fails with a
/// thrown ``ConvError`` where the library would, rather than with `Fatal error: failed to allocate … bytes`.
///
/// ```swift
/// try MemoryCheck.checkAllocation("input", count: geometry.inputCount, of: Float.self)
/// let x = [Float](repeating: 0, count: geometry.inputCount)
/// ```
///
/// The check is against the physical memory, not what is free at the moment or what a process limit
/// (`ulimit -v`, a container's memory limit) allows: it rejects what can never fit, not what merely does not
/// fit now.
public enum MemoryCheck {
    /// Throws unless `count` elements of `T` (`count × MemoryLayout<T>.stride` bytes) fit in the machine's
    /// physical memory.
    ///
    /// - Parameters:
    ///   - name: what is allocated, for the message (for example `"input"` or `"filter gradient"`).
    ///   - count: the number of elements; 0 always passes.
    ///   - type: the element type.
    /// - Throws: ``ConvError/invalidArgument(name:reason:)`` for a negative `count`;
    ///   ``ConvError/sizeOverflow(quantity:)`` when the bytes overflow `Int`;
    ///   ``ConvError/invalidArgument(name:reason:)`` naming the bytes and the physical memory when the bytes
    ///   exceed the physical memory.
    public static func checkAllocation<T>(_ name: String, count: Int, of type: T.Type) throws(ConvError) {
        guard count >= 0 else {
            throw .invalidArgument(name: name, reason: "\(count) elements is negative")
        }
        try checkResultFitsInMemory(name, count, type)
    }
}
