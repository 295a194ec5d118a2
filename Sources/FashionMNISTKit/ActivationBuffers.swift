/// Buffers allocated once for the largest batch and reused by every step, so a step allocates nothing.
///
/// A batch of `n ≤ maximumBatch` images uses the first `n` images' worth of each buffer (``prefix(_:images:)``).
/// The owner (``FashionMNISTNetwork``) frees them in its `deinit`.
struct ActivationBuffers {
    /// Elements per image of each buffer.
    struct Sizes {
        var conv1: Int, pool1: Int, conv2: Int, pool2: Int, logits: Int
    }

    let sizes: Sizes
    let maximumBatch: Int
    /// conv1's output (after ReLU), and its gradient.
    let a1, da1: UnsafeMutableBufferPointer<Float>
    /// pool1's output, and its gradient.
    let p1, dp1: UnsafeMutableBufferPointer<Float>
    /// conv2's output (after ReLU), and its gradient.
    let a2, da2: UnsafeMutableBufferPointer<Float>
    /// pool2's output (the linear layer's input), and its gradient.
    let p2, dp2: UnsafeMutableBufferPointer<Float>
    /// The logits, and the loss's gradient with respect to them.
    let logits, dLogits: UnsafeMutableBufferPointer<Float>
    /// The two poolings' argmax offsets.
    let indices1, indices2: UnsafeMutableBufferPointer<Int32>

    /// Buffers for `maximumBatch` images of `sizes` (the caller has checked that the products fit in `Int`).
    init(sizes: Sizes, maximumBatch: Int) {
        self.sizes = sizes
        self.maximumBatch = maximumBatch
        func make(_ perImage: Int) -> UnsafeMutableBufferPointer<Float> {
            let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: perImage * maximumBatch)
            b.initialize(repeating: 0)
            return b
        }
        func makeIndices(_ perImage: Int) -> UnsafeMutableBufferPointer<Int32> {
            let b = UnsafeMutableBufferPointer<Int32>.allocate(capacity: perImage * maximumBatch)
            b.initialize(repeating: 0)
            return b
        }
        (a1, da1) = (make(sizes.conv1), make(sizes.conv1))
        (p1, dp1) = (make(sizes.pool1), make(sizes.pool1))
        (a2, da2) = (make(sizes.conv2), make(sizes.conv2))
        (p2, dp2) = (make(sizes.pool2), make(sizes.pool2))
        (logits, dLogits) = (make(sizes.logits), make(sizes.logits))
        (indices1, indices2) = (makeIndices(sizes.pool1), makeIndices(sizes.pool2))
    }

    /// The first `images` images' worth of `buffer`, which holds `buffer.count / maximumBatch` elements per image.
    func prefix<E>(_ buffer: UnsafeMutableBufferPointer<E>, images: Int) -> UnsafeMutableBufferPointer<E> {
        UnsafeMutableBufferPointer(rebasing: buffer[0..<(buffer.count / maximumBatch * images)])
    }

    /// Frees every buffer; the value must not be used afterwards.
    func deallocate() {
        for b in [a1, da1, p1, dp1, a2, da2, p2, dp2, logits, dLogits] { b.deallocate() }
        indices1.deallocate()
        indices2.deallocate()
    }
}
