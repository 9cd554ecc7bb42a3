#if canImport(Glibc)
import Glibc
#endif

/// A small seeded random number generator (SplitMix64, Steele, Lea and Flood 2014): the same
/// seed gives the same sequence on every machine, so anything sampled with it is reproducible.
///
/// Not for secrets. A value type: copying it forks the sequence.
///
///     var rng = SeededRandom(seed: 42)
///     let i = Int.random(in: 0..<10, using: &rng)
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A generator for one of many independent streams of the same seed (one per tree, say),
    /// so parallel work draws the same numbers whatever order it runs in.
    public init(seed: UInt64, stream: UInt64) {
        var mix = SeededRandom(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
        state = mix.next()
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in the open interval (0, 1).
    public mutating func uniform() -> Double { (Double(next() >> 11) + 0.5) / Double(1 << 53) }

    /// A standard normal draw (Box-Muller; the second value of the pair is dropped for simplicity).
    public mutating func gaussian() -> Double {
        (-2 * log(uniform())).squareRoot() * cos(2 * Double.pi * uniform())
    }
}
