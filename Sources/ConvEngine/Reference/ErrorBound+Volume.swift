extension ErrorBound {
    /// The term counts of a 3-D convolution: `C/G·T·R·S + 1` for the output (the bias counts), `N·E·P·Q` for the
    /// filter and bias gradients, at most `K/G·T·R·S` for the input gradient.
    public static func termCounts(_ g: ConvGeometry3D) -> TermCounts {
        let nepq = g.batch * g.columnColumns  // Safe: at most outputCount.
        return TermCounts(output: g.columnRows + 1, filterGradient: nepq, biasGradient: nepq,
                          inputGradient: g.outputChannelsPerGroup * g.kernelDepth * g.kernelHeight * g.kernelWidth)
    }
}
