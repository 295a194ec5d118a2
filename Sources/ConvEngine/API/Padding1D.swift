/// Zero padding added before and after a 1-D input (``ConvGeometry1D``), or removed from the output of a 1-D
/// transposed convolution (``TransposedConvGeometry1D``), in elements.
public struct Padding1D: Hashable, Sendable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    /// Elements before the sequence (at its start).
    public var left: Int
    /// Elements after the sequence (at its end).
    public var right: Int

    /// Padding given side by side; values are validated when a geometry is made.
    public init(left: Int, right: Int) {
        self.left = left
        self.right = right
    }

    /// The same padding on both sides.
    public init(_ both: Int) {
        self.init(left: both, right: both)
    }

    /// `padding: 1` means one element of padding on each side.
    public init(integerLiteral value: Int) {
        self.init(value)
    }

    /// No padding.
    public static let zero = Padding1D(0)

    /// The two amounts, for example `(left: 1, right: 2)`.
    public var description: String { "(left: \(left), right: \(right))" }
}
