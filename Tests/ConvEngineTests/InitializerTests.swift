// The initialisers: fans and gains as torch.nn.init computes them, the statistics of large draws (mean,
// variance, the share within one and beyond three standard deviations, exact bounds for the uniform ones),
// the documented draw order and reproducibility, and the typed errors.
//
// Statistical tolerances are six standard errors of the statistic for the draw's size n: a correct
// initialiser fails one of them with probability below 1e-8, while a wrong gain, fan or distribution moves
// the statistic by far more (a fan-out for a fan-in here changes the variance by a factor of 4).
import Foundation
import Testing
import ConvEngine

/// Mean and (population) variance, two-pass in Double.
func moments<T: ConvScalar>(_ values: [T]) -> (mean: Double, variance: Double) {
    let n = Double(values.count)
    let mean = values.reduce(0.0) { $0 + Double($1) } / n
    let variance = values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
    return (mean, variance)
}

@Suite("Initialisers")
struct InitializerTests {
    @Test("Fans as torch.nn.init._calculate_fan_in_and_fan_out: [out, in, k…] and [out, in]")
    func fans() throws {
        #expect(try Initializer.fans(shape: [64, 32, 3, 3]) == Initializer.Fans(fanIn: 288, fanOut: 576))
        #expect(try Initializer.fans(shape: [10, 3136]) == Initializer.Fans(fanIn: 3136, fanOut: 10))
        #expect(try Initializer.fans(shape: [4, 2, 5]) == Initializer.Fans(fanIn: 10, fanOut: 20))
        #expect(try Initializer.fans(shape: [0, 3, 3, 3]) == Initializer.Fans(fanIn: 27, fanOut: 0))
        #expect(throws: ConvError.self) { _ = try Initializer.fans(shape: [5]) }
        #expect(throws: ConvError.self) { _ = try Initializer.fans(shape: []) }
        #expect(throws: ConvError.self) { _ = try Initializer.fans(shape: [3, -1, 2]) }
        // The element count is 0, but the receptive field 2⁴⁰·2⁴⁰ overflows.
        #expect(throws: ConvError.sizeOverflow(quantity: "receptive field of [0, 1, 1099511627776, 1099511627776]")) {
            _ = try Initializer.fans(shape: [0, 1, 1 << 40, 1 << 40])
        }
    }

    @Test("Gains as torch.nn.init.calculate_gain")
    func gains() {
        #expect(Initializer.Nonlinearity.linear.gain == 1)
        #expect(Initializer.Nonlinearity.relu.gain == 2.0.squareRoot())
        #expect(Initializer.Nonlinearity.leakyReLU(slope: 0.2).gain == (2 / 1.04).squareRoot())
        #expect(Initializer.Nonlinearity.leakyReLU(slope: 0).gain == 2.0.squareRoot())
        #expect(Initializer.Nonlinearity.tanh.gain == 5.0 / 3)
    }

    /// Checks a normal draw: mean 0, variance std², 68.27% within ±std and 0.27% beyond ±3·std.
    func checkNormal<T: ConvScalar>(_ values: [T], std: Double, _ label: String) {
        let n = Double(values.count)
        let (mean, variance) = moments(values)
        // SE(mean) = σ/√n; SE(variance) = σ²·√(2/n) for a normal sample.
        #expect(abs(mean) <= 6 * std / n.squareRoot(), "\(label): mean \(mean)")
        #expect(abs(variance - std * std) <= 6 * std * std * (2 / n).squareRoot(), "\(label): variance \(variance) vs \(std * std)")
        // A share p of n has SE √(p(1−p)/n).
        for (k, p) in [(1.0, 0.682_689_492), (3.0, 0.997_300_204)] {
            let share = Double(values.filter { abs(Double($0)) <= k * std }.count) / n
            #expect(abs(share - p) <= 6 * (p * (1 - p) / n).squareRoot(), "\(label): share within \(k)σ \(share) vs \(p)")
        }
    }

    /// Checks a uniform draw on [−bound, bound]: mean 0, variance bound²/3, every value within ±T(bound),
    /// and values near both ends.
    func checkUniform<T: ConvScalar>(_ values: [T], bound: Double, _ label: String) {
        let n = Double(values.count)
        let (mean, variance) = moments(values)
        // SE(mean) = (b/√3)/√n; Var(s²) ≈ (μ₄ − σ⁴)/n = (b⁴/5 − b⁴/9)/n = 4b⁴/(45n).
        #expect(abs(mean) <= 6 * bound / (3 * n).squareRoot(), "\(label): mean \(mean)")
        #expect(abs(variance - bound * bound / 3) <= 6 * bound * bound * (4 / (45 * n)).squareRoot(),
                "\(label): variance \(variance) vs \(bound * bound / 3)")
        let limit = T(bound)
        #expect(values.allSatisfy { abs($0) <= limit }, "\(label): a value beyond ±\(limit)")
        // No value within 0.001·bound of an end has probability (1 − 0.0005)ⁿ < e⁻⁹⁰ for n ≥ 180,000.
        #expect(Double(values.max()!) > 0.999 * bound && Double(values.min()!) < -0.999 * bound, "\(label): ends")
    }

    @Test("Kaiming normal: std = gain/√fan, fan-in and fan-out, ReLU and leaky ReLU (Float and Double)")
    func kaimingNormal() throws {
        // [256, 80, 3, 3]: 184,320 values, fan_in 720, fan_out 2304.
        let shape = [256, 80, 3, 3]
        var rng = SeededGenerator(seed: 16_01)
        let relu: [Float] = try Initializer.kaimingNormal(shape: shape, using: &rng)
        #expect(relu.count == 184_320)
        checkNormal(relu, std: 2.0.squareRoot() / 720.0.squareRoot(), "relu fan_in")
        let leaky: [Double] = try Initializer.kaimingNormal(shape: shape, mode: .fanOut,
                                                            nonlinearity: .leakyReLU(slope: 0.1), using: &rng)
        checkNormal(leaky, std: (2 / 1.01).squareRoot() / 2304.0.squareRoot(), "leaky fan_out")
    }

    @Test("Kaiming uniform: bound = √3·gain/√fan, exact bounds")
    func kaimingUniform() throws {
        let shape = [256, 80, 3, 3]
        var rng = SeededGenerator(seed: 16_02)
        let values: [Float] = try Initializer.kaimingUniform(shape: shape, nonlinearity: .relu, using: &rng)
        let bound = 3.0.squareRoot() * (2.0.squareRoot() / 720.0.squareRoot())
        #expect(try Initializer.kaimingUniformBound(shape: shape) == bound)
        checkUniform(values, bound: bound, "kaiming uniform relu")
        let linear: [Double] = try Initializer.kaimingUniform(shape: shape, mode: .fanOut, nonlinearity: .linear, using: &rng)
        checkUniform(linear, bound: 3.0.squareRoot() / 2304.0.squareRoot(), "kaiming uniform linear fan_out")
    }

    @Test("Xavier normal and uniform: std = gain·√(2/(fan_in + fan_out)), a = √3·std")
    func xavier() throws {
        // [3136, 60]: 188,160 values, fans 60 and 3136.
        let shape = [3136, 60]
        var rng = SeededGenerator(seed: 16_03)
        let normal: [Float] = try Initializer.xavierNormal(shape: shape, gain: 2, using: &rng)
        checkNormal(normal, std: 2 * (2.0 / 3196).squareRoot(), "xavier normal gain 2")
        let uniform: [Double] = try Initializer.xavierUniform(shape: shape, using: &rng)
        checkUniform(uniform, bound: 3.0.squareRoot() * (2.0 / 3196).squareRoot(), "xavier uniform")
    }

    @Test("PyTorch's Conv2d/Linear default: weight U(±1/√fan_in) via kaiming_uniform(a = √5), bias U(±1/√fan_in)")
    func pytorchDefault() throws {
        var rng = SeededGenerator(seed: 16_04)
        // Conv weight [512, 40, 3, 3] (184,320 values, fan_in 360) and Linear weight [10, 3136].
        let bound = try Initializer.kaimingUniformBound(shape: [512, 40, 3, 3], nonlinearity: .leakyReLU(slope: 5.0.squareRoot()))
        #expect(abs(bound * 360.0.squareRoot() - 1) <= 1e-15, "√3·√(2/6)/√360 is 1/√360 up to rounding")
        let conv: [Float] = try Initializer.pytorchDefaultWeight(shape: [512, 40, 3, 3], using: &rng)
        checkUniform(conv, bound: bound, "conv weight")
        let linear: [Double] = try Initializer.pytorchDefaultWeight(shape: [60, 3136], using: &rng)
        checkUniform(linear, bound: 1 / 3136.0.squareRoot(), "linear weight")
        let bias: [Float] = try Initializer.pytorchDefaultBias(count: 200_000, fanIn: 288, using: &rng)
        checkUniform(bias, bound: 1 / 288.0.squareRoot(), "bias")
    }

    @Test("Plain normal and uniform draws with a mean and bounds")
    func plainDistributions() throws {
        var rng = SeededGenerator(seed: 16_05)
        let normal: [Double] = try Initializer.normal(count: 200_001, mean: 3, standardDeviation: 0.5, using: &rng)
        #expect(normal.count == 200_001)
        checkNormal(normal.map { $0 - 3 }, std: 0.5, "normal(3, 0.5)")
        let uniform: [Float] = try Initializer.uniform(count: 200_000, lowerBound: 1, upperBound: 5, using: &rng)
        checkUniform(uniform.map { $0 - 3 }, bound: 2, "uniform(1, 5) − 3")
        #expect(try Initializer.uniform(count: 3, lowerBound: 2, upperBound: 2, using: &rng) == [2, 2, 2] as [Float])
        #expect(try Initializer.normal(count: 0, using: &rng) == [] as [Float])
    }

    @Test("Draws follow the documented formulas in flat order, one draw per uniform value, two per normal pair")
    func drawOrder() throws {
        // Uniform: value i = −b + 2b·u_i with u_i = (next() >> 11)·2⁻⁵³ of the i-th draw.
        var rng = SeededGenerator(seed: 7)
        var copy = rng
        let values: [Double] = try Initializer.pytorchDefaultBias(count: 5, fanIn: 4, using: &rng)
        let expected = (0..<5).map { _ in -0.5 + 1.0 * (Double(copy.next() >> 11) * 0x1p-53) }
        #expect(values == expected)
        #expect(rng == copy, "exactly one draw per value")

        // Normal: elements 2i and 2i+1 are r·cos θ and r·sin θ of the i-th pair; an odd count drops the last sine.
        var g = SeededGenerator(seed: 8)
        var h = g
        let z: [Double] = try Initializer.normal(count: 3, using: &g)
        var expectedZ: [Double] = []
        for _ in 0..<2 {
            let u1 = Double((h.next() >> 11) + 1) * 0x1p-53, u2 = Double(h.next() >> 11) * 0x1p-53
            let r = (-2 * log(u1)).squareRoot()
            expectedZ += [r * cos(2 * Double.pi * u2), r * sin(2 * Double.pi * u2)]
        }
        #expect(z == Array(expectedZ.prefix(3)))
        #expect(g == h, "four draws for three values")
    }

    @Test("The same seed gives the same values; Float values are the Double values rounded")
    func reproducibility() throws {
        let shape = [16, 8, 3, 3]
        var a = SeededGenerator(seed: 99), b = SeededGenerator(seed: 99), c = SeededGenerator(seed: 100)
        let first: [Double] = try Initializer.kaimingNormal(shape: shape, using: &a)
        let again: [Double] = try Initializer.kaimingNormal(shape: shape, using: &b)
        let other: [Double] = try Initializer.kaimingNormal(shape: shape, using: &c)
        #expect(first == again)
        #expect(first != other)
        var f = SeededGenerator(seed: 99)
        let float: [Float] = try Initializer.kaimingNormal(shape: shape, using: &f)
        #expect(float == first.map { Float($0) })
        // A longer draw starts with the shorter one (flat order).
        var d = SeededGenerator(seed: 5), e = SeededGenerator(seed: 5)
        let short: [Float] = try Initializer.pytorchDefaultWeight(shape: [2, 3], using: &d)
        let long: [Float] = try Initializer.pytorchDefaultWeight(shape: [4, 3], using: &e)
        #expect(short.count == 6 && long.count == 12)
        #expect(Array(long.prefix(6)) == short, "both have fan_in 3, so the same bound")
    }

    @Test("Typed errors: too few dimensions, zero fans, bad gains, counts and bounds")
    func errors() {
        var rng = SeededGenerator(seed: 1)
        func name(_ body: (inout SeededGenerator) throws(ConvError) -> [Float]) -> String? {
            do { _ = try body(&rng); return nil } catch {
                if case let .invalidArgument(name, _) = error { return name }
                return "\(error)"
            }
        }
        #expect(name { g throws(ConvError) in try Initializer.kaimingNormal(shape: [10], using: &g) } == "shape")
        #expect(name { g throws(ConvError) in try Initializer.xavierUniform(shape: [], using: &g) } == "shape")
        #expect(name { g throws(ConvError) in try Initializer.kaimingUniform(shape: [4, 0, 3, 3], using: &g) } == "shape")
        #expect(name { g throws(ConvError) in try Initializer.kaimingUniform(shape: [0, 4, 3, 3], mode: .fanOut, using: &g) } == "shape")
        #expect(name { g throws(ConvError) in try Initializer.kaimingUniform(shape: [0, 4, 3, 3], using: &g) } == nil,
                "fan_in 36 is fine; nothing to draw")
        #expect(name { g throws(ConvError) in try Initializer.xavierNormal(shape: [0, 0], using: &g) } == "shape")
        #expect(name { g throws(ConvError) in try Initializer.xavierNormal(shape: [3, 3], gain: -1, using: &g) } == "gain")
        #expect(name { g throws(ConvError) in
            try Initializer.kaimingNormal(shape: [3, 3], nonlinearity: .leakyReLU(slope: .nan), using: &g) } == "slope")
        #expect(name { g throws(ConvError) in try Initializer.pytorchDefaultBias(count: 3, fanIn: 0, using: &g) } == "fanIn")
        #expect(name { g throws(ConvError) in try Initializer.pytorchDefaultBias(count: -1, fanIn: 3, using: &g) } == "count")
        #expect(name { g throws(ConvError) in try Initializer.normal(count: 3, standardDeviation: -1, using: &g) } == "standardDeviation")
        #expect(name { g throws(ConvError) in try Initializer.normal(count: 3, mean: .infinity, using: &g) } == "mean")
        #expect(name { g throws(ConvError) in try Initializer.uniform(count: 3, lowerBound: 1, upperBound: 0, using: &g) } == "upperBound")
        #expect(name { g throws(ConvError) in try Initializer.pytorchDefaultWeight(shape: [1 << 40, 1 << 40], using: &g) }
                == "\(ConvError.sizeOverflow(quantity: "element count of shape [1099511627776, 1099511627776]"))")
        #expect(name { g throws(ConvError) in try Initializer.pytorchDefaultWeight(shape: [1 << 20, 1 << 20], using: &g) } == "initialised values",
                "more than any machine's memory")
    }
}
