// The input and output transforms of one block of tiles (see ``WinogradKernel``), eight tiles at a time.

extension WinogradKernel {
    /// V of the block's `tiles`: row c, column t of matrix ξν for tile `t` of the block (lanes past the
    /// block's last tile, up to a multiple of 8 within `ld`, hold zeros and are never multiplied).
    ///
    /// Each lane reads its tile through a row pointer: the image itself for an interior tile, or a zero-padded
    /// α×α copy for an edge tile (or zeros for a missing lane), so that every input vector is built from eight
    /// scalar loads in registers rather than lane by lane in memory. Channels are the outer loop: one channel of
    /// the block's tiles reads α rows of its plane front to back, which the hardware prefetches, where all
    /// channels of eight tiles at a time read α·Ci short pieces of rows a plane apart (most of the transform's
    /// time went to waiting for them).
    func transformInput<T: ConvScalar>(_ source: UnsafePointer<T>, group grp: Int, tiles: Range<Int>,
                                       into v: BlockMatrices<T>) {
        let p = problem, L = Self.lanes, a = F.alpha, a2 = Self.positions, Ci = p.inputChannels
        let H = p.inputHeight, W = p.inputWidth, plane = H * W
        let groups = (tiles.count + L - 1) / L
        withUnsafeTemporaryAllocation(of: SIMD8<T>.self, capacity: a2) { buffer in
          withUnsafeTemporaryAllocation(of: T.self, capacity: (L + 1) * a2) { edgeBuffer in
            withUnsafeTemporaryAllocation(of: LaneSource<T>.self, capacity: groups * L) { laneBuffer in
              withUnsafeTemporaryAllocation(of: LaneGroup.self, capacity: groups) { groupBuffer in
                // Safe: every capacity is positive (a block has at least one tile).
                let d = buffer.baseAddress!, edges = edgeBuffer.baseAddress!
                let allLanes = laneBuffer.baseAddress!, laneGroups = groupBuffer.baseAddress!
                // Missing lanes read this zero tile; edge lanes copy their tile into their slot before it.
                let zeros = edges + L * a2
                zeros.update(repeating: 0, count: a2)
                for g in 0..<groups {
                    let l0 = g * L, lanes = allLanes + l0
                    let count = min(L, tiles.count - l0)
                    var edgeLanes = 0
                    for l in 0..<L {
                        guard l < count else {
                            lanes[l] = LaneSource(base: UnsafePointer(zeros), rowStride: a, channelStride: 0,
                                                  image: 0, y0: 0, x0: 0, interior: true)
                            continue
                        }
                        let o = origin(of: tiles.lowerBound + l0 + l)
                        let y0 = o.row - p.padTop, x0 = o.column - p.padLeft
                        let first = source + (o.image * p.groups + grp) * Ci * plane
                        if y0 >= 0 && y0 + a <= H && x0 >= 0 && x0 + a <= W {
                            lanes[l] = LaneSource(base: first + y0 * W + x0, rowStride: W, channelStride: plane,
                                                  image: 0, y0: y0, x0: x0, interior: true)
                        } else {
                            lanes[l] = LaneSource(base: first, rowStride: a, channelStride: plane,
                                                  image: 0, y0: y0, x0: x0, interior: false)
                            edgeLanes += 1
                        }
                    }
                    // Eight consecutive interior tiles of one tile row: each input vector is one wide load.
                    let first = lanes[0], span = ((a - 1) & ~(F.m - 1)) + L * F.m
                    var oneRow = count == L && edgeLanes == 0 && first.x0 + span <= W
                    if oneRow {
                        for l in 1..<L where lanes[l].base != first.base + l * F.m { oneRow = false }
                    }
                    laneGroups[g] = LaneGroup(count: count, edgeLanes: edgeLanes, oneRow: oneRow)
                }
                for c in 0..<Ci {
                    for g in 0..<groups {
                        let l0 = g * L, lanes = allLanes + l0, group = laneGroups[g]
                        if group.oneRow {
                            let tile = lanes[0].base + c * plane
                            for y in 0..<a {
                                let row = tile + y &* W
                                for x in 0..<a { d[y &* a &+ x] = F.rowLanes(row, x) }
                            }
                        } else {
                            if group.edgeLanes > 0 {
                                // Edge tiles: padding (and rows past the image, for tiles cropped later) reads 0.
                                for l in 0..<group.count where !lanes[l].interior {
                                    let e = edges + l * a2, src = lanes[l].base + c * plane
                                    e.update(repeating: 0, count: a2)
                                    let y0 = lanes[l].y0, x0 = lanes[l].x0
                                    let ys = Axis.validRange(offset: y0, stride: 1, extent: H, count: a)
                                    let xs = Axis.validRange(offset: x0, stride: 1, extent: W, count: a)
                                    // Wrapping arithmetic: the offsets address the valid part of the tile.
                                    for y in ys {
                                        let dst = e + y &* a, row = src + ((y0 &+ y) &* W &+ x0)
                                        for x in xs { dst[x] = row[x] }
                                    }
                                }
                            }
                            gatherLanes(lanes, channel: c, edges: edges, into: d)
                        }
                        F.input(d)
                        for xi in 0..<a2 { storeLanes(d[xi], v.matrix(xi) + c * v.ld + l0) }
                    }
                }
              }
            }
          }
        }
    }

    /// The α×α input vectors of eight lanes for channel `c`, each built from eight scalar loads.
    @inline(__always)
    func gatherLanes<T: ConvScalar>(_ lanes: UnsafePointer<LaneSource<T>>, channel c: Int,
                                    edges: UnsafeMutablePointer<T>, into d: UnsafeMutablePointer<SIMD8<T>>) {
        let a = F.alpha, a2 = Self.positions
        let p0 = lanes[0].at(c, edges, 0, a2), p1 = lanes[1].at(c, edges, 1, a2)
        let p2 = lanes[2].at(c, edges, 2, a2), p3 = lanes[3].at(c, edges, 3, a2)
        let p4 = lanes[4].at(c, edges, 4, a2), p5 = lanes[5].at(c, edges, 5, a2)
        let p6 = lanes[6].at(c, edges, 6, a2), p7 = lanes[7].at(c, edges, 7, a2)
        let s0 = lanes[0].rowStride, s1 = lanes[1].rowStride, s2 = lanes[2].rowStride
        let s3 = lanes[3].rowStride, s4 = lanes[4].rowStride, s5 = lanes[5].rowStride
        let s6 = lanes[6].rowStride, s7 = lanes[7].rowStride
        // Wrapping arithmetic: every offset is inside a tile the lane's pointer addresses.
        for y in 0..<a {
            let o0 = y &* s0, o1 = y &* s1, o2 = y &* s2, o3 = y &* s3
            let o4 = y &* s4, o5 = y &* s5, o6 = y &* s6, o7 = y &* s7
            for x in 0..<a {
                d[y &* a &+ x] = SIMD8(p0[o0 &+ x], p1[o1 &+ x], p2[o2 &+ x], p3[o3 &+ x],
                                       p4[o4 &+ x], p5[o5 &+ x], p6[o6 &+ x], p7[o7 &+ x])
            }
        }
    }

    /// The block's result tiles from M (row k, column t of matrix ξν), plus the bias, cropped to the result.
    ///
    /// Output channels are the outer loop, as the channels of ``transformInput(_:group:tiles:into:)``: one
    /// channel of the block reads its row of each M front to back and writes its result plane row by row.
    func transformOutput<T: ConvScalar>(_ mm: BlockMatrices<T>, group grp: Int, tiles: Range<Int>,
                                        bias: UnsafePointer<T>?, epilogue: Epilogue<T>,
                                        into result: UnsafeMutablePointer<T>) {
        let p = problem, L = Self.lanes, a2 = Self.positions, m = F.m, Co = p.outputChannels
        let P = p.outputHeight, Q = p.outputWidth, plane = P * Q
        withResultLanes(tiles, T.self) { t, y, scratch, allOrigins, laneGroups in
            for k in 0..<Co {
                let b = bias.map { SIMD8(repeating: $0[grp * Co + k]) }
                let planeStart = result + (grp * Co + k) * plane
                for g in 0..<(tiles.count + L - 1) / L {
                    let l0 = g * L, origins = allOrigins + l0, (lanes, oneRow) = laneGroups[g]
                    for xi in 0..<a2 { t[xi] = loadLanes(mm.matrix(xi) + k * mm.ld + l0) }
                    F.output(UnsafePointer(t), into: y, scratch: scratch)
                    if let b {
                        for i in 0..<(m * m) { y[i] += b }
                    }
                    if oneRow {
                        let o0 = origins[0]
                        let dst = planeStart + o0.image * p.groups * Co * plane + o0.row * Q + o0.column
                        for i in 0..<m {
                            F.storeRow(UnsafePointer(y + i &* m), dst + i &* Q)
                            // The row of 8 tiles just stored, still in L1 (the epilogue's loop vectorises;
                            // a select on these registers went lane by lane through memory).
                            epilogue.apply(dst + i &* Q, count: L &* m)
                        }
                        continue
                    }
                    for l in 0..<lanes {
                        let o = origins[l]
                        let dst = planeStart + o.image * p.groups * Co * plane
                        let rows = min(m, P - o.row), columns = min(m, Q - o.column)
                        for i in 0..<rows {
                            let out = dst + ((o.row &+ i) &* Q &+ o.column)
                            for j in 0..<columns { out[j] = y[i &* m &+ j][l] }
                            epilogue.apply(out, count: columns)
                        }
                    }
                }
            }
        }
    }
}

extension WinogradKernel {
    /// Runs `body` with the scratch of a transform from or to the result's side (α² lanes at `t`, m² at `y`, and
    /// the transform's own after them) and ``allLaneOrigins(_:into:groups:)`` of the block's `tiles`.
    @inline(__always)
    func withResultLanes<T: ConvScalar>(
        _ tiles: Range<Int>, _: T.Type,
        _ body: (_ t: UnsafeMutablePointer<SIMD8<T>>, _ y: UnsafeMutablePointer<SIMD8<T>>,
                 _ scratch: UnsafeMutablePointer<SIMD8<T>>, _ origins: UnsafeMutablePointer<TileOrigin>,
                 _ groups: UnsafeMutablePointer<(lanes: Int, oneRow: Bool)>) -> Void
    ) {
        let L = Self.lanes, a2 = Self.positions, m = F.m, groups = (tiles.count + L - 1) / L
        withUnsafeTemporaryAllocation(of: SIMD8<T>.self, capacity: a2 + m * m + m * F.alpha) { buffer in
            withUnsafeTemporaryAllocation(of: TileOrigin.self, capacity: groups * L) { originBuffer in
                withUnsafeTemporaryAllocation(of: (lanes: Int, oneRow: Bool).self, capacity: groups) { groupBuffer in
                    // Safe: every capacity is positive (a block has at least one tile).
                    let t = buffer.baseAddress!, origins = originBuffer.baseAddress!, lanes = groupBuffer.baseAddress!
                    allLaneOrigins(tiles, into: origins, groups: lanes)
                    body(t, t + a2, t + a2 + m * m, origins, lanes)
                }
            }
        }
    }

    /// ``laneOrigins(_:from:into:)`` of each group of eight of the block's `tiles`: group g's origins at
    /// `origins + 8g`, its lane count and whether it is eight consecutive whole tiles of one tile row (each of
    /// their m rows one wide load or store) at `groups[g]`.
    @inline(__always)
    func allLaneOrigins(_ tiles: Range<Int>, into origins: UnsafeMutablePointer<TileOrigin>,
                        groups: UnsafeMutablePointer<(lanes: Int, oneRow: Bool)>) {
        let L = Self.lanes
        for g in 0..<(tiles.count + L - 1) / L { groups[g] = laneOrigins(tiles, from: g * L, into: origins + g * L) }
    }

    /// The origins of the block's tiles `l0 …` (up to 8) into `origins`: how many there are, and whether they are
    /// eight consecutive whole tiles of one tile row of the result (then each of their m rows is one wide load
    /// or store of 8m consecutive elements).
    @inline(__always)
    func laneOrigins(_ tiles: Range<Int>, from l0: Int,
                     into origins: UnsafeMutablePointer<TileOrigin>) -> (lanes: Int, oneRow: Bool) {
        let L = Self.lanes, m = F.m, lanes = min(L, tiles.count - l0)
        for l in 0..<lanes { origins[l] = origin(of: tiles.lowerBound + l0 + l) }
        let o0 = origins[0]
        guard lanes == L && o0.row + m <= problem.outputHeight && o0.column + L * m <= problem.outputWidth else {
            return (lanes, false)
        }
        for l in 1..<L where origins[l].image != o0.image || origins[l].row != o0.row
            || origins[l].column != o0.column + l * m { return (lanes, false) }
        return (lanes, true)
    }
}

/// Eight lanes of an input transform: how many hold tiles, how many of those are edge tiles, and whether they
/// are eight consecutive interior tiles of one tile row (one wide load per input vector).
struct LaneGroup {
    var count: Int, edgeLanes: Int, oneRow: Bool
}

/// Where one lane of an input transform reads its α×α tile: rows `rowStride` apart from `base` (plus
/// `channelStride` per channel) for an interior tile; its zero-padded copy in the edge buffer otherwise.
struct LaneSource<T> {
    var base: UnsafePointer<T>
    var rowStride: Int, channelStride: Int
    var image: Int, y0: Int, x0: Int
    var interior: Bool

    /// The tile's first element for channel `c` (lane `l`'s copy in `edges` for an edge tile).
    @inline(__always)
    func at(_ c: Int, _ edges: UnsafeMutablePointer<T>, _ l: Int, _ a2: Int) -> UnsafePointer<T> {
        interior ? base + c * channelStride : UnsafePointer(edges + l * a2)
    }
}
