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

