/// The direct kernel for depthwise convolution (`groups == inputChannels`; output channel `k` reads input
/// channel `k / m`, m = K/C the channel multiplier): no lowering and no GEMM, since each output is a short
/// dot product over one channel.
///
/// Forward and filter gradient read each input plane from a zero-bordered copy of the padded size, so every
/// tap reads in bounds without a test and padding is multiplied literally, which is the library's
/// non-finite rule (as in the lowered algorithms and the reference). The input gradient skips padding, as
/// col2im and the reference do: at horizontal stride 1 it is gathered straight from the output gradient
/// (each element of dX one register sum over the taps that reach it), otherwise scattered into a padded plane.
///
/// Work is split so that every sum has an order fixed by the geometry alone: the forward pass by
/// (image, channel) plane, the backward pass by channel (each worker owns whole channels over the whole
/// batch, so its filter- and bias-gradient sums need no partial sums, no reduction, and are the same at
/// any worker count).
///
/// The index rules (padded sizes, phases, tap periods) are the ``Axis`` rules of the geometry's two axes. Every
/// product of a position with a stride or dilation is bounded by the padded plane, whose size
/// ``scratchPerWorker(_:)`` has checked: a stride or dilation that never steps (one output, one tap) may be
/// as large as `Int.max` in a valid geometry, so it is replaced by ``step(_:count:)`` before it is multiplied.
///
/// The kernel is spread over files by concept: the forward pass (DepthwiseForward.swift), the backward pass and
/// its filter and input gradients, the row kernels (RowKernels.swift) over vector chunks (ChunkSums.swift), and
/// the row sweep (RowPlan.swift).
struct DepthwiseKernel {
    let g: ConvGeometry
    /// The vertical and horizontal index rules of `g`.
    let rows: Axis, columns: Axis
    let paddedHeight: Int, paddedWidth: Int
    init(_ g: ConvGeometry) {
        self.g = g
        rows = g.heightAxis
        columns = g.widthAxis
        paddedHeight = rows.paddedExtent
        paddedWidth = columns.paddedExtent
    }

    /// Scratch elements per worker: a padded input plane and a padded input-gradient plane (the latter only
    /// used by the input gradient at horizontal stride above 1).
    static func scratchPerWorker(_ g: ConvGeometry) throws(ConvError) -> Int {
        let k = DepthwiseKernel(g)
        return try checkedProduct(2, k.paddedHeight, k.paddedWidth, quantity: "depthwise padded planes")
    }

    /// The step `value` between neighbouring positions along an axis, where it is used: `value` when there are at
    /// least two positions (`count > 1`), else 0, since a single position never steps.
    ///
    /// Safe: with `count > 1`, `(count − 1)·value` is the reach of a dilated kernel or the span of the outputs,
    /// both inside the padded extent, so the step times a row length stays inside the padded plane. With one
    /// position the geometry allows any value (a dilation or stride up to `Int.max`), which no product may touch.
    @inline(__always)
    static func step(_ value: Int, count: Int) -> Int { count > 1 ? value : 0 }

    /// The step between kernel taps along `axis` (its dilation; 0 for a kernel one tap wide): see ``step(_:count:)``.
    @inline(__always)
    static func tapStep(_ axis: Axis) -> Int { step(axis.dilation, count: axis.kernel) }

    /// The step between output positions along `axis` (its stride; 0 for one output): see ``step(_:count:)``.
    @inline(__always)
    static func outputStep(_ axis: Axis) -> Int { step(axis.stride, count: axis.outputs) }

    // MARK: - Padded planes

    /// Copies one `H × W` plane into the middle of a padded plane whose border is already zero (see
    /// ``zeroPadded(_:)``): each worker zeroes its plane once per call, and since the copies only ever write
    /// the middle, the border stays zero for every plane after.
    @inline(__always)
    func pad<T: ConvScalar>(_ plane: UnsafePointer<T>, into padded: UnsafeMutablePointer<T>) {
        let H = g.inputHeight, W = g.inputWidth, PW = paddedWidth
        var row = padded + g.padding.top * PW + g.padding.left
        for h in 0..<H {
            copyRow(row, plane + h * W, W)
            row += PW
        }
    }

    /// Zeroes one padded plane (the border that ``pad(_:into:)`` relies on).
    @inline(__always)
    func zeroPadded<T: ConvScalar>(_ padded: UnsafeMutablePointer<T>) {
        padded.update(repeating: 0, count: paddedHeight * paddedWidth)
    }

    // MARK: - Column phases

    /// Elements per phase row of ``padPhases(_:into:)``: `ceil(PW / sw)`.
    var phaseWidth: Int { columns.phaseLength(of: paddedWidth) }

    /// Elements of the column phases of one padded plane, `sw · PH · ceil(PW / sw)`, when the forward pass uses
    /// them: at horizontal stride above 1, when they fit in the padded plane pair the scratch holds
    /// (`2 · PH · PW`; not for a stride far wider than the plane, whose rows have one or two outputs).
    var forwardPhaseCount: Int? {
        guard g.strideWidth > 1 else { return nil }
        let (a, o1) = g.strideWidth.multipliedReportingOverflow(by: paddedHeight)
        let (count, o2) = a.multipliedReportingOverflow(by: phaseWidth)
        // Safe: 2 · PH · PW is the scratch size, checked by scratchPerWorker.
        guard !o1, !o2, count <= 2 * paddedHeight * paddedWidth else { return nil }
        return count
    }

    /// Copies one `H × W` plane into the column phases of its padded plane, layout `[φ][padded row][j]`:
    /// element `j` of phase `φ` is padded column `j·sw + φ`. A strided tap then reads a contiguous run of one
    /// phase row (tap `s` of output `q` is element `q + (s·dw)/sw` of phase `(s·dw) % sw`, ``Axis/phase(of:)``),
    /// so the forward pass at a stride above 1 runs in vector chunks as at stride 1, instead of one element (and
    /// one latency-bound chain of adds) at a time. As with ``pad(_:into:)``, only the positions of input elements
    /// are written, so a border zeroed once per call stays zero.
    func padPhases<T: ConvScalar>(_ plane: UnsafePointer<T>, into phases: UnsafeMutablePointer<T>) {
        let H = g.inputHeight, W = g.inputWidth, sw = g.strideWidth, PWp = phaseWidth, PH = paddedHeight
        let left = g.padding.left
        // Safe: only called when forwardPhaseCount fits the scratch, so sw ≤ 2·PW and every phase row is in it.
        for phase in 0..<sw {
            // Elements j whose padded column j·sw + phase is an input column: input column j·sw + (phase - left).
            let valid = Axis.validRange(offset: phase - left, stride: sw, extent: W, count: PWp)
            guard !valid.isEmpty else { continue }
            // Safe: the first element's input column, lo·sw + phase - left, is in 0 ..< W.
            let first = valid.lowerBound * sw + phase - left
            var dst = phases + (phase * PH + g.padding.top) * PWp + valid.lowerBound
            for h in 0..<H {
                gatherRow(dst, plane + h * W + first, count: valid.count, stride: sw)
                dst += PWp
            }
        }
    }

    // MARK: - Vector access

    @inline(__always)
    static func load<V: SIMD>(_: V.Type, _ p: UnsafePointer<V.Scalar>) -> V {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }

    @inline(__always)
    static func store<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<V.Scalar>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }
}
