// The driver shared by every 3-D algorithm: the loops over volumes, tiles of output planes and groups around
// the per-tile steps of VolumeAlgorithm, the bias, the per-worker filter-gradient sums and the bias gradient.

/// How a volume's E output planes are cut into tiles of at most `planesPerTile` planes, evened out (10 planes
/// under a 4-plane limit run as 4 + 3 + 3).
struct PlaneSchedule {
    let outputDepth: Int
    let tilesPerVolume: Int
    let tilePlanes: Int

    init(outputDepth: Int, planesPerTile: Int) {
        self.outputDepth = outputDepth
        tilesPerVolume = (outputDepth - 1) / max(1, planesPerTile) + 1
        tilePlanes = (outputDepth - 1) / tilesPerVolume + 1
    }

    /// The output planes of tile `i` of a volume.
    func planes(_ i: Int) -> Range<Int> {
        let lo = i * tilePlanes
        return lo..<min(outputDepth, lo + tilePlanes)
    }
}

extension VolumeAlgorithm {
    /// The forward pass: the (volume, tile) work items go to whichever worker is free (`parallelItems`): a
    /// tile's result does not depend on the worker that computes it. Each tile's GEMMs write straight into the
    /// output (a tile's planes of one channel are contiguous in NCDHW), onto the prefilled bias.
    func forward<T: ConvScalar>(_ call: ForwardCall<T>, _ layout: VolumeLayout) {
        let g = geometry
        let G = g.groups, K = g.outputChannels, Kg = g.outputChannelsPerGroup, C = g.inputChannels
        let Cg = g.inputChannelsPerGroup, E = g.outputDepth
        let PQ = g.outputHeight * g.outputWidth, DHW = g.inputDepth * g.inputHeight * g.inputWidth
        let schedule = PlaneSchedule(outputDepth: E, planesPerTile: planesPerTile)
        var filter = call.filter
        if packedFilterCount > 0 {
            let packed = layout.packedFilter.at(call.workspace)
            packFilter(call.filter, into: packed)
            filter = UnsafePointer(packed)
        }
        let items = g.batch * schedule.tilesPerVolume
        parallelItems(call.workers, count: items) { w, item in
            let n = item / schedule.tilesPerVolume
            let planes = schedule.planes(item % schedule.tilesPerVolume)
            let lowered = layout.lowered.at(call.workspace, worker: w)
            for grp in 0..<G {
                let c = call.output + ((n * K + grp * Kg) * E + planes.lowerBound) * PQ
                let beta: T = prefillBias(c, channels: Kg, channelStride: E * PQ, count: planes.count * PQ,
                                          bias: call.bias.map { $0 + grp * Kg })
                forwardTile(planes: planes, group: grp, input: call.input + (n * C + grp * Cg) * DHW, filter: filter,
                            into: c, ldc: E * PQ, beta: beta, lowered: lowered)
            }
        }
    }

    /// The backward pass, in two parallel phases over the same workspace.
    ///
    /// Filter gradient: the (volume, tile) work items are split in contiguous, ordered shares, one per worker;
    /// each worker sums its share in order and the shares are added in worker order, so the result is
    /// reproducible bit for bit at a given worker count.
    ///
    /// Input gradient: the work items are (volume, group, share of the group's input channels), taken by
    /// whichever worker is free. A volume's tiles add into overlapping planes of its input gradient (the depth
    /// halo), so one item owns all the tiles of its channels; the channels are split only when volumes × groups
    /// are fewer than the workers (a batch of one volume still uses every worker).
    ///
    /// The bias gradient's order never depends on the worker count.
    func backward<T: ConvScalar>(_ call: BackwardCall<T>, _ layout: VolumeLayout) {
        let g = geometry
        let G = g.groups, K = g.outputChannels, Kg = g.outputChannelsPerGroup, C = g.inputChannels
        let Cg = g.inputChannelsPerGroup, E = g.outputDepth
        let PQ = g.outputHeight * g.outputWidth, DHW = g.inputDepth * g.inputHeight * g.inputWidth
        let dO = call.outputGradient
        let schedule = PlaneSchedule(outputDepth: E, planesPerTile: planesPerTile)
        let tiles = schedule.tilesPerVolume
        if let dF = call.filterGradient, let x = call.input {
            let items = g.batch * tiles
            let workers = min(call.workers, items)
            parallelFor(workers) { w in
                let lowered = layout.lowered.at(call.workspace, worker: w)
                let sums = layout.filterSums.at(call.workspace, worker: w)
                zeroRow(sums, g.filterCount)
                for item in share(of: items, worker: w, of: workers) {
                    let n = item / tiles, planes = schedule.planes(item % tiles)
                    for grp in 0..<G {
                        weightTile(planes: planes, group: grp, input: x + (n * C + grp * Cg) * DHW,
                                   outputGradient: dO + ((n * K + grp * Kg) * E + planes.lowerBound) * PQ,
                                   ldo: E * PQ, into: sums, lowered: lowered)
                    }
                }
            }
            finishFilterGradient(sums: layout.filterSums.at(call.workspace), parts: workers, into: dF,
                                 workers: call.workers)
        }
        if let dX = call.inputGradient, var filter = call.filter {
            if packedFilterCount > 0 {
                let packed = layout.packedFilter.at(call.workspace)
                packFilter(filter, into: packed)
                filter = UnsafePointer(packed)
            }
            let units = g.batch * G
            let chunks = units >= call.workers ? 1 : min(Cg, (call.workers - 1) / units + 1)
            parallelItems(call.workers, count: units * chunks) { w, item in
                let n = item / (G * chunks), grp = (item / chunks) % G
                let channels = share(of: Cg, worker: item % chunks, of: chunks)
                let group = dX + (n * C + grp * Cg) * DHW
                zeroRow(group + channels.lowerBound * DHW, channels.count * DHW)
                for i in 0..<tiles {
                    let planes = schedule.planes(i)
                    inputTile(planes: planes, group: grp, channels: channels, filter: filter,
                              outputGradient: dO + ((n * K + grp * Kg) * E + planes.lowerBound) * PQ, ldo: E * PQ,
                              into: group, lowered: layout.lowered.at(call.workspace, worker: w))
                }
            }
        }
        if let dB = call.biasGradient {
            sumBiasGradient(batch: g.batch, channels: K, positions: E * PQ, dO, into: dB, workers: call.workers)
        }
    }
}
