// Helpers of the layout tests: tensors moved between layouts by the tests' own index formulas (written out here,
// independent of the library's stride helpers, so a mistake there cannot cancel out), the four layouts, and
// geometries of the family carried into another layout.
import ConvEngine

/// Every combination of an activation layout and a filter layout.
let allLayouts: [ConvLayout] = ActivationLayout.allCases.flatMap { a in
    FilterLayout.allCases.map { f in ConvLayout(activations: a, filter: f) }
}

/// A tensor of `outer × channels × inner` elements (channel-first: `[o][c][i]`) as `outer × inner × channels`
/// (`[o][i][c]`), or back when `toChannelsLast` is false.
func movingChannels<T>(_ values: [T], outer: Int, channels: Int, inner: Int, toChannelsLast: Bool) -> [T] {
    precondition(values.count == outer * channels * inner, "\(values.count) elements for \(outer)×\(channels)×\(inner)")
    var result = values
    for o in 0..<outer {
        for c in 0..<channels {
            for i in 0..<inner {
                let first = (o * channels + c) * inner + i, last = (o * inner + i) * channels + c
                if toChannelsLast { result[last] = values[first] } else { result[first] = values[last] }
            }
        }
    }
    return result
}

/// Activations of `batch` images with `channels` channels and `pixels` positions each, from channels-first (the
/// layout the tests' data and goldens are in) to `layout`, or back when `back` is true.
func activations<T>(_ values: [T], batch: Int, channels: Int, pixels: Int, to layout: ActivationLayout,
                    back: Bool = false) -> [T] {
    layout == .channelsFirst ? values
        : movingChannels(values, outer: batch, channels: channels, inner: pixels, toChannelsLast: !back)
}

/// A filter of `filters × channelsPerGroup × taps` (K×C/G×R×S) in `layout`, or back when `back` is true.
func filter<T>(_ values: [T], filters: Int, channelsPerGroup: Int, taps: Int, to layout: FilterLayout,
               back: Bool = false) -> [T] {
    layout == .channelsFirst ? values
        : movingChannels(values, outer: filters, channels: channelsPerGroup, inner: taps, toChannelsLast: !back)
}

/// The four tensors of one 2-D convolution problem moved between channels-first and a geometry's layout.
struct LayoutMover {
    let g: ConvGeometry
    var layout: ConvLayout { g.layout }

    func input<T>(_ x: [T]) -> [T] { activations(x, batch: g.batch, channels: g.inputChannels, pixels: g.inputHeight * g.inputWidth, to: layout.activations) }
    func output<T>(_ o: [T]) -> [T] { activations(o, batch: g.batch, channels: g.outputChannels, pixels: g.outputHeight * g.outputWidth, to: layout.activations) }
    func filter<T>(_ f: [T]) -> [T] {
        ConvEngineTests.filter(f, filters: g.outputChannels, channelsPerGroup: g.inputChannelsPerGroup,
                               taps: g.kernelHeight * g.kernelWidth, to: layout.filter)
    }
    func inputBack<T>(_ x: [T]) -> [T] { activations(x, batch: g.batch, channels: g.inputChannels, pixels: g.inputHeight * g.inputWidth, to: layout.activations, back: true) }
    func outputBack<T>(_ o: [T]) -> [T] { activations(o, batch: g.batch, channels: g.outputChannels, pixels: g.outputHeight * g.outputWidth, to: layout.activations, back: true) }
    func filterBack<T>(_ f: [T]) -> [T] {
        ConvEngineTests.filter(f, filters: g.outputChannels, channelsPerGroup: g.inputChannelsPerGroup,
                               taps: g.kernelHeight * g.kernelWidth, to: layout.filter, back: true)
    }
}
