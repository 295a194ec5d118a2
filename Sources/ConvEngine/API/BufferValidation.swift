/// The memory range of one buffer, for the length and overlap checks at the API edge.
@usableFromInline
internal struct BufferSpan {
    let name: String
    let start: UInt
    let end: UInt

    init<T>(_ name: String, _ buffer: UnsafeBufferPointer<T>?) {
        self.name = name
        if let b = buffer, let base = b.baseAddress, b.count > 0 {
            start = UInt(bitPattern: base)
            end = start + UInt(b.count * MemoryLayout<T>.stride)
        } else {
            start = 0; end = 0
        }
    }

    init<T>(_ name: String, _ buffer: UnsafeMutableBufferPointer<T>?) {
        self.init(name, buffer.map { UnsafeBufferPointer($0) })
    }

    var isEmpty: Bool { start == end }

    func overlaps(_ other: BufferSpan) -> Bool {
        !isEmpty && !other.isEmpty && start < other.end && other.start < end
    }
}

/// Throws ``ConvError/bufferLength(name:expected:actual:)`` unless `count == expected`.
@inline(__always) @usableFromInline
internal func checkLength(_ name: String, _ count: Int, _ expected: Int) throws {
    if count != expected { throw ConvError.bufferLength(name: name, expected: expected, actual: count) }
}

/// Throws ``ConvError/overlappingBuffers(output:other:)`` if an output overlaps another output or any of `others`.
@usableFromInline
internal func checkNoOverlap(outputs: [BufferSpan], others: [BufferSpan]) throws {
    for (i, o) in outputs.enumerated() {
        for other in outputs[(i + 1)...] where o.overlaps(other) {
            throw ConvError.overlappingBuffers(output: o.name, other: other.name)
        }
        for other in others where o.overlaps(other) {
            throw ConvError.overlappingBuffers(output: o.name, other: other.name)
        }
    }
}
