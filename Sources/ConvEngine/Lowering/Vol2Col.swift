// vol2col and its adjoint col2vol, and the per-plane lowering of the kernel-depth GEMMs: the 3-D lowerings,
// built from the 2-D im2col/col2im of one channel plane (Im2Col.swift, Col2Im.swift) and the depth axis's index
// rules (Axis.swift), so no index arithmetic is written a second time.

/// The window pattern of one group of one volume of a ``ConvGeometry3D``: `channels` volumes of
/// `D × H × W`, read by a `T × R × S` kernel, giving `E × P × Q` positions.
///
/// - vol2col (the whole lowering): row `((c·T + t)·R + r)·S + s`, column `(e·P + p)·Q + q`, holding
///   `X[c, e·sd − front + t·dd, p·sh − top + r·dh, q·sw − left + s·dw]` (0 in the padding). Its block of rows
///   `(c, t, ·, ·)` and columns `(e, ·, ·)` is the 2-D im2col of input plane `d = e·sd − front + t·dd` of channel
///   `c` (or zeros when `d` is a padding plane), so it is written by ``plane``'s im2col.
/// - The plane lowering (the kernel-depth GEMMs): row `(c·R + r)·S + s`, column `(d·P + p)·Q + q`, the 2-D im2col
///   of every input plane `d` once; kernel-depth tap `t` then reads output plane `e`'s columns at plane
///   `d = e·sd − front + t·dd`.
internal struct VolumeLowering: Sendable {
    /// Input channels of the group (C/G), or of the part of it a worker lowers (``channels(_:)``).
    private(set) var channels: Int
    /// The depth axis's index rules: D, T, E, sd, dd, front/back padding.
    let depth: Axis
    /// The 2-D lowering of one channel plane: H × W by R × S, giving P × Q.
    let plane: Lowering

    init(_ g: ConvGeometry3D) {
        channels = g.inputChannelsPerGroup
        depth = g.depthAxis
        plane = Lowering(planeOf: g)
    }

    /// The same lowering over `count` channels (a share of the group's, starting at the pointer given to it).
    func channels(_ count: Int) -> VolumeLowering {
        var copy = self
        copy.channels = count
        return copy
    }

    /// Elements of one input plane (`H·W`).
    var planeSize: Int { plane.height * plane.width }
    /// Columns of one output plane (`P·Q`).
    var planeColumns: Int { plane.outputHeight * plane.outputWidth }
    /// Rows per (channel, depth tap) block: `R·S`.
    var tapsPerPlane: Int { plane.kernelHeight * plane.kernelWidth }

    /// Output planes `planes` of depth tap `t` that read an input plane (not padding), and the input plane
    /// output plane `e` reads: `e·sd + offset`.
    @inline(__always)
    func tapPlanes(_ t: Int, among planes: Range<Int>) -> (offset: Int, planes: Range<Int>) {
        let valid = depth.validOutputs(tap: t)
        let lo = min(max(valid.lowerBound, planes.lowerBound), planes.upperBound)
        let hi = max(min(valid.upperBound, planes.upperBound), lo)
        return (depth.tapOffset(t), lo..<hi)
    }

    /// Fills `col` with the vol2col columns of output planes `planes` (`planes.count·P·Q` columns, rows `ld`
    /// apart) of the group whose first channel starts at `group` (channels `D·H·W` apart). Overwrites every
    /// element of those columns; padding reads as zero.
    func vol2col<T: ConvScalar>(_ group: UnsafePointer<T>, planes: Range<Int>, into col: UnsafeMutablePointer<T>,
                                ld: Int) {
        let T_ = depth.kernel, RS = tapsPerPlane, PQ = planeColumns, D = depth.extent, HW = planeSize
        for c in 0..<channels {
            for t in 0..<T_ {
                let (offset, valid) = tapPlanes(t, among: planes)
                let block = col + (c * T_ + t) * RS * ld
                for e in planes {
                    let dst = block + (e - planes.lowerBound) * PQ
                    guard valid.contains(e) else {
                        // A padding plane: every tap of this block reads zero.
                        for row in 0..<RS { zeroRow(dst + row * ld, PQ) }
                        continue
                    }
                    // Safe: `valid` keeps e·sd + offset inside 0..<D.
                    plane.im2col(group + (c * D + e * depth.stride + offset) * HW, into: dst, ld: ld)
                }
            }
        }
    }

    /// The adjoint of ``vol2col(_:planes:into:ld:)``: adds every element of `col` (the columns of output planes
    /// `planes`, rows `ld` apart) into the input element it was read from; overlapping windows add up and
    /// elements read from padding are dropped. Nothing is zeroed: the caller zeroes the volume first.
    func col2vol<T: ConvScalar>(_ col: UnsafePointer<T>, planes: Range<Int>, ld: Int,
                                into group: UnsafeMutablePointer<T>) {
        let T_ = depth.kernel, RS = tapsPerPlane, PQ = planeColumns, D = depth.extent, HW = planeSize
        for c in 0..<channels {
            for t in 0..<T_ {
                let (offset, valid) = tapPlanes(t, among: planes)
                let block = col + (c * T_ + t) * RS * ld
                for e in valid {
                    // Safe: as in vol2col.
                    plane.col2im(block + (e - planes.lowerBound) * PQ, ld: ld,
                                 into: group + (c * D + e * depth.stride + offset) * HW, overwrite: false)
                }
            }
        }
    }

    /// The plane lowering of input planes `inputPlanes`: rows `(c·R + r)·S + s`, `ld` apart, columns
    /// `((d − inputPlanes.lowerBound)·P + p)·Q + q`. Overwrites every element of those columns.
    func lowerPlanes<T: ConvScalar>(_ group: UnsafePointer<T>, inputPlanes: Range<Int>,
                                    into col: UnsafeMutablePointer<T>, ld: Int) {
        let RS = tapsPerPlane, PQ = planeColumns, D = depth.extent, HW = planeSize
        for c in 0..<channels {
            for d in inputPlanes {
                plane.im2col(group + (c * D + d) * HW, into: col + c * RS * ld + (d - inputPlanes.lowerBound) * PQ,
                             ld: ld)
            }
        }
    }

    /// The adjoint of ``lowerPlanes(_:inputPlanes:into:ld:)``: adds each plane's columns back into its input
    /// plane (col2im), without zeroing first.
    func addPlanes<T: ConvScalar>(_ col: UnsafePointer<T>, inputPlanes: Range<Int>, ld: Int,
                                  into group: UnsafeMutablePointer<T>) {
        let RS = tapsPerPlane, PQ = planeColumns, D = depth.extent, HW = planeSize
        for c in 0..<channels {
            for d in inputPlanes {
                plane.col2im(col + c * RS * ld + (d - inputPlanes.lowerBound) * PQ, ld: ld,
                             into: group + (c * D + d) * HW, overwrite: false)
            }
        }
    }
}

extension Lowering {
    /// The 2-D lowering of one channel plane of a 3-D geometry (H × W by R × S, P × Q).
    init(planeOf g: ConvGeometry3D) {
        channels = 1
        height = g.inputHeight; width = g.inputWidth
        kernelHeight = g.kernelHeight; kernelWidth = g.kernelWidth
        strideHeight = g.strideHeight; strideWidth = g.strideWidth
        padTop = g.padding.top; padLeft = g.padding.left
        padBottom = g.padding.bottom; padRight = g.padding.right
        dilationHeight = g.dilationHeight; dilationWidth = g.dilationWidth
        outputHeight = g.outputHeight; outputWidth = g.outputWidth
    }
}

extension ConvGeometry3D {
    /// The depth axis: D, T, E, sd, dd, front/back padding.
    var depthAxis: Axis {
        Axis(extent: inputDepth, kernel: kernelDepth, outputs: outputDepth, stride: strideDepth,
             dilation: dilationDepth, padBefore: padding.front, padAfter: padding.back)
    }
}
