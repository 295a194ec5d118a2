// The layer of each operation of the family under the name PyTorch users look for. The shapes below are the
// default channels-first layout; a geometry with another layout (<doc:Layouts>) has the channels-last forms.

/// A trainable 2-D convolution layer, PyTorch's `nn.Conv2d` with a fused activation: input `N×C×H×W`, weight
/// `K×(C/G)×R×S`, bias `K`, output `N×K×P×Q` (``ConvGeometry``). by default, or the
/// channels-last forms of <doc:Layouts>. See ``ConvolutionLayer``.
public typealias Conv2DLayer<T: ConvScalar> = ConvolutionLayer<ConvGeometry, T>

/// A trainable transposed 2-D convolution layer, PyTorch's `nn.ConvTranspose2d` with a fused activation: input
/// `N×Cin×H×W`, weight `Cin×(Cout/G)×R×S`, bias `Cout`, output `N×Cout×Ho×Wo` (``TransposedConvGeometry``)
/// by default, or the channels-last forms of <doc:Layouts>. See ``ConvolutionLayer``.
public typealias ConvTranspose2DLayer<T: ConvScalar> = ConvolutionLayer<TransposedConvGeometry, T>

/// A trainable 1-D convolution layer, PyTorch's `nn.Conv1d` with a fused activation: input `N×C×L`, weight
/// `K×(C/G)×S`, bias `K`, output `N×K×Q` (``ConvGeometry1D``). by default, or the
/// channels-last forms of <doc:Layouts>. See ``ConvolutionLayer``.
public typealias Conv1DLayer<T: ConvScalar> = ConvolutionLayer<ConvGeometry1D, T>

/// A trainable transposed 1-D convolution layer, PyTorch's `nn.ConvTranspose1d` with a fused activation: input
/// `N×Cin×L`, weight `Cin×(Cout/G)×S`, bias `Cout`, output `N×Cout×Lo` (``TransposedConvGeometry1D``)
/// by default, or the channels-last forms of <doc:Layouts>. See ``ConvolutionLayer``.
public typealias ConvTranspose1DLayer<T: ConvScalar> = ConvolutionLayer<TransposedConvGeometry1D, T>

/// A trainable 3-D convolution layer, PyTorch's `nn.Conv3d` with a fused activation: input `N×C×D×H×W`, weight
/// `K×(C/G)×T×R×S`, bias `K`, output `N×K×E×P×Q` (``ConvGeometry3D``). by default, or the
/// channels-last forms of <doc:Layouts>. See ``ConvolutionLayer``.
public typealias Conv3DLayer<T: ConvScalar> = ConvolutionLayer<ConvGeometry3D, T>
