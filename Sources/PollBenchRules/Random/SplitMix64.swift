/// A small, fast, seedable generator (Steele, Lea and Flood's SplitMix64). Every random choice in
/// pollbench draws from one of these, so a seed replays a run exactly.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Creates a generator; equal seeds give equal sequences.
    public init(seed: UInt64) {
        state = seed
    }

    /// A generator for one named stream under a run seed, independent of every other key.
    public init(seed: UInt64, key: String) {
        self.init(seed: seed, keyHash: StableHash.fnv1a(key))
    }

    /// The stream of a key whose ``StableHash`` is already known.
    public init(seed: UInt64, keyHash: UInt64) {
        state = seed ^ keyHash
        state = next()
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform double in [0, 1) with 53 random bits.
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }
}

/// A hash that is the same in every process and on every machine (Swift's `Hasher` is seeded per process).
public enum StableHash {
    /// 64-bit FNV-1a of the UTF-8 bytes.
    public static func fnv1a(_ text: String) -> UInt64 {
        fnv1a(text.utf8, continuing: 0xCBF2_9CE4_8422_2325)
    }

    /// FNV-1a continued over more bytes: `fnv1a(a + b) == fnv1a(b.utf8, continuing: fnv1a(a))`.
    public static func fnv1a(_ bytes: some Sequence<UInt8>, continuing start: UInt64) -> UInt64 {
        var hash = start
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash
    }
}
