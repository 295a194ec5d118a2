// The depthwise row kernels: one forward row (plain, from phases, or two at once) and one input-gradient row.

/// One forward output row: `bias + Σ_{r,s} taps[r,s] · base[r·rowStep + s·dw + q·sw]`, in `(r, s)` order.
struct ForwardRow<Scalar: ConvScalar>: RowChunks {
    let base: UnsafePointer<Scalar>, taps: UnsafePointer<Scalar>, bias: Scalar
    let dst: UnsafeMutablePointer<Scalar>
    let R: Int, S: Int, rowStep: Int, dw: Int, sw: Int

    /// Chunks at stride 1 (`sw` must be 1).
    @inline(__always)
    func run<V: SIMD, N: ChunkCount>(_: V.Type, _: N.Type, _ q0: Int, _ last: Int) where V.Scalar == Scalar {
        var sums = ChunkSums<V, N>(V(repeating: bias), q0, last)
        var row = base
        for r in 0..<R {
            let t = taps + r * S
            var tap = row
            for s in 0..<S {
                sums.add(t[s], tap)
                tap += dw
            }
            row += rowStep
        }
        sums.store(dst)
    }

    @inline(__always)
    func one(_ q: Int) {
        var acc = bias
        var row = base + q * sw
        for r in 0..<R {
            let t = taps + r * S
            for s in 0..<S { acc += t[s] * row[s * dw] }
            row += rowStep
        }
        dst[q] = acc
    }
}

/// One forward output row at horizontal stride `sw > 1`, read from column phases (see
/// ``DepthwiseKernel/padPhases(_:into:)``; `base` is the row's first input row in phase 0, phases
/// `phaseStride` apart): `bias + Σ_{r,s} taps[r,s] · phase[(s·dw) % sw][r·rowStep + (s·dw)/sw + q]`, in `(r, s)`
/// order, the same sums as ``ForwardRow`` on the padded plane. `tapShift` is the step between taps, `dw`, as
/// (phase, element) (``Axis/phase(of:)``).
struct PhasedForwardRow<Scalar: ConvScalar>: RowChunks {
    let base: UnsafePointer<Scalar>, taps: UnsafePointer<Scalar>, bias: Scalar
    let dst: UnsafeMutablePointer<Scalar>
    let R: Int, S: Int, rowStep: Int, tapShift: (phase: Int, element: Int), sw: Int, phaseStride: Int

    /// The offset of tap `s` from its row's start, stepped without a division per tap: the phase advances by
    /// `tapShift.phase` and the element by `tapShift.element`, carrying one element when the phase wraps.
    @inline(__always)
    func forEachTap(_ body: (_ s: Int, _ offset: Int) -> Void) {
        let (turn, step) = tapShift
        var phase = 0, element = 0
        for s in 0..<S {
            body(s, phase * phaseStride + element)
            phase += turn
            element += step
            if phase >= sw { phase -= sw; element += 1 }
        }
    }

    @inline(__always)
    func run<V: SIMD, N: ChunkCount>(_: V.Type, _: N.Type, _ q0: Int, _ last: Int) where V.Scalar == Scalar {
        var sums = ChunkSums<V, N>(V(repeating: bias), q0, last)
        var row = base
        for r in 0..<R {
            let t = taps + r * S
            forEachTap { s, offset in sums.add(t[s], row + offset) }
            row += rowStep
        }
        sums.store(dst)
    }

    @inline(__always)
    func one(_ q: Int) {
        var acc = bias
        var row = base + q
        for r in 0..<R {
            let t = taps + r * S
            forEachTap { s, offset in acc += t[s] * row[offset] }
            row += rowStep
        }
        dst[q] = acc
    }
}

/// Chunks per run of the paired forward rows (``ForwardRowPair``): two sums per chunk, so up to 14 sums plus
/// the input vector and a broadcast tap in SSE's 16 registers (runs of 4 would reload every tap twice as
/// often).
let pairMaxRun = 7

/// Two forward output rows at horizontal stride 1, `dst[0 ..< Q]` and `dst[Q ..< 2Q]`, the second's kernel
/// row r reading the first's input row r + 1 (`rowStep` apart): input rows `0 ... R` are walked once, each
/// vector loaded once and multiplied into both rows' sums. Each element still sums the bias, then the taps in
/// `(r, s)` order, exactly as ``ForwardRow`` does.
struct ForwardRowPair<Scalar: ConvScalar>: RowChunks {
    let base: UnsafePointer<Scalar>, taps: UnsafePointer<Scalar>, bias: Scalar
    let dst: UnsafeMutablePointer<Scalar>
    let R: Int, S: Int, rowStep: Int, dw: Int, Q: Int

    @inline(__always)
    func run<V: SIMD, N: ChunkCount>(_: V.Type, _: N.Type, _ q0: Int, _ last: Int) where V.Scalar == Scalar {
        var first = ChunkSums<V, N>(V(repeating: bias), q0, last)
        var second = ChunkSums<V, N>(V(repeating: bias), q0, last)
        var row = base
        // Input row 0: kernel row 0 of the first output row only.
        var src = row
        for s in 0..<S {
            first.add(taps[s], src)
            src += dw
        }
        // Input rows 1 ..< R: kernel row j of the first, j - 1 of the second.
        for j in 1..<R {
            row += rowStep
            let t1 = taps + j * S, t2 = t1 - S
            src = row
            for s in 0..<S {
                first.add(t1[s], src, and: t2[s], into: &second)
                src += dw
            }
        }
        // Input row R: kernel row R - 1 of the second only.
        row += rowStep
        let t2 = taps + (R - 1) * S
        src = row
        for s in 0..<S {
            second.add(t2[s], src)
            src += dw
        }
        first.store(dst)
        second.store(dst + Q)
    }

    @inline(__always)
    func one(_ q: Int) {
        var a = bias, b = bias
        var row = base + q
        for r in 0..<R {
            let t = taps + r * S
            for s in 0..<S {
                a += t[s] * row[s * dw]
                b += t[s] * row[rowStep + s * dw]
            }
            row += rowStep
        }
        dst[q] = a
        dst[Q + q] = b
    }
}

/// One input-gradient row `h` at horizontal stride 1 (see ``DepthwiseKernel/gatherInputGradient(_:_:_:tapsFinite:scratch:)``):
/// kernel rows `rFirst, rFirst + rStep, … < R` map to output-gradient rows `pFirst, pFirst - pStep, …`, used
/// where in `[0, P)`; column w reads column `w + colOffset - s·dw` of a source row (`rowStride` apart, planes
/// `planeSize` apart), which exists in `[0, colLimit)`. Chunks must lie where every tap's column exists;
/// `one` tests each tap.
struct GatherRow<Scalar: ConvScalar>: RowChunks {
    let grads: UnsafePointer<Scalar>, taps: UnsafePointer<Scalar>, dst: UnsafeMutablePointer<Scalar>
    let m: Int, planeSize: Int, R: Int, S: Int, P: Int, rowStride: Int, colOffset: Int, colLimit: Int
    let rFirst: Int, rStep: Int, pFirst: Int, pStep: Int, dw: Int

    @inline(__always)
    func run<V: SIMD, N: ChunkCount>(_: V.Type, _: N.Type, _ q0: Int, _ last: Int) where V.Scalar == Scalar {
        var sums = ChunkSums<V, N>(V(), q0, last)
        for j in 0..<m {
            let grad = grads + j * planeSize + colOffset
            let t = taps + j * R * S
            var r = rFirst, p = pFirst
            while r < R {
                if p >= 0 && p < P {
                    // Column w reads source column w + colOffset - s·dw: walk leftwards by dw per tap.
                    var src = grad + p * rowStride
                    let tr = t + r * S
                    for s in 0..<S {
                        sums.add(tr[s], src)
                        src -= dw
                    }
                }
                r += rStep
                p -= pStep
            }
        }
        sums.store(dst)
    }

    @inline(__always)
    func one(_ w: Int) {
        var acc: Scalar = 0
        for j in 0..<m {
            let grad = grads + j * planeSize
            let t = taps + j * R * S
            var r = rFirst, p = pFirst
            while r < R {
                if p >= 0 && p < P {
                    let src = grad + p * rowStride
                    let tr = t + r * S
                    for s in 0..<S {
                        let col = w + colOffset - s * dw
                        if col >= 0 && col < colLimit { acc += tr[s] * src[col] }
                    }
                }
                r += rStep
                p -= pStep
            }
        }
        dst[w] = acc
    }
}
