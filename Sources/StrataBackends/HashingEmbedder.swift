import StrataCore

/// The built-in embedder: signed feature hashing of word unigrams, word bigrams and character
/// trigrams, L2-normalised. Deterministic, no model file, no network; texts sharing words or
/// word pieces land close together. Not a semantic model: "car" and "automobile" stay apart.
///
/// Thread-safe (no mutable state).
public final class HashingEmbedder: Embedder {
    public let dimension: Int
    public var modelID: String { "hashing-v1-\(dimension)" }

    /// Feature weights: whole words matter most, pieces of words help with morphology and typos.
    static let unigramWeight: Float = 1.0
    static let bigramWeight: Float = 0.7
    static let trigramWeight: Float = 0.35

    public init(dimension: Int) throws(StrataError) {
        guard dimension >= 8, dimension <= 65536 else {
            throw StrataError(.invalidConfig, "hashing embedder: dimension must be in 8...65536, got \(dimension)")
        }
        self.dimension = dimension
    }

    /// From JSON options: {"dimension": N} (default 256).
    public convenience init(options: JSONValue, path: String) throws(StrataError) {
        var r = try JSONObjectReader(options, path: path, code: .invalidConfig)
        let dim = try r.optionalInt("dimension", in: 8...65536) ?? 256
        try r.finish()
        try self.init(dimension: dim)
    }

    public func embed(_ texts: [String]) throws(StrataError) -> [[Float]] {
        texts.map(embedOne)
    }

    func embedOne(_ text: String) -> [Float] {
        var v = [Float](repeating: 0, count: dimension)
        let words = Tokenizer.words(text)
        func add(_ hash: UInt64, _ weight: Float) {
            let index = Int(hash % UInt64(dimension))
            // One hash bit chooses the sign, so collisions cancel out on average instead of piling up.
            v[index] += (hash >> 63) == 0 ? weight : -weight
        }
        for (i, w) in words.enumerated() {
            add(Self.fnv1a(w, seed: 0x5151), Self.unigramWeight)
            if i > 0 { add(Self.fnv1a(words[i - 1] + " " + w, seed: 0xB16A), Self.bigramWeight) }
            let chars = Array("#" + w + "#")
            if chars.count >= 3 {
                for j in 0...(chars.count - 3) {
                    add(Self.fnv1a(String(chars[j..<j + 3]), seed: 0x7819), Self.trigramWeight)
                }
            }
        }
        return Vectors.normalized(v)
    }

    /// FNV-1a 64 over the UTF-8 bytes, then a 64-bit finaliser (splitmix) so that low bits mix well.
    static func fnv1a(_ s: String, seed: UInt64) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ seed
        for b in s.utf8 {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        h ^= h >> 30
        h = h &* 0xbf58_476d_1ce4_e5b9
        h ^= h >> 27
        h = h &* 0x94d0_49bb_1331_11eb
        h ^= h >> 31
        return h
    }
}
