/// A small, fast, seeded pseudo-random generator (SplitMix64), so that data, initialisers, tests and
/// benchmarks are reproducible from one `UInt64` seed on every platform.
///
/// The same seed gives the same sequence everywhere (unlike `SystemRandomNumberGenerator`). Not for
/// cryptography. A value type: copying a generator copies its position in the sequence.
///
/// ```swift
/// var rng = SeededGenerator(seed: 42)
/// let x = (0..<16).map { _ in Float.random(in: -1...1, using: &rng) }
/// ```
public struct SeededGenerator: RandomNumberGenerator, Hashable, Sendable {
    /// The generator's state; each ``next()`` advances it by a fixed odd constant.
    public private(set) var state: UInt64

    /// A generator whose sequence is determined by `seed` alone.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits (SplitMix64: Steele, Lea and Flood, "Fast splittable pseudorandom number
    /// generators", OOPSLA 2014).
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
