extension Initializer {
    /// The fan-in and fan-out of a weight, as `torch.nn.init._calculate_fan_in_and_fan_out` computes them.
    public struct Fans: Hashable, Sendable {
        /// `in · k…`: the inputs each output sums over (for a convolution `C/G · R · S`).
        public let fanIn: Int
        /// `out · k…`: the outputs each input reaches (for a convolution `K · R · S`).
        public let fanOut: Int

        /// Fans given directly (for example those of a layer whose weight has another layout).
        public init(fanIn: Int, fanOut: Int) {
            self.fanIn = fanIn
            self.fanOut = fanOut
        }
    }

    /// The fans of a weight of shape `[out, in, k…]`: with `receptive = k₁·k₂·…` (1 for `[out, in]`),
    /// `fan_in = in · receptive` and `fan_out = out · receptive`.
    ///
    /// A convolution weight `[K, C/G, R, S]` has fan-in `C/G·R·S` and fan-out `K·R·S`; a linear weight
    /// `[out, in]` has `in` and `out`.
    /// - Throws: ``ConvError/invalidArgument(name:reason:)`` named `shape` for fewer than 2 dimensions (the
    ///   fans are undefined, as in PyTorch) or a negative dimension; ``ConvError/sizeOverflow(quantity:)`` if
    ///   the shape's element count overflows `Int`.
    public static func fans(shape: [Int]) throws(ConvError) -> Fans {
        guard shape.count >= 2 else {
            throw .invalidArgument(name: "shape",
                                   reason: "fan_in and fan_out need at least 2 dimensions [out, in, k…], got \(shape)")
        }
        _ = try shapeElementCount(shape, name: "shape")
        // Checked separately: a zero dimension keeps the element count from overflowing, not the fans.
        var receptive = 1
        for k in shape[2...] { receptive = try checkedProduct(receptive, k, quantity: "receptive field of \(shape)") }
        return Fans(fanIn: try checkedProduct(shape[1], receptive, quantity: "fan_in of \(shape)"),
                    fanOut: try checkedProduct(shape[0], receptive, quantity: "fan_out of \(shape)"))
    }
}
