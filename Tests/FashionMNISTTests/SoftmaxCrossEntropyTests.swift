import Foundation
import Testing
@testable import FashionMNISTKit

@Suite("Softmax cross-entropy")
struct SoftmaxCrossEntropyTests {
    func loss(_ z: [Double], _ labels: [Int32], classes: Int) throws -> (Double, [Double]) {
        var g = [Double](repeating: .nan, count: z.count)
        let l = try z.withUnsafeBufferPointer { zp in
            try labels.withUnsafeBufferPointer { lp in
                try g.withUnsafeMutableBufferPointer { try SoftmaxCrossEntropy.loss(logits: zp, labels: lp, classes: classes, gradient: $0) }
            }
        }
        return (l, g)
    }

    @Test("equal logits give log(classes); the gradient is (1/C − onehot)/N")
    func uniform() throws {
        let (l, g) = try loss([0, 0, 0, 0, 5, 5, 5, 5], [1, 3], classes: 4)
        #expect(abs(l - log(4.0)) < 1e-15)
        #expect(g == [0.125, -0.375, 0.125, 0.125, 0.125, 0.125, 0.125, -0.375])
    }

    @Test("matches −log softmax written directly, and stays finite for huge logits")
    func directFormula() throws {
        let z: [Double] = [1, 2, 3, -1, 0.5, 0.25]
        let (l, g) = try loss(z, [2, 0], classes: 3)
        let e: [Double] = z.map { Foundation.exp($0) }
        let sum1 = e[0] + e[1] + e[2], sum2 = e[3] + e[4] + e[5]
        let row1: Double = -Foundation.log(e[2] / sum1)
        let row2: Double = -Foundation.log(e[3] / sum2)
        #expect(abs(l - (row1 + row2) / 2) < 1e-14)
        #expect(abs(g[0] - e[0] / sum1 / 2) < 1e-15)
        let (big, bigGradient) = try loss([1000, 0, -1000], [1], classes: 3)
        #expect(big == 1000)
        #expect(bigGradient == [1, -1, 0])
    }

    @Test("the gradient matches central finite differences")
    func finiteDifferences() throws {
        let z: [Double] = [0.3, -1.2, 2.0, 0.7, 0.1, -0.4, 1.5, 0.0]
        let labels: [Int32] = [2, 0]
        let (_, g) = try loss(z, labels, classes: 4)
        let eps = 1e-6
        for i in z.indices {
            var plus = z, minus = z
            plus[i] += eps
            minus[i] -= eps
            let numeric = (try loss(plus, labels, classes: 4).0 - loss(minus, labels, classes: 4).0) / (2 * eps)
            #expect(abs(numeric - g[i]) < 1e-8)
        }
    }

    @Test("bad labels, lengths and empty batches throw")
    func refused() {
        #expect(throws: FashionMNISTError.self) { try loss([0, 0], [2], classes: 2) }
        #expect(throws: FashionMNISTError.self) { try loss([0, 0], [-1], classes: 2) }
        #expect(throws: FashionMNISTError.self) { try loss([0, 0, 0], [0], classes: 2) }
        #expect(throws: FashionMNISTError.self) { try loss([], [], classes: 2) }
    }
}
