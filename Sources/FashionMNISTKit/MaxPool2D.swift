import ConvEngine

/// 2×2 max pooling with stride 2 (PyTorch's `nn.MaxPool2d(2)`: no padding, odd trailing rows and columns
/// dropped), on caller-owned buffers so that a training step allocates nothing.
///
/// Layouts are NCHW row-major: the input is `N × C × H × W`, the output `N × C × ⌊H/2⌋ × ⌊W/2⌋`, and `N`
/// follows from the input's length. The forward pass records, for each output element, the offset in the
/// input of the maximum it took (the first one in row-major window order when several are equal, as
/// PyTorch does; a NaN wins over any number), and the backward pass sends each output gradient to that offset.
public struct MaxPool2D: Sendable, Equatable {
    /// Channels per image.
    public let channels: Int
    /// Input height.
    public let height: Int
    /// Input width.
    public let width: Int

    /// Output height, `⌊height / 2⌋`.
    public var outputHeight: Int { height / 2 }
    /// Output width, `⌊width / 2⌋`.
    public var outputWidth: Int { width / 2 }
    /// Input elements per image, `C·H·W`.
    public var inputCountPerImage: Int { channels * height * width }
    /// Output elements per image, `C·⌊H/2⌋·⌊W/2⌋`.
    public var outputCountPerImage: Int { channels * outputHeight * outputWidth }

    /// A pooling of `channels × height × width` images.
    ///
    /// - Throws: ``FashionMNISTError/invalidArgument(name:reason:)`` when a size is below its minimum (1 channel,
    ///   height and width 2) or `C·H·W` overflows or exceeds the `Int32` offsets the indices hold.
    public init(channels: Int, height: Int, width: Int) throws(FashionMNISTError) {
        guard channels >= 1 else { throw .invalidArgument(name: "channels", reason: "\(channels) is below 1") }
        guard height >= 2, width >= 2 else {
            throw .invalidArgument(name: "height × width", reason: "\(height) × \(width): a 2×2 window needs at least 2 × 2")
        }
        let (hw, o1) = height.multipliedReportingOverflow(by: width)
        let (chw, o2) = hw.multipliedReportingOverflow(by: channels)
        guard !o1, !o2, chw <= Int(Int32.max) else {
            throw .invalidArgument(name: "channels × height × width", reason: "does not fit the Int32 argmax offsets")
        }
        self.channels = channels
        self.height = height
        self.width = width
    }

    /// The batch size a buffer of `count` input elements holds, or a thrown error when it is not whole images.
    private func batch(ofInput count: Int, name: String) throws(FashionMNISTError) -> Int {
        guard count % inputCountPerImage == 0 else {
            throw .invalidArgument(name: name, reason: "\(count) elements are not whole \(channels)×\(height)×\(width) images")
        }
        return count / inputCountPerImage
    }

    /// Forward pass: writes the maxima to `output` and their offsets within each image to `indices`.
    ///
    /// - Parameters:
    ///   - input: `N × C × H × W`.
    ///   - output: `N × C × ⌊H/2⌋ × ⌊W/2⌋`, overwritten.
    ///   - indices: as many elements as `output`, overwritten with each maximum's offset within its image
    ///     (`c·H·W + y·W + x`).
    /// - Throws: ``FashionMNISTError/invalidArgument(name:reason:)`` when a length does not match.
    public func forward<T: ConvScalar>(_ input: UnsafeBufferPointer<T>, output: UnsafeMutableBufferPointer<T>,
                                       indices: UnsafeMutableBufferPointer<Int32>) throws(FashionMNISTError) {
        let n = try batch(ofInput: input.count, name: "pool input")
        let outCount = n * outputCountPerImage
        guard output.count == outCount, indices.count == outCount else {
            throw .invalidArgument(name: "pool output", reason: "output \(output.count) and indices \(indices.count) elements, \(outCount) needed")
        }
        let (p, q) = (outputHeight, outputWidth)
        guard let x = input.baseAddress, let y = output.baseAddress, let ix = indices.baseAddress else { return }
        var o = 0
        for image in 0..<n {
            let imageBase = image * inputCountPerImage
            for c in 0..<channels {
                let plane = c * height * width
                for oy in 0..<p {
                    // Safe: oy < ⌊H/2⌋ and ox < ⌊W/2⌋, so rows 2oy, 2oy+1 and columns 2ox, 2ox+1 are inside the plane.
                    let row0 = plane + 2 * oy * width
                    for ox in 0..<q {
                        let a = row0 + 2 * ox
                        var best = a, value = x[imageBase + a]
                        Self.keepLarger(x[imageBase + a + 1], at: a + 1, value: &value, offset: &best)
                        Self.keepLarger(x[imageBase + a + width], at: a + width, value: &value, offset: &best)
                        Self.keepLarger(x[imageBase + a + width + 1], at: a + width + 1, value: &value, offset: &best)
                        y[o] = value
                        ix[o] = Int32(truncatingIfNeeded: best)
                        o += 1
                    }
                }
            }
        }
    }

    /// PyTorch's rule: a later tap replaces the running maximum only when strictly larger, or when it is NaN.
    @inline(__always)
    private static func keepLarger<T: ConvScalar>(_ v: T, at tap: Int, value: inout T, offset: inout Int) {
        if v > value || (v.isNaN && !value.isNaN) { value = v; offset = tap }
    }

    /// Backward pass: sets `inputGradient` to zero, then adds each output gradient at its maximum's offset.
    ///
    /// - Parameters:
    ///   - outputGradient: `N × C × ⌊H/2⌋ × ⌊W/2⌋`.
    ///   - indices: the forward pass's offsets for the same batch.
    ///   - inputGradient: `N × C × H × W`, overwritten.
    /// - Throws: ``FashionMNISTError/invalidArgument(name:reason:)`` when a length does not match or an index
    ///   is outside its image.
    public func backward<T: ConvScalar>(outputGradient: UnsafeBufferPointer<T>, indices: UnsafeBufferPointer<Int32>,
                                        inputGradient: UnsafeMutableBufferPointer<T>) throws(FashionMNISTError) {
        let n = try batch(ofInput: inputGradient.count, name: "pool input gradient")
        let outCount = n * outputCountPerImage
        guard outputGradient.count == outCount, indices.count == outCount else {
            throw .invalidArgument(name: "pool output gradient",
                                   reason: "output gradient \(outputGradient.count) and indices \(indices.count) elements, \(outCount) needed")
        }
        guard let dx = inputGradient.baseAddress else { return }
        dx.update(repeating: 0, count: inputGradient.count)
        let perImage = outputCountPerImage, imageSize = inputCountPerImage
        for image in 0..<n {
            let base = image * imageSize
            for o in (image * perImage)..<((image + 1) * perImage) {
                let offset = Int(indices[o])
                guard offset >= 0, offset < imageSize else {
                    throw .invalidArgument(name: "pool indices", reason: "index \(offset) at \(o) is outside the \(imageSize)-element image")
                }
                dx[base + offset] += outputGradient[o]
            }
        }
    }
}
