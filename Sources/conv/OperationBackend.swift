// What `conv` runs an operation with: the engine or the direct-loop reference, which have the same array forms for
// every geometry of the family but no common protocol over them (ConvolutionBackend is the 2-D one).
import ConvEngine

/// The array forms (with a kept output and workspace) of forward and backward for each geometry `conv` handles,
/// as `ConvolutionEngine` and `ReferenceConvolution` both declare them.
protocol OperationBackend {
    func forward<T: ConvScalar>(_ g: ConvGeometry, input: [T], filter: [T], bias: [T]?, output: inout [T],
                                workspace: ConvWorkspace<T>) throws(ConvError)
    func forward<T: ConvScalar>(_ g: TransposedConvGeometry, input: [T], filter: [T], bias: [T]?, output: inout [T],
                                workspace: ConvWorkspace<T>) throws(ConvError)
    func forward<T: ConvScalar>(_ g: ConvGeometry1D, input: [T], filter: [T], bias: [T]?, output: inout [T],
                                workspace: ConvWorkspace<T>) throws(ConvError)
    func forward<T: ConvScalar>(_ g: TransposedConvGeometry1D, input: [T], filter: [T], bias: [T]?, output: inout [T],
                                workspace: ConvWorkspace<T>) throws(ConvError)
    func forward<T: ConvScalar>(_ g: ConvGeometry3D, input: [T], filter: [T], bias: [T]?, output: inout [T],
                                workspace: ConvWorkspace<T>) throws(ConvError)

    func backward<T: ConvScalar>(_ g: ConvGeometry, input: [T]?, filter: [T]?, outputGradient: [T],
                                 gradients: GradientSet, into result: inout Gradients<T>,
                                 workspace: ConvWorkspace<T>) throws(ConvError)
    func backward<T: ConvScalar>(_ g: TransposedConvGeometry, input: [T]?, filter: [T]?, outputGradient: [T],
                                 gradients: GradientSet, into result: inout Gradients<T>,
                                 workspace: ConvWorkspace<T>) throws(ConvError)
    func backward<T: ConvScalar>(_ g: ConvGeometry1D, input: [T]?, filter: [T]?, outputGradient: [T],
                                 gradients: GradientSet, into result: inout Gradients<T>,
                                 workspace: ConvWorkspace<T>) throws(ConvError)
    func backward<T: ConvScalar>(_ g: TransposedConvGeometry1D, input: [T]?, filter: [T]?, outputGradient: [T],
                                 gradients: GradientSet, into result: inout Gradients<T>,
                                 workspace: ConvWorkspace<T>) throws(ConvError)
    func backward<T: ConvScalar>(_ g: ConvGeometry3D, input: [T]?, filter: [T]?, outputGradient: [T],
                                 gradients: GradientSet, into result: inout Gradients<T>,
                                 workspace: ConvWorkspace<T>) throws(ConvError)
}

extension ConvolutionEngine: OperationBackend {}
extension ReferenceConvolution: OperationBackend {}
