/// The one rule by which an algorithm whose scratch grows with padding or dilation (padded planes, lowered rows
/// of a dilated kernel) refuses a geometry: its scratch may be at most ``factor`` times the canonical size it
/// stands for, plus ``slack`` for tiny images. So a padding or dilation far larger than the image, which no
/// output reads, cannot make a forced call allocate gigabytes for a few outputs; the tiled im2col, whose
/// workspace follows the output, runs such geometries instead.
enum ScratchBound {
    static let factor = 16
    static let slack = 4096

    /// `nil` when `size` (`nil`: it overflowed `Int`) is within the bound for `canonical` elements, else the
    /// reason an algorithm gives for not applying, naming `what` and both sizes.
    static func violation(_ what: String, size: Int?, canonical: Int) -> String? {
        let (scaled, overflow) = canonical.multipliedReportingOverflow(by: factor)
        let bound = overflow ? Int.max : scaled.addingReportingOverflow(slack).partialValue
        if let size, overflow || size <= bound { return nil }
        let sizeText = size.map(String.init) ?? "more than Int.max"
        return "needs \(what) of at most \(factor)× \(canonical) + \(slack) elements; got \(sizeText)"
    }
}
