// The conversion fallback's internals that no public call reaches yet: the input-gradient route converted on its
// own (RouteLayoutAdapter runs only for an algorithm that reads the layout natively, and the channels-last
// algorithms are added separately), and the block transposes the conversions are made of.
import Testing
@testable import ConvEngine

@Suite("Layouts: the conversion fallback's parts")
struct LayoutAdapterTests {
    @Test("RouteLayoutAdapter runs the full-convolution route on NHWC tensors, in chunks, within the bound")
    func routeAdapter() throws {
        let base = try ConvGeometry(batch: 3, inputChannels: 4, inputHeight: 6, inputWidth: 5, outputChannels: 6,
                                    kernelHeight: 3, kernelWidth: 2, strideHeight: 2, padding: 1, groups: 2)
        var rng = SeededGenerator(seed: 0x66)
        for layout in allLayouts {
            let g = base.withLayout(layout)
            let f = rng.values(g.filterCount), dO = rng.values(g.outputCount)
            let (grads, mags) = try ReferenceConvolution().backwardWithMagnitudes(g, input: [Double](repeating: 0, count: g.inputCount),
                                                                                filter: f, outputGradient: dO)
            for images in [1, 2, 3] {
                let route = RouteLayoutAdapter<FullConvolutionRoute>(g, imagesPerChunk: images)
                for workers in [1, 2] {
                    let layout = try route.layout(workers: workers)
                    var dX = [Double](repeating: .nan, count: g.inputCount)
                    var workspace = [Double](repeating: .nan, count: max(1, layout.total))
                    f.withUnsafeBufferPointer { fb in
                        dO.withUnsafeBufferPointer { dOb in
                            dX.withUnsafeMutableBufferPointer { dXb in
                                workspace.withUnsafeMutableBufferPointer { wb in
                                    route.inputGradient(filter: fb.baseAddress!, outputGradient: dOb.baseAddress!,
                                                        inputGradient: dXb.baseAddress!, workspace: wb.baseAddress!,
                                                        workers: workers, layout)
                                }
                            }
                        }
                    }
                    checkWithinBound(dX, reference: grads.input!, magnitudes: mags.input!,
                                     terms: ErrorBound.termCounts(g).inputGradient, tensor: "dX", shape: [g.inputCount],
                                     context: "\(g), \(images) images per chunk, \(workers) workers")
                }
            }
        }
    }

    @Test("transposeBlocks writes every block transposed, for every shape and worker count")
    func transposes() {
        for (blocks, rows, columns) in [(1, 1, 1), (3, 1, 7), (2, 7, 1), (2, 17, 33), (5, 40, 3), (1, 300, 260)] {
            let source = (0..<(blocks * rows * columns)).map { Double($0) }
            for workers in [1, 3] {
                var target = [Double](repeating: .nan, count: source.count)
                source.withUnsafeBufferPointer { s in
                    target.withUnsafeMutableBufferPointer { t in
                        transposeBlocks(s.baseAddress!, into: t.baseAddress!, blocks: blocks, rows: rows, columns: columns,
                                        workers: workers)
                    }
                }
                let expected = movingChannels(source, outer: blocks, channels: columns, inner: rows, toChannelsLast: false)
                #expect(target == expected, "\(blocks)×\(rows)×\(columns) on \(workers) workers")
            }
        }
    }
}
