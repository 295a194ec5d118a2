import ConvEngine
import Foundation

/// A family layer the benchmark runs: a name, its parameters, its layout and the library geometry made from them.
struct FamilyLayer: Sendable {
    /// The row's name (`<layer>/nhwc` for an NHWC row, ``BenchLayout/rowName(_:)``).
    let name: String
    let spec: FamilySpec
    let layout: BenchLayout
    let geometry: FamilyGeometry

    /// - Throws: ``ConvError`` when the parameters are not a valid geometry.
    init(name: String, spec: FamilySpec, layout: BenchLayout = .nchw) throws {
        self.name = name
        self.spec = spec
        self.layout = layout
        geometry = try FamilyGeometry(spec, layout: layout.convLayout)
    }

    /// The layer's own name, the same for its NCHW and NHWC rows (the data are drawn from it).
    var layerName: String { layout.layerName(name) }

    /// The same layer in `layout`, named for it.
    func inLayout(_ layout: BenchLayout) throws -> FamilyLayer {
        try FamilyLayer(name: layout.rowName(layerName), spec: spec, layout: layout)
    }

    /// The orders of X (and dX), the weight (and dF), and O (and dO) in this row's layout: channels, then the
    /// spatial positions or kernel taps (a transposed weight is Cin × Cout/G × kernel, K×R×S×C/G-like when channels
    /// last: Cin × kernel × Cout/G).
    var orders: (input: TensorOrder, filter: TensorOrder, output: TensorOrder) {
        let last = layout == .nhwc
        let weightChannels = spec.operation.isTransposed ? spec.outputChannels / spec.groups : spec.inputChannels / spec.groups
        return (TensorOrder(channels: spec.inputChannels, positions: spec.inputSize.reduce(1, *), channelsLast: last),
                TensorOrder(channels: weightChannels, positions: spec.kernelSize.reduce(1, *), channelsLast: last),
                TensorOrder(channels: spec.outputChannels, positions: geometry.outputSize.reduce(1, *), channelsLast: last))
    }

    /// Nominal forward FLOPs: two per product of the definition, padding taps included (MATH.md). A convolution
    /// sums Cg·taps products per output element; a transposed convolution adds every input element times each
    /// tap into Cout/G output channels.
    var forwardFLOPs: Int {
        let taps = spec.kernelSize.reduce(1, *)
        return spec.operation.isTransposed
            ? 2 * geometry.shape.inputCount * (spec.outputChannels / spec.groups) * taps
            : 2 * geometry.shape.outputCount * (spec.inputChannels / spec.groups) * taps
    }

    /// Backward (input and filter gradients): twice the forward pass.
    var backwardFLOPs: Int { 2 * forwardFLOPs }

    /// The same layer with another batch (for the workspace at twice the batch).
    func withBatch(_ n: Int) throws -> FamilyLayer { try FamilyLayer(name: name, spec: spec.withBatch(n), layout: layout) }

    /// A one-line description for the legend: `conv_transpose2d N16 512→256 8×8 k4×4 s2 p1 g1 → 16×16`.
    var shortDescription: String {
        func axes(_ v: [Int]) -> String { v.map(String.init).joined(separator: "×") }
        func same(_ v: [Int]) -> String { Set(v).count == 1 ? "\(v[0])" : v.map(String.init).joined(separator: ",") }
        var s = "\(spec.operation.rawValue) N\(spec.batch) \(spec.inputChannels)→\(spec.outputChannels) "
            + "\(axes(spec.inputSize)) k\(axes(spec.kernelSize)) s\(same(spec.stride))"
        s += spec.paddingBefore == spec.paddingAfter
            ? " p\(same(spec.paddingBefore))" : " p\(same(spec.paddingBefore))/\(same(spec.paddingAfter))"
        if spec.dilation.contains(where: { $0 != 1 }) { s += " d\(same(spec.dilation))" }
        if spec.outputPadding.contains(where: { $0 != 0 }) { s += " op\(same(spec.outputPadding))" }
        return s + " g\(spec.groups) → \(axes(geometry.outputSize))"
    }

    /// The geometry as the JSON lists it (`compare.py` builds PyTorch's tensors from it).
    var info: FamilyGeometryInfo {
        FamilyGeometryInfo(operation: spec.operation, batch: spec.batch, inputChannels: spec.inputChannels,
                           outputChannels: spec.outputChannels, groups: spec.groups, inputSize: spec.inputSize,
                           kernelSize: spec.kernelSize, stride: spec.stride, paddingBefore: spec.paddingBefore,
                           paddingAfter: spec.paddingAfter, dilation: spec.dilation,
                           outputPadding: spec.outputPadding, outputSize: geometry.outputSize)
    }
}

/// A family layer's geometry in the JSON, per spatial axis (the schema of the family golden manifest).
struct FamilyGeometryInfo: Codable {
    var operation: FamilyOperation
    var batch, inputChannels, outputChannels, groups: Int
    var inputSize, kernelSize, stride, paddingBefore, paddingAfter, dilation, outputPadding, outputSize: [Int]
}

/// The library geometry of a family layer, and the engine's operations on it (each geometry type has its own
/// overloads of the same verbs).
enum FamilyGeometry: Sendable {
    case transposed2D(TransposedConvGeometry)
    case conv1D(ConvGeometry1D)
    case transposed1D(TransposedConvGeometry1D)
    case conv3D(ConvGeometry3D)

    init(_ s: FamilySpec, layout: ConvLayout) throws {
        switch s.operation {
        case .transposed2D:
            self = .transposed2D(try TransposedConvGeometry(
                batch: s.batch, inputChannels: s.inputChannels, inputHeight: s.inputSize[0], inputWidth: s.inputSize[1],
                outputChannels: s.outputChannels, kernelHeight: s.kernelSize[0], kernelWidth: s.kernelSize[1],
                strideHeight: s.stride[0], strideWidth: s.stride[1],
                padding: Padding(top: s.paddingBefore[0], bottom: s.paddingAfter[0],
                                 left: s.paddingBefore[1], right: s.paddingAfter[1]),
                outputPaddingHeight: s.outputPadding[0], outputPaddingWidth: s.outputPadding[1],
                dilationHeight: s.dilation[0], dilationWidth: s.dilation[1], groups: s.groups, layout: layout))
        case .conv1D:
            self = .conv1D(try ConvGeometry1D(
                batch: s.batch, inputChannels: s.inputChannels, inputLength: s.inputSize[0],
                outputChannels: s.outputChannels, kernelLength: s.kernelSize[0], stride: s.stride[0],
                padding: Padding1D(left: s.paddingBefore[0], right: s.paddingAfter[0]), dilation: s.dilation[0],
                groups: s.groups, layout: layout))
        case .transposed1D:
            self = .transposed1D(try TransposedConvGeometry1D(
                batch: s.batch, inputChannels: s.inputChannels, inputLength: s.inputSize[0],
                outputChannels: s.outputChannels, kernelLength: s.kernelSize[0], stride: s.stride[0],
                padding: Padding1D(left: s.paddingBefore[0], right: s.paddingAfter[0]),
                outputPadding: s.outputPadding[0], dilation: s.dilation[0], groups: s.groups, layout: layout))
        case .conv3D:
            self = .conv3D(try ConvGeometry3D(
                batch: s.batch, inputChannels: s.inputChannels,
                inputDepth: s.inputSize[0], inputHeight: s.inputSize[1], inputWidth: s.inputSize[2],
                outputChannels: s.outputChannels,
                kernelDepth: s.kernelSize[0], kernelHeight: s.kernelSize[1], kernelWidth: s.kernelSize[2],
                strideDepth: s.stride[0], strideHeight: s.stride[1], strideWidth: s.stride[2],
                padding: Padding3D(front: s.paddingBefore[0], back: s.paddingAfter[0], top: s.paddingBefore[1],
                                   bottom: s.paddingAfter[1], left: s.paddingBefore[2], right: s.paddingAfter[2]),
                dilationDepth: s.dilation[0], dilationHeight: s.dilation[1], dilationWidth: s.dilation[2],
                groups: s.groups, layout: layout))
        }
    }

    /// The four tensors' element counts.
    var shape: any ConvolutionShape {
        switch self {
        case .transposed2D(let g): return g
        case .conv1D(let g): return g
        case .transposed1D(let g): return g
        case .conv3D(let g): return g
        }
    }

    /// The output's spatial size, per axis.
    var outputSize: [Int] {
        switch self {
        case .transposed2D(let g): return [g.outputHeight, g.outputWidth]
        case .conv1D(let g): return [g.outputLength]
        case .transposed1D(let g): return [g.outputLength]
        case .conv3D(let g): return [g.outputDepth, g.outputHeight, g.outputWidth]
        }
    }

    /// MATH.md's `L` per result (``ErrorBound/termCounts``).
    var termCounts: ErrorBound.TermCounts {
        switch self {
        case .transposed2D(let g): return ErrorBound.termCounts(g)
        case .conv1D(let g): return ErrorBound.termCounts(g)
        case .transposed1D(let g): return ErrorBound.termCounts(g)
        case .conv3D(let g): return ErrorBound.termCounts(g)
        }
    }

    /// The convolution whose canonical lowering gives the ceiling's GEMMs, and whether the operation runs them as
    /// a transposed convolution does (``CeilingGEMM/transposed(_:)``): the associated convolution for the
    /// transposed operations (MATH.md), the 2-D one with H = R = 1 for 1-D, vol2col's shapes for 3-D.
    var lowering: (shape: LoweringShape, transposed: Bool) {
        switch self {
        case .transposed2D(let g): return (LoweringShape(g.associated), true)
        case .conv1D(let g): return (LoweringShape(g.planar), false)
        case .transposed1D(let g): return (LoweringShape(g.planar.associated), true)
        case .conv3D(let g):
            let taps = g.kernelDepth * g.kernelHeight * g.kernelWidth
            let pointwise = taps == 1 && g.strideDepth == 1 && g.strideHeight == 1 && g.strideWidth == 1
                && g.padding == .zero
            return (LoweringShape(batch: g.batch, groups: g.groups, inputChannels: g.inputChannels,
                                  outputChannels: g.outputChannels,
                                  inputPlane: g.inputDepth * g.inputHeight * g.inputWidth,
                                  columnRows: g.inputChannels / g.groups * taps,
                                  columnColumns: g.outputDepth * g.outputHeight * g.outputWidth,
                                  isPointwise: pointwise), false)
        }
    }

    /// For a transposed operation, its input's (height, width) and the associated convolution's output
    /// (P, Q), which is larger when the output padding reaches past the stride (MATH.md); nil otherwise.
    var transposedInputExtension: (height: Int, width: Int, p: Int, q: Int)? {
        switch self {
        case .transposed2D(let g):
            return (g.inputHeight, g.inputWidth, g.associated.outputHeight, g.associated.outputWidth)
        case .transposed1D(let g):
            return (1, g.inputLength, g.planar.associated.outputHeight, g.planar.associated.outputWidth)
        case .conv1D, .conv3D:
            return nil
        }
    }

    // MARK: - The engine's operations

    func forward<T: ConvScalar>(_ e: ConvolutionEngine, input: UnsafeBufferPointer<T>, filter: UnsafeBufferPointer<T>,
                                bias: UnsafeBufferPointer<T>?, output: UnsafeMutableBufferPointer<T>,
                                workspace: ConvWorkspace<T>) throws {
        switch self {
        case .transposed2D(let g):
            try e.forward(g, input: input, filter: filter, bias: bias, output: output, workspace: workspace)
        case .conv1D(let g):
            try e.forward(g, input: input, filter: filter, bias: bias, output: output, workspace: workspace)
        case .transposed1D(let g):
            try e.forward(g, input: input, filter: filter, bias: bias, output: output, workspace: workspace)
        case .conv3D(let g):
            try e.forward(g, input: input, filter: filter, bias: bias, output: output, workspace: workspace)
        }
    }

    func backward<T: ConvScalar>(_ e: ConvolutionEngine, input: UnsafeBufferPointer<T>, filter: UnsafeBufferPointer<T>,
                                 outputGradient: UnsafeBufferPointer<T>, inputGradient: UnsafeMutableBufferPointer<T>,
                                 filterGradient: UnsafeMutableBufferPointer<T>, biasGradient: UnsafeMutableBufferPointer<T>,
                                 workspace: ConvWorkspace<T>) throws {
        switch self {
        case .transposed2D(let g):
            try e.backward(g, input: input, filter: filter, outputGradient: outputGradient, inputGradient: inputGradient,
                           filterGradient: filterGradient, biasGradient: biasGradient, workspace: workspace)
        case .conv1D(let g):
            try e.backward(g, input: input, filter: filter, outputGradient: outputGradient, inputGradient: inputGradient,
                           filterGradient: filterGradient, biasGradient: biasGradient, workspace: workspace)
        case .transposed1D(let g):
            try e.backward(g, input: input, filter: filter, outputGradient: outputGradient, inputGradient: inputGradient,
                           filterGradient: filterGradient, biasGradient: biasGradient, workspace: workspace)
        case .conv3D(let g):
            try e.backward(g, input: input, filter: filter, outputGradient: outputGradient, inputGradient: inputGradient,
                           filterGradient: filterGradient, biasGradient: biasGradient, workspace: workspace)
        }
    }

    func workspaceElementCount<T: ConvScalar>(_ e: ConvolutionEngine, scalar: T.Type) throws -> Int {
        switch self {
        case .transposed2D(let g): return try e.workspaceElementCount(for: g, scalar: scalar)
        case .conv1D(let g): return try e.workspaceElementCount(for: g, scalar: scalar)
        case .transposed1D(let g): return try e.workspaceElementCount(for: g, scalar: scalar)
        case .conv3D(let g): return try e.workspaceElementCount(for: g, scalar: scalar)
        }
    }

    func workspaceBytes<T: ConvScalar>(_ e: ConvolutionEngine, scalar: T.Type) throws -> Int {
        switch self {
        case .transposed2D(let g): return try e.workspaceBytes(for: g, scalar: scalar)
        case .conv1D(let g): return try e.workspaceBytes(for: g, scalar: scalar)
        case .transposed1D(let g): return try e.workspaceBytes(for: g, scalar: scalar)
        case .conv3D(let g): return try e.workspaceBytes(for: g, scalar: scalar)
        }
    }

    /// What the engine runs, as its plan describes it, without the geometry of the convolution it runs on (the
    /// legend has it): `transposed → kernelRowGEMM(tile 8 images)+col2im×1` for
    /// `transposed → associated conv N2 C32→K64 …: kernelRowGEMM(tile 8 images)+col2im×1`.
    func plan<T: ConvScalar>(_ e: ConvolutionEngine, scalar: T.Type) throws -> String {
        let full: String
        switch self {
        case .transposed2D(let g): full = String(describing: try e.plan(for: g, scalar: scalar))
        case .conv1D(let g): full = String(describing: try e.plan(for: g, scalar: scalar))
        case .transposed1D(let g): full = String(describing: try e.plan(for: g, scalar: scalar))
        case .conv3D(let g): full = String(describing: try e.plan(for: g, scalar: scalar))
        }
        guard let arrow = full.range(of: " → "), let colon = full.range(of: ": ", options: .backwards),
              arrow.upperBound <= colon.lowerBound else { return full }
        return String(full[..<arrow.upperBound]) + String(full[colon.upperBound...])
    }

    /// Whether a forced `algorithm` applies: through the convolution a transposed or 1-D operation runs on
    /// (the 3-D lowering is its own, so never).
    func supports(_ algorithm: ConvAlgorithm) -> Bool {
        switch self {
        case .transposed2D(let g): return algorithm.supports(g.associated)
        case .conv1D(let g): return algorithm.supports(g.planar)
        case .transposed1D(let g): return algorithm.supports(g.planar.associated)
        case .conv3D: return false
        }
    }
}
