// `conv`: ConvEngine on .npy files from the command line.
//
//   conv forward   --input x.npy --filter w.npy [--bias b.npy] [geometry] --output y.npy
//   conv backward  --input x.npy --filter w.npy --output-gradient dy.npy [geometry]
//                  [--input-gradient dx.npy] [--filter-gradient dw.npy] [--bias-gradient db.npy]
//   conv check     [geometry and sizes]   engine against the reference on random data
//
// 3-D files (N, C, L) are a 1-D convolution, 5-D files (N, C, D, H, W) a 3-D one; --transposed [--output-padding]
// gives the transposed convolution of 3-D or 4-D files; --layout nhwc (and --filter-layout) reads and writes them
// channels last.
//
// Every error is one line on stderr ("conv: error: …") and a non-zero exit status.
import ArgumentParser
import ConvEngine
import Foundation

@main
struct Conv: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conv",
        abstract: "Convolution (2-D, 1-D, 3-D, transposed; forward pass and gradients) on NumPy .npy files, with ConvEngine.",
        discussion: """
        Tensors are NCHW and row-major, as NumPy and PyTorch store them: input X (N, C, H, W), filters F (K, C/groups, R, S), bias B (K,), output O (N, K, P, Q), and the gradients dO, dX, dF, dB with the shapes of O, X, F and B. The geometry (N, C, H, W, K, R, S) is read from the shapes of the input and filter files; stride, padding, dilation and groups are options. Files hold float32 ('<f4') or float64 ('<f8') arrays (C order, little-endian, .npy format 1.0, 2.0 or 3.0); results are written in the precision computed in (see --precision).

        Convolution is cross-correlation, as in PyTorch's conv2d:

          O[n,k,p,q] = B[k] + sum over c<C/G, r<R, s<S of F[k,c,r,s] *
                       X[n, g(k)*C/G + c, p*sh - top + r*dh, q*sw - left + s*dw]

        with X read as 0 outside the image (the padding) and g(k) = k / (K/G) the group of channel k.

        The operation follows from the files and one flag:

          input (N, C, H, W), filter (K, C/G, R, S)             2-D convolution (conv2d)
          input (N, C, L), filter (K, C/G, S)                   1-D convolution (conv1d)
          input (N, C, D, H, W), filter (K, C/G, T, R, S)       3-D convolution (conv3d)
          --transposed, input (N, Cin, H, W),
                        filter (Cin, Cout/G, R, S)              transposed 2-D convolution (conv_transpose2d)
          --transposed, input (N, Cin, L), filter (Cin, Cout/G, S)
                                                                transposed 1-D convolution (conv_transpose1d)

        Layouts: with --layout nhwc the activation files X, O, dO and dX are channels last, (N, H, W, C), as PyTorch's channels_last memory format and TensorFlow store them ((N, L, C) for 1-D, (N, D, H, W, C) for 3-D; every shape above with the channel axis moved last), and the filter is (K, R, S, C/groups), PyTorch's channels_last weight ((Cin, R, S, Cout/groups) with --transposed), unless --filter-layout oihw keeps it channels first; --filter-layout ohwi alone gives such a filter with NCHW activations. The engine computes on the tensors in their layout (the plan says when it goes through NCHW copies), and every file's shape is checked in its layout: dX and dF are written in the layouts of X and F.

        Stride, dilation and padding take one value for every axis or one per axis (length; height,width; depth,height,width); padding also before and after each axis (left,right; top,bottom,left,right; front,back,top,bottom,left,right). A transposed convolution's output is (N, Cout, Ho, Wo) with Ho = (H-1)*sh - top - bottom + dh*(R-1) + oph + 1, where --output-padding oph (one value, or oph,opw) must be below max(sh, dh), as in PyTorch. A 3-D transposed convolution is not offered.

        Examples:

          conv forward --input x.npy --filter w.npy --bias b.npy \\
                       --stride 2 --padding 1 --output y.npy
          conv backward --input x.npy --filter w.npy --output-gradient dy.npy \\
                        --padding 0,2,1,3 --input-gradient dx.npy \\
                        --filter-gradient dw.npy --bias-gradient db.npy
          conv check --batch 8 --channels 64 --size 56 --filters 64 --kernel 3 \\
                     --padding same
          conv forward --transposed --input x.npy --filter w.npy \\
                       --stride 2 --padding 1 --output-padding 1 --output y.npy
          conv forward --input audio.npy --filter w1d.npy --stride 5 --output y.npy
          conv check --dimensions 3 --channels 8 --size 8,28,28 --filters 8 \\
                     --kernel 3 --padding 1
          conv forward --layout nhwc --input x_nhwc.npy --filter w_ohwi.npy \\
                       --padding same --output y_nhwc.npy

        On success forward and backward print one line naming each file written and its shape.

        Exit status 0: success.

        Exit status 64, invalid usage (as for ArgumentParser's own errors; the command line must change): an unknown or missing option, a value out of range, or options that describe no convolution of the given files (a stride, padding, dilation, groups or output padding that make the geometry impossible, input and filter channels that disagree under --groups, --layout and --filter-layout, a number of values that does not fit the number of axes, --output-padding without --transposed, --transposed on 5-D files, an --algorithm that cannot run it).

        Exit status 1, running it failed (the command line is valid): a file that cannot be read, is not a float32 or float64 .npy array, or has the wrong rank or shape for the others; a result that cannot be written or does not fit in memory; a check whose worst error exceeds the bound.

        Every error is one line on standard error: 'conv: error: ...'.
        """,
        version: LibraryVersion.string,
        subcommands: [Forward.self, Backward.self, Check.self]
    )

    /// Runs the command; every failure becomes one line on stderr and a non-zero exit status.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = (error as? CLIError)?.exitCode ?? exitCode(for: error)
            if code == .success { exit(withError: error) }  // --help, --version: printed in full to stdout
            let message = Conv.message(for: error)
                .split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }.joined(separator: " ")
            if !message.isEmpty { printError("conv: error: \(message)") }
            Foundation.exit(code.rawValue)
        }
    }
}

/// An error with the one-line message the tool prints, and its exit status (see the discussion of `conv --help`).
struct CLIError: Error, CustomStringConvertible {
    let description: String
    /// `.validationFailure` (64) for a command line that must change, `.failure` (1) for anything else.
    let exitCode: ExitCode

    /// A failure while running a valid command line: reading, writing, memory, computing. Exit status 1.
    init(_ description: String) {
        self.description = description
        exitCode = .failure
    }

    /// An invalid command line, reported like ArgumentParser's own usage errors. Exit status 64.
    static func usage(_ description: String) -> CLIError { CLIError(description, exitCode: .validationFailure) }

    private init(_ description: String, exitCode: ExitCode) {
        self.description = description
        self.exitCode = exitCode
    }
}

func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
