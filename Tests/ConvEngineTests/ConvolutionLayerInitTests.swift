// PyTorch's default initialisation of each layer kind: the weight has PyTorch's shape for the module, and both
// weight and bias are U(±1/√fan_in) with fan_in computed as torch.nn.init does from that shape (dimension 1
// times the kernel: C/G·k… for a convolution, Cout/G·k… for a transposed one), written out here per kind.
import Testing
import ConvEngine

@Suite("ConvolutionLayer initialisation")
struct ConvolutionLayerInitTests {
    /// Mean, variance and bounds of U(−b, b) over the weight's draw (about 10–20 thousand values), and the
    /// bias's bounds; five standard errors of slack for the mean and the variance.
    func check<G: LayerGeometry>(_ g: G, shape: [Int], fanIn: Int, _ what: String,
                                 sourceLocation: SourceLocation = #_sourceLocation) throws {
        var rng = SeededGenerator(seed: 31)
        let layer = try ConvolutionLayer<G, Double>(geometry: g, engine: makeEngine(workers: 1), generator: &rng)
        #expect(layer.weight.shape == shape, "\(what) weight shape", sourceLocation: sourceLocation)
        #expect(layer.bias?.shape == [g.biasCount], "\(what) bias shape", sourceLocation: sourceLocation)
        let b = 1 / Double(fanIn).squareRoot()
        let w = layer.weight.value, n = Double(w.count)
        let mean = w.reduce(0, +) / n
        let variance = w.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n
        #expect(abs(mean) < 5 * b / (3 * n).squareRoot(), "\(what) mean \(mean)", sourceLocation: sourceLocation)
        // U(−b, b): variance b²/3; the variance of x² is 4b⁴/45.
        #expect(abs(variance - b * b / 3) < 5 * b * b * (4.0 / 45).squareRoot() / n.squareRoot(),
                "\(what) variance \(variance), expected \(b * b / 3)", sourceLocation: sourceLocation)
        let largest = w.map(abs).max() ?? 0
        #expect(largest <= b && largest > 0.99 * b, "\(what) max |w| \(largest), bound \(b)",
                sourceLocation: sourceLocation)
        let bias = try #require(layer.bias).value
        #expect(bias.allSatisfy { abs($0) <= b } && Set(bias).count == bias.count, "\(what) bias within ±\(b)",
                sourceLocation: sourceLocation)
        #expect(bias.map(abs).max()! > 0.5 * b, "\(what) bias spans its range", sourceLocation: sourceLocation)
    }

    @Test("weight shape and U(±1/√fan_in) for weight and bias, fan_in as torch.nn.init computes it")
    func pytorchDefaults() throws {
        try check(ConvGeometry(batch: 1, inputChannels: 32, inputHeight: 5, inputWidth: 5, outputChannels: 64,
                               kernelHeight: 3, kernelWidth: 3, groups: 2),
                  shape: [64, 16, 3, 3], fanIn: 16 * 9, "Conv2d(32, 64, 3, groups=2)")
        try check(TransposedConvGeometry(batch: 1, inputChannels: 64, inputHeight: 5, inputWidth: 5,
                                         outputChannels: 32, kernelHeight: 3, kernelWidth: 3, groups: 2),
                  shape: [64, 16, 3, 3], fanIn: 16 * 9, "ConvTranspose2d(64, 32, 3, groups=2)")
        try check(ConvGeometry1D(batch: 1, inputChannels: 64, inputLength: 9, outputChannels: 128, kernelLength: 5,
                                 groups: 4),
                  shape: [128, 16, 5], fanIn: 16 * 5, "Conv1d(64, 128, 5, groups=4)")
        try check(TransposedConvGeometry1D(batch: 1, inputChannels: 128, inputLength: 9, outputChannels: 64,
                                           kernelLength: 5, groups: 2),
                  shape: [128, 32, 5], fanIn: 32 * 5, "ConvTranspose1d(128, 64, 5, groups=2)")
        try check(ConvGeometry3D(batch: 1, inputChannels: 16, inputDepth: 4, inputHeight: 4, inputWidth: 4,
                                 outputChannels: 32, kernelDepth: 3, kernelHeight: 3, kernelWidth: 3, groups: 2),
                  shape: [32, 8, 3, 3, 3], fanIn: 8 * 27, "Conv3d(16, 32, 3, groups=2)")
    }
}
