// The tile driver shared by every lowered algorithm: the loops over tiles, images and groups around the
// per-tile steps of LoweredAlgorithm.

extension LoweredAlgorithm {
    /// The forward pass: the tiles of the whole batch go to whichever worker is free (see `parallelItems`),
    /// since a tile's result does not depend on the worker that computes it. Each tile's GEMMs accumulate onto
    /// the bias: straight onto the output rows for one image, onto the worker's tile result (then copied out
    /// to NCHW) for several, so every element is the same sum, bias first, whatever the tile holds.
    func forward<T: ConvScalar>(_ call: ForwardCall<T>, _ layout: LoweredLayout) {
        let g = geometry
        let G = g.groups, K = g.outputChannels, Kg = g.outputChannelsPerGroup
        let PQ = g.columnColumns, Q = g.outputWidth
        if call.preparedFilter == nil {
            prepare(filter: call.filter, workspace: call.workspace, layout, workers: call.workers)
        }
        let schedule = TileSchedule(outputHeight: g.outputHeight, tileRows: tileRows, batch: g.batch,
                                    workers: call.workers)
        let o = call.output
        parallelItems(call.workers, count: schedule.tileCount(images: 0..<g.batch)) { w, t in
            let (images, rows) = schedule.tile(t, images: 0..<g.batch)
            let tile = Tile(images: images, rows: rows, width: Q, order: Self.columnOrder)
            let scratch = TileScratch(call.workspace, layout, worker: w, prepared: call.preparedFilter)
            let result = layout.tileResult.at(call.workspace, worker: w)
            for grp in 0..<G {
                let direct = o + (images.lowerBound * K + grp * Kg) * PQ + rows.lowerBound * Q
                let single = tile.isSingleImage
                let c = single ? direct : result
                let ldc = single ? PQ : tile.columns
                let beta: T = prefillBias(c, channels: Kg, channelStride: ldc, count: tile.columns,
                                          bias: call.bias.map { $0 + grp * Kg })
                forwardGEMM(tile, group: grp, input: call.input, filter: call.filter, into: c, ldc: ldc, beta: beta,
                            scratch)
                // The tile's rows are final and still in cache: activate them here, not in a later pass.
                call.epilogue.apply(c, rows: Kg, width: single ? rows.count * Q : tile.columns, stride: ldc)
                if single { continue }
                for (i, n) in images.enumerated() {
                    for k in 0..<Kg {
                        copyRows(o + (n * K + grp * Kg + k) * PQ + rows.lowerBound * Q, dstStride: Q,
                                      result + k * tile.columns + tile.imageOffset(i), srcStride: tile.rowStride,
                                      rows: rows.count, width: Q)
                    }
                }
            }
        }
    }

    /// The backward pass. Images are split in contiguous, ordered shares, one per worker, so each worker's
    /// filter-gradient sum has a fixed order; the shares are then added in worker order. The bias gradient is
    /// summed separately, in an order that never depends on the worker count.
    func backward<T: ConvScalar>(_ call: BackwardCall<T>, _ layout: LoweredLayout) {
        let g = geometry
        let G = g.groups, K = g.outputChannels, Kg = g.outputChannelsPerGroup
        let PQ = g.columnColumns, Q = g.outputWidth
        let dO = call.outputGradient
        let wantsDF = call.filterGradient != nil && call.input != nil
        let wantsDX = call.inputGradient != nil && call.filter != nil
        let workers = wantsDF || wantsDX ? min(call.workers, g.batch) : 0
        if wantsDX, let f = call.filter { prepare(filter: f, workspace: call.workspace, layout, workers: call.workers) }
        let schedule = TileSchedule(outputHeight: g.outputHeight, tileRows: tileRows)
        let sums = layout.filterSums.at(call.workspace)
        parallelFor(workers) { w in
            let scratch = TileScratch(call.workspace, layout, worker: w)
            let gathered = layout.tileResult.at(call.workspace, worker: w)
            let workerSums = call.filterGradient.map { dF in
                Self.filterSumsInPlace ? (w == 0 ? dF : sums + (w - 1) * g.filterCount) : sums + w * g.filterCount
            }
            let images = share(of: g.batch, worker: w, of: workers)
            for t in 0..<schedule.tileCount(images: images) {
                let (tileImages, rows) = schedule.tile(t, images: images)
                let tile = Tile(images: tileImages, rows: rows, width: Q, order: Self.columnOrder)
                for grp in 0..<G {
                    // The tile's output gradient as a K/G × columns matrix: in place for one image, gathered
                    // in the tile's column order for several.
                    let dOTile: UnsafePointer<T>, ldo: Int
                    if tile.isSingleImage {
                        dOTile = dO + (tileImages.lowerBound * K + grp * Kg) * PQ + rows.lowerBound * Q
                        ldo = PQ
                    } else {
                        for (i, n) in tileImages.enumerated() {
                            for k in 0..<Kg {
                                copyRows(gathered + k * tile.columns + tile.imageOffset(i),
                                              dstStride: tile.rowStride,
                                              dO + (n * K + grp * Kg + k) * PQ + rows.lowerBound * Q, srcStride: Q,
                                              rows: rows.count, width: Q)
                            }
                        }
                        dOTile = UnsafePointer(gathered)
                        ldo = tile.columns
                    }
                    if wantsDF, let x = call.input, let workerSums {
                        weightGEMM(tile, group: grp, input: x, outputGradient: dOTile, ldo: ldo, into: workerSums,
                                   beta: t == 0 ? 0 : 1, scratch)
                    }
                    if wantsDX, let dX = call.inputGradient, let f = call.filter {
                        inputGEMM(tile, group: grp, filter: f, outputGradient: dOTile, ldo: ldo, into: dX, scratch)
                    }
                }
            }
        }
        if wantsDF, let dF = call.filterGradient {
            let parts = Self.filterSumsInPlace ? workers - 1 : workers
            if parts > 0 || !Self.filterSumsInPlace {
                finishFilterGradient(sums: sums, parts: parts, into: dF, workers: call.workers)
            }
        }
        if let dB = call.biasGradient { sumBiasGradient(g, dO, into: dB, workers: call.workers) }
    }
}
