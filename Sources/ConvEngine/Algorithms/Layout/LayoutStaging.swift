// The conversion fallback's driver, shared by the 2-D (LayoutAdapter) and 3-D (VolumeLayoutAdapter) adapters:
// the staging regions of a pass, and the loop over chunks of images that copies the operands into the algorithm's
// layout, runs it, and copies the results back.

/// The tensors of one call as the conversion sees them: images of `channels × pixels` (pixels `H·W`, or `D·H·W`
/// in 3-D) and filters of `C/G × taps` (taps `R·S`, or `T·R·S`).
struct ConversionShape: Hashable {
    let batch: Int
    let inputChannels: Int, inputPixels: Int
    let outputChannels: Int, outputPixels: Int
    let channelsPerGroup: Int, taps: Int

    // Safe: each product is at most an element count of a checked geometry.
    var inputImage: Int { inputChannels * inputPixels }
    var outputImage: Int { outputChannels * outputPixels }
    var filterCount: Int { outputChannels * channelsPerGroup * taps }
}

/// The staging of one call: which operands are converted, how many images at a time, and where the copies live
/// in the workspace (before the algorithm's own regions, which start at ``Regions/total``).
struct LayoutStaging {
    let shape: ConversionShape
    /// The caller's layout and the algorithm's.
    let requested: ConvLayout, algorithm: ConvLayout
    /// Images per chunk: the staging holds this many (a number that does not depend on the batch); the whole
    /// batch when the activations are not converted.
    let imagesPerChunk: Int

    init(_ shape: ConversionShape, requested: ConvLayout, algorithm: ConvLayout, imagesPerChunk: Int?) {
        self.shape = shape
        self.requested = requested
        self.algorithm = algorithm
        self.imagesPerChunk = requested.activations != algorithm.activations ? max(1, imagesPerChunk ?? 1) : shape.batch
    }

    var convertsActivations: Bool { requested.activations != algorithm.activations }
    var convertsFilter: Bool { requested.filter != algorithm.filter }

    /// The images of the chunks the batch is cut into (all but the last hold ``imagesPerChunk``).
    var chunks: StrideTo<Int> { stride(from: 0, to: shape.batch, by: imagesPerChunk) }
    /// Images in the chunk starting at `start`.
    func images(from start: Int) -> Int { min(imagesPerChunk, shape.batch - start) }
    /// The distinct chunk sizes of the batch: the full one, and a shorter last one if any (a pair, not an array:
    /// every call makes one, and must not allocate).
    var chunkSizes: (full: Int, last: Int?) {
        let full = min(imagesPerChunk, shape.batch), last = shape.batch % imagesPerChunk
        return (full, shape.batch > imagesPerChunk && last != 0 ? last : nil)
    }

    /// `inner` (a geometry in the algorithm's layout) at the batch of the full chunk and of a shorter last one,
    /// and whether either could not be made (cannot happen: each is the call's geometry with fewer images; the
    /// adapters then refuse every pass instead of trapping).
    func chunkGeometries<G>(_ inner: G, withBatch: (Int) throws(ConvError) -> G) -> (full: G, last: G?, invalid: Bool) {
        let sizes = chunkSizes
        let full = try? withBatch(sizes.full)
        let last = sizes.last.flatMap { try? withBatch($0) }
        return (full ?? inner, last, full == nil || (sizes.last != nil && last == nil))
    }

    /// The staging regions of one pass, shared by the workers (the conversions split each copy among them).
    struct Regions: WorkspaceLayout {
        /// X of a chunk (forward, and backward for dF), in the algorithm's layout.
        var input = WorkspaceRegion()
        /// O of a chunk (forward) or dO of a chunk (backward).
        var output = WorkspaceRegion()
        /// dX of a chunk.
        var inputGradient = WorkspaceRegion()
        /// F in the algorithm's layout.
        var filter = WorkspaceRegion()
        /// dF in the algorithm's layout, summed over the chunks.
        var filterGradient = WorkspaceRegion()
        /// dF and dB of one chunk after the first, added into the sums.
        var filterPart = WorkspaceRegion(), biasPart = WorkspaceRegion()
        var total = 0
    }

    /// The regions `pass` needs, overflow-checked: `n·C·H·W` and `n·K·P·Q` (n = ``imagesPerChunk``) for the
    /// activation copies, `|F|` for the converted filter and for the converted dF, and `|F| + K` for one chunk's
    /// dF and dB when the batch runs in chunks. `preparedFilter`: the forward pass reads F already converted.
    func regions(for pass: ConvPass, preparedFilter: Bool = false) throws(ConvError) -> Regions {
        var b = WorkspaceLayoutBuilder(workers: 1)
        var r = Regions()
        let gradients = pass.gradients
        let n = imagesPerChunk
        if convertsActivations {
            if pass == .forward || gradients.contains(.filter) {
                r.input = try b.shared(checkedProduct(n, shape.inputImage, quantity: "staged input"), "staged input")
            }
            r.output = try b.shared(checkedProduct(n, shape.outputImage, quantity: "staged output"),
                                    pass == .forward ? "staged output" : "staged output gradient")
            if gradients.contains(.input) {
                r.inputGradient = try b.shared(checkedProduct(n, shape.inputImage, quantity: "staged input gradient"),
                                               "staged input gradient")
            }
            if gradients.contains(.filter) { r.filterPart = try b.shared(shape.filterCount, "filter-gradient chunk") }
            if gradients.contains(.bias) { r.biasPart = try b.shared(shape.outputChannels, "bias-gradient chunk") }
        }
        if convertsFilter {
            if (pass == .forward && !preparedFilter) || gradients.contains(.input) {
                r.filter = try b.shared(shape.filterCount, "converted filter")
            }
            if gradients.contains(.filter) { r.filterGradient = try b.shared(shape.filterCount, "converted filter gradient") }
        }
        r.total = b.total
        return r
    }

    // MARK: - Copies

    /// `images` images of activations with `channels × pixels` each, from the caller's layout into the
    /// algorithm's (`toAlgorithm`) or back.
    func convertActivations<T: ConvScalar>(_ src: UnsafePointer<T>, into dst: UnsafeMutablePointer<T>, images: Int,
                                           channels: Int, pixels: Int, toAlgorithm: Bool, workers: Int) {
        // Channels-first → channels-last is the transpose of `channels × pixels` matrices; the other way of
        // `pixels × channels` ones.
        let fromChannelsLast = (toAlgorithm ? requested.activations : algorithm.activations) == .channelsLast
        transposeBlocks(src, into: dst, blocks: images, rows: fromChannelsLast ? pixels : channels,
                        columns: fromChannelsLast ? channels : pixels, workers: workers)
    }

    /// The filter (or dF) from the caller's layout into the algorithm's (`toAlgorithm`) or back.
    func convertFilter<T: ConvScalar>(_ src: UnsafePointer<T>, into dst: UnsafeMutablePointer<T>, toAlgorithm: Bool,
                                      workers: Int) {
        let fromChannelsLast = (toAlgorithm ? requested.filter : algorithm.filter) == .channelsLast
        transposeBlocks(src, into: dst, blocks: shape.outputChannels,
                        rows: fromChannelsLast ? shape.taps : shape.channelsPerGroup,
                        columns: fromChannelsLast ? shape.channelsPerGroup : shape.taps, workers: workers)
    }

    // MARK: - Passes

    /// The forward pass in chunks: `run(images, X, F, O, workspace)` runs the algorithm on one chunk in its
    /// layout (O overwritten), with `workspace` just after the staging. `filter` is F in the algorithm's layout
    /// when `filterConverted` (a prepared filter), else the caller's F, converted here once.
    func forward<T: ConvScalar>(
        _ call: ForwardCall<T>, _ regions: Regions, filter given: UnsafePointer<T>, filterConverted: Bool,
        run: (_ images: Int, _ input: UnsafePointer<T>, _ filter: UnsafePointer<T>, _ output: UnsafeMutablePointer<T>,
              _ workspace: UnsafeMutablePointer<T>) -> Void
    ) {
        let ws = call.workspace, inner = call.workspace + regions.total
        var filter = given
        if convertsFilter && !filterConverted {
            let staged = regions.filter.at(ws)
            convertFilter(given, into: staged, toAlgorithm: true, workers: call.workers)
            filter = UnsafePointer(staged)
        }
        guard convertsActivations else {
            run(shape.batch, call.input, filter, call.output, inner)
            return
        }
        let x = regions.input.at(ws), o = regions.output.at(ws)
        for start in chunks {
            let n = images(from: start)
            convertActivations(call.input + start * shape.inputImage, into: x, images: n,
                               channels: shape.inputChannels, pixels: shape.inputPixels, toAlgorithm: true,
                               workers: call.workers)
            run(n, x, filter, o, inner)
            convertActivations(o, into: call.output + start * shape.outputImage, images: n,
                               channels: shape.outputChannels, pixels: shape.outputPixels, toAlgorithm: false,
                               workers: call.workers)
        }
    }

    /// The backward pass in chunks: `run(images, call)` runs the algorithm's backward pass (and its input-gradient
    /// route) on one chunk in its layout, with the call's workspace just after the staging. dF and dB are the
    /// first chunk's, with each later chunk's added in chunk order (a fixed order for a given worker count).
    func backward<T: ConvScalar>(
        _ call: BackwardCall<T>, _ regions: Regions,
        run: (_ images: Int, _ call: BackwardCall<T>) throws(ConvError) -> Void
    ) throws(ConvError) {
        let ws = call.workspace, workers = call.workers
        var filter = call.filter
        if convertsFilter, call.inputGradient != nil, let f = call.filter {
            let staged = regions.filter.at(ws)
            convertFilter(f, into: staged, toAlgorithm: true, workers: workers)
            filter = UnsafePointer(staged)
        }
        // dF in the algorithm's layout: the caller's buffer, or a staging copy permuted back at the end.
        let filterGradient = convertsFilter ? call.filterGradient.map { _ in regions.filterGradient.at(ws) }
            : call.filterGradient
        var chunk = BackwardCall(input: call.input, filter: filter, outputGradient: call.outputGradient,
                                 inputGradient: call.inputGradient, filterGradient: filterGradient,
                                 biasGradient: call.biasGradient, workspace: ws + regions.total, workers: workers)
        if convertsActivations {
            let x = regions.input.at(ws), dO = regions.output.at(ws), dX = regions.inputGradient.at(ws)
            for start in chunks {
                let n = images(from: start), first = start == 0
                convertActivations(call.outputGradient + start * shape.outputImage, into: dO, images: n,
                                   channels: shape.outputChannels, pixels: shape.outputPixels, toAlgorithm: true,
                                   workers: workers)
                if let input = call.input, call.filterGradient != nil {
                    convertActivations(input + start * shape.inputImage, into: x, images: n,
                                       channels: shape.inputChannels, pixels: shape.inputPixels, toAlgorithm: true,
                                       workers: workers)
                    chunk = chunk.with(input: x)
                }
                chunk = chunk.with(outputGradient: dO, inputGradient: call.inputGradient.map { _ in dX },
                                   filterGradient: first ? filterGradient : filterGradient.map { _ in regions.filterPart.at(ws) },
                                   biasGradient: first ? call.biasGradient : call.biasGradient.map { _ in regions.biasPart.at(ws) })
                try run(n, chunk)
                if let target = call.inputGradient {
                    convertActivations(dX, into: target + start * shape.inputImage, images: n,
                                       channels: shape.inputChannels, pixels: shape.inputPixels, toAlgorithm: false,
                                       workers: workers)
                }
                if !first, let sum = filterGradient {
                    addInto(sum, regions.filterPart.at(ws), count: shape.filterCount, workers: workers)
                }
                if !first, let sum = call.biasGradient {
                    addInto(sum, regions.biasPart.at(ws), count: shape.outputChannels, workers: workers)
                }
            }
        } else {
            try run(shape.batch, chunk)
        }
        if convertsFilter, let dF = call.filterGradient, let staged = filterGradient {
            convertFilter(staged, into: dF, toAlgorithm: false, workers: workers)
        }
    }
}

extension BackwardCall {
    /// This call reading X from `input`.
    func with(input: UnsafePointer<T>) -> BackwardCall {
        BackwardCall(input: input, filter: filter, outputGradient: outputGradient, inputGradient: inputGradient,
                     filterGradient: filterGradient, biasGradient: biasGradient, workspace: workspace, workers: workers)
    }

    /// This call reading dO from `outputGradient` and writing the gradients it computes into the buffers given.
    func with(outputGradient: UnsafePointer<T>, inputGradient: UnsafeMutablePointer<T>?,
              filterGradient: UnsafeMutablePointer<T>?, biasGradient: UnsafeMutablePointer<T>?) -> BackwardCall {
        BackwardCall(input: input, filter: filter, outputGradient: outputGradient, inputGradient: inputGradient,
                     filterGradient: filterGradient, biasGradient: biasGradient, workspace: workspace, workers: workers)
    }
}
