// The layout setting under hostile use: wrong buffer lengths, overlapping buffers, workspace limits and forced
// algorithms on NHWC geometries, prepared filters carried to another layout, measured planning per layout, the
// fused activation and the layers in channels-last. Every refusal is a typed ConvError naming what is wrong;
// everything accepted is compared with the reference in its layout.
import Foundation
import Testing
import ConvEngine

@Suite("Layouts: hostile input, limits, prepared filters, planning and layers")
struct LayoutHostileTests {
    /// Five images, so that conversion chunks of one or two images leave a shorter last chunk.
    static let base = try! ConvGeometry(batch: 5, inputChannels: 6, inputHeight: 7, inputWidth: 6, outputChannels: 4,
                                        kernelHeight: 3, kernelWidth: 3, padding: 1, groups: 2)
    static let nonDefault = allLayouts.filter { $0 != .nchw }

    /// The ConvError `body` throws, or nil.
    static func convError(_ body: () throws -> Void) -> ConvError? { thrownError(body) as? ConvError }

    @Test("Wrong buffer lengths in every layout are refused naming the buffer, for every operation")
    func wrongLengths() throws {
        let engine = try makeEngine(workers: 2)
        for layout in Self.nonDefault {
            let g = Self.base.withLayout(layout)
            let x = [Float](repeating: 1, count: g.inputCount), f = [Float](repeating: 1, count: g.filterCount)
            let dO = [Float](repeating: 1, count: g.outputCount)
            for (name, call) in [
                ("input", { _ = try engine.forward(g, input: Array(x.dropLast()), filter: f, bias: nil) }),
                ("filter", { _ = try engine.forward(g, input: x, filter: f + [0], bias: nil) }),
                ("bias", { _ = try engine.forward(g, input: x, filter: f, bias: [1]) }),
                ("outputGradient", { _ = try engine.backward(g, input: x, filter: f, outputGradient: Array(dO.dropLast())) }),
                ("filter", { _ = try engine.backward(g, input: x, filter: Array(f.dropLast()), outputGradient: dO) }),
            ] as [(String, () throws -> Void)] {
                let error = Self.convError(call)
                guard case .bufferLength(let named, _, _)? = error else {
                    Issue.record("\(layout): expected bufferLength for \(name), got \(String(describing: error))")
                    continue
                }
                #expect(named == name, "\(layout)")
            }
            // The family in the same layout.
            let t = try TransposedConvGeometry(batch: 2, inputChannels: 4, inputHeight: 3, inputWidth: 3, outputChannels: 2,
                                               kernelHeight: 2, kernelWidth: 2, strideHeight: 2, strideWidth: 2,
                                               layout: layout)
            let c1 = try ConvGeometry1D(batch: 2, inputChannels: 3, inputLength: 8, outputChannels: 2, kernelLength: 3,
                                        layout: layout)
            let v = try ConvGeometry3D(batch: 2, inputChannels: 2, inputDepth: 3, inputHeight: 3, inputWidth: 3,
                                       outputChannels: 2, kernelDepth: 2, kernelHeight: 2, kernelWidth: 2, layout: layout)
            for (label, call) in [
                ("transposed", { _ = try engine.forward(t, input: [Float](repeating: 1, count: t.inputCount + 1),
                                                        filter: [Float](repeating: 1, count: t.filterCount), bias: nil) }),
                ("1-D", { _ = try engine.forward(c1, input: [Float](repeating: 1, count: c1.inputCount - 1),
                                                 filter: [Float](repeating: 1, count: c1.filterCount), bias: nil) }),
                ("3-D", { _ = try engine.forward(v, input: [Float](repeating: 1, count: v.inputCount),
                                                 filter: [Float](repeating: 1, count: v.filterCount - 1), bias: nil) }),
            ] as [(String, () throws -> Void)] {
                let error = Self.convError(call)
                guard case .bufferLength? = error else {
                    Issue.record("\(label) \(layout): expected bufferLength, got \(String(describing: error))")
                    continue
                }
            }
        }
    }

    @Test("Overlapping buffers in every layout are refused before anything is written")
    func overlaps() throws {
        let engine = try makeEngine(workers: 2)
        for layout in Self.nonDefault {
            let g = Self.base.withLayout(layout)
            var storage = [Float](repeating: 1, count: g.inputCount + g.outputCount)
            let f = [Float](repeating: 1, count: g.filterCount)
            let error = Self.convError {
                try storage.withUnsafeMutableBufferPointer { all in
                    try f.withUnsafeBufferPointer { fb in
                        // The output starts inside the input.
                        let input = UnsafeBufferPointer(rebasing: all[0..<g.inputCount])
                        let output = UnsafeMutableBufferPointer(rebasing: all[(g.inputCount - 1)..<(g.inputCount - 1 + g.outputCount)])
                        try engine.forward(g, input: input, filter: fb, bias: nil, output: output,
                                           workspace: ConvWorkspace<Float>())
                    }
                }
            }
            #expect(error == .overlappingBuffers(output: "output", other: "input"), "\(layout)")
            // The workspace holds the conversion's copies: an output inside it is refused too.
            let workspace = ConvWorkspace<Float>()
            try workspace.reserve(engine.workspaceElementCount(for: g) + g.outputCount)
            let x = [Float](repeating: 1, count: g.inputCount)
            guard let start = workspaceStorage(workspace) else { Issue.record("no workspace storage found"); continue }
            let inWorkspace = Self.convError {
                try x.withUnsafeBufferPointer { xb in
                    try f.withUnsafeBufferPointer { fb in
                        try engine.forward(g, input: xb, filter: fb, bias: nil,
                                           output: UnsafeMutableBufferPointer(start: start, count: g.outputCount),
                                           workspace: workspace)
                    }
                }
            }
            #expect(inWorkspace == .overlappingBuffers(output: "output", other: "workspace"), "\(layout)")
        }
    }

    @Test("Forced algorithms that cannot run an NHWC geometry are refused with algorithmNotApplicable")
    func inapplicable() throws {
        // Stride 2, dilation 2, groups 2: no pointwise, depthwise, Winograd or shifted GEMM.
        let g = try ConvGeometry(batch: 2, inputChannels: 4, inputHeight: 9, inputWidth: 9, outputChannels: 4,
                                 kernelHeight: 3, kernelWidth: 3, strideHeight: 2, strideWidth: 2, padding: 1,
                                 dilationHeight: 2, dilationWidth: 2, groups: 2)
        for layout in Self.nonDefault {
            for algorithm in [ConvAlgorithm.pointwise, .depthwiseDirect, .winograd2x2, .winograd4x4, .shiftedGEMM] {
                let engine = try makeEngine(workers: 1, algorithm: algorithm)
                let error = Self.convError { _ = try engine.plan(for: g.withLayout(layout)) }
                guard case .algorithmNotApplicable(let named, let reason)? = error else {
                    Issue.record("\(algorithm) on \(layout): got \(String(describing: error))")
                    continue
                }
                #expect(named == algorithm.rawValue && !reason.isEmpty)
                #expect(!algorithm.supports(g.withLayout(layout)))
            }
        }
    }

    @Test("Under a workspace limit the conversion's chunks shrink first; every call stays under it and matches the reference")
    func workspaceLimits() throws {
        for layout in Self.nonDefault {
            let g = Self.base.withLayout(layout)
            var rng = SeededGenerator(seed: 0x11)
            let p = Problem(g, rng: &rng)
            let reference = try ReferenceResults(g, input: p.input, filter: p.filter, bias: p.bias,
                                                 outputGradient: p.outputGradient)
            for algorithm in [ConvAlgorithm.tiledIm2col, .im2col, .winograd2x2] {
                let free = try makeEngine(workers: 2, algorithm: algorithm)
                let need = try free.workspaceBytes(for: g, scalar: Double.self)
                let freePlan = try free.plan(for: g, scalar: Double.self)
                for limit in [need / 2, need / 8] {
                    let engine = try makeEngine(workers: 2, algorithm: algorithm, workspaceLimit: limit)
                    let plan: ConvPlan
                    do { plan = try engine.plan(for: g, scalar: Double.self) } catch {
                        guard case .workspaceCapTooSmall(let required, let cap) = error else {
                            Issue.record("\(layout) \(algorithm) limit \(limit): \(error)")
                            continue
                        }
                        #expect(required > cap && cap == limit)
                        continue
                    }
                    if let chunk = plan.layoutConversion?.imagesPerChunk, let before = freePlan.layoutConversion?.imagesPerChunk {
                        #expect(chunk < before, "\(layout) \(algorithm): \(plan) under \(limit) B")
                    }
                    let workspace = ConvWorkspace<Double>()
                    let context = "\(g), plan \(plan), limit \(limit) B"
                    let bounded = reference.bounded(for: plan.algorithm, route: plan.inputGradientAlgorithm, geometry: g)
                    let results = try runAll(engine, g, x: p.input, f: p.filter, b: p.bias, dO: p.outputGradient,
                                             workspace: workspace)
                    bounded.check(results, geometry: g, context: context)
                    #expect(workspace.peakElementCount * 8 <= limit, "\(context): \(workspace.peakElementCount) elements")
                }
                // A limit below any plan: a typed refusal naming the need.
                let tiny = try makeEngine(workers: 2, algorithm: algorithm, workspaceLimit: 64)
                let error = Self.convError { _ = try tiny.plan(for: g, scalar: Double.self) }
                guard case .workspaceCapTooSmall(let required, 64)? = error else {
                    Issue.record("\(layout) \(algorithm): expected workspaceCapTooSmall, got \(String(describing: error))")
                    continue
                }
                #expect(required > 64)
            }
        }
    }

    @Test("A prepared filter works in its own layout (the raw filter's bits) and is refused in another")
    func preparedFilters() throws {
        var rng = SeededGenerator(seed: 0x22)
        let square = try ConvGeometry(batch: 3, inputChannels: 4, inputHeight: 6, inputWidth: 5, outputChannels: 6,
                                      kernelHeight: 3, kernelWidth: 3, padding: 1)
        for layout in allLayouts {
            let g = square.withLayout(layout)
            let x = rng.values(g.inputCount).map(Float.init), f = rng.values(g.filterCount).map(Float.init)
            let b = rng.values(g.outputChannels).map(Float.init)
            for algorithm in ConvAlgorithm.allCases where algorithm.supports(g) {
                let engine = try makeEngine(workers: 2, algorithm: algorithm)
                let prepared = try engine.prepareFilter(g, filter: f)
                let raw = try engine.forward(g, input: x, filter: f, bias: b)
                expectBitIdentical(try engine.forward(g, input: x, filter: prepared, bias: b), raw,
                                   "\(algorithm) prepared in \(layout)")
                // Another batch is fine; another layout is not.
                let g2 = try g.withBatch(1)
                expectBitIdentical(try engine.forward(g2, input: Array(x.prefix(g2.inputCount)), filter: prepared, bias: b),
                                   try engine.forward(g2, input: Array(x.prefix(g2.inputCount)), filter: f, bias: b),
                                   "\(algorithm) prepared in \(layout), batch 1")
                for other in allLayouts where other != layout {
                    let error = Self.convError {
                        _ = try engine.forward(g.withLayout(other), input: x, filter: prepared, bias: b)
                    }
                    guard case .invalidArgument(let name, _)? = error else {
                        Issue.record("\(algorithm): prepared in \(layout), used in \(other): \(String(describing: error))")
                        continue
                    }
                    #expect(name == "filter")
                }
            }
        }
    }

    @Test("Measured planning measures and caches each layout separately")
    func measuredPlanning() throws {
        pinBLASThreadsOnce()
        let engine = try ConvolutionEngine(workers: 1, planning: .measureForward)
        let g = try ConvGeometry(batch: 2, inputChannels: 4, inputHeight: 8, inputWidth: 8, outputChannels: 4,
                                 kernelHeight: 3, kernelWidth: 3, padding: 1)
        let nhwc = g.withLayout(.nhwc)
        #expect(engine.measuredTimings(for: nhwc) == nil)
        let plan = try engine.plan(for: nhwc)
        let timings = try #require(engine.measuredTimings(for: nhwc))
        #expect(engine.measuredTimings(for: g) == nil, "planning NHWC measured nothing for NCHW")
        #expect(timings.first?.algorithm == plan.algorithm)
        #expect(Set(timings.map(\.algorithm)) == Set(ConvAlgorithm.allCases.filter {
            $0.supports(nhwc) && $0.numerics <= engine.numerics
        }))
        _ = try engine.plan(for: g)
        #expect(engine.measuredTimings(for: g) != nil)
        #expect(engine.measuredTimings(for: g.withLayout(ConvLayout(activations: .channelsFirst, filter: .channelsLast))) == nil)
        // The measured NHWC plan computes the convolution.
        var rng = SeededGenerator(seed: 0x33)
        let p = Problem(nhwc, rng: &rng)
        let reference = try ReferenceResults(nhwc, input: p.input, filter: p.filter, bias: p.bias, outputGradient: p.outputGradient)
        let results = try runAll(engine, nhwc, x: p.input, f: p.filter, b: p.bias, dO: p.outputGradient,
                                 workspace: ConvWorkspace<Double>())
        reference.bounded(for: engine, geometry: nhwc, scalar: Double.self)
            .check(results, geometry: nhwc, context: "measured NHWC plan \(plan)")
    }

    @Test("The fused activation in NHWC is the plain pass followed by f, bit for bit, for every plan")
    func fusedActivation() throws {
        var rng = SeededGenerator(seed: 0x44)
        for layout in Self.nonDefault {
            let g = Self.base.withLayout(layout)
            let x = rng.values(g.inputCount).map(Float.init), f = rng.values(g.filterCount).map(Float.init)
            let b = rng.values(g.outputChannels).map(Float.init)
            for algorithm in ConvAlgorithm.allCases where algorithm.supports(g) {
                let engine = try makeEngine(workers: 2, algorithm: algorithm)
                let plain = try engine.forward(g, input: x, filter: f, bias: b)
                let relu = try engine.forward(g, input: x, filter: f, bias: b, activation: .relu)
                expectBitIdentical(relu, plain.map { $0 < 0 ? 0 : $0 + 0 }, "\(algorithm) relu in \(layout)")
                let clamp = try engine.forward(g, input: x, filter: f, bias: b, activation: .clamp(lower: -0.25, upper: 0.5))
                expectBitIdentical(clamp, plain.map { v in let low = v < -0.25 ? -0.25 : v + 0; return low > 0.5 ? 0.5 : low },
                                   "\(algorithm) clamp in \(layout)")
            }
        }
    }

    @Test("A layer with NHWC activations and an OHWI weight starts from the NCHW layer's weight permuted and computes the same")
    func layers() throws {
        pinBLASThreadsOnce()
        let g = try Self.base.withBatch(1)
        var first = SeededGenerator(seed: 0x55), second = SeededGenerator(seed: 0x55)
        let nchw = try Conv2DLayer<Double>(geometry: g, activation: .relu, engine: ConvolutionEngine(workers: 2),
                                           generator: &first)
        let nhwcGeometry = g.withLayout(.nhwc)
        let nhwc = try Conv2DLayer<Double>(geometry: nhwcGeometry, activation: .relu,
                                           engine: ConvolutionEngine(workers: 2), generator: &second)
        let move = LayoutMover(g: try nhwcGeometry.withBatch(3))
        #expect(nhwc.weight.shape == nchw.weight.shape, "the weight keeps PyTorch's logical shape")
        let fans = try Initializer.fans(shape: nhwc.weight.shape), channelsFirstFans = try Initializer.fans(shape: nchw.weight.shape)
        #expect(fans == channelsFirstFans)
        #expect(nhwc.weight.value == move.filter(nchw.weight.value), "the same filter, stored K×R×S×C/G")
        #expect(nhwc.bias?.value == nchw.bias?.value)
        // Three images through both layers: the NHWC layer's results are the NCHW layer's permuted, each within
        // the bound of the reference.
        var rng = SeededGenerator(seed: 0x56)
        let n = move.g
        let x = rng.values(n.inputCount), dY = rng.values(n.outputCount)
        let yFirst = try nchw.forward(x), yLast = try nhwc.forward(move.input(x))
        let dXFirst = try nchw.backward(dY), dXLast = try nhwc.backward(move.output(dY))
        let reference = try ReferenceResults(try g.withBatch(3), input: x, filter: nchw.weight.value,
                                             bias: nchw.bias?.value, outputGradient: dY.enumerated().map { yFirst[$0.offset] > 0 ? $0.element : 0 })
        let context = "Conv2DLayer NHWC vs NCHW"
        checkWithinBound(move.outputBack(yLast), reference: reference.output.map { $0 < 0 ? 0 : $0 },
                         magnitudes: reference.outputMagnitudes, terms: ErrorBound.termCounts(g).output, tensor: "Y",
                         shape: [n.outputCount], context: context)
        checkWithinBound(move.inputBack(dXLast ?? []), reference: reference.inputGradient,
                         magnitudes: reference.inputGradientMagnitudes, terms: ErrorBound.termCounts(g).inputGradient,
                         tensor: "dX", shape: [n.inputCount], context: context)
        checkWithinBound(move.filterBack(nhwc.weight.gradient), reference: reference.filterGradient,
                         magnitudes: reference.filterGradientMagnitudes,
                         terms: ErrorBound.termCounts(try g.withBatch(3)).filterGradient, tensor: "dW",
                         shape: [g.filterCount], context: context)
        #expect(dXFirst != nil)
    }

    @Test("Geometries carry the layout: equality, description, withBatch and withLayout; counts do not change")
    func geometryCarriesLayout() throws {
        let g = Self.base, nhwc = g.withLayout(.nhwc)
        #expect(g != nhwc && nhwc.withLayout(.nchw) == g)
        #expect(nhwc.inputCount == g.inputCount && nhwc.filterCount == g.filterCount && nhwc.outputCount == g.outputCount)
        let nhwc2 = try nhwc.withBatch(2)
        #expect(nhwc2.layout == .nhwc)
        #expect(g.description.hasSuffix("7×6") && nhwc.description.hasSuffix("7×6 NHWC"))
        let mixed = ConvLayout(activations: .channelsLast, filter: .channelsFirst)
        #expect(g.withLayout(mixed).description.hasSuffix("NHWC activations, K×C/G×R×S filter"))
        let t = try TransposedConvGeometry(batch: 1, inputChannels: 2, inputHeight: 3, inputWidth: 3, outputChannels: 2,
                                           kernelHeight: 2, kernelWidth: 2, layout: .nhwc)
        let t4 = try t.withBatch(4)
        #expect(t.associated.layout == .nhwc && t4.layout == .nhwc && t.withLayout(.nchw).associated.layout == .nchw)
        let c1 = try ConvGeometry1D(batch: 1, inputChannels: 2, inputLength: 5, outputChannels: 2, kernelLength: 2, layout: .nhwc)
        #expect(c1.planar.layout == .nhwc && c1.description.hasSuffix(" NLC"))
        let t1 = try TransposedConvGeometry1D(batch: 1, inputChannels: 2, inputLength: 5, outputChannels: 2, kernelLength: 2,
                                              layout: mixed)
        #expect(t1.planar.associated.layout == mixed && t1.description.hasSuffix("NLC activations, K×C/G×S filter"))
        let v = try ConvGeometry3D(batch: 1, inputChannels: 2, inputDepth: 2, inputHeight: 2, inputWidth: 2, outputChannels: 2,
                                   kernelDepth: 1, kernelHeight: 1, kernelWidth: 1, layout: .nhwc)
        let v3 = try v.withBatch(3)
        #expect(v.description.hasSuffix(" NDHWC") && v3.layout == .nhwc)
        #expect(ConvLayout.nchw.description == "NCHW" && ConvLayout.nhwc.description == "NHWC")
    }
}
