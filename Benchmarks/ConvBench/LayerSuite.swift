import ConvEngine

/// One convolution layer the benchmark runs: a name, where it came from, and its geometry.
struct BenchLayer: Sendable {
    enum Source: String, Sendable, Codable {
        /// One of the nine named layers of the fixed suite.
        case suite
        /// Drawn by ``GeometryGenerator`` from the printed seed.
        case generated
        /// One of the convolution family's rows (transposed, 1-D and 3-D convolutions, ``FamilySuite``).
        case family
    }

    /// The row's name (`<layer>/nhwc` for an NHWC row, ``BenchLayout/rowName(_:)``).
    let name: String
    let source: Source
    let geometry: ConvGeometry

    /// The row's layout, the geometry's.
    var layout: BenchLayout { geometry.layout == .nchw ? .nchw : .nhwc }

    /// The layer's own name, the same for its NCHW and NHWC rows (the data are drawn from it).
    var layerName: String { layout.layerName(name) }

    /// The same layer in `layout`, named for it.
    func inLayout(_ layout: BenchLayout) -> BenchLayer {
        BenchLayer(name: layout.rowName(layerName), source: source, geometry: geometry.withLayout(layout.convLayout))
    }
}

/// The fixed, named layer suite (issue 3's table) and its small `--quick` form.
enum LayerSuite {
    /// One row of the suite table: N, C→K, H×W, square kernel, stride, symmetric padding, groups.
    struct Row {
        let name: String
        let batch, inputChannels, outputChannels, size, kernel, stride, padding, groups: Int
    }

    /// The nine layers, exactly as in issue 3.
    static let rows: [Row] = [
        Row(name: "resnet50.conv1", batch: 8, inputChannels: 3, outputChannels: 64, size: 224, kernel: 7, stride: 2, padding: 3, groups: 1),
        Row(name: "resnet50.res2.3x3", batch: 8, inputChannels: 64, outputChannels: 64, size: 56, kernel: 3, stride: 1, padding: 1, groups: 1),
        Row(name: "resnet50.res2.1x1", batch: 8, inputChannels: 256, outputChannels: 64, size: 56, kernel: 1, stride: 1, padding: 0, groups: 1),
        Row(name: "resnet50.res3.3x3", batch: 8, inputChannels: 128, outputChannels: 128, size: 28, kernel: 3, stride: 1, padding: 1, groups: 1),
        Row(name: "resnet50.res4.3x3", batch: 8, inputChannels: 256, outputChannels: 256, size: 14, kernel: 3, stride: 1, padding: 1, groups: 1),
        Row(name: "resnet50.res5.3x3", batch: 8, inputChannels: 512, outputChannels: 512, size: 7, kernel: 3, stride: 1, padding: 1, groups: 1),
        Row(name: "vgg16.conv1_2", batch: 4, inputChannels: 64, outputChannels: 64, size: 224, kernel: 3, stride: 1, padding: 1, groups: 1),
        Row(name: "mobilenet.dw3x3", batch: 8, inputChannels: 256, outputChannels: 256, size: 28, kernel: 3, stride: 1, padding: 1, groups: 256),
        Row(name: "mnist.conv1", batch: 64, inputChannels: 1, outputChannels: 16, size: 28, kernel: 5, stride: 1, padding: 0, groups: 1),
    ]

    /// The suite at full size; `batch` replaces every layer's batch when given.
    static func full(batch: Int?) throws -> [BenchLayer] {
        try rows.map { try layer($0, batch: batch) }
    }

    /// The same nine layers shrunk for `--quick`: batch 2, channels and image a quarter (kernel, stride,
    /// padding and the depthwise grouping kept), so the whole run takes seconds.
    static func quick(batch: Int?) throws -> [BenchLayer] {
        try rows.map { r in
            let c = max(1, r.inputChannels / 4), k = max(1, r.outputChannels / 4)
            let small = Row(name: r.name, batch: min(r.batch, 2), inputChannels: c, outputChannels: k,
                            size: max(r.kernel, r.size / 4), kernel: r.kernel, stride: r.stride, padding: r.padding,
                            groups: r.groups == r.inputChannels ? c : r.groups)
            return try layer(small, batch: batch)
        }
    }

    private static func layer(_ r: Row, batch: Int?) throws -> BenchLayer {
        let g = try ConvGeometry(
            batch: batch ?? r.batch, inputChannels: r.inputChannels, inputHeight: r.size, inputWidth: r.size,
            outputChannels: r.outputChannels, kernelHeight: r.kernel, kernelWidth: r.kernel,
            strideHeight: r.stride, strideWidth: r.stride, padding: .explicit(Padding(r.padding)), groups: r.groups)
        return BenchLayer(name: r.name, source: .suite, geometry: g)
    }
}

/// Draws geometries outside the named suite, so that nothing can be tuned to the nine names alone.
///
/// Ranges (issue 3): batch 1–16, channels 16–256 (C and K independently, any integer), input 7–112
/// (square or not), kernel 1–7 (square or not, even sizes included), stride 1–2, groups 1, dilation 1,
/// symmetric padding of 0 or ⌊kernel/2⌋ per axis. A draw whose nominal forward FLOPs fall outside
/// `flopRange` is redrawn, which keeps `make bench` inside its time budget without fixing any shape.
/// `--quick` uses smaller ranges (batch 1–4, channels 4–32, input 7–28).
struct GeometryGenerator {
    static let defaultSeed: UInt64 = 20_250_603

    let seed: UInt64
    let quick: Bool

    var flopRange: ClosedRange<Int> { quick ? 200_000...20_000_000 : 50_000_000...2_500_000_000 }

    func layers(count: Int, batch: Int?) throws -> [BenchLayer] {
        var rng = SeededGenerator(seed: seed)
        var result: [BenchLayer] = []
        var attempts = 0
        while result.count < count {
            attempts += 1
            guard attempts < 100_000 else { throw BenchError.usage("the generator found no geometry within its FLOP range") }
            // The range is checked at the drawn batch, so `--batch` changes the batch and nothing else.
            let g = try draw(&rng)
            if flopRange.contains(g.forwardFLOPs) {
                let final = try batch.map { try g.withBatch($0) } ?? g
                result.append(BenchLayer(name: "gen\(result.count + 1)", source: .generated, geometry: final))
            }
        }
        return result
    }

    private func draw(_ rng: inout SeededGenerator) throws -> ConvGeometry {
        let batchRange = quick ? 1...4 : 1...16
        let channelRange = quick ? 4...32 : 16...256
        let sizeRange = quick ? 7...28 : 7...112
        let n = Int.random(in: batchRange, using: &rng)
        let c = Int.random(in: channelRange, using: &rng)
        let k = Int.random(in: channelRange, using: &rng)
        let h = Int.random(in: sizeRange, using: &rng)
        let w = Bool.random(using: &rng) ? h : Int.random(in: sizeRange, using: &rng)
        let r = Int.random(in: 1...7, using: &rng)
        let s = Int.random(in: 0..<4, using: &rng) == 0 ? Int.random(in: 1...7, using: &rng) : r
        let stride = Int.random(in: 1...2, using: &rng)
        let padded = Bool.random(using: &rng)
        return try ConvGeometry(
            batch: n, inputChannels: c, inputHeight: h, inputWidth: w,
            outputChannels: k, kernelHeight: r, kernelWidth: s, strideHeight: stride, strideWidth: stride,
            padding: .explicit(Padding(height: padded ? r / 2 : 0, width: padded ? s / 2 : 0)))
    }
}

extension ConvGeometry {
    /// A short one-line description for the legend: `N8 3→64 224×224 k7×7 s2 p3 g1 → 112×112`.
    var shortDescription: String {
        let pad = padding.top == padding.bottom && padding.left == padding.right
            ? (padding.top == padding.left ? "\(padding.top)" : "\(padding.top),\(padding.left)")
            : "\(padding.top),\(padding.bottom),\(padding.left),\(padding.right)"
        let stride = strideHeight == strideWidth ? "\(strideHeight)" : "\(strideHeight),\(strideWidth)"
        var s = "N\(batch) \(inputChannels)→\(outputChannels) \(inputHeight)×\(inputWidth) k\(kernelHeight)×\(kernelWidth)"
            + " s\(stride) p\(pad)"
        if dilationHeight != 1 || dilationWidth != 1 { s += " d\(dilationHeight),\(dilationWidth)" }
        s += " g\(groups) → \(outputHeight)×\(outputWidth)"
        return s
    }
}
