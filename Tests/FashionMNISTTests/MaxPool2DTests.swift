import ConvEngine
import Testing
@testable import FashionMNISTKit

/// Distinct random values (a permutation of 0.01, 0.02, …, shifted), so no window has a tie.
func distinctValues(_ count: Int, seed: UInt64) -> [Double] {
    var order = (0..<Int32(count)).map { $0 }
    var g = SeededGenerator(seed: seed)
    BatchOrder.shuffle(&order, using: &g)
    return order.map { Double($0) * 0.01 - Double(count) * 0.005 }
}

@Suite("Max pooling 2×2")
struct MaxPool2DTests {
    // Odd height: the last row is dropped, as in PyTorch. Width 10: one run of four SIMD windows, then one alone.
    let n = 2, c = 3, h = 5, w = 10

    /// The definition, written directly: output (i, ch, y, x) is the max over rows 2y, 2y+1 and columns 2x, 2x+1.
    func reference(_ input: [Double]) -> [Double] {
        var out: [Double] = []
        for i in 0..<n { for ch in 0..<c { for y in 0..<(h / 2) { for x in 0..<(w / 2) {
            let at = { (r: Int, s: Int) in input[((i * c + ch) * h + r) * w + s] }
            out.append(max(at(2 * y, 2 * x), at(2 * y, 2 * x + 1), at(2 * y + 1, 2 * x), at(2 * y + 1, 2 * x + 1)))
        } } } }
        return out
    }

    func run(_ pool: MaxPool2D, _ x: [Double], workers: Int = 1) throws -> ([Double], [Int32]) {
        var y = [Double](repeating: 0, count: x.count / pool.inputCountPerImage * pool.outputCountPerImage)
        var ix = [Int32](repeating: -1, count: y.count)
        try x.withUnsafeBufferPointer { xp in
            try y.withUnsafeMutableBufferPointer { yp in
                try ix.withUnsafeMutableBufferPointer { try pool.forward(xp, output: yp, indices: $0, workers: workers) }
            }
        }
        return (y, ix)
    }

    func backward(_ pool: MaxPool2D, _ dy: [Double], _ ix: [Int32], inputCount: Int, workers: Int = 1) throws -> [Double] {
        var dx = [Double](repeating: .nan, count: inputCount)
        try dy.withUnsafeBufferPointer { d in
            try ix.withUnsafeBufferPointer { i in
                try dx.withUnsafeMutableBufferPointer { try pool.backward(outputGradient: d, indices: i, inputGradient: $0, workers: workers) }
            }
        }
        return dx
    }

    @Test("forward equals the definition, and the indices point at the maxima")
    func forward() throws {
        let pool = try MaxPool2D(channels: c, height: h, width: w)
        let x = distinctValues(n * c * h * w, seed: 1)
        let (y, ix) = try run(pool, x)
        #expect(y == reference(x))
        for (o, offset) in ix.enumerated() {
            let image = o / pool.outputCountPerImage
            #expect(x[image * pool.inputCountPerImage + Int(offset)] == y[o])
        }
    }

    @Test("ties go to the first tap in row-major order; a NaN wins (the last one), in the SIMD and scalar paths")
    func ties() throws {
        // Windows: [1 1; 1 0] → tap 0; [0 NaN; 2 2] → the NaN; [3 3; 3 3] → tap 0; [NaN NaN; 1 1] → the second NaN;
        // the fifth window (scalar path) repeats the second.
        let input: [Double] = [1, 1, 0, .nan, 3, 3, .nan, .nan, 0, .nan,
                               1, 0, 2, 2, 3, 3, 1, 1, 2, 2]
        let pool = try MaxPool2D(channels: 1, height: 2, width: 10)
        let (y, ix) = try run(pool, input)
        #expect(ix == [0, 3, 4, 7, 9])
        #expect(y[0] == 1 && y[1].isNaN && y[2] == 3 && y[3].isNaN && y[4].isNaN)
        var floatOutput = [Float](repeating: 0, count: 5), floatIndices = [Int32](repeating: -1, count: 5)
        try input.map { Float($0) }.withUnsafeBufferPointer { x in
            try floatOutput.withUnsafeMutableBufferPointer { o in
                try floatIndices.withUnsafeMutableBufferPointer { try pool.forward(x, output: o, indices: $0) }
            }
        }
        #expect(floatIndices == [0, 3, 4, 7, 9])
    }

    @Test("backward scatters each output gradient to its maximum and zeros the rest")
    func backwardScatter() throws {
        let pool = try MaxPool2D(channels: c, height: h, width: w)
        let x = distinctValues(n * c * h * w, seed: 2)
        let (_, ix) = try run(pool, x)
        let dy = (0..<ix.count).map { Double($0) + 1 }
        let dx = try backward(pool, dy, ix, inputCount: x.count)
        var expected = [Double](repeating: 0, count: x.count)
        let ref = reference(x)
        for o in 0..<dy.count {
            let image = o / pool.outputCountPerImage
            let base = image * pool.inputCountPerImage
            let hit = (0..<pool.inputCountPerImage).filter { x[base + $0] == ref[o] }
            #expect(hit.count == 1)
            expected[base + hit[0]] += dy[o]
        }
        #expect(dx == expected)
        // Split over three workers (planes forward, images backward): the same values.
        let (y3, ix3) = try run(pool, x, workers: 3)
        #expect(y3 == reference(x) && ix3 == ix)
        #expect(try backward(pool, dy, ix3, inputCount: x.count, workers: 3) == expected)
    }

    @Test("an odd height and width: the row and column outside every window get zero")
    func oddSides() throws {
        let pool = try MaxPool2D(channels: 1, height: 3, width: 3)
        let (y, ix) = try run(pool, [1, 2, 3, 4, 5, 6, 7, 8, 9])
        #expect(y == [5] && ix == [4])
        #expect(try backward(pool, [7], ix, inputCount: 9) == [0, 0, 0, 0, 7, 0, 0, 0, 0])
    }

    @Test("backward matches central finite differences of Σ dy·pool(x)")
    func finiteDifferences() throws {
        let pool = try MaxPool2D(channels: c, height: h, width: w)
        let x = distinctValues(n * c * h * w, seed: 3)
        let dy = distinctValues(n * c * (h / 2) * (w / 2), seed: 4)
        let (_, ix) = try run(pool, x)
        let dx = try backward(pool, dy, ix, inputCount: x.count)
        // The values are 0.01 apart, so a step of 1e-4 never changes which tap is the maximum.
        let eps = 1e-4
        for i in 0..<x.count {
            var plus = x, minus = x
            plus[i] += eps
            minus[i] -= eps
            let fPlus = zip(try run(pool, plus).0, dy).map { $0 * $1 }.reduce(0, +)
            let fMinus = zip(try run(pool, minus).0, dy).map { $0 * $1 }.reduce(0, +)
            #expect(abs((fPlus - fMinus) / (2 * eps) - dx[i]) < 1e-9)
        }
    }

    @Test("wrong lengths, bad indices and impossible shapes throw")
    func refused() throws {
        #expect(throws: FashionMNISTError.self) { try MaxPool2D(channels: 0, height: 4, width: 4) }
        #expect(throws: FashionMNISTError.self) { try MaxPool2D(channels: 1, height: 1, width: 4) }
        let pool = try MaxPool2D(channels: 1, height: 2, width: 2)
        #expect(throws: FashionMNISTError.self) { try run(pool, [1, 2, 3]) }
        #expect(throws: FashionMNISTError.self) { try backward(pool, [1], [4], inputCount: 4) }
        #expect(throws: FashionMNISTError.self) { try backward(pool, [1], [-1], inputCount: 4) }

        #expect(throws: FashionMNISTError.self) { try backward(pool, [1, 2], [0, 1], inputCount: 4) }
    }
}
