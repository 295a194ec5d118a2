// `Golden/Family/manifest.json`, as written by `Golden/Family/make_family_goldens.py`: the PyTorch golden cases of
// the convolution family (transposed 2-D, 1-D, transposed 1-D and 3-D convolutions), read without the library.
import Foundation
import ConvEngine

/// The manifest of the family's golden cases.
struct FamilyGoldenManifest: Decodable {
    var generator: String
    var torch: String
    var cases: [FamilyGoldenCase]

    static func load() throws -> FamilyGoldenManifest {
        try JSONDecoder().decode(FamilyGoldenManifest.self,
                                 from: Data(contentsOf: familyGoldenDirectory.appendingPathComponent("manifest.json")))
    }
}

/// One family golden case: PyTorch's operation and its geometry, spatial quantities one entry per axis
/// (depth, height, width; length for 1-D). `inputChannels`/`outputChannels` are the operation's own (a transposed
/// convolution's Cin of X and Cout of O); `paddingBefore` is front/top/left, `paddingAfter` back/bottom/right.
struct FamilyGoldenCase: Decodable, Sendable, CustomStringConvertible {
    /// `conv_transpose2d`, `conv1d`, `conv_transpose1d` or `conv3d`.
    var operation: String
    var name: String
    var batch: Int, inputChannels: Int, outputChannels: Int, groups: Int
    var inputSize: [Int], kernelSize: [Int], stride: [Int]
    var paddingBefore: [Int], paddingAfter: [Int]
    var dilation: [Int], outputPadding: [Int], outputSize: [Int]

    var description: String { name }

    /// `Golden/Family/<name>_<tensor>.npy` (tensors X, W, B, dO, O, dX, dW, dB).
    func array(_ tensor: String) throws -> MiniNPY {
        try MiniNPY(contentsOf: familyGoldenDirectory.appendingPathComponent("\(name)_\(tensor).npy"))
    }

    /// The weight's shape: `Cout × Cin/G × kernel` for a convolution, `Cin × Cout/G × kernel` (PyTorch's layout)
    /// for a transposed one.
    var weightShape: [Int] {
        operation.hasPrefix("conv_transpose")
            ? [inputChannels, outputChannels / groups] + kernelSize
            : [outputChannels, inputChannels / groups] + kernelSize
    }

    /// The library geometry of this case (throws what its initializer throws).
    func geometry() throws -> any FamilyGoldenOperation {
        switch operation {
        case "conv_transpose2d":
            return try TransposedConvGeometry(
                batch: batch, inputChannels: inputChannels, inputHeight: inputSize[0], inputWidth: inputSize[1],
                outputChannels: outputChannels, kernelHeight: kernelSize[0], kernelWidth: kernelSize[1],
                strideHeight: stride[0], strideWidth: stride[1],
                padding: Padding(top: paddingBefore[0], bottom: paddingAfter[0],
                                 left: paddingBefore[1], right: paddingAfter[1]),
                outputPaddingHeight: outputPadding[0], outputPaddingWidth: outputPadding[1],
                dilationHeight: dilation[0], dilationWidth: dilation[1], groups: groups)
        case "conv1d":
            return try ConvGeometry1D(
                batch: batch, inputChannels: inputChannels, inputLength: inputSize[0], outputChannels: outputChannels,
                kernelLength: kernelSize[0], stride: stride[0],
                padding: Padding1D(left: paddingBefore[0], right: paddingAfter[0]), dilation: dilation[0],
                groups: groups)
        case "conv_transpose1d":
            return try TransposedConvGeometry1D(
                batch: batch, inputChannels: inputChannels, inputLength: inputSize[0], outputChannels: outputChannels,
                kernelLength: kernelSize[0], stride: stride[0],
                padding: Padding1D(left: paddingBefore[0], right: paddingAfter[0]), outputPadding: outputPadding[0],
                dilation: dilation[0], groups: groups)
        case "conv3d":
            return try ConvGeometry3D(
                batch: batch, inputChannels: inputChannels,
                inputDepth: inputSize[0], inputHeight: inputSize[1], inputWidth: inputSize[2],
                outputChannels: outputChannels,
                kernelDepth: kernelSize[0], kernelHeight: kernelSize[1], kernelWidth: kernelSize[2],
                strideDepth: stride[0], strideHeight: stride[1], strideWidth: stride[2],
                padding: Padding3D(front: paddingBefore[0], back: paddingAfter[0], top: paddingBefore[1],
                                   bottom: paddingAfter[1], left: paddingBefore[2], right: paddingAfter[2]),
                dilationDepth: dilation[0], dilationHeight: dilation[1], dilationWidth: dilation[2], groups: groups)
        default:
            throw FamilyGoldenError(description: "unknown operation '\(operation)' in case \(name)")
        }
    }
}

struct FamilyGoldenError: Error, CustomStringConvertible {
    var description: String
}

/// The folder of the family's golden files.
let familyGoldenDirectory = goldenDirectory.appendingPathComponent("Family")
