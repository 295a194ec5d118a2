// `withBatch` for the geometries of the family that did not have it (ConvGeometry and ConvGeometry3D have their
// own): a layer keeps one geometry and follows each call's batch with it.

extension TransposedConvGeometry {
    /// The same geometry with another batch size.
    ///
    /// - Throws: as ``init(batch:inputChannels:inputHeight:inputWidth:outputChannels:kernelHeight:kernelWidth:strideHeight:strideWidth:padding:outputPaddingHeight:outputPaddingWidth:dilationHeight:dilationWidth:groups:layout:)``
    ///   (a batch below 1, sizes that overflow).
    public func withBatch(_ newBatch: Int) throws(ConvError) -> TransposedConvGeometry {
        try TransposedConvGeometry(
            batch: newBatch, inputChannels: inputChannels, inputHeight: inputHeight, inputWidth: inputWidth,
            outputChannels: outputChannels, kernelHeight: kernelHeight, kernelWidth: kernelWidth,
            strideHeight: strideHeight, strideWidth: strideWidth, padding: padding,
            outputPaddingHeight: outputPaddingHeight, outputPaddingWidth: outputPaddingWidth,
            dilationHeight: dilationHeight, dilationWidth: dilationWidth, groups: groups, layout: layout)
    }
}

extension ConvGeometry1D {
    /// The same geometry with another batch size.
    ///
    /// - Throws: as ``init(batch:inputChannels:inputLength:outputChannels:kernelLength:stride:padding:dilation:groups:layout:)``
    ///   (a batch below 1, sizes that overflow).
    public func withBatch(_ newBatch: Int) throws(ConvError) -> ConvGeometry1D {
        try ConvGeometry1D(
            batch: newBatch, inputChannels: inputChannels, inputLength: inputLength, outputChannels: outputChannels,
            kernelLength: kernelLength, stride: stride, padding: padding, dilation: dilation, groups: groups,
            layout: layout)
    }
}

extension TransposedConvGeometry1D {
    /// The same geometry with another batch size.
    ///
    /// - Throws: as ``init(batch:inputChannels:inputLength:outputChannels:kernelLength:stride:padding:outputPadding:dilation:groups:layout:)``
    ///   (a batch below 1, sizes that overflow).
    public func withBatch(_ newBatch: Int) throws(ConvError) -> TransposedConvGeometry1D {
        try TransposedConvGeometry1D(
            batch: newBatch, inputChannels: inputChannels, inputLength: inputLength, outputChannels: outputChannels,
            kernelLength: kernelLength, stride: stride, padding: padding, outputPadding: outputPadding,
            dilation: dilation, groups: groups, layout: layout)
    }
}
