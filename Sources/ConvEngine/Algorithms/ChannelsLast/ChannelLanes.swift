// Runs of channels as the channels-last depthwise kernel computes them: a vector of 32, 8, 4 or 2 channels, or one
// channel for the tail, behind one interface, so that each loop of the kernel is written once.

/// A run of adjacent channels held in registers: `width` lanes of one element type, loaded from and stored to
/// memory either contiguously or `stride` elements apart (the output channels of one channel multiple).
protocol ChannelLanes {
    associatedtype Element: ConvScalar
    /// Channels in the run.
    static var width: Int { get }
    /// Every lane `value`.
    init(broadcast value: Element)
    /// `width` elements from `p` on.
    static func load(_ p: UnsafePointer<Element>) -> Self
    /// `width` elements `stride` apart from `p` on.
    static func load(_ p: UnsafePointer<Element>, stride: Int) -> Self
    /// Stores the lanes to `p ..< p + width`.
    func store(_ p: UnsafeMutablePointer<Element>)
    /// Stores the lanes `stride` elements apart from `p` on.
    func store(_ p: UnsafeMutablePointer<Element>, stride: Int)
    /// `self + a·b` lane by lane, rounded twice (a product, then a sum), like the scalar loops and the reference.
    func adding(_ a: Self, times b: Self) -> Self
}

/// The standard library's vectors as runs of channels: every operation lane by lane.
extension ChannelLanes where Self: SIMD, Element == Scalar {
    static var width: Int { scalarCount }
    @inline(__always) init(broadcast value: Element) { self.init(repeating: value) }
    @inline(__always) static func load(_ p: UnsafePointer<Element>) -> Self { UnsafeRawPointer(p).loadUnaligned(as: Self.self) }
    @inline(__always) static func load(_ p: UnsafePointer<Element>, stride: Int) -> Self {
        var v = Self()
        for i in 0..<scalarCount { v[i] = p[i * stride] }
        return v
    }
    @inline(__always) func store(_ p: UnsafeMutablePointer<Element>) { UnsafeMutableRawPointer(p).storeBytes(of: self, as: Self.self) }
    @inline(__always) func store(_ p: UnsafeMutablePointer<Element>, stride: Int) {
        for i in 0..<Self.scalarCount { p[i * stride] = self[i] }
    }
    @inline(__always) func adding(_ a: Self, times b: Self) -> Self { self + a * b }
}

extension SIMD8: ChannelLanes where Scalar: ConvScalar { typealias Element = Scalar }
extension SIMD4: ChannelLanes where Scalar: ConvScalar { typealias Element = Scalar }
extension SIMD2: ChannelLanes where Scalar: ConvScalar { typealias Element = Scalar }

/// 32 channels as four 8-lane vectors: the standard library's `SIMD32` compiles to element-by-element loops
/// through memory, four named `SIMD8` values to registers.
struct ThirtyTwoChannels<Element: ConvScalar>: ChannelLanes {
    var a: SIMD8<Element>, b: SIMD8<Element>, c: SIMD8<Element>, d: SIMD8<Element>
    static var width: Int { 32 }
    @inline(__always) init(_ a: SIMD8<Element>, _ b: SIMD8<Element>, _ c: SIMD8<Element>, _ d: SIMD8<Element>) {
        (self.a, self.b, self.c, self.d) = (a, b, c, d)
    }
    @inline(__always) init(broadcast value: Element) {
        let v = SIMD8<Element>(repeating: value)
        (a, b, c, d) = (v, v, v, v)
    }
    @inline(__always) static func load(_ p: UnsafePointer<Element>) -> Self {
        Self(.load(p), .load(p + 8), .load(p + 16), .load(p + 24))
    }
    @inline(__always) static func load(_ p: UnsafePointer<Element>, stride: Int) -> Self {
        Self(.load(p, stride: stride), .load(p + 8 * stride, stride: stride), .load(p + 16 * stride, stride: stride),
             .load(p + 24 * stride, stride: stride))
    }
    @inline(__always) func store(_ p: UnsafeMutablePointer<Element>) {
        a.store(p); b.store(p + 8); c.store(p + 16); d.store(p + 24)
    }
    @inline(__always) func store(_ p: UnsafeMutablePointer<Element>, stride: Int) {
        a.store(p, stride: stride); b.store(p + 8 * stride, stride: stride)
        c.store(p + 16 * stride, stride: stride); d.store(p + 24 * stride, stride: stride)
    }
    @inline(__always) func adding(_ x: Self, times y: Self) -> Self {
        Self(a + x.a * y.a, b + x.b * y.b, c + x.c * y.c, d + x.d * y.d)
    }
}

/// One channel: the tail of a run of channels that is not a multiple of 8.
struct OneChannel<Element: ConvScalar>: ChannelLanes {
    var value: Element
    static var width: Int { 1 }
    @inline(__always) init(broadcast value: Element) { self.value = value }
    @inline(__always) static func load(_ p: UnsafePointer<Element>) -> Self { Self(broadcast: p[0]) }
    @inline(__always) static func load(_ p: UnsafePointer<Element>, stride: Int) -> Self { Self(broadcast: p[0]) }
    @inline(__always) func store(_ p: UnsafeMutablePointer<Element>) { p[0] = value }
    @inline(__always) func store(_ p: UnsafeMutablePointer<Element>, stride: Int) { p[0] = value }
    @inline(__always) func adding(_ a: Self, times b: Self) -> Self { Self(broadcast: value + a.value * b.value) }
}
