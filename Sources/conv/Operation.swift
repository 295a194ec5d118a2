// The operation one invocation describes: a 1-D, 2-D or 3-D convolution, or a 1-D or 2-D transposed convolution,
// told apart by the number of spatial axes (the input's rank, or `conv check --dimensions`) and `--transposed`.
@_spi(Tools) import ConvEngine

/// One operation of the convolution family and its geometry, with the tensors' shapes and the calls `conv`
/// makes on it.
enum Operation {
    case conv2D(ConvGeometry)
    case transposed2D(TransposedConvGeometry)
    case conv1D(ConvGeometry1D)
    case transposed1D(TransposedConvGeometry1D)
    case conv3D(ConvGeometry3D)

    /// The geometry of `batch` inputs of `inputChannels` channels and spatial `size` (one entry per axis: length;
    /// height, width; depth, height, width) with `outputChannels` output channels and a `kernel` of the same rank,
    /// with the options' stride, padding, dilation, groups, (transposed) output padding and tensor layout.
    ///
    /// - Throws: a usage error (exit 64) when the options do not fit the rank or describe no valid geometry.
    static func make(batch: Int, inputChannels: Int, size: [Int], outputChannels: Int, kernel: [Int],
                     options o: ConvolutionOptions) throws -> Operation {
        let rank = size.count
        try o.checkGroups()
        try o.checkOperation(rank: rank)
        let stride = try o.strides(rank: rank), dilation = try o.dilations(rank: rank)
        let outputPadding = try o.outputPaddings(rank: rank)
        let padding = try o.padding(rank: rank, kernel: kernel)
        // Explicit amounts before and after each axis (`same` is resolved by the options except in 2-D).
        func amounts() -> (before: [Int], after: [Int]) {
            if case let .explicit(before, after) = padding { return (before, after) }
            return (Array(repeating: 0, count: rank), Array(repeating: 0, count: rank))
        }
        let (before, after) = amounts()
        let layout = o.convLayout
        do {
            switch (rank, o.transposed) {
            case (1, false):
                return .conv1D(try ConvGeometry1D(
                    batch: batch, inputChannels: inputChannels, inputLength: size[0], outputChannels: outputChannels,
                    kernelLength: kernel[0], stride: stride[0], padding: Padding1D(left: before[0], right: after[0]),
                    dilation: dilation[0], groups: o.groups, layout: layout))
            case (1, true):
                return .transposed1D(try TransposedConvGeometry1D(
                    batch: batch, inputChannels: inputChannels, inputLength: size[0], outputChannels: outputChannels,
                    kernelLength: kernel[0], stride: stride[0], padding: Padding1D(left: before[0], right: after[0]),
                    outputPadding: outputPadding[0], dilation: dilation[0], groups: o.groups, layout: layout))
            case (2, false):
                let spec: PaddingSpec
                switch padding {
                case .same: spec = .same
                case .valid: spec = .valid
                case .explicit: spec = .explicit(Padding(top: before[0], bottom: after[0], left: before[1], right: after[1]))
                }
                return .conv2D(try ConvGeometry(
                    batch: batch, inputChannels: inputChannels, inputHeight: size[0], inputWidth: size[1],
                    outputChannels: outputChannels, kernelHeight: kernel[0], kernelWidth: kernel[1],
                    strideHeight: stride[0], strideWidth: stride[1], padding: spec,
                    dilationHeight: dilation[0], dilationWidth: dilation[1], groups: o.groups, layout: layout))
            case (2, true):
                return .transposed2D(try TransposedConvGeometry(
                    batch: batch, inputChannels: inputChannels, inputHeight: size[0], inputWidth: size[1],
                    outputChannels: outputChannels, kernelHeight: kernel[0], kernelWidth: kernel[1],
                    strideHeight: stride[0], strideWidth: stride[1],
                    padding: Padding(top: before[0], bottom: after[0], left: before[1], right: after[1]),
                    outputPaddingHeight: outputPadding[0], outputPaddingWidth: outputPadding[1],
                    dilationHeight: dilation[0], dilationWidth: dilation[1], groups: o.groups, layout: layout))
            default:
                return .conv3D(try ConvGeometry3D(
                    batch: batch, inputChannels: inputChannels,
                    inputDepth: size[0], inputHeight: size[1], inputWidth: size[2], outputChannels: outputChannels,
                    kernelDepth: kernel[0], kernelHeight: kernel[1], kernelWidth: kernel[2],
                    strideDepth: stride[0], strideHeight: stride[1], strideWidth: stride[2],
                    padding: Padding3D(front: before[0], back: after[0], top: before[1], bottom: after[1],
                                       left: before[2], right: after[2]),
                    dilationDepth: dilation[0], dilationHeight: dilation[1], dilationWidth: dilation[2],
                    groups: o.groups, layout: layout))
            }
        } catch {
            throw CLIError.usage("invalid geometry: \(error)")
        }
    }

    /// The geometry's element counts.
    var shape: any ConvolutionShape {
        switch self {
        case .conv2D(let g): return g
        case .transposed2D(let g): return g
        case .conv1D(let g): return g
        case .transposed1D(let g): return g
        case .conv3D(let g): return g
        }
    }

    /// What it is, for messages: `transposed 2-D convolution`, ….
    var name: String {
        switch self {
        case .conv2D: return "2-D convolution"
        case .transposed2D: return "transposed 2-D convolution"
        case .conv1D: return "1-D convolution"
        case .transposed1D: return "transposed 1-D convolution"
        case .conv3D: return "3-D convolution"
        }
    }

    /// The geometry's own description (it names the layout unless NCHW).
    var description: String { String(describing: shape) }

    /// The tensors' layout (`--layout`, `--filter-layout`).
    var layout: ConvLayout {
        switch self {
        case .conv2D(let g): return g.layout
        case .transposed2D(let g): return g.layout
        case .conv1D(let g): return g.layout
        case .transposed1D(let g): return g.layout
        case .conv3D(let g): return g.layout
        }
    }

    /// X: (N, C, spatial…), or (N, spatial…, C) with channels-last activations.
    var inputShape: [Int] { arranged(channelsFirstInputShape, channelsLast: layout.activations == .channelsLast) }

    /// The filter (weight): (K, C/groups, kernel…), or (Cin, Cout/groups, kernel…) for a transposed convolution;
    /// the second axis last, (K, kernel…, C/groups), with a channels-last filter.
    var filterShape: [Int] { arranged(channelsFirstFilterShape, channelsLast: layout.filter == .channelsLast) }

    /// O and dO: (N, K, output spatial…), or (N, output spatial…, K) with channels-last activations.
    var outputShape: [Int] { arranged(channelsFirstOutputShape, channelsLast: layout.activations == .channelsLast) }

    /// `shape` (outer, channels, spatial…) as stored: unchanged, or with the channel axis moved last.
    private func arranged(_ shape: [Int], channelsLast: Bool) -> [Int] {
        channelsLast ? [shape[0]] + shape[2...] + [shape[1]] : shape
    }

    /// X: (N, C, spatial…).
    private var channelsFirstInputShape: [Int] {
        switch self {
        case .conv2D(let g): return [g.batch, g.inputChannels, g.inputHeight, g.inputWidth]
        case .transposed2D(let g): return [g.batch, g.inputChannels, g.inputHeight, g.inputWidth]
        case .conv1D(let g): return [g.batch, g.inputChannels, g.inputLength]
        case .transposed1D(let g): return [g.batch, g.inputChannels, g.inputLength]
        case .conv3D(let g): return [g.batch, g.inputChannels, g.inputDepth, g.inputHeight, g.inputWidth]
        }
    }

    /// The filter (weight): (K, C/groups, kernel…), or (Cin, Cout/groups, kernel…) for a transposed convolution.
    private var channelsFirstFilterShape: [Int] {
        switch self {
        case .conv2D(let g): return [g.outputChannels, g.inputChannels / g.groups, g.kernelHeight, g.kernelWidth]
        case .transposed2D(let g): return [g.inputChannels, g.outputChannels / g.groups, g.kernelHeight, g.kernelWidth]
        case .conv1D(let g): return [g.outputChannels, g.inputChannels / g.groups, g.kernelLength]
        case .transposed1D(let g): return [g.inputChannels, g.outputChannels / g.groups, g.kernelLength]
        case .conv3D(let g):
            return [g.outputChannels, g.inputChannels / g.groups, g.kernelDepth, g.kernelHeight, g.kernelWidth]
        }
    }

    /// O and dO: (N, K, output spatial…).
    private var channelsFirstOutputShape: [Int] {
        switch self {
        case .conv2D(let g): return [g.batch, g.outputChannels, g.outputHeight, g.outputWidth]
        case .transposed2D(let g): return [g.batch, g.outputChannels, g.outputHeight, g.outputWidth]
        case .conv1D(let g): return [g.batch, g.outputChannels, g.outputLength]
        case .transposed1D(let g): return [g.batch, g.outputChannels, g.outputLength]
        case .conv3D(let g): return [g.batch, g.outputChannels, g.outputDepth, g.outputHeight, g.outputWidth]
        }
    }

    /// The bias: (K,).
    var biasShape: [Int] { [shape.biasCount] }

    /// `L` per result (products summed into one element), for the error bound (``ErrorBound``).
    var termCounts: ErrorBound.TermCounts {
        switch self {
        case .conv2D(let g): return ErrorBound.termCounts(g)
        case .transposed2D(let g): return ErrorBound.termCounts(g)
        case .conv1D(let g): return ErrorBound.termCounts(g)
        case .transposed1D(let g): return ErrorBound.termCounts(g)
        case .conv3D(let g): return ErrorBound.termCounts(g)
        }
    }

    /// What `engine` runs, as its plan describes it.
    func plan(_ engine: ConvolutionEngine) throws(ConvError) -> String {
        switch self {
        case .conv2D(let g): return String(describing: try engine.plan(for: g))
        case .transposed2D(let g): return String(describing: try engine.plan(for: g))
        case .conv1D(let g): return String(describing: try engine.plan(for: g))
        case .transposed1D(let g): return String(describing: try engine.plan(for: g))
        case .conv3D(let g): return String(describing: try engine.plan(for: g))
        }
    }

    /// The forward pass into `output` (resized to the output's elements).
    func forward<T: ConvScalar>(_ backend: some OperationBackend, input: [T], filter: [T], bias: [T]?,
                                output: inout [T], workspace: ConvWorkspace<T>) throws(ConvError) {
        switch self {
        case .conv2D(let g):
            try backend.forward(g, input: input, filter: filter, bias: bias, output: &output, workspace: workspace)
        case .transposed2D(let g):
            try backend.forward(g, input: input, filter: filter, bias: bias, output: &output, workspace: workspace)
        case .conv1D(let g):
            try backend.forward(g, input: input, filter: filter, bias: bias, output: &output, workspace: workspace)
        case .transposed1D(let g):
            try backend.forward(g, input: input, filter: filter, bias: bias, output: &output, workspace: workspace)
        case .conv3D(let g):
            try backend.forward(g, input: input, filter: filter, bias: bias, output: &output, workspace: workspace)
        }
    }

    /// The gradients in `gradients` into `result` (the others set to nil).
    func backward<T: ConvScalar>(_ backend: some OperationBackend, input: [T]?, filter: [T]?, outputGradient: [T],
                                 gradients: GradientSet, into result: inout Gradients<T>,
                                 workspace: ConvWorkspace<T>) throws(ConvError) {
        switch self {
        case .conv2D(let g):
            try backend.backward(g, input: input, filter: filter, outputGradient: outputGradient, gradients: gradients,
                                 into: &result, workspace: workspace)
        case .transposed2D(let g):
            try backend.backward(g, input: input, filter: filter, outputGradient: outputGradient, gradients: gradients,
                                 into: &result, workspace: workspace)
        case .conv1D(let g):
            try backend.backward(g, input: input, filter: filter, outputGradient: outputGradient, gradients: gradients,
                                 into: &result, workspace: workspace)
        case .transposed1D(let g):
            try backend.backward(g, input: input, filter: filter, outputGradient: outputGradient, gradients: gradients,
                                 into: &result, workspace: workspace)
        case .conv3D(let g):
            try backend.backward(g, input: input, filter: filter, outputGradient: outputGradient, gradients: gradients,
                                 into: &result, workspace: workspace)
        }
    }

    /// The reference's forward pass with Σ|terms| per output element.
    func forwardWithMagnitudes(_ r: ReferenceConvolution, input: [Double], filter: [Double], bias: [Double]?)
        throws(ConvError) -> (output: [Double], magnitudes: [Double]) {
        switch self {
        case .conv2D(let g): return try r.forwardWithMagnitudes(g, input: input, filter: filter, bias: bias)
        case .transposed2D(let g): return try r.forwardWithMagnitudes(g, input: input, filter: filter, bias: bias)
        case .conv1D(let g): return try r.forwardWithMagnitudes(g, input: input, filter: filter, bias: bias)
        case .transposed1D(let g): return try r.forwardWithMagnitudes(g, input: input, filter: filter, bias: bias)
        case .conv3D(let g): return try r.forwardWithMagnitudes(g, input: input, filter: filter, bias: bias)
        }
    }

    /// The reference's three gradients with Σ|terms| per element.
    func backwardWithMagnitudes(_ r: ReferenceConvolution, input: [Double], filter: [Double], outputGradient: [Double])
        throws(ConvError) -> (gradients: Gradients<Double>, magnitudes: Gradients<Double>) {
        switch self {
        case .conv2D(let g):
            return try r.backwardWithMagnitudes(g, input: input, filter: filter, outputGradient: outputGradient)
        case .transposed2D(let g):
            return try r.backwardWithMagnitudes(g, input: input, filter: filter, outputGradient: outputGradient)
        case .conv1D(let g):
            return try r.backwardWithMagnitudes(g, input: input, filter: filter, outputGradient: outputGradient)
        case .transposed1D(let g):
            return try r.backwardWithMagnitudes(g, input: input, filter: filter, outputGradient: outputGradient)
        case .conv3D(let g):
            return try r.backwardWithMagnitudes(g, input: input, filter: filter, outputGradient: outputGradient)
        }
    }
}
