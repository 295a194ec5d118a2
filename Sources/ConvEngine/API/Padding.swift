/// Zero padding added around the input image, in elements, on each of the four sides.
public struct Padding: Hashable, Sendable, CustomStringConvertible {
    /// Rows of zeros above the image.
    public var top: Int
    /// Rows of zeros below the image.
    public var bottom: Int
    /// Columns of zeros left of the image.
    public var left: Int
    /// Columns of zeros right of the image.
    public var right: Int

    /// Padding given side by side; values are validated when a ``ConvGeometry`` is made.
    public init(top: Int, bottom: Int, left: Int, right: Int) {
        self.top = top
        self.bottom = bottom
        self.left = left
        self.right = right
    }

    /// The same padding on all four sides.
    public init(_ all: Int) {
        self.init(top: all, bottom: all, left: all, right: all)
    }

    /// `height` rows above and below, `width` columns left and right.
    public init(height: Int, width: Int) {
        self.init(top: height, bottom: height, left: width, right: width)
    }

    /// No padding.
    public static let zero = Padding(0)

    /// The four amounts, for example `(top: 1, bottom: 2, left: 0, right: 0)`.
    public var description: String { "(top: \(top), bottom: \(bottom), left: \(left), right: \(right))" }
}

/// How a ``ConvGeometry`` pads its input: explicit amounts, or PyTorch's `valid` / `same` conventions.
public enum PaddingSpec: Hashable, Sendable, ExpressibleByIntegerLiteral {
    /// Exactly these amounts.
    case explicit(Padding)
    /// No padding (PyTorch's `padding="valid"`).
    case valid
    /// Padding that makes the output as large as the input. Only defined at stride 1 (as in PyTorch);
    /// the total `dilation*(kernel-1)` is split with the odd extra row or column at the bottom/right.
    case same

    /// `padding: 1` means one element of padding on every side.
    public init(integerLiteral value: Int) {
        self = .explicit(Padding(value))
    }
}
