/// What ``ConvolutionLayer`` needs from the geometry of its operation: the batch and a copy at another batch,
/// the weight's shape in PyTorch's layout (which fixes the default initialisation's fan-in), and the engine's
/// passes with a fused activation.
///
/// The five geometries of the family conform: ``ConvGeometry`` (`nn.Conv2d`), ``TransposedConvGeometry``
/// (`nn.ConvTranspose2d`), ``ConvGeometry1D`` (`nn.Conv1d`), ``TransposedConvGeometry1D``
/// (`nn.ConvTranspose1d`) and ``ConvGeometry3D`` (`nn.Conv3d`). Each forwards the plain passes to the
/// ``ConvolutionEngine`` and ``ReferenceConvolution`` overloads for its own type, so a conformance is a table of
/// calls, not new arithmetic. The array forms of both backends
/// (``ConvolutionEngine/forward(_:input:filter:bias:workspace:)-(G,_,_,_,_)`` and the others on
/// ``ConvolutionEngine`` and ``ReferenceConvolution``) are written once over these requirements, and the passes
/// with a fused activation have a default (the plain pass, then f over the output) that ``ConvGeometry`` replaces
/// with the engine's fused epilogue.
public protocol LayerGeometry: ConvolutionShape {
    /// Items in the batch (N), the first dimension of the input and the output.
    var batch: Int { get }

    /// The same geometry with another batch size.
    /// - Throws: ``ConvError/nonPositive(field:value:)`` for a batch below 1, ``ConvError/sizeOverflow(quantity:)``
    ///   and ``ConvError/blasDimensionTooLarge(quantity:value:)`` for sizes that do not fit.
    func withBatch(_ newBatch: Int) throws(ConvError) -> Self

    /// The weight's shape in PyTorch's layout, `filterCount` elements: `[out, in/G, k…]` for a convolution,
    /// `[in, out/G, k…]` for a transposed one. ``Initializer/fans(shape:)`` reads the fan-in from it as
    /// `torch.nn.init` does (dimension 1 times the kernel), so a transposed layer's fan-in is `Cout/G·k…`. It is
    /// the logical shape in every ``ConvLayout`` (as a PyTorch tensor's shape does not change with its memory
    /// format): with a channels-last filter the elements are stored `[out, k…, in/G]`.
    var weightShape: [Int] { get }

    /// `output = op(input, filter) + bias` on `engine` (the engine's plain forward pass for this type).
    /// - Throws: the engine's errors for the operation (buffer lengths, overlaps).
    func forward<T: ConvScalar>(
        on engine: ConvolutionEngine, input: UnsafeBufferPointer<T>, filter: UnsafeBufferPointer<T>,
        bias: UnsafeBufferPointer<T>?, output: UnsafeMutableBufferPointer<T>, workspace: ConvWorkspace<T>
    ) throws(ConvError)

    /// `output = op(input, filter) + bias` by the reference's direct loops for this type; `workspace` is not used.
    /// - Throws: the reference's errors for the operation (buffer lengths, overlaps).
    func forward<T: ConvScalar>(
        on reference: ReferenceConvolution, input: UnsafeBufferPointer<T>, filter: UnsafeBufferPointer<T>,
        bias: UnsafeBufferPointer<T>?, output: UnsafeMutableBufferPointer<T>, workspace: ConvWorkspace<T>
    ) throws(ConvError)

    /// The reference's backward pass for this type: the requested gradients from dL/dO, overwritten;
    /// `workspace` is not used.
    /// - Throws: the reference's errors for the operation (buffer lengths, a missing operand, overlaps).
    func backward<T: ConvScalar>(
        on reference: ReferenceConvolution, input: UnsafeBufferPointer<T>?, filter: UnsafeBufferPointer<T>?,
        outputGradient: UnsafeBufferPointer<T>, inputGradient: UnsafeMutableBufferPointer<T>?,
        filterGradient: UnsafeMutableBufferPointer<T>?, biasGradient: UnsafeMutableBufferPointer<T>?,
        workspace: ConvWorkspace<T>
    ) throws(ConvError)

    /// `output = f(op(input, filter) + bias)` on `engine` (the engine's forward pass with `activation`).
    /// - Throws: the engine's errors for the operation (buffer lengths, overlaps, a rejected activation).
    func forward<T: ConvScalar>(
        on engine: ConvolutionEngine, input: UnsafeBufferPointer<T>, filter: UnsafeBufferPointer<T>,
        bias: UnsafeBufferPointer<T>?, activation: Activation, output: UnsafeMutableBufferPointer<T>,
        workspace: ConvWorkspace<T>
    ) throws(ConvError)

    /// The engine's plain backward pass: the requested gradients from dL/dO, overwritten.
    /// - Throws: the engine's errors for the operation.
    func backward<T: ConvScalar>(
        on engine: ConvolutionEngine, input: UnsafeBufferPointer<T>?, filter: UnsafeBufferPointer<T>?,
        outputGradient: UnsafeBufferPointer<T>, inputGradient: UnsafeMutableBufferPointer<T>?,
        filterGradient: UnsafeMutableBufferPointer<T>?, biasGradient: UnsafeMutableBufferPointer<T>?,
        workspace: ConvWorkspace<T>
    ) throws(ConvError)

    /// The engine's backward pass of an activated forward pass: dL/dZ = dL/dO ⊙ f′(output) into
    /// `preActivationGradient`, then the requested gradients from dL/dZ, overwritten.
    /// - Throws: the engine's errors for the operation.
    func backward<T: ConvScalar>(
        on engine: ConvolutionEngine, input: UnsafeBufferPointer<T>?, filter: UnsafeBufferPointer<T>?,
        activation: Activation, output: UnsafeBufferPointer<T>, outputGradient: UnsafeBufferPointer<T>,
        preActivationGradient: UnsafeMutableBufferPointer<T>, inputGradient: UnsafeMutableBufferPointer<T>?,
        filterGradient: UnsafeMutableBufferPointer<T>?, biasGradient: UnsafeMutableBufferPointer<T>?,
        workspace: ConvWorkspace<T>
    ) throws(ConvError)
}

extension LayerGeometry {
    /// The plain forward pass on `engine`
    /// (``forward(on:input:filter:bias:output:workspace:)-(ConvolutionEngine,_,_,_,_,_)``), then f over the output in
    /// parallel runs of 64 Ki elements: the fused activation of every operation whose algorithms have no epilogue of
    /// their own (``ConvGeometry`` replaces it with the engine's fused one).
    /// - Throws: as the plain pass, and ``ConvError/invalidArgument(name:reason:)`` for an activation that
    ///   ``Activation/validate()`` rejects (checked before anything runs).
    public func forward<T: ConvScalar>(
        on engine: ConvolutionEngine, input: UnsafeBufferPointer<T>, filter: UnsafeBufferPointer<T>,
        bias: UnsafeBufferPointer<T>?, activation: Activation, output: UnsafeMutableBufferPointer<T>,
        workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try engine.activatedForward(self, activation: activation, output: output) { () throws(ConvError) in
            try forward(on: engine, input: input, filter: filter, bias: bias, output: output, workspace: workspace)
        }
    }

    /// dL/dZ = dL/dO ⊙ f′(output) into `preActivationGradient` (everything checked first), then the plain backward
    /// pass on `engine` from dL/dZ: the activated backward pass of every operation whose algorithms have no epilogue
    /// of their own (``ConvGeometry`` replaces it with the engine's own).
    /// - Throws: ``ConvError/bufferLength(name:expected:actual:)``, ``ConvError/missingBuffer(name:)`` and
    ///   ``ConvError/overlappingBuffers(output:other:)`` before anything is written,
    ///   ``ConvError/invalidArgument(name:reason:)`` for a rejected activation, and the plain pass's errors.
    public func backward<T: ConvScalar>(
        on engine: ConvolutionEngine, input: UnsafeBufferPointer<T>?, filter: UnsafeBufferPointer<T>?,
        activation: Activation, output: UnsafeBufferPointer<T>, outputGradient: UnsafeBufferPointer<T>,
        preActivationGradient: UnsafeMutableBufferPointer<T>, inputGradient: UnsafeMutableBufferPointer<T>?,
        filterGradient: UnsafeMutableBufferPointer<T>?, biasGradient: UnsafeMutableBufferPointer<T>?,
        workspace: ConvWorkspace<T>
    ) throws(ConvError) {
        try engine.activatedBackward(
            self, input: input, filter: filter, activation: activation, output: output,
            outputGradient: outputGradient, preActivationGradient: preActivationGradient,
            inputGradient: inputGradient, filterGradient: filterGradient, biasGradient: biasGradient,
            workspace: workspace
        ) { x, f, dZ, dX, dF, dB throws(ConvError) in
            try backward(on: engine, input: x, filter: f, outputGradient: dZ, inputGradient: dX, filterGradient: dF,
                         biasGradient: dB, workspace: workspace)
        }
    }
}
