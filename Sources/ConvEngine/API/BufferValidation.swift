/// The memory range of one buffer, for the length and overlap checks at the API edge.
internal struct BufferSpan {
    let name: String
    let start: UInt
    let end: UInt

    init<T>(_ name: String, _ buffer: UnsafeBufferPointer<T>?) {
        self.name = name
        if let b = buffer, let base = b.baseAddress, b.count > 0 {
            start = UInt(bitPattern: base)
            // A buffer may claim a length no memory can have: the byte range then saturates at the top of the
            // address space instead of overflowing (it still overlaps whatever lies after its start).
            let (bytes, o1) = UInt(b.count).multipliedReportingOverflow(by: UInt(MemoryLayout<T>.stride))
            let (last, o2) = start.addingReportingOverflow(bytes)
            end = o1 || o2 ? UInt.max : last
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
@inline(__always)
internal func checkLength(_ name: String, _ count: Int, _ expected: Int) throws(ConvError) {
    if count != expected { throw .bufferLength(name: name, expected: expected, actual: count) }
}

/// Throws ``ConvError/overlappingBuffers(output:other:)`` if an output overlaps another output or any of `others`.
internal func checkNoOverlap(outputs: [BufferSpan], others: [BufferSpan]) throws(ConvError) {
    for (i, o) in outputs.enumerated() {
        for other in outputs[(i + 1)...] where o.overlaps(other) {
            throw .overlappingBuffers(output: o.name, other: other.name)
        }
        for other in others where o.overlaps(other) {
            throw .overlappingBuffers(output: o.name, other: other.name)
        }
    }
}
