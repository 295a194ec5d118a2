/// How a tiled algorithm cuts the output into GEMM tiles.
public enum ConvTile: Hashable, Sendable, CustomStringConvertible {
    /// Up to `count` whole images side by side in one GEMM (one image at a time for `count` 1). The tiles
    /// actually used are evened out over the images there are, so the workspace never depends on the batch.
    case images(Int)
    /// Bands of at most `count` output rows of one image (`count` below the output height).
    case rows(Int)
    /// The Winograd algorithms' tile: blocks of at most `count` transform tiles (a multiple of 8), taken in
    /// order over the batch, so that one block's transformed input and GEMM results stay in cache; and the
    /// tile of the lowering that computes their filter gradient.
    indirect case transformTiles(Int, gradients: ConvTile)

    /// The tile's output rows counted over the batch: `count·P` for whole images, `count` for a band (a
    /// transform block counts as one image).
    func outputRows(imageHeight: Int) -> Int {
        switch self {
        case .images(let n): return n * imageHeight
        case .rows(let r): return r
        case .transformTiles(_, let gradients): return gradients.outputRows(imageHeight: imageHeight)
        }
    }

    /// For example `4 images` or `8 rows`.
    public var description: String {
        switch self {
        case .images(let n): return n == 1 ? "1 image" : "\(n) images"
        case .rows(let r): return r == 1 ? "1 row" : "\(r) rows"
        case .transformTiles(let t, let gradients): return "\(t) transform tiles, gradients \(gradients)"
        }
    }
}

/// The way one call is carried out: chosen by ``ConvolutionEngine/plan(for:scalar:)-(ConvGeometry,_)`` in one place, or forced
/// through the engine's configuration (tests force every plan and compare it with the reference).
public struct ConvPlan: Hashable, Sendable, CustomStringConvertible {
    /// The forward / filter-gradient algorithm.
    public var algorithm: ConvAlgorithm
    /// The input-gradient route.
    public var inputGradientAlgorithm: InputGradientAlgorithm
    /// How the filter gradient is computed: ``FilterGradientAlgorithm/sumOfProducts`` (the default) or, for a
    /// Winograd algorithm, ``FilterGradientAlgorithm/winograd``.
    public var filterGradientAlgorithm: FilterGradientAlgorithm
    /// Worker threads the work is split over (each calls single-threaded BLAS when more than one).
    public var workers: Int
    /// The GEMM tile: always one image for ``ConvAlgorithm/im2col`` and ``ConvAlgorithm/pointwise``;
    /// ``ConvAlgorithm/depthwiseDirect`` works plane by plane and ignores it.
    public var tile: ConvTile
    /// How the operands are converted when the algorithm does not run the geometry's layout natively
    /// (<doc:Layouts>), or `nil` when it does (every plan of an NCHW geometry).
    public var layoutConversion: LayoutConversion?

    /// A plan with these parts.
    public init(algorithm: ConvAlgorithm, inputGradientAlgorithm: InputGradientAlgorithm, workers: Int, tile: ConvTile,
                filterGradientAlgorithm: FilterGradientAlgorithm = .sumOfProducts) {
        self.algorithm = algorithm
        self.inputGradientAlgorithm = inputGradientAlgorithm
        self.filterGradientAlgorithm = filterGradientAlgorithm
        self.workers = workers
        self.tile = tile
        layoutConversion = nil
    }

    /// The plan in one line, for example `tiledIm2col(tile 4 images)+col2im×2`: algorithm, tile,
    /// `+winograd dF` for a ``FilterGradientAlgorithm/winograd`` filter gradient, input-gradient route and
    /// worker count, then the layout conversion when there is one, for example
    /// `winograd4x4(tile 64 transform tiles, gradients 1 image)+col2im×2 via NCHW copies (2 images at a time)`.
    public var description: String {
        "\(algorithm)(tile \(tile))" + (filterGradientAlgorithm == .winograd ? "+winograd dF" : "")
            + "+\(inputGradientAlgorithm)×\(workers)" + (layoutConversion.map { " \($0)" } ?? "")
    }
}
