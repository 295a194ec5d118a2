/// Throws unless the hyperparameter `value` is finite and in `[lower, upper)`: the ranges PyTorch's
/// optimisers check with `ValueError` (which lets NaN and infinities through; a step with them could only
/// produce non-finite values, so they are rejected here).
///
/// - Throws: ``ConvError/invalidArgument(name:reason:)`` named `name`, saying what range was expected.
internal func checkHyperparameter(_ name: String, _ value: Double, atLeast lower: Double,
                                  below upper: Double = .infinity) throws(ConvError) {
    guard value.isFinite else {
        throw .invalidArgument(name: name, reason: "\(value) is not finite")
    }
    guard value >= lower && value < upper else {
        let range = upper == .infinity ? "at least \(lower)" : "in [\(lower), \(upper))"
        throw .invalidArgument(name: name, reason: "must be \(range), got \(value)")
    }
}
