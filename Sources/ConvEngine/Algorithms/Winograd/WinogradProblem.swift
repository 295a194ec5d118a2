/// One stride-1, dilation-1 3×3 cross-correlation as the Winograd kernel sees it, per group: the forward pass
/// (source X, result O) or the input gradient as a full convolution (source dO, result dX).
///
/// Source image `n`, group `grp`, channel `c` is the plane `(n·G + grp)·Ci + c` of `inputHeight × inputWidth`;
/// result plane `(n·G + grp)·Co + k` of `outputHeight × outputWidth`. Result `(y, x)` reads source rows
/// `y − padTop … y − padTop + 2` (columns likewise); indices outside the source read zero. `padTop` may be
/// negative (the input gradient of a layer padded by more than 2).
struct WinogradProblem: Hashable {
    var batch: Int, groups: Int
    /// Source channels summed per group (Cs in the transform bound): C/G forward, K/G for the input gradient.
    var inputChannels: Int
    /// Result channels per group.
    var outputChannels: Int
    var inputHeight: Int, inputWidth: Int
    var outputHeight: Int, outputWidth: Int
    var padTop: Int, padLeft: Int

    /// The forward pass of `g` (3×3, stride 1, dilation 1).
    static func forward(_ g: ConvGeometry) -> WinogradProblem {
        WinogradProblem(batch: g.batch, groups: g.groups, inputChannels: g.inputChannelsPerGroup,
                        outputChannels: g.outputChannelsPerGroup, inputHeight: g.inputHeight, inputWidth: g.inputWidth,
                        outputHeight: g.outputHeight, outputWidth: g.outputWidth,
                        padTop: g.padding.top, padLeft: g.padding.left)
    }

    /// The input gradient of `g` as a stride-1 correlation of dO, padded by `2 − top` (and `2 − left`), with
    /// the rotated filter and its K and C/G axes swapped (the full-convolution route of <doc:TheMathAndTheLowering>).
    static func inputGradient(_ g: ConvGeometry) -> WinogradProblem {
        WinogradProblem(batch: g.batch, groups: g.groups, inputChannels: g.outputChannelsPerGroup,
                        outputChannels: g.inputChannelsPerGroup, inputHeight: g.outputHeight, inputWidth: g.outputWidth,
                        outputHeight: g.inputHeight, outputWidth: g.inputWidth,
                        padTop: 2 - g.padding.top, padLeft: 2 - g.padding.left)
    }
}

/// Where filter tap `(r, s)` of result channel `k` and source channel `c` (in group `grp`) is in F:
/// `grp·groupStride + k·outputStride + c·inputStride + tap·tapStride`, with `tap = 3r + s`, or `8 − (3r + s)` when
/// the filter is read rotated by 180° (the input gradient).
struct WinogradFilterAccess {
    var groupStride: Int, outputStride: Int, inputStride: Int
    var rotated: Bool
    /// Elements between neighbouring taps: 1 in `K×C/G×3×3`, C/G in `K×3×3×C/G`.
    var tapStride = 1

    /// F as the forward pass reads it, in `layout`.
    static func forward(_ g: ConvGeometry, filter layout: FilterLayout) -> WinogradFilterAccess {
        guard layout == .channelsLast else { return forward(g) }
        let Cg = g.inputChannelsPerGroup
        return WinogradFilterAccess(groupStride: g.outputChannelsPerGroup * Cg * 9, outputStride: Cg * 9,
                                    inputStride: 1, rotated: false, tapStride: Cg)
    }

    /// F as the forward pass reads it: `K × C/G × 3 × 3`.
    static func forward(_ g: ConvGeometry) -> WinogradFilterAccess {
        let Cg = g.inputChannelsPerGroup
        return WinogradFilterAccess(groupStride: g.outputChannelsPerGroup * Cg * 9, outputStride: Cg * 9,
                                    inputStride: 9, rotated: false)
    }

    /// F as the input gradient reads it: result channel c, source channel k, rotated.
    static func inputGradient(_ g: ConvGeometry) -> WinogradFilterAccess {
        let Cg = g.inputChannelsPerGroup
        return WinogradFilterAccess(groupStride: g.outputChannelsPerGroup * Cg * 9, outputStride: 9,
                                    inputStride: Cg * 9, rotated: true)
    }
}
