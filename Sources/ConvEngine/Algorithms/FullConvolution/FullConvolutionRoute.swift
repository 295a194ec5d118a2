/// ``InputGradientAlgorithm/fullConvolution``: the full-convolution route of <doc:TheMathAndTheLowering> to the
/// input gradient, an independent second route to dX:
///
/// 1. upsample dO by the stride and place it in a zero array Z of `(H + dh(R-1)) × (W + dw(S-1))`, its first
///    row at `dh(R-1) - top` and first column at `dw(S-1) - left` (parts that fall outside are dropped);
/// 2. rotate every filter by 180° and swap its K and C/G axes within each group;
/// 3. cross-correlate Z with those filters at stride 1 and the geometry's dilation: the result is `H × W`.
///
/// Step 3 is itself lowered with im2col and one GEMM per image and group. The route runs after the plan's
/// algorithm has finished, in the same workspace.
struct FullConvolutionRoute: InputGradientRoute {
    static var algorithmComputesInputGradient: Bool { false }
    let geometry: ConvGeometry
    /// im2col of Z: K/G channels of `arrayHeight × arrayWidth`, kernel R×S, stride 1, dilation (dh, dw).
    let lowering: Lowering
    let arrayHeight: Int, arrayWidth: Int
    let rowOffset: Int, columnOffset: Int

    init(_ g: ConvGeometry) {
        geometry = g
        arrayHeight = g.inputHeight + g.dilationHeight * (g.kernelHeight - 1)
        arrayWidth = g.inputWidth + g.dilationWidth * (g.kernelWidth - 1)
        rowOffset = g.dilationHeight * (g.kernelHeight - 1) - g.padding.top
        columnOffset = g.dilationWidth * (g.kernelWidth - 1) - g.padding.left
        lowering = Lowering(channels: g.outputChannelsPerGroup, height: arrayHeight, width: arrayWidth,
                            kernelHeight: g.kernelHeight, kernelWidth: g.kernelWidth,
                            dilationHeight: g.dilationHeight, dilationWidth: g.dilationWidth)
    }

    /// The rotated filter (shared) and, per worker, Z and its im2col.
    struct Layout: WorkspaceLayout {
        var rotatedFilter = WorkspaceRegion(), array = WorkspaceRegion(), columns = WorkspaceRegion()
        var total = 0
    }

    func layout(workers: Int) throws(ConvError) -> Layout {
        var b = WorkspaceLayoutBuilder(workers: workers)
        var l = Layout()
        l.rotatedFilter = try b.shared(geometry.filterCount, "rotated filter")
        l.array = try b.perWorker(arrayCount, "full-convolution array")
        l.columns = try b.perWorker(checkedProduct(lowering.rows, lowering.columns, quantity: "full-convolution columns"),
                                    "full-convolution columns")
        l.total = b.total
        return l
    }

    /// dX of every image, split over `workers` threads by image.
    func inputGradient<T: ConvScalar>(filter f: UnsafePointer<T>, outputGradient dO: UnsafePointer<T>,
                                      inputGradient dX: UnsafeMutablePointer<T>, workspace: UnsafeMutablePointer<T>,
                                      workers: Int, _ layout: Layout) {
        let g = geometry
        let rotated = layout.rotatedFilter.at(workspace)
        rotateFilters(f, into: rotated)
        let G = g.groups, C = g.inputChannels, K = g.outputChannels
        let Cg = g.inputChannelsPerGroup, Kg = g.outputChannelsPerGroup
        let HW = g.inputHeight * g.inputWidth, PQ = g.columnColumns, CgRS = g.columnRows
        let split = min(workers, g.batch)
        parallelFor(split) { w in
            for n in share(of: g.batch, worker: w, of: split) {
                for grp in 0..<G {
                    inputGradient(outputGradient: dO + (n * K + grp * Kg) * PQ,
                                  rotatedFilter: rotated + grp * Kg * CgRS,
                                  inputGradient: dX + (n * C + grp * Cg) * HW,
                                  array: layout.array.at(workspace, worker: w),
                                  columns: layout.columns.at(workspace, worker: w))
                }
            }
        }
    }

    /// Elements of Z for one image and group.
    var arrayCount: Int { geometry.outputChannelsPerGroup * arrayHeight * arrayWidth }

    /// Writes, per group, the `C/G × (K/G·R·S)` matrix `Fr[c, (k*R + r)*S + s] = F[g*K/G + k, c, R-1-r, S-1-s]`.
    func rotateFilters<T: ConvScalar>(_ f: UnsafePointer<T>, into rotated: UnsafeMutablePointer<T>) {
        let g = geometry
        let R = g.kernelHeight, S = g.kernelWidth, Cg = g.inputChannelsPerGroup, Kg = g.outputChannelsPerGroup
        var dst = rotated
        for grp in 0..<g.groups {
            for c in 0..<Cg {
                for k in 0..<Kg {
                    let src = f + ((grp * Kg + k) * Cg + c) * R * S
                    for r in 0..<R {
                        for s in 0..<S {
                            dst[r * S + s] = src[(R - 1 - r) * S + (S - 1 - s)]
                        }
                    }
                    dst += R * S
                }
            }
        }
    }

    /// dX of one image and group (`C/G × H × W` at `dX`), from that image and group's output gradient
    /// (`K/G × P × Q` at `dO`). `array` and `columns` are scratch of `arrayCount` and
    /// `lowering.rows × lowering.columns` elements.
    func inputGradient<T: ConvScalar>(
        outputGradient dO: UnsafePointer<T>, rotatedFilter: UnsafePointer<T>, inputGradient dX: UnsafeMutablePointer<T>,
        array: UnsafeMutablePointer<T>, columns: UnsafeMutablePointer<T>
    ) {
        let g = geometry
        let P = g.outputHeight, Q = g.outputWidth, Zh = arrayHeight, Zw = arrayWidth
        array.update(repeating: 0, count: arrayCount)
        // Output rows/columns whose upsampled position lands inside Z; the others read only padding.
        let pRange = Axis.validRange(offset: rowOffset, stride: g.strideHeight, extent: Zh, count: P)
        let qRange = Axis.validRange(offset: columnOffset, stride: g.strideWidth, extent: Zw, count: Q)
        for k in 0..<g.outputChannelsPerGroup {
            let plane = array + k * Zh * Zw
            let src = dO + k * P * Q
            for p in pRange {
                let row = plane + (p * g.strideHeight + rowOffset) * Zw + columnOffset
                for q in qRange { row[q * g.strideWidth] = src[p * Q + q] }
            }
        }
        lowering.im2col(UnsafePointer(array), into: columns)
        let HW = g.inputHeight * g.inputWidth, KgRS = lowering.rows
        BLAS.uncheckedGEMM(transposeA: .none, transposeB: .none, m: g.inputChannelsPerGroup, n: HW, k: KgRS,
                           alpha: 1, a: rotatedFilter, lda: KgRS, b: columns, ldb: HW, beta: 0, c: dX, ldc: HW)
    }
}
