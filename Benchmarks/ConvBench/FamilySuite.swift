import ConvEngine

/// An operation of the convolution family (issue 13) the benchmark runs beside the 2-D convolutions, named as
/// PyTorch names it (`compare.py` calls the function of that name).
enum FamilyOperation: String, Codable, Sendable {
    case transposed2D = "conv_transpose2d"
    case conv1D = "conv1d"
    case transposed1D = "conv_transpose1d"
    case conv3D = "conv3d"

    /// Spatial axes: 1, 2 or 3.
    var rank: Int {
        switch self {
        case .conv1D, .transposed1D: return 1
        case .transposed2D: return 2
        case .conv3D: return 3
        }
    }

    var isTransposed: Bool { self == .transposed2D || self == .transposed1D }
}

/// A layer of the family: the operation and its parameters, one entry per spatial axis (depth, height, width;
/// length for 1-D). `inputChannels`/`outputChannels` are the operation's own (a transposed convolution maps
/// Cin channels of X to Cout of O, its weight is Cin × Cout/G × kernel).
struct FamilySpec: Sendable {
    var operation: FamilyOperation
    var batch, inputChannels, outputChannels: Int
    var groups = 1
    var inputSize: [Int]
    var kernelSize: [Int]
    var stride: [Int]
    var paddingBefore: [Int]
    var paddingAfter: [Int]
    var dilation: [Int]
    var outputPadding: [Int]

    /// Symmetric padding, unit dilation and no output padding unless given.
    init(_ operation: FamilyOperation, batch: Int, inputChannels: Int, outputChannels: Int, inputSize: [Int],
         kernel: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1, groups: Int = 1) {
        let n = operation.rank
        self.operation = operation
        self.batch = batch; self.inputChannels = inputChannels; self.outputChannels = outputChannels
        self.groups = groups
        self.inputSize = inputSize
        kernelSize = Array(repeating: kernel, count: n)
        self.stride = Array(repeating: stride, count: n)
        paddingBefore = Array(repeating: padding, count: n)
        paddingAfter = paddingBefore
        self.dilation = Array(repeating: dilation, count: n)
        outputPadding = Array(repeating: 0, count: n)
    }

    /// The same layer with another batch.
    func withBatch(_ n: Int) -> FamilySpec {
        var s = self
        s.batch = n
        return s
    }
}

/// The five family rows of issue 13 and their small `--quick` forms.
enum FamilySuite {
    /// Name, full-size layer, quick layer.
    static let rows: [(name: String, full: FamilySpec, quick: FamilySpec)] = [
        // DCGAN generator: 512→256, 4×4, stride 2, padding 1, 8×8 → 16×16.
        ("dcgan.convT2d",
         FamilySpec(.transposed2D, batch: 16, inputChannels: 512, outputChannels: 256, inputSize: [8, 8], kernel: 4,
                    stride: 2, padding: 1),
         FamilySpec(.transposed2D, batch: 2, inputChannels: 64, outputChannels: 32, inputSize: [8, 8], kernel: 4,
                    stride: 2, padding: 1)),
        // U-Net up-convolution: 128→64, 2×2, stride 2, 64×64 → 128×128.
        ("unet.convT2d",
         FamilySpec(.transposed2D, batch: 4, inputChannels: 128, outputChannels: 64, inputSize: [64, 64], kernel: 2,
                    stride: 2),
         FamilySpec(.transposed2D, batch: 2, inputChannels: 32, outputChannels: 16, inputSize: [16, 16], kernel: 2,
                    stride: 2)),
        // Audio front end: 1→512, kernel 10, stride 5, length 16000.
        ("audio.conv1d",
         FamilySpec(.conv1D, batch: 8, inputChannels: 1, outputChannels: 512, inputSize: [16000], kernel: 10,
                    stride: 5),
         FamilySpec(.conv1D, batch: 2, inputChannels: 1, outputChannels: 64, inputSize: [4000], kernel: 10, stride: 5)),
        // Temporal block: 256→256, kernel 3, padding 1, dilation 2, length 4096.
        ("temporal.conv1d",
         FamilySpec(.conv1D, batch: 8, inputChannels: 256, outputChannels: 256, inputSize: [4096], kernel: 3,
                    padding: 1, dilation: 2),
         FamilySpec(.conv1D, batch: 2, inputChannels: 64, outputChannels: 64, inputSize: [1024], kernel: 3,
                    padding: 1, dilation: 2)),
        // 3-D block: 64→64, 3×3×3, padding 1, 8×28×28.
        ("block.conv3d",
         FamilySpec(.conv3D, batch: 2, inputChannels: 64, outputChannels: 64, inputSize: [8, 28, 28], kernel: 3,
                    padding: 1),
         FamilySpec(.conv3D, batch: 1, inputChannels: 16, outputChannels: 16, inputSize: [4, 14, 14], kernel: 3,
                    padding: 1)),
    ]

    /// The rows at full size (`quick`: the small forms); `batch` replaces every row's batch when given.
    static func layers(quick: Bool, batch: Int?) throws -> [FamilyLayer] {
        try rows.map { row in
            let spec = quick ? row.quick : row.full
            return try FamilyLayer(name: row.name, spec: batch.map { spec.withBatch($0) } ?? spec)
        }
    }
}
