// The term counts L of the element-wise bound for the operations that map onto the 2-D convolution.

extension ErrorBound {
    /// The term counts of a transposed convolution: at most `Cin/G·R·S` products plus the bias per output
    /// element, at most `Cout/G·R·S` per input-gradient element, `N·H·W` per weight-gradient element and
    /// `N·Ho·Wo` per bias-gradient element.
    public static func termCounts(_ g: TransposedConvGeometry) -> TermCounts {
        // Safe: each is at most an element count the geometry has checked.
        TermCounts(output: g.inputChannelsPerGroup * g.kernelHeight * g.kernelWidth + 1,
                   filterGradient: g.batch * g.inputHeight * g.inputWidth,
                   biasGradient: g.batch * g.outputHeight * g.outputWidth,
                   inputGradient: g.outputChannelsPerGroup * g.kernelHeight * g.kernelWidth)
    }

    /// The term counts of a 1-D convolution: `C/G·S` plus the bias per output element, at most `K/G·S` per
    /// input-gradient element, `N·Q` per filter- and bias-gradient element.
    public static func termCounts(_ g: ConvGeometry1D) -> TermCounts {
        TermCounts(output: g.inputChannelsPerGroup * g.kernelLength + 1,
                   filterGradient: g.batch * g.outputLength, biasGradient: g.batch * g.outputLength,
                   inputGradient: g.outputChannelsPerGroup * g.kernelLength)
    }

    /// The term counts of a 1-D transposed convolution: at most `Cin/G·S` plus the bias per output element, at
    /// most `Cout/G·S` per input-gradient element, `N·L` per weight-gradient element and `N·Lo` per
    /// bias-gradient element.
    public static func termCounts(_ g: TransposedConvGeometry1D) -> TermCounts {
        TermCounts(output: g.inputChannelsPerGroup * g.kernelLength + 1,
                   filterGradient: g.batch * g.inputLength, biasGradient: g.batch * g.outputLength,
                   inputGradient: g.outputChannelsPerGroup * g.kernelLength)
    }
}
