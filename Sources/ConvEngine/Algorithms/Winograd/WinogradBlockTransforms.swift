// The input and output transforms of one block of tiles (see ``WinogradKernel``), eight tiles at a time.

extension WinogradKernel {
    /// V of the block's `tiles`: `V[(ξν·Ci + c)·ld + t]` for tile `t` of the block (lanes past the block's
    /// last tile, up to a multiple of 8 within `ld`, hold zeros and are never multiplied).
    func transformInput<T: ConvScalar>(_ source: UnsafePointer<T>, group grp: Int, tiles: Range<Int>,
                                       into v: UnsafeMutablePointer<T>, ld: Int) {
        let p = problem, L = Self.lanes, a = F.alpha, a2 = Self.positions, Ci = p.inputChannels
        let H = p.inputHeight, W = p.inputWidth, plane = H * W
        withUnsafeTemporaryAllocation(of: SIMD8<T>.self, capacity: a2) { buffer in
          withUnsafeTemporaryAllocation(of: TileOrigin.self, capacity: L) { originBuffer in
            let d = buffer.baseAddress!, origins = originBuffer.baseAddress!  // Safe: capacities > 0.
            for l0 in stride(from: 0, to: tiles.count, by: L) {
                let lanes = min(L, tiles.count - l0)
                for l in 0..<lanes { origins[l] = origin(of: tiles.lowerBound + l0 + l) }
                for c in 0..<Ci {
                    for i in 0..<a2 { d[i] = SIMD8<T>() }
                    for l in 0..<lanes {
                        let o = origins[l]
                        let src = source + ((o.image * p.groups + grp) * Ci + c) * plane
                        let y0 = o.row - p.padTop, x0 = o.column - p.padLeft
                        if y0 >= 0 && y0 + a <= H && x0 >= 0 && x0 + a <= W {
                            // An interior tile: no bounds tests.
                            var row = src + y0 * W + x0
                            for y in 0..<a {
                                for x in 0..<a { d[y * a + x][l] = row[x] }
                                row += W
                            }
                        } else {
                            // An edge tile: padding (and rows past the image, for tiles cropped later) reads 0.
                            let ys = Axis.validRange(offset: y0, stride: 1, extent: H, count: a)
                            let xs = Axis.validRange(offset: x0, stride: 1, extent: W, count: a)
                            for y in ys {
                                for x in xs { d[y * a + x][l] = src[(y0 + y) * W + x0 + x] }
                            }
                        }
                    }
                    F.input(d)
                    for xi in 0..<a2 { storeLanes(d[xi], v + (xi * Ci + c) * ld + l0) }
                }
            }
          }
        }
    }

    /// The block's result tiles from M (`M[(ξν·Co + k)·ld + t]`), plus the bias, cropped to the result.
    func transformOutput<T: ConvScalar>(_ mm: UnsafePointer<T>, ld: Int, group grp: Int, tiles: Range<Int>,
                                        bias: UnsafePointer<T>?, into result: UnsafeMutablePointer<T>) {
        let p = problem, L = Self.lanes, a = F.alpha, a2 = Self.positions, m = F.m, Co = p.outputChannels
        let P = p.outputHeight, Q = p.outputWidth, plane = P * Q
        withUnsafeTemporaryAllocation(of: SIMD8<T>.self, capacity: a2 + m * m + m * a) { buffer in
          withUnsafeTemporaryAllocation(of: TileOrigin.self, capacity: L) { originBuffer in
            let t = buffer.baseAddress!, y = t + a2, scratch = y + m * m  // Safe: capacities > 0.
            let origins = originBuffer.baseAddress!
            for l0 in stride(from: 0, to: tiles.count, by: L) {
                let lanes = min(L, tiles.count - l0)
                for l in 0..<lanes { origins[l] = origin(of: tiles.lowerBound + l0 + l) }
                for k in 0..<Co {
                    for xi in 0..<a2 { t[xi] = loadLanes(mm + (xi * Co + k) * ld + l0) }
                    F.output(UnsafePointer(t), into: y, scratch: scratch)
                    if let bias {
                        let b = bias[grp * Co + k]
                        for i in 0..<(m * m) { y[i] += SIMD8(repeating: b) }
                    }
                    for l in 0..<lanes {
                        let o = origins[l]
                        let dst = result + ((o.image * p.groups + grp) * Co + k) * plane
                        let rows = min(m, P - o.row), columns = min(m, Q - o.column)
                        for i in 0..<rows {
                            let out = dst + (o.row + i) * Q + o.column
                            for j in 0..<columns { out[j] = y[i * m + j][l] }
                        }
                    }
                }
            }
          }
        }
    }
}
