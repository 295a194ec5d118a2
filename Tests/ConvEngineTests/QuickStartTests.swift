// The README's quick-start sample, compiled and run. The code between the quickstart markers is the sample
// between `<!-- quickstart:begin -->` and `<!-- quickstart:end -->` in README.md, verbatim (its
// `import ConvEngine` is this file's import); keep them in sync. The checks after it hold what the sample
// computes to the reference and to the SGD definition.
import Foundation
import Testing
import ConvEngine

@Suite("README quick-start")
struct QuickStartTests {
    @Test("The quick-start sample runs, and its results match the reference")
    func quickStart() throws {
        pinBLASThreadsOnce()
        // quickstart:begin
        // A batch of 2 RGB 8×8 images, 4 filters of 3×3, stride 1, one pixel of zero padding.
        let geometry = try ConvGeometry(
            batch: 2, inputChannels: 3, inputHeight: 8, inputWidth: 8,
            outputChannels: 4, kernelHeight: 3, kernelWidth: 3,
            padding: 1)
        let x = (0..<geometry.inputCount).map { Float($0 % 7) - 3 }       // N×C×H×W
        let w = (0..<geometry.filterCount).map { Float($0 % 5) * 0.1 }    // K×C×R×S
        let b: [Float] = [0.5, -0.5, 0.25, 0]                              // K

        let engine = try ConvolutionEngine()                                // all cores, automatic plan
        let y = try engine.forward(geometry, input: x, filter: w, bias: b)  // N×K×P×Q

        // Backward from some upstream gradient dL/dY: all three gradients in one call.
        let dY = [Float](repeating: 1, count: geometry.outputCount)
        let grads = try engine.backward(geometry, input: x, filter: w, outputGradient: dY)

        // One SGD step on the layer's parameters.
        var filter = w, bias = b
        try SGD(learningRate: 0.01).update(filter: &filter, bias: &bias, with: grads)

        // Every fast path can be checked against the direct-loop reference.
        let reference = try ReferenceConvolution().forward(geometry, input: x, filter: w, bias: b)
        print(y.count, grads.input!.count, zip(y, reference).map { abs($0 - $1) }.max()!)
        // quickstart:end

        #expect(geometry.outputHeight == 8 && geometry.outputWidth == 8)
        #expect(y.count == geometry.outputCount && reference.count == geometry.outputCount)

        // Forward and all three gradients against the reference in Double on the same (Float) inputs.
        let context = CheckContext(geometry: geometry, plan: "quick-start \(try engine.plan(for: geometry))", scalar: "Float")
        let terms = ErrorBound.termCounts(geometry)
        let (o, mo) = try ReferenceConvolution().forwardWithMagnitudes(geometry, input: widened(x), filter: widened(w),
                                                                       bias: widened(b))
        checkWithinBound(y, reference: o, magnitudes: mo, terms: terms.output, tensor: "O",
                         shape: geometry.outputShape, context: context)
        // The sample's own Float reference agrees with the engine too.
        checkWithinBound(reference, reference: o, magnitudes: mo, terms: terms.output, tensor: "O (Float reference)",
                         shape: geometry.outputShape, context: context)
        let (gradsRef, mags) = try ReferenceConvolution().backwardWithMagnitudes(geometry, input: widened(x), filter: widened(w),
                                                                                 outputGradient: widened(dY))
        checkWithinBound(try #require(grads.input), reference: gradsRef.input!, magnitudes: mags.input!,
                         terms: terms.inputGradient, tensor: "dX", shape: geometry.inputShape, context: context)
        checkWithinBound(try #require(grads.filter), reference: gradsRef.filter!, magnitudes: mags.filter!,
                         terms: terms.filterGradient, tensor: "dF", shape: geometry.filterShape, context: context)
        checkWithinBound(try #require(grads.bias), reference: gradsRef.bias!, magnitudes: mags.bias!,
                         terms: terms.biasGradient, tensor: "dB", shape: geometry.biasShape, context: context)

        // The SGD step: each parameter moved by -0.01·gradient (within the rounding of one product and one sum).
        let dF = grads.filter ?? [], dB = grads.bias ?? []
        for (name, after, before, gradient) in [("F", filter, w, dF), ("B", bias, b, dB)] {
            #expect(after.count == before.count && gradient.count == before.count, "\(name) lengths")
            for i in before.indices where i < after.count && i < gradient.count {
                let step = Double(Float(0.01)) * Double(gradient[i])
                let exact = Double(before[i]) - step
                let tolerance = 2 * Double(Float.ulpOfOne) * (abs(Double(before[i])) + abs(step))
                #expect(abs(Double(after[i]) - exact) <= tolerance, "\(name)[\(i)] = \(after[i]), expected \(exact)")
            }
        }
    }

    @Test("The sample above is README.md's quick-start, line for line")
    func matchesReadme() throws {
        let here = URL(fileURLWithPath: #filePath)
        let readme = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("README.md")
        let readmeText = try String(contentsOf: readme, encoding: .utf8)
        let testText = try String(contentsOf: here, encoding: .utf8)
        /// The trimmed, non-empty lines strictly between the first line containing `begin` and the next containing `end`.
        func lines(_ text: String, _ begin: String, _ end: String) -> [String] {
            let all = text.components(separatedBy: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let start = all.firstIndex(where: { $0.contains(begin) }),
                  let stop = all[(start + 1)...].firstIndex(where: { $0.contains(end) }) else { return [] }
            return all[(start + 1)..<stop].filter { !$0.isEmpty }
        }
        let sample = lines(readmeText, "<!-- quickstart:begin -->", "<!-- quickstart:end -->")
            .filter { !$0.hasPrefix("```") && $0 != "import ConvEngine" }
        let copy = lines(testText, "// quickstart:" + "begin", "// quickstart:" + "end")
        #expect(!sample.isEmpty, "README.md has no quick-start between the markers")
        #expect(copy == sample, "QuickStartTests.swift's copy differs from README.md's quick-start")
    }
}
