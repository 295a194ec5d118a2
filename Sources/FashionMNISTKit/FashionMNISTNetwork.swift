import ConvEngine
import ConvEngineNPY
import Foundation

/// The example's convolutional network, PyTorch's equivalent being
///
/// ```python
/// nn.Sequential(conv1 = nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
///               conv2 = nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
///               nn.Flatten(), fc = nn.Linear(3136, 10))
/// ```
///
/// for `N × 1 × 28 × 28` images: conv1 → `N × 32 × 28 × 28`, pool → `N × 32 × 14 × 14`, conv2 → `N × 64 × 14 × 14`,
/// pool → `N × 64 × 7 × 7` (flattened in that order to `N × 3136`), fc → `N × 10` logits. The ReLUs are fused
/// into the convolutions (``Conv2DLayer`` with ``Activation/relu``). Every activation buffer is allocated once,
/// at ``maximumBatch`` images, so ``trainingStep(images:labels:optimizer:)`` allocates nothing.
///
/// As a ``ParameterContainer`` its parameters carry PyTorch's `state_dict` names, in its order:
/// `conv1.weight`, `conv1.bias`, `conv2.weight`, `conv2.bias`, `fc.weight`, `fc.bias`.
public final class FashionMNISTNetwork: ParameterContainer {
    /// The element type.
    public typealias Scalar = Float
    /// conv 1→32, 3×3, padding 1, with ReLU.
    public let conv1: Conv2DLayer<Float>
    /// 2×2 max pooling of `32 × 28 × 28`.
    public let pool1: MaxPool2D
    /// conv 32→64, 3×3, padding 1, with ReLU.
    public let conv2: Conv2DLayer<Float>
    /// 2×2 max pooling of `64 × 14 × 14`.
    public let pool2: MaxPool2D
    /// linear 3136→10.
    public let fc: Linear<Float>
    /// The most images one call takes.
    public let maximumBatch: Int
    /// Threads for the poolings: the engine's worker count.
    public let workers: Int
    /// When set, each training step adds its phases' wall times here (``StepProfile``); `nil` (the default)
    /// reads no clock.
    public var profile: StepProfile?
    private let buffers: ActivationBuffers

    /// A network with PyTorch's default initialisation, drawn from `generator` in `state_dict` order
    /// (conv1's weight and bias, conv2's, then fc's).
    ///
    /// - Parameters:
    ///   - engine: runs the two convolutions (its worker count and ``ConvNumerics``).
    ///   - generator: the source of the initial weights.
    ///   - maximumBatch: the largest batch a call may pass, 1…4096.
    /// - Throws: ``FashionMNISTError/invalidArgument(name:reason:)`` for a batch limit out of range,
    ///   ``FashionMNISTError/convolution(_:)`` if the library refuses a layer.
    public init(engine: ConvolutionEngine, generator: inout SeededGenerator, maximumBatch: Int = 64)
        throws(FashionMNISTError) {
        guard (1...4096).contains(maximumBatch) else {
            throw .invalidArgument(name: "maximumBatch", reason: "\(maximumBatch) is outside 1...4096")
        }
        let side = FashionMNISTDataset.side
        do {
            let g1 = try ConvGeometry(batch: 1, inputChannels: 1, inputHeight: side, inputWidth: side,
                                      outputChannels: 32, kernelHeight: 3, kernelWidth: 3, padding: 1)
            conv1 = try Conv2DLayer(geometry: g1, activation: .relu, engine: engine, generator: &generator)
            let g2 = try ConvGeometry(batch: 1, inputChannels: 32, inputHeight: side / 2, inputWidth: side / 2,
                                      outputChannels: 64, kernelHeight: 3, kernelWidth: 3, padding: 1)
            conv2 = try Conv2DLayer(geometry: g2, activation: .relu, engine: engine, generator: &generator)
        } catch {
            throw .convolution(error)
        }
        pool1 = try MaxPool2D(channels: 32, height: side, width: side)
        pool2 = try MaxPool2D(channels: 64, height: side / 2, width: side / 2)
        fc = try Linear(inputFeatures: pool2.outputCountPerImage, outputFeatures: FashionMNISTDataset.classes,
                        generator: &generator)
        self.maximumBatch = maximumBatch
        workers = engine.workers
        buffers = ActivationBuffers(
            sizes: .init(conv1: pool1.inputCountPerImage, pool1: pool1.outputCountPerImage,
                         conv2: pool2.inputCountPerImage, pool2: pool2.outputCountPerImage,
                         logits: FashionMNISTDataset.classes),
            maximumBatch: maximumBatch)
    }

    deinit { buffers.deallocate() }

    /// The `state_dict` names, in order.
    public var parameterNames: [String] {
        ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc.weight", "fc.bias"]
    }

    /// Calls `body` on each parameter in ``parameterNames`` order, in place.
    public func updateParameters(_ body: (inout Parameter<Float>) throws(ConvError) -> Void) throws(ConvError) {
        try conv1.updateParameters(body)
        try conv2.updateParameters(body)
        try fc.updateParameters(body)
    }

    /// Sets every gradient to zero.
    public func zeroGradients() {
        conv1.zeroGradients()
        conv2.zeroGradients()
        fc.zeroGradients()
    }

    /// The batch size `images` holds, checked against ``maximumBatch``.
    private func batch(of images: UnsafeBufferPointer<Float>) throws(FashionMNISTError) -> Int {
        let perImage = FashionMNISTDataset.pixels
        guard images.count % perImage == 0, (1...maximumBatch).contains(images.count / perImage) else {
            throw .invalidArgument(name: "images", reason: "\(images.count) elements are not 1...\(maximumBatch) images of \(perImage) pixels")
        }
        return images.count / perImage
    }

    /// The forward pass: the logits of `images` (`N × 1 × 28 × 28`, `N ≤ maximumBatch`), `N × 10`.
    ///
    /// The result points into the network's own buffer: it is valid until the next call.
    /// - Throws: ``FashionMNISTError/invalidArgument(name:reason:)`` for a buffer that is not whole images or
    ///   holds too many; ``FashionMNISTError/convolution(_:)`` from the layers.
    public func forward(images: UnsafeBufferPointer<Float>) throws(FashionMNISTError) -> UnsafeBufferPointer<Float> {
        let n = try batch(of: images)
        let b = buffers
        let a1 = b.prefix(b.a1, images: n), p1 = b.prefix(b.p1, images: n)
        let a2 = b.prefix(b.a2, images: n), p2 = b.prefix(b.p2, images: n)
        let logits = b.prefix(b.logits, images: n)
        var mark = ContinuousClock.now
        try convCall { () throws(ConvError) in try conv1.forward(images, output: a1) }
        record(.conv1Forward, &mark)
        try pool1.forward(UnsafeBufferPointer(a1), output: p1, indices: b.prefix(b.indices1, images: n), workers: workers)
        record(.pool1Forward, &mark)
        try convCall { () throws(ConvError) in try conv2.forward(UnsafeBufferPointer(p1), output: a2) }
        record(.conv2Forward, &mark)
        try pool2.forward(UnsafeBufferPointer(a2), output: p2, indices: b.prefix(b.indices2, images: n), workers: workers)
        record(.pool2Forward, &mark)
        try fc.forward(UnsafeBufferPointer(p2), output: logits)
        record(.fcForward, &mark)
        return UnsafeBufferPointer(logits)
    }

    /// One training step on a batch: forward, mean softmax cross-entropy, zeroed gradients, backward, and
    /// one `optimizer` step of every parameter (PyTorch's `zero_grad(); loss.backward(); step()`).
    ///
    /// - Parameters:
    ///   - images: `N × 1 × 28 × 28`, `N ≤ maximumBatch`.
    ///   - labels: `N` labels in 0…9.
    /// - Returns: the batch's mean loss before the update.
    /// - Throws: as ``forward(images:)``; ``FashionMNISTError/invalidArgument(name:reason:)`` for labels that
    ///   do not match; ``FashionMNISTError/convolution(_:)`` from the optimiser.
    public func trainingStep(images: UnsafeBufferPointer<Float>, labels: UnsafeBufferPointer<Int32>,
                             optimizer: some Optimizer) throws(FashionMNISTError) -> Double {
        let logits = try forward(images: images)
        let n = logits.count / FashionMNISTDataset.classes
        let b = buffers
        let dLogits = b.prefix(b.dLogits, images: n)
        var mark = ContinuousClock.now
        let loss = try SoftmaxCrossEntropy.loss(logits: logits, labels: labels, classes: FashionMNISTDataset.classes,
                                                gradient: dLogits)
        record(.loss, &mark)
        zeroGradients()
        record(.zeroGradients, &mark)
        let a1 = UnsafeBufferPointer(b.prefix(b.a1, images: n)), p1 = UnsafeBufferPointer(b.prefix(b.p1, images: n))
        let a2 = UnsafeBufferPointer(b.prefix(b.a2, images: n)), p2 = UnsafeBufferPointer(b.prefix(b.p2, images: n))
        let da1 = b.prefix(b.da1, images: n), dp1 = b.prefix(b.dp1, images: n)
        let da2 = b.prefix(b.da2, images: n), dp2 = b.prefix(b.dp2, images: n)
        try fc.backward(input: p2, outputGradient: UnsafeBufferPointer(dLogits), inputGradient: dp2)
        record(.fcBackward, &mark)
        try pool2.backward(outputGradient: UnsafeBufferPointer(dp2),
                           indices: UnsafeBufferPointer(b.prefix(b.indices2, images: n)), inputGradient: da2, workers: workers)
        record(.pool2Backward, &mark)
        try convCall { () throws(ConvError) in
            try conv2.backward(input: p1, output: a2, outputGradient: UnsafeBufferPointer(da2), inputGradient: dp1)
        }
        record(.conv2Backward, &mark)
        try pool1.backward(outputGradient: UnsafeBufferPointer(dp1),
                           indices: UnsafeBufferPointer(b.prefix(b.indices1, images: n)), inputGradient: da1, workers: workers)
        record(.pool1Backward, &mark)
        try convCall { () throws(ConvError) in
            try conv1.backward(input: images, output: a1, outputGradient: UnsafeBufferPointer(da1), inputGradient: nil)
        }
        record(.conv1Backward, &mark)
        try convCall { () throws(ConvError) in try optimizer.step(self) }
        record(.optimizer, &mark)
        profile?.steps += 1
        return loss
    }

    /// Adds the time since `mark` to `phase` of ``profile`` (when profiling) and moves `mark` on.
    @inline(__always)
    private func record(_ phase: StepProfile.Phase, _ mark: inout ContinuousClock.Instant) {
        if profile != nil { profile!.record(phase, since: &mark) }
    }

    /// The weights as PyTorch's `state_dict` (``parameterNames``, float32, PyTorch's shapes), ready for `.npz`.
    ///
    /// - Throws: ``FashionMNISTError/archive(_:)`` if an array cannot be made.
    public func stateDict() throws(FashionMNISTError) -> NPZArchive {
        var archive = NPZArchive()
        var arrays: [(String, [Int], [Float])] = []
        var names = parameterNames.makeIterator()
        // Safe: updateParameters walks exactly parameterNames, in order.
        try convCall { () throws(ConvError) in
            try updateParameters { p throws(ConvError) in arrays.append((names.next()!, p.shape, p.value)) }
        }
        for (name, shape, value) in arrays {
            archive[name] = try npyCall { () throws(NPYError) in try NPYArray(shape: shape, floats: value) }
        }
        return archive
    }

    /// Replaces every parameter's value with the array of the same name in `archive` (float32 or float64,
    /// the same shape); gradients and optimiser state are left as they are.
    ///
    /// - Throws: ``FashionMNISTError/weights(name:reason:)`` for a missing array or a shape that differs.
    public func load(stateDict archive: NPZArchive) throws(FashionMNISTError) {
        var values: [[Float]] = []
        for name in parameterNames {
            guard let array = archive[name] else { throw .weights(name: name, reason: "not in the archive") }
            values.append(array.scalars(as: Float.self))
        }
        var shapes: [[Int]] = []
        try convCall { () throws(ConvError) in try updateParameters { p throws(ConvError) in shapes.append(p.shape) } }
        for (i, name) in parameterNames.enumerated() where archive[name]?.shape != shapes[i] {
            throw .weights(name: name, reason: "shape \(archive[name]?.shape ?? []), the network has \(shapes[i])")
        }
        var index = 0
        try convCall { () throws(ConvError) in
            try updateParameters { p throws(ConvError) in
                p.value = values[index]
                index += 1
            }
        }
    }
}
