import ConvEngine
import Foundation

/// 2×2 max pooling with stride 2 (PyTorch's `nn.MaxPool2d(2)`: no padding, odd trailing rows and columns
/// dropped), on caller-owned buffers so that a training step allocates nothing.
///
/// Layouts are NCHW row-major: the input is `N × C × H × W`, the output `N × C × ⌊H/2⌋ × ⌊W/2⌋`, and `N`
/// follows from the input's length. The forward pass records, for each output element, the offset in the
/// input of the maximum it took (the first one in row-major window order when several are equal, and
/// the last NaN when there is one, as PyTorch's kernel does), and the backward pass sends each output gradient to that offset.
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
    ///   - workers: threads to split the planes over (1: the calling thread only).
    /// - Throws: ``FashionMNISTError/invalidArgument(name:reason:)`` when a length does not match.
    @_specialize(where T == Float)
    public func forward<T: ConvScalar>(_ input: UnsafeBufferPointer<T>, output: UnsafeMutableBufferPointer<T>,
                                       indices: UnsafeMutableBufferPointer<Int32>, workers: Int = 1) throws(FashionMNISTError) {
        let n = try batch(ofInput: input.count, name: "pool input")
        let outCount = n * outputCountPerImage
        guard output.count == outCount, indices.count == outCount else {
            throw .invalidArgument(name: "pool output", reason: "output \(output.count) and indices \(indices.count) elements, \(outCount) needed")
        }
        let (p, q) = (outputHeight, outputWidth)
        guard let x = input.baseAddress, let y = output.baseAddress, let ix = indices.baseAddress else { return }
        let planeSize = height * width, w = width
        let channels = self.channels
        // Safe: every plane has H×W inputs and ⌊H/2⌋×⌊W/2⌋ outputs, so rows 2oy, 2oy+1 and columns 2ox, 2ox+1
        // of a window are inside its plane; offsets fit Int32 (checked in init). Workers take disjoint planes.
        Self.split(n * channels, over: workers) { planes in
            for plane in planes {
                let source = UnsafePointer(x + plane * planeSize), target = y + plane * p * q, argmax = ix + plane * p * q
                let planeOffset = (plane % channels) * planeSize
                for oy in 0..<p {
                    let row0 = source + 2 * oy * w
                    Self.poolRow(row0, row0 + w, count: q, width: w,
                                 rowOffset: Int32(truncatingIfNeeded: planeOffset + 2 * oy * w),
                                 into: target + oy * q, argmax: argmax + oy * q)
                }
            }
        }
    }

    /// Runs `body` on `workers` contiguous shares of `0..<count` at once (on the calling thread alone for one
    /// worker or one item).
    private static func split(_ count: Int, over workers: Int, _ body: (Range<Int>) -> Void) {
        let shares = max(1, min(workers, count))
        if shares == 1 { body(0..<count); return }
        withoutActuallyEscaping(body) { escapable in
            // Safe to send: concurrentPerform returns only when every share is done, and the shares write
            // disjoint parts of the buffers.
            let box = UncheckedSendableBody(body: escapable)
            DispatchQueue.concurrentPerform(iterations: shares) { share in
                box.body((count * share / shares)..<(count * (share + 1) / shares))
            }
        }
    }

    /// One output row from input rows `top` and `bottom`, one window at a time (the generic path, for Double).
    @inline(__always)
    private static func poolRow<T: ConvScalar>(_ top: UnsafePointer<T>, _ bottom: UnsafePointer<T>, count q: Int,
                                               width w: Int, rowOffset: Int32, into out: UnsafeMutablePointer<T>,
                                               argmax: UnsafeMutablePointer<Int32>) {
        if T.self == Float.self {
            // Safe: T is Float, so this only re-types the pointers.
            poolRowFloat(UnsafeRawPointer(top).assumingMemoryBound(to: Float.self),
                         UnsafeRawPointer(bottom).assumingMemoryBound(to: Float.self), count: q, width: w,
                         rowOffset: rowOffset, into: UnsafeMutableRawPointer(out).assumingMemoryBound(to: Float.self),
                         argmax: argmax)
            return
        }
        poolWindows(top, bottom, from: 0, to: q, width: w, rowOffset: rowOffset, into: out, argmax: argmax)
    }

    /// Windows `start..<end` of one output row, one by one.
    @inline(__always)
    private static func poolWindows<T: ConvScalar>(_ top: UnsafePointer<T>, _ bottom: UnsafePointer<T>, from start: Int,
                                                   to end: Int, width w: Int, rowOffset: Int32,
                                                   into out: UnsafeMutablePointer<T>, argmax: UnsafeMutablePointer<Int32>) {
        for ox in start..<end {
            var value = top[2 * ox], tap = 0
            keepLarger(top[2 * ox + 1], tap: 1, value: &value, offset: &tap)
            keepLarger(bottom[2 * ox], tap: w, value: &value, offset: &tap)
            keepLarger(bottom[2 * ox + 1], tap: w + 1, value: &value, offset: &tap)
            out[ox] = value
            argmax[ox] = rowOffset + Int32(truncatingIfNeeded: 2 * ox + tap)
        }
    }

    /// The Float row: four windows at a time in SIMD lanes (the even and odd columns of eight inputs); rows
    /// shorter than four windows one by one. Branch-free: which tap wins is random, and mispredicted branches would cost more than
    /// the rest of the pooling.
    private static func poolRowFloat(_ top: UnsafePointer<Float>, _ bottom: UnsafePointer<Float>, count q: Int,
                                     width w: Int, rowOffset: Int32, into out: UnsafeMutablePointer<Float>,
                                     argmax: UnsafeMutablePointer<Int32>) {
        let w32 = Int32(truncatingIfNeeded: w)
        let right = SIMD4<Int32>(repeating: 1), down = SIMD4<Int32>(repeating: w32), diagonal = down &+ 1
        let lanes = SIMD4<Int32>(0, 2, 4, 6)
        guard q >= 4 else {
            poolWindows(top, bottom, from: 0, to: q, width: w, rowOffset: rowOffset, into: out, argmax: argmax)
            return
        }
        // Runs of four from 0, the last one moved back to end at q (overlapping the one before, which only
        // writes the same values twice): every window goes through the SIMD path.
        var start = 0
        while start < q {
            let ox = min(start, q - 4)
            // Safe: columns 2ox … 2ox+7 are inside the row, as ox + 4 ≤ ⌊W/2⌋.
            let t = UnsafeRawPointer(top + 2 * ox).loadUnaligned(as: SIMD8<Float>.self)
            let b = UnsafeRawPointer(bottom + 2 * ox).loadUnaligned(as: SIMD8<Float>.self)
            var value = t.evenHalf, tap = SIMD4<Int32>(repeating: 0)
            keepLarger(t.oddHalf, tap: right, value: &value, offset: &tap)
            keepLarger(b.evenHalf, tap: down, value: &value, offset: &tap)
            keepLarger(b.oddHalf, tap: diagonal, value: &value, offset: &tap)
            UnsafeMutableRawPointer(out + ox).storeBytes(of: value, as: SIMD4<Float>.self)
            let offsets = tap &+ lanes &+ (rowOffset &+ Int32(truncatingIfNeeded: 2 * ox))
            UnsafeMutableRawPointer(argmax + ox).storeBytes(of: offsets, as: SIMD4<Int32>.self)
            start += 4
        }
    }

    /// The scalar `keepLarger` lane by lane.
    @inline(__always)
    private static func keepLarger(_ v: SIMD4<Float>, tap: SIMD4<Int32>, value: inout SIMD4<Float>,
                                   offset: inout SIMD4<Int32>) {
        let replace = (v .> value) .| (v .!= v)
        value.replace(with: v, where: replace)
        // As bits (a Float lane's mask is an all-ones or all-zeros Int32): `replace(with:where:)` on the Int32
        // lanes compiles to a branch per lane.
        let bits = unsafeBitCast(replace, to: SIMD4<Int32>.self)
        offset = (offset & ~bits) | (tap & bits)
    }

    /// PyTorch's rule: a later tap replaces the running maximum only when strictly larger, or when it is NaN
    /// (`v != v`), as two selects on one condition.
    @inline(__always)
    private static func keepLarger<T: ConvScalar>(_ v: T, tap: Int, value: inout T, offset: inout Int) {
        let replace = v > value || v != v
        value = replace ? v : value
        offset = replace ? tap : offset
    }

    /// Backward pass: sets `inputGradient` to zero, then adds each output gradient at its maximum's offset.
    ///
    /// - Parameters:
    ///   - outputGradient: `N × C × ⌊H/2⌋ × ⌊W/2⌋`.
    ///   - indices: the forward pass's offsets for the same batch.
    ///   - inputGradient: `N × C × H × W`, overwritten.
    ///   - workers: threads to split the images over (1: the calling thread only).
    /// - Throws: ``FashionMNISTError/invalidArgument(name:reason:)`` when a length does not match or an index
    ///   is outside its image.
    @_specialize(where T == Float)
    public func backward<T: ConvScalar>(outputGradient: UnsafeBufferPointer<T>, indices: UnsafeBufferPointer<Int32>,
                                        inputGradient: UnsafeMutableBufferPointer<T>, workers: Int = 1) throws(FashionMNISTError) {
        let n = try batch(ofInput: inputGradient.count, name: "pool input gradient")
        let outCount = n * outputCountPerImage
        guard outputGradient.count == outCount, indices.count == outCount else {
            throw .invalidArgument(name: "pool output gradient",
                                   reason: "output gradient \(outputGradient.count) and indices \(indices.count) elements, \(outCount) needed")
        }
        guard let dx = inputGradient.baseAddress else { return }
        let perImage = outputCountPerImage, imageSize = inputCountPerImage
        // Each worker zeroes and fills whole images, so no two write the same element. A bad index stops its
        // image; the first one found is reported after all workers are done.
        // On the stack for any real batch (one word per image), so a step allocates nothing.
        try withUnsafeTemporaryAllocation(of: Int.self, capacity: max(1, n)) { (badIndex) throws(FashionMNISTError) in
            badIndex.initialize(repeating: -1)
            Self.split(n, over: workers) { images in
                for image in images {
                    let base = image * imageSize
                    (dx + base).update(repeating: 0, count: imageSize)
                    for o in (image * perImage)..<((image + 1) * perImage) {
                        let offset = Int(indices[o])
                        guard offset >= 0, offset < imageSize else { badIndex[image] = o; break }
                        dx[base + offset] += outputGradient[o]
                    }
                }
            }
            if let o = badIndex.first(where: { $0 >= 0 }) {
                throw .invalidArgument(name: "pool indices", reason: "index \(indices[o]) at \(o) is outside the \(imageSize)-element image")
            }
        }
    }
}

/// Carries the pooling's body into `concurrentPerform`'s `@Sendable` closure (see `MaxPool2D.split`).
private struct UncheckedSendableBody: @unchecked Sendable {
    let body: (Range<Int>) -> Void
}
