/// A trainable layer of one operation of the convolution family with a fused activation, as PyTorch's
/// `nn.Conv2d`, `nn.ConvTranspose2d`, `nn.Conv1d`, `nn.ConvTranspose1d` and `nn.Conv3d`: it owns its weight,
/// its optional bias, their accumulated gradients, its engine's workspace and the scratch its backward pass
/// needs (<doc:LayersAndTraining>).
///
/// `Geometry` says which operation (``LayerGeometry``); the aliases name the five: ``Conv2DLayer``,
/// ``ConvTranspose2DLayer``, ``Conv1DLayer``, ``ConvTranspose1DLayer`` and ``Conv3DLayer``. Activations are
/// row-major with the batch first, in the geometry's layout (NCL, NCHW, NCDHW by default; NLC, NHWC, NDHWC with
/// channels-last activations, <doc:Layouts>); the weight has PyTorch's shape for the operation
/// (``LayerGeometry/weightShape``: `K×(C/G)×k…` for a convolution, `Cin×(Cout/G)×k…` for a transposed one), its
/// elements stored in the geometry's filter layout (`K×k…×(C/G)` for a channels-last filter, as a PyTorch weight
/// in `channels_last` memory format keeps its shape and changes its strides).
/// The layer's ``geometry`` fixes everything but the batch: each call's batch is the input's element count
/// divided by one item's (`geometry.inputCount` at batch 1).
///
/// ```swift
/// var rng = SeededGenerator(seed: 1)
/// let conv = try Conv2DLayer<Float>(
///     geometry: ConvGeometry(batch: 1, inputChannels: 1, inputHeight: 28, inputWidth: 28,
///                            outputChannels: 32, kernelHeight: 3, kernelWidth: 3, padding: 1),
///     activation: .relu, generator: &rng)
/// let y = try conv.forward(images)             // N×32×28×28, ReLU applied
/// let dX = try conv.backward(dY)               // adds into conv.weight.gradient and conv.bias!.gradient
/// try SGD(learningRate: 0.01).step(conv)       // then conv.zeroGradients() before the next batch
/// ```
///
/// **Activation.** The forward pass computes `f(op(X, F) + B)`; the backward pass applies f′, read from the
/// saved output (``Activation``), to dL/dO before the gradients. The 2-D convolution applies f to each output
/// tile inside its algorithms; the other operations apply it over the output right after their plain pass.
///
/// **Gradients accumulate** (PyTorch's semantics): every backward call *adds* its dL/dF and dL/dB to
/// ``Parameter/gradient`` until ``zeroGradients()``, so micro-batches add up. dL/dX is overwritten.
///
/// **Allocation.** The buffer forms allocate nothing once the workspace and scratch have grown to the
/// largest batch seen. The array forms keep the forward call's input and output arrays for
/// ``backward(_:computeInputGradient:)`` (copy-on-write: no copy) and allocate the arrays they return.
///
/// **Threads.** A layer is a reference type with mutable state (its gradients, workspace and saved
/// activations): use one layer from one thread at a time. The engine inside still runs each call on its
/// ``ConvolutionEngine/workers`` threads.
public final class ConvolutionLayer<Geometry: LayerGeometry, T: ConvScalar>: ParameterContainer {
    public typealias Scalar = T

    /// The layer's operation at batch 1.
    public let geometry: Geometry
    /// The activation fused into the forward pass (and its derivative into the backward pass).
    public let activation: Activation
    /// The engine that runs the passes (its worker count, numerics and workspace limit apply).
    public let engine: ConvolutionEngine
    /// The filter F, named `"weight"`, shape ``LayerGeometry/weightShape``, in the geometry's filter layout.
    public var weight: Parameter<T>
    /// The bias B, named `"bias"`, shape `[outputChannels]` (``ConvolutionShape/biasCount``), or `nil` for a
    /// layer without one.
    public var bias: Parameter<T>?

    private let workspace = ConvWorkspace<T>()
    /// One call's dL/dF and dL/dB before they are added to the parameters' gradients.
    private var filterGradientScratch: [T]
    private var biasGradientScratch: [T]
    /// dL/dZ, the gradient before the activation, for the largest batch seen.
    private var preActivationScratch: [T] = []
    /// The geometry of the last batch size used (rebuilding it validates every field again).
    private var batchGeometry: Geometry
    /// What the array form of ``forward(_:)`` keeps for ``backward(_:computeInputGradient:)``.
    private var savedInput: [T]?
    private var savedOutput: [T]?

    /// A layer with PyTorch's default initialisation for its operation: the weight from
    /// ``Initializer/pytorchDefaultWeight(shape:using:)`` (Kaiming uniform with a = √5, so U(±1/√fan_in)) and the
    /// bias from ``Initializer/pytorchDefaultBias(count:fanIn:using:)`` (U(±1/√fan_in)), drawn in that order from
    /// `generator`. fan_in is the weight shape's (``Initializer/fans(shape:)``, as `torch.nn.init` computes it):
    /// `C/G·k…` for a convolution, `Cout/G·k…` for a transposed one (PyTorch reads dimension 1 of
    /// `Cin×(Cout/G)×k…`), in every layout. The weight is drawn in that logical order and then stored in the
    /// geometry's filter layout, so a layer with a channels-last filter starts from the same filter as the
    /// channels-first one drawn from the same generator, and the fans do not depend on the layout.
    ///
    /// - Parameters:
    ///   - geometry: the operation; its batch is ignored.
    ///   - bias: whether the layer has a bias.
    ///   - activation: f in `f(op(X, F) + B)` (``Activation``).
    ///   - engine: the engine for the passes (`nil`: `ConvolutionEngine()`, all processors, default numerics).
    ///   - generator: the source of the initial values.
    /// - Throws: ``ConvError/invalidArgument(name:reason:)`` for an activation that ``Activation/validate()``
    ///   rejects; the engine's errors when `engine` is `nil` and the default cannot be made.
    public convenience init(geometry: Geometry, bias: Bool = true, activation: Activation = .identity,
                            engine: ConvolutionEngine? = nil, generator: inout SeededGenerator) throws(ConvError) {
        let shape = geometry.weightShape
        var weight: [T] = try Initializer.pytorchDefaultWeight(shape: shape, using: &generator)
        if geometry.layout.filter == .channelsLast { weight = channelsLastWeight(weight, shape: shape) }
        let b: [T]? = bias
            ? try Initializer.pytorchDefaultBias(count: geometry.biasCount, fanIn: Initializer.fans(shape: shape).fanIn,
                                                 using: &generator)
            : nil
        try self.init(geometry: geometry, weight: weight, bias: b, activation: activation, engine: engine)
    }

    /// A layer with the given weight and bias.
    ///
    /// - Parameters:
    ///   - geometry: the operation; its batch is ignored.
    ///   - weight: F, `geometry.filterCount` elements, shape ``LayerGeometry/weightShape``, in the geometry's filter
    ///     layout.
    ///   - bias: B, `geometry.biasCount` elements (one per output channel), or `nil` for a layer without a bias.
    ///   - activation: f (``Activation``).
    ///   - engine: as in ``init(geometry:bias:activation:engine:generator:)``.
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)`` for a weight or bias of the wrong length,
    ///   ``ConvError/invalidArgument(name:reason:)`` for a rejected activation.
    public init(geometry: Geometry, weight: [T], bias: [T]?, activation: Activation = .identity,
                engine: ConvolutionEngine? = nil) throws(ConvError) {
        try activation.validate()
        let g = try geometry.withBatch(1)
        try checkLength("weight", weight.count, g.filterCount)
        if let bias { try checkLength("bias", bias.count, g.biasCount) }
        self.geometry = g
        self.batchGeometry = g
        self.activation = activation
        if let engine { self.engine = engine } else { self.engine = try ConvolutionEngine() }
        self.weight = try Parameter(name: "weight", shape: g.weightShape, value: weight)
        self.bias = try bias.map { b throws(ConvError) in try Parameter(name: "bias", shape: [g.biasCount], value: b) }
        filterGradientScratch = [T](repeating: 0, count: g.filterCount)
        biasGradientScratch = [T](repeating: 0, count: bias == nil ? 0 : g.biasCount)
    }

    // MARK: Parameters

    /// `["weight", "bias"]`, or `["weight"]` without a bias.
    public var parameterNames: [String] { bias == nil ? ["weight"] : ["weight", "bias"] }

    /// Calls `body` on the weight, then on the bias if there is one, in place.
    public func updateParameters(_ body: (inout Parameter<T>) throws(ConvError) -> Void) throws(ConvError) {
        try body(&weight)
        if bias != nil { try body(&bias!) }
    }

    /// Sets every parameter's gradient to zero (before accumulating the next batch's).
    public func zeroGradients() {
        weight.zeroGradient()
        bias?.zeroGradient()
    }

    // MARK: Sizes

    /// The geometry of a batch of `batch` items.
    /// - Throws: ``ConvError/nonPositive(field:value:)`` for a batch below 1, ``ConvError/sizeOverflow(quantity:)``.
    public func geometry(batch: Int) throws(ConvError) -> Geometry {
        if batch == batchGeometry.batch { return batchGeometry }
        return try geometry.withBatch(batch)
    }

    /// Output elements for `batch` items (`geometry(batch:).outputCount`).
    /// - Throws: as ``geometry(batch:)``.
    public func outputCount(batch: Int) throws(ConvError) -> Int { try geometry(batch: batch).outputCount }

    /// The geometry of an input of `count` elements, kept for the next call with the same batch.
    private func geometry(inputCount count: Int) throws(ConvError) -> Geometry {
        let perItem = geometry.inputCount
        guard count > 0, count % perItem == 0 else {
            throw .bufferLength(name: "input", expected: max(1, (count + perItem / 2) / perItem) * perItem,
                                actual: count)
        }
        let g = try geometry(batch: count / perItem)
        batchGeometry = g
        return g
    }

    // MARK: Buffer forms

    /// `output = f(op(input, weight) + bias)` for `N = input.count / geometry.inputCount` items.
    ///
    /// - Parameters:
    ///   - input: X, `N×C×…` (`N·geometry.inputCount` elements). Read only.
    ///   - output: `N×K×…` (``outputCount(batch:)``), overwritten.
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)`` for an input that is not a whole number of
    ///   items (the expected count is the nearest whole number) or an output of the wrong length, and the
    ///   engine's errors (``LayerGeometry/forward(on:input:filter:bias:activation:output:workspace:)``).
    public func forward(_ input: UnsafeBufferPointer<T>, output: UnsafeMutableBufferPointer<T>) throws(ConvError) {
        let g = try geometry(inputCount: input.count)
        try weight.value.withUnsafeBufferPointer { f throws(ConvError) in
            if let b = bias?.value {
                try b.withUnsafeBufferPointer { b throws(ConvError) in
                    try g.forward(on: engine, input: input, filter: f, bias: b, activation: activation, output: output,
                                  workspace: workspace)
                }
            } else {
                try g.forward(on: engine, input: input, filter: f, bias: nil, activation: activation, output: output,
                              workspace: workspace)
            }
        }
    }

    /// The backward pass of a ``forward(_:output:)`` call: adds dL/dF to `weight.gradient` and dL/dB to
    /// `bias.gradient`, and writes dL/dX when `inputGradient` is given.
    ///
    /// - Parameters:
    ///   - input: the forward call's X (needed for dL/dF).
    ///   - output: the forward call's result f(Z) (the activation's derivative is read from it; not read for
    ///     ``Activation/identity``).
    ///   - outputGradient: dL/dO, the output's shape.
    ///   - inputGradient: dL/dX, the input's shape, overwritten; `nil` when not needed (a first layer).
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)`` for a buffer of the wrong length,
    ///   ``ConvError/overlappingBuffers(output:other:)``, and the engine's errors.
    public func backward(input: UnsafeBufferPointer<T>, output: UnsafeBufferPointer<T>,
                         outputGradient: UnsafeBufferPointer<T>,
                         inputGradient: UnsafeMutableBufferPointer<T>?) throws(ConvError) {
        let g = try geometry(inputCount: input.count)
        try checkLength("output", output.count, g.outputCount)
        try checkLength("outputGradient", outputGradient.count, g.outputCount)
        if preActivationScratch.count < g.outputCount, activation != .identity {
            preActivationScratch = [T](repeating: 0, count: g.outputCount)
        }
        let hasBias = bias != nil
        try weight.value.withUnsafeBufferPointer { f throws(ConvError) in
            try filterGradientScratch.withUnsafeMutableBufferPointer { dF throws(ConvError) in
                try biasGradientScratch.withUnsafeMutableBufferPointer { dB throws(ConvError) in
                    let dBOrNil = hasBias ? dB : nil
                    if activation == .identity {
                        try g.backward(on: engine, input: input, filter: f, outputGradient: outputGradient,
                                       inputGradient: inputGradient, filterGradient: dF, biasGradient: dBOrNil,
                                       workspace: workspace)
                        return
                    }
                    try preActivationScratch.withUnsafeMutableBufferPointer { all throws(ConvError) in
                        // Safe: the scratch holds at least g.outputCount elements (grown above).
                        let dZ = UnsafeMutableBufferPointer(rebasing: all[0..<g.outputCount])
                        try g.backward(on: engine, input: input, filter: f, activation: activation, output: output,
                                       outputGradient: outputGradient, preActivationGradient: dZ,
                                       inputGradient: inputGradient, filterGradient: dF,
                                       biasGradient: dBOrNil, workspace: workspace)
                    }
                }
            }
        }
        accumulate(filterGradientScratch, into: &weight.gradient)
        if hasBias { accumulate(biasGradientScratch, into: &bias!.gradient) }
    }

    private func accumulate(_ delta: [T], into gradient: inout [T]) {
        delta.withUnsafeBufferPointer { d in
            gradient.withUnsafeMutableBufferPointer { g in addGradient(d, into: g) }
        }
    }

    // MARK: Array forms

    /// `f(op(input, weight) + bias)` as a new array, keeping `input` and the result for
    /// ``backward(_:computeInputGradient:)``.
    /// - Throws: as ``forward(_:output:)``.
    public func forward(_ input: [T]) throws(ConvError) -> [T] {
        let g = try geometry(inputCount: input.count)
        var output = [T](repeating: 0, count: g.outputCount)
        try input.withUnsafeBufferPointer { x throws(ConvError) in
            try output.withUnsafeMutableBufferPointer { o throws(ConvError) in try forward(x, output: o) }
        }
        savedInput = input
        savedOutput = output
        return output
    }

    /// The backward pass of the last ``forward(_:)`` call: adds dL/dF and dL/dB to the parameters' gradients and
    /// returns dL/dX (`nil` when `computeInputGradient` is `false`).
    /// - Throws: ``ConvError/missingBuffer(name:)`` when no array forward call came first, and the errors of
    ///   ``backward(input:output:outputGradient:inputGradient:)``.
    public func backward(_ outputGradient: [T], computeInputGradient: Bool = true) throws(ConvError) -> [T]? {
        guard let x = savedInput, let y = savedOutput else {
            throw .missingBuffer(name: "the input of a forward(_:) call (call forward first)")
        }
        var dX = computeInputGradient ? [T](repeating: 0, count: x.count) : nil
        try x.withUnsafeBufferPointer { x throws(ConvError) in
            try y.withUnsafeBufferPointer { y throws(ConvError) in
                try outputGradient.withUnsafeBufferPointer { dO throws(ConvError) in
                    if dX == nil {
                        try backward(input: x, output: y, outputGradient: dO, inputGradient: nil)
                    } else {
                        try dX!.withUnsafeMutableBufferPointer { dX throws(ConvError) in
                            try backward(input: x, output: y, outputGradient: dO, inputGradient: dX)
                        }
                    }
                }
            }
        }
        return dX
    }
}

/// `g[i] += d[i]`, specialised for Float and Double: a layer's methods run as unspecialised generic code when
/// called from another module, where this loop cost witness-table calls per element.
@_specialize(where T == Float)
@_specialize(where T == Double)
func addGradient<T: ConvScalar>(_ d: UnsafeBufferPointer<T>, into g: UnsafeMutableBufferPointer<T>) {
    for i in 0..<min(d.count, g.count) { g[i] += d[i] }
}

/// A weight of PyTorch's logical `shape` (`[out, in, k…]`, channels-first) with its elements reordered channels-last
/// (`[out, k…, in]`): the layout of a layer whose geometry has a channels-last filter.
private func channelsLastWeight<T: ConvScalar>(_ weight: [T], shape: [Int]) -> [T] {
    // Safe: the shape has at least three dimensions and its product is the weight's (checked) element count.
    let taps = shape.dropFirst(2).reduce(1, *)
    var result = weight
    weight.withUnsafeBufferPointer { w in
        result.withUnsafeMutableBufferPointer { r in
            transposeBlocks(w.baseAddress!, into: r.baseAddress!, blocks: shape[0], rows: shape[1], columns: taps,
                            workers: 1)
        }
    }
    return result
}
