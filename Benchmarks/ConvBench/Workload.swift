import ConvEngine

/// A heap buffer the benchmark owns: allocated once, written in full at creation (so its pages are
/// touched before anything is timed), freed on deinit.
final class Tensor<T: ConvScalar> {
    let buffer: UnsafeMutableBufferPointer<T>

    /// `count` elements named `name` (for the message when they cannot fit): the library's memory check
    /// first, so a layer too large for the machine is a thrown error instead of a trap in the allocator.
    init(_ name: String, count: Int, repeating value: T = 0) throws {
        try MemoryCheck.checkAllocation(name, count: count, of: T.self)
        buffer = .allocate(capacity: max(count, 1))
        buffer.initialize(repeating: value)
    }

    /// Uniform values in `range`, from `rng`, drawn in channels-first order and stored in `order` (so the same
    /// seed gives the same tensor in every layout).
    convenience init(_ name: String, count: Int, uniformIn range: ClosedRange<Double>,
                     using rng: inout SeededGenerator, order: TensorOrder? = nil) throws {
        try self.init(name, count: count)
        let lo = range.lowerBound, width = range.upperBound - range.lowerBound
        for i in 0..<count {
            // 53 random bits → [0, 1); rounded once into T.
            let unit = Double(rng.next() >> 11) * 0x1p-53
            buffer[order?.stored(channelsFirst: i) ?? i] = T(lo + width * unit)
        }
    }

    /// An exact copy in another precision (Float → Double is exact).
    convenience init<U: ConvScalar>(_ name: String, converting other: Tensor<U>, count: Int) throws {
        try self.init(name, count: count)
        for i in 0..<count { buffer[i] = T(other.buffer[i]) }
    }

    deinit { buffer.deallocate() }

    var count: Int { buffer.count }
    var pointer: UnsafeMutablePointer<T> { buffer.baseAddress! }  // Safe: allocated with capacity ≥ 1.
    var readOnly: UnsafeBufferPointer<T> { UnsafeBufferPointer(buffer) }

    /// The first `count` elements (for example image 0 of a batch, which NCHW stores first).
    func prefix(_ count: Int) -> UnsafeBufferPointer<T> { slice(0..<count) }
    /// Elements `range`, read-only.
    func slice(_ range: Range<Int>) -> UnsafeBufferPointer<T> { UnsafeBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[range])) }
}

/// Inputs and outputs of one layer in one precision: X, F, B and dO (inputs), and O, dX, dF, dB (written by
/// the engine and later read back for verification).
///
/// The data have a nonzero mean (X, F and dO uniform in [-0.5, 1), B in [-1, 1)), so that sums do not
/// cancel and a dropped term is visible even against Float's loose bound at long reductions (MATH.md).
final class LayerTensors<T: ConvScalar> {
    let geometry: ConvGeometry
    let input, filter, bias, outputGradient: Tensor<T>
    let output, inputGradient, filterGradient, biasGradient: Tensor<T>

    static var inputRange: ClosedRange<Double> { -0.5...1.0 }

    /// Fresh random inputs from `rng`, stored in `g`'s layout (the same values in every layout).
    /// - Throws: ``ConvError`` when a tensor would not fit in physical memory (``MemoryCheck``).
    init(_ g: ConvGeometry, rng: inout SeededGenerator) throws {
        geometry = g
        let orders = g.orders
        input = try Tensor("input", count: g.inputCount, uniformIn: Self.inputRange, using: &rng, order: orders.input)
        filter = try Tensor("filter", count: g.filterCount, uniformIn: Self.inputRange, using: &rng, order: orders.filter)
        bias = try Tensor("bias", count: g.biasCount, uniformIn: -1...1, using: &rng)
        outputGradient = try Tensor("output gradient", count: g.outputCount, uniformIn: Self.inputRange, using: &rng,
                                    order: orders.output)
        (output, inputGradient, filterGradient, biasGradient) = try Self.results(g)
    }

    /// The same inputs as `other`, converted exactly (Float → Double), with fresh output buffers.
    /// - Throws: as ``init(_:rng:)``.
    init<U: ConvScalar>(converting other: LayerTensors<U>) throws {
        let g = other.geometry
        geometry = g
        input = try Tensor("input (\(T.self))", converting: other.input, count: g.inputCount)
        filter = try Tensor("filter (\(T.self))", converting: other.filter, count: g.filterCount)
        bias = try Tensor("bias (\(T.self))", converting: other.bias, count: g.biasCount)
        outputGradient = try Tensor("output gradient (\(T.self))", converting: other.outputGradient, count: g.outputCount)
        (output, inputGradient, filterGradient, biasGradient) = try Self.results(g)
    }

    /// Buffers for O, dX, dF and dB of `g`.
    static func results(_ g: ConvGeometry) throws -> (Tensor<T>, Tensor<T>, Tensor<T>, Tensor<T>) {
        (try Tensor("output", count: g.outputCount), try Tensor("input gradient", count: g.inputCount),
         try Tensor("filter gradient", count: g.filterCount), try Tensor("bias gradient", count: g.biasCount))
    }

    /// Clears the outputs (so a verified value can only come from the run that follows).
    func clearOutputs(with value: T = .nan) {
        output.buffer.update(repeating: value)
        inputGradient.buffer.update(repeating: value)
        filterGradient.buffer.update(repeating: value)
        biasGradient.buffer.update(repeating: value)
    }
}

/// The two timed operations of the engine on a ``LayerTensors``.
extension ConvolutionEngine {
    func runForward<T: ConvScalar>(_ t: LayerTensors<T>, workspace: ConvWorkspace<T>) throws {
        try forward(t.geometry, input: t.input.readOnly, filter: t.filter.readOnly, bias: t.bias.readOnly,
                    output: t.output.buffer, workspace: workspace)
    }

    /// The forward pass with `prepared` in place of the tensors' filter (the same output buffer).
    func runForward<T: ConvScalar>(_ t: LayerTensors<T>, prepared: PreparedFilter<T>, workspace: ConvWorkspace<T>) throws {
        try forward(t.geometry, input: t.input.readOnly, filter: prepared, bias: t.bias.readOnly,
                    output: t.output.buffer, workspace: workspace)
    }

    func runBackward<T: ConvScalar>(_ t: LayerTensors<T>, workspace: ConvWorkspace<T>) throws {
        try backward(t.geometry, input: t.input.readOnly, filter: t.filter.readOnly,
                     outputGradient: t.outputGradient.readOnly, inputGradient: t.inputGradient.buffer,
                     filterGradient: t.filterGradient.buffer, biasGradient: t.biasGradient.buffer,
                     workspace: workspace)
    }
}
