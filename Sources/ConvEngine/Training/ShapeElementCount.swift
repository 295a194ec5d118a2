/// The element count of a tensor shape (the product of its dimensions, 1 for `[]`), for parameters and
/// initialisers.
///
/// - Parameters:
///   - shape: the dimensions, each at least 0.
///   - name: what the shape belongs to, for the error (for example `"shape"` or `"weight.shape"`).
/// - Throws: ``ConvError/invalidArgument(name:reason:)`` named `name` for a negative dimension,
///   ``ConvError/sizeOverflow(quantity:)`` if the product overflows `Int`.
internal func shapeElementCount(_ shape: [Int], name: String) throws(ConvError) -> Int {
    var count = 1
    for dimension in shape {
        guard dimension >= 0 else {
            throw .invalidArgument(name: name, reason: "dimension \(dimension) of \(shape) is negative")
        }
        let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
        if overflow { throw .sizeOverflow(quantity: "element count of \(name) \(shape)") }
        count = product
    }
    return count
}
