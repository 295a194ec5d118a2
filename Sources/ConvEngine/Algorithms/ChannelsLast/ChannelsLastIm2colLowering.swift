/// The steps shared by the channels-last im2col algorithms (``ChannelsLastIm2colAlgorithm``, one image per tile,
/// and ``ChannelsLastTiledIm2colAlgorithm``, tiles from the budget): the channels-last im2col
/// (``ChannelsLastLowering``: one column row per output position, entries in `(r, s, c)` order, copied as runs of
/// channels), then one GEMM per tile and group against the `K×R×S×C/G` filter (a `K×C/G×R×S` filter is repacked
/// once per call, or prepared); the input gradient `dcol = dO_tile · F_g`, scattered back by the channels-last
/// col2im. They run every geometry.
protocol ChannelsLastIm2colLowering: ChannelsLastLowered {
    /// The channels-last lowering of the geometry.
    var lowering: ChannelsLastLowering { get }
    /// With one input channel, X is also an `N×1×H×W` tensor: then the channels-first lowering of its planes
    /// (``Lowering``, whole-row copies along the image) gives the tap-major column matrix, where the
    /// channels-last one would copy one run of S elements per position and kernel row.
    var planes: Lowering? { get }
}

extension ChannelsLastIm2colLowering {
    /// Neighbouring positions' windows overlap in dX: a worker owns whole images.
    static var backwardSplitsImages: Bool { true }

    static func inapplicability(to geometry: ConvGeometry) -> String? { nil }

    var columnsAreTapMajor: Bool { planes != nil }

    /// Calls `body(n, rows, offset)` for each image's part of `positions` (whole output rows): image n, its
    /// output rows, and the part's first position within `positions`.
    @inline(__always)
    func forEachImage(_ positions: Range<Int>, _ body: (Int, Range<Int>, Int) -> Void) {
        let P = geometry.outputHeight, Q = geometry.outputWidth
        var row = positions.lowerBound / Q
        let end = positions.upperBound / Q
        while row < end {
            let n = row / P, p0 = row % P, p1 = min(P, p0 + end - row)
            body(n, p0..<p1, row * Q - positions.lowerBound)
            row += p1 - p0
        }
    }

    /// One tile's column matrix, for the forward pass, the filter gradient's im2col or the input gradient's dcol.
    func columnBuffer(for pass: ConvPass) throws(ConvError) -> Int {
        let gradients = pass.gradients
        guard pass == .forward || gradients.contains(.filter) || gradients.contains(.input) else { return 0 }
        return try checkedProduct(tilePositions, geometry.columnRows, quantity: "column tile")
    }

    func columns<T: ConvScalar>(_ positions: Range<Int>, group: Int, input x: UnsafePointer<T>,
                                buffer: UnsafeMutablePointer<T>) -> (UnsafePointer<T>, Int) {
        let g = geometry
        if let planes {
            let HW = g.inputHeight * g.inputWidth
            forEachImage(positions) { n, rows, offset in
                planes.im2col(x + n * HW, rows: rows, into: buffer + offset, ld: positions.count)
            }
            return (UnsafePointer(buffer), positions.count)
        }
        lowering.im2col(x + group * g.inputChannelsPerGroup, positions: positions, into: buffer, ld: g.columnRows)
        return (UnsafePointer(buffer), g.columnRows)
    }

    /// `dcol = dO_tile · F_g` into the worker's buffer, then added back into dX by col2im.
    func inputGradient<T: ConvScalar>(_ positions: Range<Int>, group: Int, filter f: UnsafePointer<T>,
                                      outputGradient dO: UnsafePointer<T>, into dX: UnsafeMutablePointer<T>,
                                      buffer: UnsafeMutablePointer<T>) {
        let g = geometry
        let Kg = g.outputChannelsPerGroup, width = g.columnRows
        if let planes {
            // dcolᵀ = F_gᵀ · dO_tileᵀ, tap-major, then the channels-first col2im of each image's rows.
            let count = positions.count, HW = g.inputHeight * g.inputWidth
            BLAS.uncheckedGEMM(transposeA: .transpose, transposeB: .transpose, m: width, n: count, k: Kg, alpha: 1,
                               a: f + group * Kg * width, lda: width, b: dO, ldb: g.outputChannels, beta: 0,
                               c: buffer, ldc: count)
            forEachImage(positions) { n, rows, offset in
                planes.col2im(UnsafePointer(buffer + offset), rows: rows, ld: count, into: dX + n * HW,
                              overwrite: false)
            }
            return
        }
        BLAS.uncheckedGEMM(transposeA: .none, transposeB: .none, m: positions.count, n: width, k: Kg, alpha: 1,
                           a: dO, lda: g.outputChannels, b: f + group * Kg * width, ldb: width, beta: 0,
                           c: buffer, ldc: width)
        lowering.col2im(UnsafePointer(buffer), positions: positions, ld: width,
                        into: dX + group * g.inputChannelsPerGroup)
    }

    /// Zeroes dX lazily, input row by input row just before the first position that adds into it.
    func zeroInputGradient<T: ConvScalar>(through positions: Range<Int>, _ dX: UnsafeMutablePointer<T>,
                                          zeroed: inout Int) {
        lowering.zeroInputRows(dX, through: positions, zeroed: &zeroed)
    }

    func finishInputGradient<T: ConvScalar>(_ dX: UnsafeMutablePointer<T>, zeroed: Int, end: Int) {
        lowering.zeroInputRows(dX, from: zeroed, to: end)
    }
}
