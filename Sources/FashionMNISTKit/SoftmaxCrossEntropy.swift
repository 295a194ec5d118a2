import ConvEngine
import Foundation

/// Softmax cross-entropy over a batch of logits (PyTorch's `nn.CrossEntropyLoss()`, mean reduction).
///
/// For logits `z` (`N × classes`, row-major) and labels `y`, the loss is
/// `L = (1/N) Σᵢ [log Σⱼ exp(zᵢⱼ) − zᵢ,yᵢ]` and its gradient `∂L/∂zᵢⱼ = (softmax(zᵢ)ⱼ − [j = yᵢ]) / N`.
/// Each row's log-sum-exp subtracts the row's maximum first, so large logits neither overflow nor lose the
/// small terms. The arithmetic is in `Double` whatever `T` is; only the gradient is rounded to `T`.
public enum SoftmaxCrossEntropy {
    /// The mean loss over the batch, and the gradient with respect to the logits when `gradient` is given.
    ///
    /// - Parameters:
    ///   - logits: `N × classes`.
    ///   - labels: `N` values in `0..<classes`.
    ///   - classes: the row length, at least 1.
    ///   - gradient: `N × classes`, overwritten with `∂L/∂z`; `nil` to compute the loss alone.
    /// - Throws: ``FashionMNISTError/invalidArgument(name:reason:)`` when the lengths do not match, the batch is
    ///   empty or a label is out of range.
    public static func loss<T: ConvScalar>(logits: UnsafeBufferPointer<T>, labels: UnsafeBufferPointer<Int32>,
                                           classes: Int, gradient: UnsafeMutableBufferPointer<T>? = nil)
        throws(FashionMNISTError) -> Double {
        guard classes >= 1 else { throw .invalidArgument(name: "classes", reason: "\(classes) is below 1") }
        let n = labels.count
        guard n >= 1 else { throw .invalidArgument(name: "labels", reason: "an empty batch has no mean loss") }
        guard logits.count == n * classes else {
            throw .invalidArgument(name: "logits", reason: "\(logits.count) elements, \(n) × \(classes) needed")
        }
        if let gradient, gradient.count != logits.count {
            throw .invalidArgument(name: "loss gradient", reason: "\(gradient.count) elements, \(logits.count) needed")
        }
        var total = 0.0
        let scale = 1 / Double(n)
        for i in 0..<n {
            let label = Int(labels[i])
            guard (0..<classes).contains(label) else {
                throw .invalidArgument(name: "labels", reason: "label \(label) at \(i) is outside 0..<\(classes)")
            }
            let row = i * classes
            var largest = -Double.infinity
            for j in 0..<classes { largest = max(largest, Double(logits[row + j])) }
            var sum = 0.0
            for j in 0..<classes { sum += exp(Double(logits[row + j]) - largest) }
            total += largest + log(sum) - Double(logits[row + label])
            if let gradient {
                for j in 0..<classes {
                    let p = exp(Double(logits[row + j]) - largest) / sum
                    gradient[row + j] = T((p - (j == label ? 1 : 0)) * scale)
                }
            }
        }
        return total * scale
    }
}
