import ConvEngine
import Testing
@testable import FashionMNISTKit

@Suite("Linear layer")
struct LinearTests {
    let n = 3, inputs = 5, outputs = 4

    func layer() throws -> Linear<Double> {
        var g = SeededGenerator(seed: 7)
        return try Linear<Double>(inputFeatures: inputs, outputFeatures: outputs, generator: &g)
    }

    func forward(_ l: Linear<Double>, _ x: [Double]) throws -> [Double] {
        var y = [Double](repeating: .nan, count: x.count / l.inputFeatures * l.outputFeatures)
        try x.withUnsafeBufferPointer { xp in try y.withUnsafeMutableBufferPointer { try l.forward(xp, output: $0) } }
        return y
    }

    func backward(_ l: Linear<Double>, _ x: [Double], _ dy: [Double]) throws -> [Double] {
        var dx = [Double](repeating: .nan, count: x.count)
        try x.withUnsafeBufferPointer { xp in
            try dy.withUnsafeBufferPointer { d in
                try dx.withUnsafeMutableBufferPointer { try l.backward(input: xp, outputGradient: d, inputGradient: $0) }
            }
        }
        return dx
    }

    /// Small integers: every product and sum below is exact in Double, so the comparisons are exact.
    func integers(_ count: Int, seed: UInt64) -> [Double] {
        var g = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Double(Int(g.next() % 9) - 4) }
    }

    @Test("PyTorch's default initialisation: |W|, |b| ≤ 1/√in, names and shapes as the state_dict")
    func initialisation() throws {
        let l = try layer()
        let bound = 1 / Double(inputs).squareRoot()
        #expect(l.weight.value.allSatisfy { abs($0) <= bound })
        #expect(l.bias.value.allSatisfy { abs($0) <= bound })
        #expect(l.weight.shape == [outputs, inputs] && l.bias.shape == [outputs])
        #expect(l.parameterNames == ["weight", "bias"])
    }

    @Test("forward is y[i][o] = b[o] + Σ_k x[i][k]·W[o][k]")
    func forwardMatchesDefinition() throws {
        let l = try layer()
        l.weight.value = integers(outputs * inputs, seed: 1)
        l.bias.value = integers(outputs, seed: 2)
        let x = integers(n * inputs, seed: 3)
        let y = try forward(l, x)
        for i in 0..<n {
            for o in 0..<outputs {
                let direct = l.bias.value[o] + (0..<inputs).map { x[i * inputs + $0] * l.weight.value[o * inputs + $0] }.reduce(0, +)
                #expect(y[i * outputs + o] == direct)
            }
        }
    }

    @Test("backward: dW = dYᵀx and db = Σ dY accumulate, dX = dY·W")
    func backwardMatchesDefinition() throws {
        let l = try layer()
        l.weight.value = integers(outputs * inputs, seed: 4)
        let x = integers(n * inputs, seed: 5), dy = integers(n * outputs, seed: 6)
        let dx = try backward(l, x, dy)
        _ = try backward(l, x, dy)  // a second call adds the same gradients again
        for o in 0..<outputs {
            for k in 0..<inputs {
                let direct = (0..<n).map { dy[$0 * outputs + o] * x[$0 * inputs + k] }.reduce(0, +)
                #expect(l.weight.gradient[o * inputs + k] == 2 * direct)
            }
            #expect(l.bias.gradient[o] == 2 * (0..<n).map { dy[$0 * outputs + o] }.reduce(0, +))
        }
        for i in 0..<n {
            for k in 0..<inputs {
                let direct = (0..<outputs).map { dy[i * outputs + $0] * l.weight.value[$0 * inputs + k] }.reduce(0, +)
                #expect(dx[i * inputs + k] == direct)
            }
        }
        l.zeroGradients()
        #expect(l.weight.gradient.allSatisfy { $0 == 0 } && l.bias.gradient.allSatisfy { $0 == 0 })
    }

    @Test("lengths that are not whole rows throw")
    func refused() throws {
        let l = try layer()
        #expect(throws: FashionMNISTError.self) { try forward(l, [1, 2, 3]) }
        var g = SeededGenerator(seed: 1)
        #expect(throws: FashionMNISTError.self) { try Linear<Float>(inputFeatures: 0, outputFeatures: 1, generator: &g) }
    }
}
