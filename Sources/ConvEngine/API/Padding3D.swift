/// Zero padding added around each input volume of a 3-D convolution (``ConvGeometry3D``), in elements, on each
/// of the six faces: before and after along depth (`front`, `back`), height (`top`, `bottom`) and width
/// (`left`, `right`).
///
/// Values are not checked here: a negative amount is reported with
/// ``ConvError/negativePadding(field:value:)`` (naming `padding.front`, …) when a ``ConvGeometry3D`` is made.
public struct Padding3D: Hashable, Sendable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    /// Planes of zeros before the first input plane (depth).
    public var front: Int
    /// Planes of zeros after the last input plane (depth).
    public var back: Int
    /// Rows of zeros above each plane.
    public var top: Int
    /// Rows of zeros below each plane.
    public var bottom: Int
    /// Columns of zeros left of each plane.
    public var left: Int
    /// Columns of zeros right of each plane.
    public var right: Int

    /// Padding given face by face.
    public init(front: Int, back: Int, top: Int, bottom: Int, left: Int, right: Int) {
        self.front = front
        self.back = back
        self.top = top
        self.bottom = bottom
        self.left = left
        self.right = right
    }

    /// The same padding on all six faces.
    public init(_ all: Int) {
        self.init(front: all, back: all, top: all, bottom: all, left: all, right: all)
    }

    /// `padding: 1` means one element of padding on every face.
    public init(integerLiteral value: Int) {
        self.init(value)
    }

    /// No padding.
    public static let zero = Padding3D(0)

    /// The six amounts, for example `(front: 1, back: 1, top: 1, bottom: 2, left: 0, right: 0)`.
    public var description: String {
        "(front: \(front), back: \(back), top: \(top), bottom: \(bottom), left: \(left), right: \(right))"
    }
}
