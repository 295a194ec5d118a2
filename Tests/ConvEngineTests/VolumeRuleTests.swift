import Testing
@testable import ConvEngine

/// The automatic 3-D rule picks what its documentation says (the kernel-depth GEMMs for T > 1, depth stride 1 and
/// C/G·R·S ≥ 64; vol2col otherwise), so a change in the order the algorithms are asked cannot silently send every
/// geometry to the fallback.
@Suite("3-D convolution: the automatic rule")
struct VolumeRuleTests {
    private func automatic(_ c: Int, kernelDepth t: Int, strideDepth: Int = 1, groups: Int = 1) throws -> ConvAlgorithm3D {
        let g = try ConvGeometry3D(batch: 2, inputChannels: c, inputDepth: 8, inputHeight: 28, inputWidth: 28,
                                   outputChannels: 64, kernelDepth: t, kernelHeight: 3, kernelWidth: 3,
                                   strideDepth: strideDepth, padding: 1, groups: groups)
        return try ConvolutionEngine(workers: 2).plan(for: g).algorithm
    }

    @Test("kernel-depth GEMMs for deep kernels at depth stride 1 with C/G·R·S ≥ 64, vol2col otherwise")
    func rule() throws {
        #expect(try automatic(64, kernelDepth: 3) == .kernelDepthGEMM)         // the benchmark's 3-D block
        #expect(try automatic(8, kernelDepth: 3) == .kernelDepthGEMM)          // 8·3·3 = 72 ≥ 64
        #expect(try automatic(7, kernelDepth: 3) == .vol2col)                  // 7·3·3 = 63 < 64
        #expect(try automatic(64, kernelDepth: 1) == .vol2col)                 // one kernel plane
        #expect(try automatic(64, kernelDepth: 3, strideDepth: 2) == .vol2col) // depth stride 2
        #expect(try automatic(64, kernelDepth: 3, groups: 8) == .kernelDepthGEMM)   // 8·3·3 per group
        #expect(try automatic(64, kernelDepth: 3, groups: 16) == .vol2col)          // 4·3·3 per group
    }
}
