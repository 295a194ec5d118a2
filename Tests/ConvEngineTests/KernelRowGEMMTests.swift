import ConvEngine
import Testing

/// ``ConvAlgorithm/kernelRowGEMM`` on the geometries that exercise its structure: vertical stride phases
/// (including dilations that share or skip phases), same-padded rows copied as one block, bands and
/// multi-image tiles, groups, and the automatic rule. The randomized sweep runs it on every geometry as well.
@Suite("Kernel-row GEMM")
struct KernelRowGEMMTests {
    /// Geometries chosen for the lowering's cases (comments say which).
    static let geometries: [(String, ConvGeometry)] = {
        func g(_ label: String, _ make: () throws -> ConvGeometry) -> (String, ConvGeometry) { (label, try! make()) }
        return [
            g("3×3/1 same padding (block copies)") { try ConvGeometry(n: 2, c: 5, h: 9, w: 9, k: 4, r: 3, s: 3, pad: (1, 1, 1, 1)) },
            g("3×3/1 unpadded") { try ConvGeometry(n: 2, c: 3, h: 8, w: 10, k: 5, r: 3, s: 3) },
            g("5×3/1 asymmetric padding") { try ConvGeometry(n: 1, c: 4, h: 7, w: 6, k: 3, r: 5, s: 3, pad: (2, 1, 0, 2)) },
            g("3×3/2: two phases, one extra row") { try ConvGeometry(n: 3, c: 4, h: 11, w: 9, k: 6, r: 3, s: 3, stride: (2, 2), pad: (1, 1, 1, 1)) },
            g("7×7/2: ResNet conv1's shape") { try ConvGeometry(n: 1, c: 3, h: 20, w: 20, k: 4, r: 7, s: 7, stride: (2, 2), pad: (3, 3, 3, 3)) },
            g("4×3/3, dilation 2: three phases") { try ConvGeometry(n: 2, c: 3, h: 17, w: 12, k: 2, r: 4, s: 3, stride: (3, 1), pad: (1, 2, 1, 1), dilation: (2, 1)) },
            g("3×3/2, dilation 2: every row in one phase") { try ConvGeometry(n: 2, c: 2, h: 13, w: 13, k: 3, r: 3, s: 3, stride: (2, 2), pad: (2, 2, 2, 2), dilation: (2, 2)) },
            g("3×2/4, dilation 2: two of four phases") { try ConvGeometry(n: 1, c: 2, h: 19, w: 9, k: 2, r: 3, s: 2, stride: (4, 3), dilation: (2, 3)) },
            g("groups 2") { try ConvGeometry(n: 2, c: 4, h: 8, w: 8, k: 6, r: 3, s: 3, pad: (1, 1, 1, 1), groups: 2) },
            g("1-row output") { try ConvGeometry(n: 3, c: 2, h: 3, w: 6, k: 2, r: 3, s: 3) },
        ]
    }()

    @Test("forward and gradients match the reference with whole-image, band and multi-image tiles",
          arguments: 0..<geometries.count)
    func matchesReference(_ index: Int) throws {
        let (label, g) = Self.geometries[index]
        var rng = SeededGenerator(seed: 0x6b72_6f77 &+ UInt64(index))
        let problem = Problem(g, rng: &rng).rounded(to: Float.self)
        let reference = try ReferenceResults(g, input: problem.input, filter: problem.filter, bias: problem.bias,
                                             outputGradient: problem.outputGradient)
        // Default tiles, bands of one and two rows, and up to three whole images per tile.
        for tileRows in [nil, 1, 2, 3 * g.outputHeight] as [Int?] {
            for workers in [1, 2] {
                for route in InputGradientAlgorithm.allCases {
                    pinBLASThreadsOnce()
                    let engine = try ConvolutionEngine(workers: workers, algorithm: .kernelRowGEMM,
                                                       inputGradientAlgorithm: route, tileRows: tileRows)
                    let context = CheckContext(geometry: g, plan: "\(try engine.plan(for: g)) (\(label))", scalar: "Float")
                    let x: [Float] = converted(problem.input, to: Float.self)
                    let f: [Float] = converted(problem.filter, to: Float.self)
                    let b: [Float] = converted(problem.bias, to: Float.self)
                    let dO: [Float] = converted(problem.outputGradient, to: Float.self)
                    let o = try engine.forward(g, input: x, filter: f, bias: b)
                    let grads = try engine.backward(g, input: x, filter: f, outputGradient: dO)
                    reference.checkRun(output: o, inputGradient: grads.input!, filterGradient: grads.filter!,
                                       biasGradient: grads.bias!, geometry: g, context: context)
                }
            }
        }
    }

    @Test("the automatic plan picks it where its lowering is smaller than im2col's and its GEMMs are not thin")
    func automaticRule() throws {
        // Strict numerics: the rule among the sum-of-products algorithms (the default mode takes Winograd F(2×2)
        // for res3's 3×3 layer, WinogradTests).
        let engine = try ConvolutionEngine(workers: 1, numerics: .strict)
        func algorithm(_ g: ConvGeometry) throws -> ConvAlgorithm { try engine.plan(for: g).algorithm }
        // 3×3 at stride 1 and 2 with C·S ≥ 64: ResNet's 3×3 layers and a strided one.
        #expect(try algorithm(ConvGeometry(n: 8, c: 128, h: 28, w: 28, k: 128, r: 3, s: 3, pad: (1, 1, 1, 1))) == .kernelRowGEMM)
        #expect(try algorithm(ConvGeometry(n: 8, c: 64, h: 17, w: 31, k: 64, r: 3, s: 3, stride: (2, 2))) == .kernelRowGEMM)
        // Too thin (C·S = 21 and 5): ResNet's conv1 and MNIST's first layer stay with the tiled im2col.
        #expect(try algorithm(ConvGeometry(n: 8, c: 3, h: 224, w: 224, k: 64, r: 7, s: 7, stride: (2, 2), pad: (3, 3, 3, 3))) == .tiledIm2col)
        #expect(try algorithm(ConvGeometry(n: 64, c: 1, h: 28, w: 28, k: 16, r: 5, s: 5)) == .tiledIm2col)
        // 2×2 at stride 2: the kernel rows read disjoint input rows, so nothing is shared.
        #expect(try algorithm(ConvGeometry(n: 2, c: 128, h: 16, w: 16, k: 32, r: 2, s: 2, stride: (2, 2))) == .tiledIm2col)
        // One kernel row: nothing to share either.
        #expect(try algorithm(ConvGeometry(n: 2, c: 128, h: 16, w: 16, k: 32, r: 1, s: 3, pad: (0, 0, 1, 1))) == .tiledIm2col)
    }

    @Test("a tall dilated kernel with a huge stride is planned without walking its rows")
    func tallKernelHugeStride() throws {
        // Valid with a one-row image: the padding makes room for the 100,000 dilated kernel rows. The plan must
        // come back (the phase structure is computed, not enumerated) and the forced algorithm must either run
        // or refuse with a typed error.
        let g = try ConvGeometry(n: 1, c: 64, h: 1, w: 2, k: 1, r: 100_000, s: 1, stride: (1_000_000_007, 1),
                                 pad: (50_000_000, 50_000_000, 0, 0), dilation: (1_000, 1))
        #expect(try ConvolutionEngine(workers: 1).plan(for: g).algorithm == .tiledIm2col)
        let forced = try ConvolutionEngine(workers: 1, algorithm: .kernelRowGEMM)
        do {
            let bytes = try forced.workspaceBytes(for: g, scalar: Float.self)
            #expect(bytes > 0)
        } catch {
            // Refusing with a size error is fine; trapping or hanging is not.
            #expect(!"\(error)".isEmpty)
        }
    }
}
