// The activation of a forward pass, applied by each algorithm to each output region right after writing it
// (so the region is still in cache), and its derivative for the backward pass.

/// ``Activation`` in the element type, with the loops that apply it.
struct Epilogue<T: ConvScalar> {
    enum Kind { case identity, relu, clamp, leaky }
    let kind: Kind
    let lower: T, upper: T, slope: T

    /// No activation.
    static var identity: Epilogue { Epilogue(.identity) }

    /// The epilogue of an activation that ``Activation/validate()`` accepted.
    init(_ activation: Activation) {
        switch activation {
        case .identity: (kind, lower, upper, slope) = (.identity, 0, 0, 0)
        case .relu: (kind, lower, upper, slope) = (.relu, 0, 0, 0)
        case .clamp(let l, let u): (kind, lower, upper, slope) = (.clamp, T(l), T(u), 0)
        case .leakyReLU(let s): (kind, lower, upper, slope) = (.leaky, 0, 0, T(s))
        }
    }

    var isIdentity: Bool { kind == .identity }

    /// f on `count` contiguous elements, in place. Each form is a comparison and a select, which the compiler
    /// vectorises; a NaN compares false and is kept.
    @inline(__always)
    func apply(_ p: UnsafeMutablePointer<T>, count: Int) {
        switch kind {
        case .identity: return
        case .relu: for i in 0..<count { let x = p[i]; p[i] = x < 0 ? 0 : x }
        case .clamp:
            let lo = lower, hi = upper
            for i in 0..<count { let x = p[i]; p[i] = x < lo ? lo : (x > hi ? hi : x) }
        case .leaky:
            let a = slope
            for i in 0..<count { let x = p[i]; p[i] = x < 0 ? a * x : x }
        }
    }

    /// f on `rows` runs of `width` elements, `stride` apart.
    @inline(__always)
    func apply(_ p: UnsafeMutablePointer<T>, rows: Int, width: Int, stride: Int) {
        if kind == .identity { return }
        for r in 0..<rows { apply(p + r * stride, count: width) }
    }

    /// f on eight lanes (the Winograd output transform's registers).
    @inline(__always)
    func apply(_ v: SIMD8<T>) -> SIMD8<T> {
        switch kind {
        case .identity: return v
        case .relu: return v.replacing(with: 0, where: v .< 0)
        case .clamp:
            return v.replacing(with: lower, where: v .< lower).replacing(with: upper, where: v .> upper)
        case .leaky: return v.replacing(with: v * slope, where: v .< 0)
        }
    }

    /// `dZ[i] = dO[i] · f′` with f′ read from the activated output `y` (see ``Activation``); a NaN output passes
    /// the gradient through, as in PyTorch's `threshold_backward` and `hardtanh_backward`.
    func derivative(output y: UnsafePointer<T>, outputGradient dO: UnsafePointer<T>,
                    into dZ: UnsafeMutablePointer<T>, count: Int) {
        switch kind {
        case .identity: dZ.update(from: dO, count: count)
        case .relu: for i in 0..<count { dZ[i] = y[i] <= 0 ? 0 : dO[i] }
        case .clamp:
            let lo = lower, hi = upper
            for i in 0..<count { let v = y[i]; dZ[i] = v <= lo || v >= hi ? 0 : dO[i] }
        case .leaky:
            let a = slope
            for i in 0..<count { dZ[i] = y[i] > 0 ? dO[i] : a * dO[i] }
        }
    }
}
