import Foundation

/// Fashion-MNIST images and labels, normalised for training.
///
/// Each pixel `p` (0…255) becomes `(p / 255 − 0.2860) / 0.3530` in `Float`, computed in that order (as
/// torchvision's `ToTensor` then `Normalize(0.2860, 0.3530)`), so that the PyTorch script can reproduce the
/// values bit for bit.
public struct FashionMNISTDataset: Sendable {
    /// Which of the two files pairs to read.
    public enum Split: String, Sendable {
        /// `train-images-idx3-ubyte.gz` and `train-labels-idx1-ubyte.gz` (60,000 images).
        case train
        /// `t10k-images-idx3-ubyte.gz` and `t10k-labels-idx1-ubyte.gz` (10,000 images).
        case test

        /// The images file's name.
        public var imagesFile: String { self == .train ? "train-images-idx3-ubyte.gz" : "t10k-images-idx3-ubyte.gz" }
        /// The labels file's name.
        public var labelsFile: String { self == .train ? "train-labels-idx1-ubyte.gz" : "t10k-labels-idx1-ubyte.gz" }
    }

    /// Where the Debian package `dataset-fashion-mnist` installs the four files.
    public static let defaultDirectory = URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist")
    /// Image height and width.
    public static let side = 28
    /// Pixels per image.
    public static let pixels = 28 * 28
    /// The number of classes (T-shirt/top, trouser, pullover, dress, coat, sandal, shirt, sneaker, bag, ankle boot).
    public static let classes = 10
    /// The normalisation's mean (of the training pixels scaled to [0, 1]).
    public static let mean: Float = 0.2860
    /// The normalisation's standard deviation.
    public static let standardDeviation: Float = 0.3530

    /// The normalised images, `count × 1 × 28 × 28` row-major.
    public let images: [Float]
    /// The labels, `count` values in 0…9.
    public let labels: [Int32]

    /// The number of images.
    public var count: Int { labels.count }

    /// A data set from raw IDX contents: `images` must be `[n, 28, 28]`, `labels` `[n]` with values 0…9.
    ///
    /// - Parameter limit: keep only the first `limit` images (all of them when `nil`).
    /// - Throws: ``FashionMNISTError/dimension(file:index:expected:actual:)``,
    ///   ``FashionMNISTError/countMismatch(images:labels:)``, ``FashionMNISTError/labelOutOfRange(index:value:)``,
    ///   ``FashionMNISTError/invalidArgument(name:reason:)`` for a negative limit.
    public init(images: IDXFile, labels: IDXFile, imagesName: String = "images", limit: Int? = nil)
        throws(FashionMNISTError) {
        for axis in 1...2 where images.dimensions[axis] != Self.side {
            throw .dimension(file: imagesName, index: axis, expected: Self.side, actual: images.dimensions[axis])
        }
        guard images.dimensions[0] == labels.dimensions[0] else {
            throw .countMismatch(images: images.dimensions[0], labels: labels.dimensions[0])
        }
        if let limit, limit < 0 { throw .invalidArgument(name: "limit", reason: "\(limit) is negative") }
        let n = min(limit ?? labels.dimensions[0], labels.dimensions[0])
        var labelValues = [Int32](repeating: 0, count: n)
        for i in 0..<n {
            let value = labels.bytes[i]
            guard value < Self.classes else { throw .labelOutOfRange(index: i, value: value) }
            labelValues[i] = Int32(value)
        }
        self.labels = labelValues
        self.images = images.bytes[0..<(n * Self.pixels)].map { (Float($0) / 255 - Self.mean) / Self.standardDeviation }
    }

    private init(normalisedImages: [Float], labels: [Int32]) {
        self.images = normalisedImages
        self.labels = labels
    }

    /// The first `count` images and labels (all of them when there are fewer; none for a negative count).
    public func prefix(_ count: Int) -> FashionMNISTDataset {
        let n = max(0, min(count, self.count))
        return FashionMNISTDataset(normalisedImages: Array(images[0..<(n * Self.pixels)]), labels: Array(labels[0..<n]))
    }

    /// Reads one split from `directory`.
    ///
    /// - Throws: the errors of ``IDXFile/init(gzipContentsOf:dimensionCount:)`` and ``init(images:labels:imagesName:limit:)``.
    public init(split: Split, directory: URL = FashionMNISTDataset.defaultDirectory, limit: Int? = nil)
        throws(FashionMNISTError) {
        let imagesURL = directory.appendingPathComponent(split.imagesFile)
        let images = try IDXFile(gzipContentsOf: imagesURL, dimensionCount: 3)
        let labels = try IDXFile(gzipContentsOf: directory.appendingPathComponent(split.labelsFile), dimensionCount: 1)
        try self.init(images: images, labels: labels, imagesName: split.imagesFile, limit: limit)
    }

    /// Whether all four files are in `directory` (tests that need the real data skip when they are not).
    public static func isInstalled(in directory: URL = FashionMNISTDataset.defaultDirectory) -> Bool {
        [Split.train, .test].allSatisfy { split in
            [split.imagesFile, split.labelsFile].allSatisfy {
                FileManager.default.fileExists(atPath: directory.appendingPathComponent($0).path)
            }
        }
    }
}
