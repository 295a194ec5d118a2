/// What ``ConvolutionLayer`` needs from the geometry of its operation: the batch and a copy at another batch,
/// the weight's shape in PyTorch's layout (which fixes the default initialisation's fan-in), and the engine's
/// passes with a fused activation.
///
/// The five geometries of the family conform: ``ConvGeometry`` (`nn.Conv2d`), ``TransposedConvGeometry``
/// (`nn.ConvTranspose2d`), ``ConvGeometry1D`` (`nn.Conv1d`), ``TransposedConvGeometry1D``
/// (`nn.ConvTranspose1d`) and ``ConvGeometry3D`` (`nn.Conv3d`). Each forwards the passes to the
/// ``ConvolutionEngine`` overload for its own type, so a conformance is a table of calls, not new arithmetic.
public protocol LayerGeometry: ConvolutionShape {
    /// Items in the batch (N), the first dimension of the input and the output.
    var batch: Int { get }

    /// The same geometry with another batch size.
    /// - Throws: ``ConvError/nonPositive(field:value:)`` for a batch below 1, ``ConvError/sizeOverflow(quantity:)``
    ///   and ``ConvError/blasDimensionTooLarge(quantity:value:)`` for sizes that do not fit.
    func withBatch(_ newBatch: Int) throws(ConvError) -> Self

    /// The weight's shape in PyTorch's layout, `filterCount` elements: `[out, in/G, k…]` for a convolution,
    /// `[in, out/G, k…]` for a transposed one. ``Initializer/fans(shape:)`` reads the fan-in from it as
    /// `torch.nn.init` does (dimension 1 times the kernel), so a transposed layer's fan-in is `Cout/G·k…`.
    var weightShape: [Int] { get }

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
