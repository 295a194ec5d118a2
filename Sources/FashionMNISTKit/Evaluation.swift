import ConvEngine

/// Classification accuracy of a network on a data set.
public enum Evaluation {
    /// The index of the largest of `row`'s values (the first one when several are equal, as `torch.argmax`).
    public static func argmax(_ row: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        for j in 1..<max(row.count, 1) where row[j] > row[best] { best = j }
        return best
    }

    /// The fraction of `dataset`'s images whose largest logit is their label, in 0…1, evaluated in batches of
    /// `network.maximumBatch` consecutive images (read in place: nothing is copied or allocated per batch).
    ///
    /// - Throws: ``FashionMNISTError/invalidArgument(name:reason:)`` for an empty data set; the network's errors.
    public static func accuracy(of network: FashionMNISTNetwork, on dataset: FashionMNISTDataset) throws(FashionMNISTError) -> Double {
        let n = dataset.count
        guard n > 0 else { throw .invalidArgument(name: "dataset", reason: "no images to evaluate") }
        let pixels = FashionMNISTDataset.pixels, classes = FashionMNISTDataset.classes
        var correct = 0
        try dataset.images.withUnsafeBufferPointer { (images) throws(FashionMNISTError) in
            var start = 0
            while start < n {
                let count = min(network.maximumBatch, n - start)
                let batch = UnsafeBufferPointer(rebasing: images[(start * pixels)..<((start + count) * pixels)])
                let logits = try network.forward(images: batch)
                for i in 0..<count {
                    let row = UnsafeBufferPointer(rebasing: logits[(i * classes)..<((i + 1) * classes)])
                    if argmax(row) == Int(dataset.labels[start + i]) { correct += 1 }
                }
                start += count
            }
        }
        return Double(correct) / Double(n)
    }
}
