/// How a plan runs an algorithm that does not read a geometry's layout natively (<doc:Layouts>): the operands
/// are copied into the layout the algorithm runs in, in the workspace, and the results copied back.
///
/// ``ConvPlan/layoutConversion`` (and ``ConvPlan3D/layoutConversion``) is `nil` for a plan whose algorithm
/// runs the geometry's layout itself. Otherwise:
/// - when the activation layouts differ, X and dO are copied into the algorithm's layout and O and dX back,
///   ``imagesPerChunk`` images at a time, so the staging memory does not grow with the batch;
/// - when the filter layouts differ, F is repacked once per call (or once for all calls, in a
///   ``PreparedFilter``) and dF is permuted back at the end: a filter-only difference costs no activation copy;
/// - the bias is `K` in every layout and is never copied.
public struct LayoutConversion: Hashable, Sendable, CustomStringConvertible {
    /// The layout the algorithm runs in.
    public let algorithmLayout: ConvLayout
    /// Whether X and dO are copied in and O and dX out (the activation layouts differ).
    public let convertsActivations: Bool
    /// Whether F is repacked and dF permuted back (the filter layouts differ).
    public let convertsFilter: Bool
    /// Images copied and run at a time when ``convertsActivations`` (`nil` otherwise: the whole batch runs at
    /// once on the caller's activations). A function of the geometry without its batch, the worker count and
    /// the tile budget; halved under a workspace limit.
    public internal(set) var imagesPerChunk: Int?
    /// Spatial axes of the operation (2, or 3 for ``ConvPlan3D``), for the names in ``description``.
    let rank: Int

    init(from requested: ConvLayout, to algorithmLayout: ConvLayout, imagesPerChunk: Int?, rank: Int = 2) {
        self.algorithmLayout = algorithmLayout
        convertsActivations = requested.activations != algorithmLayout.activations
        convertsFilter = requested.filter != algorithmLayout.filter
        self.imagesPerChunk = convertsActivations ? imagesPerChunk : nil
        self.rank = rank
    }

    /// For example `via NCHW copies (4 images at a time)`, `via a K×C/G×R×S filter copy`, or both.
    public var description: String {
        var parts: [String] = []
        if convertsActivations {
            let activations = rank == 3 ? (algorithmLayout.activations == .channelsFirst ? "NCDHW" : "NDHWC")
                : algorithmLayout.activations.description
            let images = imagesPerChunk.map { $0 == 1 ? " (1 image at a time)" : " (\($0) images at a time)" } ?? ""
            parts.append("\(activations) copies\(images)")
        }
        if convertsFilter {
            let filter = rank == 3 ? (algorithmLayout.filter == .channelsFirst ? "K×C/G×T×R×S" : "K×T×R×S×C/G")
                : algorithmLayout.filter.description
            parts.append("a \(filter) filter copy")
        }
        return "via " + parts.joined(separator: " and ")
    }

    /// The conversion with half as many images per chunk, or `nil` at one image (or without activation copies).
    func halved() -> LayoutConversion? {
        guard let images = imagesPerChunk, images > 1 else { return nil }
        var smaller = self
        smaller.imagesPerChunk = images / 2
        return smaller
    }
}
