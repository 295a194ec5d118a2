// Calls ConvEngine as a dependency: the textbook example of MATH.md (one channel, a 3×3 input, a 2×2
// filter, stride 1, no padding), forward and backward, checked against the numbers worked out by hand.
import ConvEngine
import Foundation

let geometry = try ConvGeometry(batch: 1, inputChannels: 1, inputHeight: 3, inputWidth: 3,
                                outputChannels: 1, kernelHeight: 2, kernelWidth: 2)
let x: [Double] = [1, 2, 3,
                   4, 5, 6,
                   7, 8, 9]
let f: [Double] = [1, 0,
                   0, -1]
let engine = try ConvolutionEngine(workers: 1)
let o = try engine.forward(geometry, input: x, filter: f, bias: [10])
// O11 = X11·F11 + X12·F12 + X21·F21 + X22·F22 + B = 1 - 5 + 10, and so on.
let expected: [Double] = [6, 6, 6, 6]
let gradients = try engine.backward(geometry, input: x, filter: f, outputGradient: [1, 1, 1, 1])
print("ConvEngine \(LibraryVersion.string): O = \(o), dB = \(gradients.bias!), dF = \(gradients.filter!)")
guard o == expected, gradients.bias! == [4], gradients.filter! == [12, 16, 24, 28] else {
    FileHandle.standardError.write(Data("consumer: ConvEngine gave the wrong textbook result\n".utf8))
    exit(1)
}
print("consumer OK")
