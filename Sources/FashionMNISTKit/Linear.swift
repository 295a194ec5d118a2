@_spi(Tools) import ConvEngine

/// A fully connected layer, `y = x·Wᵀ + b` (PyTorch's `nn.Linear`), on caller-owned buffers.
///
/// `x` is `N × in`, `W` is `out × in` (PyTorch's layout, so that its `state_dict` loads unchanged), `b` is
/// `out`, `y` is `N × out`, all row-major; `N` follows from the input's length. The products are OpenBLAS
/// GEMMs. The backward pass **adds** into the parameters' gradients (until ``zeroGradients()``).
public final class Linear<T: ConvScalar>: ParameterContainer {
    /// The element type.
    public typealias Scalar = T
    /// Input features per row.
    public let inputFeatures: Int
    /// Output features per row.
    public let outputFeatures: Int
    /// `W`: name `"weight"`, shape `[out, in]`.
    public var weight: Parameter<T>
    /// `b`: name `"bias"`, shape `[out]`.
    public var bias: Parameter<T>

    /// The parameter names in order: `["weight", "bias"]`.
    public var parameterNames: [String] { [weight.name, bias.name] }

    /// A layer with PyTorch's default initialisation: `W` from `kaiming_uniform(a = √5)` (that is
    /// U(−1/√in, 1/√in)) drawn first, then `b` from U(−1/√in, 1/√in), both in row-major order from `generator`.
    ///
    /// - Throws: ``FashionMNISTError/invalidArgument(name:reason:)`` for a size below 1 or an `out × in`
    ///   that overflows; ``FashionMNISTError/convolution(_:)`` if the library refuses the shapes.
    public init(inputFeatures: Int, outputFeatures: Int, generator: inout SeededGenerator) throws(FashionMNISTError) {
        guard inputFeatures >= 1, outputFeatures >= 1 else {
            throw .invalidArgument(name: "features", reason: "\(inputFeatures) → \(outputFeatures): both must be at least 1")
        }
        guard !inputFeatures.multipliedReportingOverflow(by: outputFeatures).overflow else {
            throw .invalidArgument(name: "features", reason: "\(outputFeatures) × \(inputFeatures) overflows Int")
        }
        self.inputFeatures = inputFeatures
        self.outputFeatures = outputFeatures
        let shape = [outputFeatures, inputFeatures]
        do {
            let w: [T] = try Initializer.pytorchDefaultWeight(shape: shape, using: &generator)
            let b: [T] = try Initializer.pytorchDefaultBias(count: outputFeatures, fanIn: inputFeatures, using: &generator)
            weight = try Parameter(name: "weight", shape: shape, value: w)
            bias = try Parameter(name: "bias", shape: [outputFeatures], value: b)
        } catch {
            throw .convolution(error)
        }
    }

    /// Calls `body` on `weight`, then `bias`, in place.
    public func updateParameters(_ body: (inout Parameter<T>) throws(ConvError) -> Void) throws(ConvError) {
        try body(&weight)
        try body(&bias)
    }

    /// Sets both gradients to zero.
    public func zeroGradients() {
        weight.zeroGradient()
        bias.zeroGradient()
    }

    /// The rows a buffer of `count` elements holds, or a thrown error when it is not whole rows of `features`.
    private func rows(_ count: Int, features: Int, name: String) throws(FashionMNISTError) -> Int {
        guard count % features == 0 else {
            throw .invalidArgument(name: name, reason: "\(count) elements are not whole rows of \(features)")
        }
        return count / features
    }

    /// Forward pass: `output = input·Wᵀ + b`.
    ///
    /// - Parameters:
    ///   - input: `N × in`.
    ///   - output: `N × out`, overwritten.
    /// - Throws: ``FashionMNISTError/invalidArgument(name:reason:)`` when the lengths do not match.
    public func forward(_ input: UnsafeBufferPointer<T>, output: UnsafeMutableBufferPointer<T>) throws(FashionMNISTError) {
        let n = try rows(input.count, features: inputFeatures, name: "linear input")
        guard output.count == n * outputFeatures else {
            throw .invalidArgument(name: "linear output", reason: "\(output.count) elements, \(n) × \(outputFeatures) needed")
        }
        guard n > 0, let x = input.baseAddress, let y = output.baseAddress else { return }
        let (k, m) = (inputFeatures, outputFeatures)
        // The bias first, then the product added onto it (beta = 1), as PyTorch's addmm does.
        bias.value.withUnsafeBufferPointer { b in
            for row in 0..<n { (y + row * m).update(from: b.baseAddress!, count: m) }
        }
        try weight.value.withUnsafeBufferPointer { (w) throws(FashionMNISTError) in
            try convCall { () throws(ConvError) in
                try BLAS.gemm(transposeA: .none, transposeB: .transpose, m: n, n: m, k: k, alpha: 1, a: x, lda: k,
                              b: w.baseAddress!, ldb: k, beta: 1, c: y, ldc: m)
            }
        }
    }

    /// Backward pass: adds `dW += dYᵀ·x` and `db += Σ_rows dY`, and writes `dX = dY·W` when asked.
    ///
    /// - Parameters:
    ///   - input: the forward pass's `N × in` input.
    ///   - outputGradient: `dY`, `N × out`.
    ///   - inputGradient: `dX`, `N × in`, overwritten; `nil` to skip it.
    /// - Throws: ``FashionMNISTError/invalidArgument(name:reason:)`` when the lengths do not match.
    public func backward(input: UnsafeBufferPointer<T>, outputGradient: UnsafeBufferPointer<T>,
                         inputGradient: UnsafeMutableBufferPointer<T>?) throws(FashionMNISTError) {
        let n = try rows(input.count, features: inputFeatures, name: "linear input")
        let (k, m) = (inputFeatures, outputFeatures)
        guard outputGradient.count == n * m else {
            throw .invalidArgument(name: "linear output gradient", reason: "\(outputGradient.count) elements, \(n) × \(m) needed")
        }
        if let inputGradient, inputGradient.count != n * k {
            throw .invalidArgument(name: "linear input gradient", reason: "\(inputGradient.count) elements, \(n) × \(k) needed")
        }
        guard n > 0, let x = input.baseAddress, let dy = outputGradient.baseAddress else { return }
        try weight.gradient.withUnsafeMutableBufferPointer { (dw) throws(FashionMNISTError) in
            try convCall { () throws(ConvError) in
                try BLAS.gemm(transposeA: .transpose, transposeB: .none, m: m, n: k, k: n, alpha: 1, a: dy, lda: m,
                              b: x, ldb: k, beta: 1, c: dw.baseAddress!, ldc: k)
            }
        }
        bias.gradient.withUnsafeMutableBufferPointer { db in
            for row in 0..<n {
                for j in 0..<m { db[j] += dy[row * m + j] }
            }
        }
        guard let dx = inputGradient?.baseAddress else { return }
        try weight.value.withUnsafeBufferPointer { (w) throws(FashionMNISTError) in
            try convCall { () throws(ConvError) in
                try BLAS.gemm(transposeA: .none, transposeB: .none, m: n, n: k, k: m, alpha: 1, a: dy, lda: m,
                              b: w.baseAddress!, ldb: k, beta: 0, c: dx, ldc: k)
            }
        }
    }
}
