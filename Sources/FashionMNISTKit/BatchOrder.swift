import ConvEngine
import Foundation

/// The order in which a run visits the training images: one permutation of `0..<imageCount` per epoch, cut
/// into batches of `batchSize` (the last batch of an epoch takes the remainder, as PyTorch's `DataLoader`
/// with `drop_last=False`).
///
/// **The shuffle.** Each epoch starts from the identity `0, 1, …, n−1` and applies a Fisher–Yates shuffle
/// driven by one ``SeededGenerator`` seeded with `seed` and carried on from epoch to epoch: for `i` from
/// `n − 1` down to 1, draw `r = generator.next()`, take `j = ⌊r · (i + 1) / 2⁶⁴⌋` (the high word of the
/// 128-bit product, so `0 ≤ j ≤ i`, with a bias below 2⁻⁴⁴) and swap elements `i` and `j`. The rule is
/// written out here rather than left to `shuffle(using:)` so that it cannot change with the standard library.
///
/// **The file** (``write(to:)``), read by `Examples/FashionMNIST/compare_torch.py`: UTF-8 text, one comment
/// line `# fashion-mnist batch order: seed S, images N, batch B, epochs E`, then one line per epoch with the
/// `N` indices in visiting order, separated by single spaces.
public struct BatchOrder: Sendable, Equatable {
    /// The seed of the shuffle's generator.
    public let seed: UInt64
    /// Images per epoch.
    public let imageCount: Int
    /// Images per batch.
    public let batchSize: Int
    /// One permutation of `0..<imageCount` per epoch.
    public let epochs: [[Int32]]

    /// The shuffles of `epochs` epochs.
    ///
    /// - Throws: ``FashionMNISTError/invalidArgument(name:reason:)`` for fewer than one image, a batch size
    ///   below 1, a negative epoch count or more images than `Int32` indices hold.
    public init(seed: UInt64, imageCount: Int, batchSize: Int, epochs: Int) throws(FashionMNISTError) {
        guard (1...Int(Int32.max)).contains(imageCount) else {
            throw .invalidArgument(name: "imageCount", reason: "\(imageCount) is outside 1...\(Int32.max)")
        }
        guard batchSize >= 1 else { throw .invalidArgument(name: "batchSize", reason: "\(batchSize) is below 1") }
        guard epochs >= 0 else { throw .invalidArgument(name: "epochs", reason: "\(epochs) is negative") }
        var generator = SeededGenerator(seed: seed)
        var orders: [[Int32]] = []
        for _ in 0..<epochs {
            var order = (0..<Int32(imageCount)).map { $0 }
            Self.shuffle(&order, using: &generator)
            orders.append(order)
        }
        self.seed = seed
        self.imageCount = imageCount
        self.batchSize = batchSize
        self.epochs = orders
    }

    /// Fisher–Yates with the index rule of the type's documentation.
    public static func shuffle(_ values: inout [Int32], using generator: inout SeededGenerator) {
        guard values.count > 1 else { return }
        for i in stride(from: values.count - 1, to: 0, by: -1) {
            let j = Int(generator.next().multipliedFullWidth(by: UInt64(i + 1)).high)
            values.swapAt(i, j)
        }
    }

    /// Batches per epoch, `⌈imageCount / batchSize⌉`.
    public var batchesPerEpoch: Int { (imageCount + batchSize - 1) / batchSize }

    /// The indices of batch `batch` (0-based) of epoch `epoch` (0-based).
    public func batch(_ batch: Int, ofEpoch epoch: Int) -> ArraySlice<Int32> {
        let start = batch * batchSize
        return epochs[epoch][start..<min(start + batchSize, imageCount)]
    }

    /// The file's text (see the type's documentation).
    public var text: String {
        var lines = ["# fashion-mnist batch order: seed \(seed), images \(imageCount), batch \(batchSize), epochs \(epochs.count)"]
        for order in epochs { lines.append(order.map(String.init).joined(separator: " ")) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes ``text`` to `url`.
    ///
    /// - Throws: ``FashionMNISTError/io(path:reason:)`` when the file cannot be written.
    public func write(to url: URL) throws(FashionMNISTError) {
        do { try Data(text.utf8).write(to: url) } catch { throw .io(path: url.path, reason: "\(error.localizedDescription)") }
    }
}
