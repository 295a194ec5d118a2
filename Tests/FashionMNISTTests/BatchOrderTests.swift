import ConvEngine
import Foundation
import Testing
@testable import FashionMNISTKit

@Suite("Batch order (Fisher–Yates with SeededGenerator)")
struct BatchOrderTests {
    @Test("each epoch is a permutation, epochs differ, and the same seed repeats them")
    func permutations() throws {
        let order = try BatchOrder(seed: 11, imageCount: 1000, batchSize: 64, epochs: 2)
        for epoch in order.epochs { #expect(epoch.sorted() == (0..<1000).map { Int32($0) }) }
        #expect(order.epochs[0] != order.epochs[1])
        #expect(try BatchOrder(seed: 11, imageCount: 1000, batchSize: 64, epochs: 2) == order)
        #expect(order.batchesPerEpoch == 16)
        #expect(order.batch(15, ofEpoch: 1).count == 1000 - 15 * 64)
    }

    @Test("the swaps follow the documented rule j = high(next() · (i + 1))")
    func documentedRule() {
        var values: [Int32] = [0, 1, 2, 3]
        var g = SeededGenerator(seed: 5)
        BatchOrder.shuffle(&values, using: &g)
        var expected: [Int32] = [0, 1, 2, 3]
        var h = SeededGenerator(seed: 5)
        for i in [3, 2, 1] {
            // (r · (i+1)) / 2⁶⁴, by splitting r into 32-bit halves so no 128-bit type is needed.
            let r = h.next()
            let high = (r >> 32) * UInt64(i + 1) + (((r & 0xFFFF_FFFF) * UInt64(i + 1)) >> 32)
            expected.swapAt(i, Int(high >> 32))
        }
        #expect(values == expected)
    }

    @Test("the file has the header line and one line per epoch")
    func fileText() throws {
        let order = try BatchOrder(seed: 3, imageCount: 5, batchSize: 2, epochs: 2)
        let lines = order.text.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[0] == "# fashion-mnist batch order: seed 3, images 5, batch 2, epochs 2")
        #expect(lines[1].split(separator: " ").map { Int32($0)! } == order.epochs[0])
    }
}
