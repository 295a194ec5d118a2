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

    /// f on `count` contiguous elements, in place; a NaN compares false and is kept.
    @inline(__always)
    func apply(_ p: UnsafeMutablePointer<T>, count: Int) {
        if kind == .identity { return }
        Self.activate(p, count: count, kind, lower, upper, slope)
    }

    /// The loop of ``apply(_:count:)``: specialised for Float and Double explicitly, because it is reached from
    /// generic code, and one plain select per element in one loop per kind, which the compiler vectorises.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func activate(_ p: UnsafeMutablePointer<T>, count: Int, _ kind: Kind, _ lower: T, _ upper: T, _ slope: T) {
        switch kind {
        case .identity: return
        case .relu:
            // As a product and a sum, not `x < 0 ? 0 : x`: storing x back where it came from let the optimiser
            // turn the select into a conditional store, a branch that mispredicts on outputs of random sign (8 ms
            // instead of under 1 for 1.6 M floats). `slope` is 0 here; the `+ 0` makes every zero +0.
            for i in 0..<count { let x = p[i]; p[i] = (x < 0 ? slope * x : x) + 0 }
        case .clamp:
            for i in 0..<count { let x = p[i]; let low = x < lower ? lower : x + 0; p[i] = low > upper ? upper : low }
        case .leaky:
            for i in 0..<count { let x = p[i]; p[i] = x < 0 ? slope * x : x }
        }
    }

    /// f on `rows` runs of `width` elements, `stride` apart.
    @inline(__always)
    func apply(_ p: UnsafeMutablePointer<T>, rows: Int, width: Int, stride: Int) {
        if kind == .identity { return }
        for r in 0..<rows { apply(p + r * stride, count: width) }
    }

    /// `dZ[i] = dO[i] · f′` with f′ read from the activated output `y` (see ``Activation``); a NaN output passes
    /// the gradient through, as in PyTorch's `threshold_backward` and `hardtanh_backward`.
    func derivative(output y: UnsafePointer<T>, outputGradient dO: UnsafePointer<T>,
                    into dZ: UnsafeMutablePointer<T>, count: Int) {
        Self.differentiate(y, dO, dZ, count: count, kind, lower, upper, slope)
    }

    /// The loop of ``derivative(output:outputGradient:into:count:)``, specialised and written as
    /// ``activate(_:count:_:_:_:_:)``.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func differentiate(_ y: UnsafePointer<T>, _ dO: UnsafePointer<T>, _ dZ: UnsafeMutablePointer<T>,
                              count: Int, _ kind: Kind, _ lower: T, _ upper: T, _ slope: T) {
        switch kind {
        case .identity: dZ.update(from: dO, count: count)
        case .relu:
            // dO[i] is loaded before the select: loaded inside it, it became a branch around the load.
            for i in 0..<count { let g = dO[i]; dZ[i] = y[i] <= 0 ? 0 : g }
        case .clamp:
            for i in 0..<count { let g = dO[i], v = y[i]; dZ[i] = v <= lower || v >= upper ? 0 : g }
        case .leaky:
            for i in 0..<count { let g = dO[i]; dZ[i] = y[i] > 0 ? g : slope * g }
        }
    }
}
