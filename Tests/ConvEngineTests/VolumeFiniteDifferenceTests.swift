// The 3-D gradients checked by central finite differences of L = Σ Y·O in Double, for the reference and for
// every 3-D algorithm forced. O is affine in each single element of X, F and B, so the difference quotient
// equals ∂L/∂v exactly in exact arithmetic for any h; with dyadic data (multiples of 1/64) and h = 1/8 every
// sum here is exact in Double, so the comparison allows only a rounding-sized tolerance.
import Testing
import ConvEngine

@Suite("3-D convolution: gradients by finite differences")
struct VolumeFiniteDifferenceTests {
    static let geometries: [ConvGeometry3D] = {
        // Safe: all valid (checked by hand); a mistake here fails every test of the suite loudly.
        try! [
            ConvGeometry3D(n: 1, c: 1, d: 3, h: 3, w: 3, k: 1, t: 2, r: 2, s: 2),
            ConvGeometry3D(n: 2, c: 2, d: 4, h: 3, w: 4, k: 3, t: 3, r: 2, s: 3, stride: (2, 1, 2),
                           pad: (1, 2, 0, 1, 2, 0), dilation: (1, 2, 1)),
            ConvGeometry3D(n: 1, c: 4, d: 5, h: 3, w: 3, k: 4, t: 2, r: 3, s: 1, stride: (1, 1, 1),
                           pad: (0, 1, 1, 1, 0, 0), dilation: (2, 1, 1), groups: 2),
            ConvGeometry3D(n: 2, c: 2, d: 3, h: 4, w: 3, k: 4, t: 3, r: 3, s: 3, stride: (3, 2, 1),
                           pad: (3, 1, 1, 2, 1, 1), groups: 2),  // depthwise ×2, padding wider than the kernel's reach
        ]
    }()

    @Test("dL/dX, dL/dF, dL/dB equal central differences of L = Σ Y·O", arguments: VolumeFiniteDifferenceTests.geometries.indices)
    func centralDifferences(_ index: Int) throws {
        let g = Self.geometries[index]
        var rng = SeededGenerator(seed: 0x3D_F1D0 + UInt64(index))
        let x = rng.dyadicArray(g.inputCount), f = rng.dyadicArray(g.filterCount)
        let b = rng.dyadicArray(g.outputChannels), y = rng.dyadicArray(g.outputCount)
        let h = 0.125
        let reference = ReferenceConvolution()
        func loss(_ x: [Double], _ f: [Double], _ b: [Double]) throws -> Double {
            dot(try reference.forward(g, input: x, filter: f, bias: b), y).value
        }
        var backends: [(String, [Double], [Double], [Double])] = []
        let refGrads = try reference.backward(g, input: x, filter: f, outputGradient: y)
        backends.append(("reference", refGrads.input!, refGrads.filter!, refGrads.bias!))
        for algorithm in ConvAlgorithm3D.allCases {
            for workers in [1, 2] {
                let engine = try makeVolumeEngine(workers: workers, algorithm: algorithm, tileBudgetBytes: workers == 2 ? 1 : 1 << 20)
                let grads = try engine.backward(g, input: x, filter: f, outputGradient: y)
                backends.append(("\(try engine.plan(for: g, scalar: Double.self))", grads.input!, grads.filter!, grads.bias!))
            }
        }
        // Central differences of every element (the geometries are small).
        func differences(_ values: [Double], _ perturbed: ([Double]) throws -> Double) throws -> [Double] {
            try values.indices.map { i in
                var plus = values, minus = values
                plus[i] += h; minus[i] -= h
                return (try perturbed(plus) - perturbed(minus)) / (2 * h)
            }
        }
        let dX = try differences(x) { try loss($0, f, b) }
        let dF = try differences(f) { try loss(x, $0, b) }
        let dB = try differences(b) { try loss(x, f, $0) }
        for (name, gx, gf, gb) in backends {
            for (tensor, expected, actual) in [("dX", dX, gx), ("dF", dF, gf), ("dB", dB, gb)] {
                let worst = zip(expected, actual).map { abs($0 - $1) }.max() ?? 0
                #expect(expected.count == actual.count && worst <= 1e-12,
                        "\(tensor) of \(name): worst |difference − gradient| \(worst) — \(g)")
            }
        }
    }
}
