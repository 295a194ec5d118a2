/// A geometry of the convolution family — ``ConvGeometry`` and the geometries of the other operations the
/// engine runs — seen as the element counts of its four tensors, which every buffer is checked against.
///
/// Each conforming geometry documents its tensors' shapes and layouts; the counts here are their products.
/// Every count is checked against `Int` overflow when the geometry is made, so it is always safe to use.
public protocol ConvolutionShape: Hashable, Sendable, CustomStringConvertible {
    /// Elements of the input (X).
    var inputCount: Int { get }
    /// Elements of the filter (F, the weight).
    var filterCount: Int { get }
    /// Elements of the output (O).
    var outputCount: Int { get }
    /// Elements of the bias (B), one per output channel.
    var biasCount: Int { get }
    /// The memory layout of the activations and of the filter (<doc:Layouts>); the counts do not depend on it.
    var layout: ConvLayout { get }
}

/// Refuses a layout that the code path of `operation` does not read yet (it would read the tensors as
/// channels-first ones).
func requireChannelsFirst<S: ConvolutionShape>(_ shape: S, _ operation: String) throws(ConvError) {
    if shape.layout != .nchw {
        throw .invalidArgument(name: "layout", reason: "\(operation) does not support \(shape.layout) tensors yet")
    }
}

extension ConvGeometry: ConvolutionShape {}
