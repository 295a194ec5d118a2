/// Anything holding parameters (a layer, a model): optimisers and saving walk them by name.
///
/// A conforming class hands each of its ``Parameter``s to `body` in place, so an optimiser updates the
/// layer's own arrays without copying them. A model holding several layers can conform by forwarding to
/// each layer in turn (and prefixing their names, as PyTorch's `state_dict` does: `"conv1.weight"`).
public protocol ParameterContainer<Scalar>: AnyObject {
    /// The element type of every parameter.
    associatedtype Scalar: ConvScalar
    /// The parameter names in a fixed order: the order ``updateParameters(_:)`` visits them in.
    var parameterNames: [String] { get }
    /// Calls `body` on each parameter in ``parameterNames`` order, in place (no copy of the arrays).
    ///
    /// An error `body` throws is passed on at once; the parameters visited before it keep the changes
    /// `body` made to them.
    func updateParameters(_ body: (inout Parameter<Scalar>) throws(ConvError) -> Void) throws(ConvError)
}
