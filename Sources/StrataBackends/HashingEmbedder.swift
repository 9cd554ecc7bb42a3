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
        // Each feature is hashed from bytes in place. A String per bigram and per trigram cost
        // 35 µs for a 90-byte memory (6 now) and 19 ms for 56 KB of prose (2), most of a text
        // store's time: `strata bench engine` stores 2.5 times as many memories a second.
        var padded: [UInt8] = []
        var ends: [Int] = []
        for (i, w) in words.enumerated() {
            add(FNV1a(seed: 0x5151).adding(w.utf8).hash, Self.unigramWeight)
            if i > 0 {
                add(FNV1a(seed: 0xB16A).adding(words[i - 1].utf8).adding(CollectionOfOne(UInt8(ascii: " "))).adding(w.utf8).hash, Self.bigramWeight)
            }
            Self.characterEnds(of: w, padded: &padded, ends: &ends)
            guard ends.count >= 3 else { continue }
            padded.withUnsafeBufferPointer { bytes in
                var start = 0
                for j in 0...(ends.count - 3) {
                    add(FNV1a(seed: 0x7819).adding(UnsafeBufferPointer(rebasing: bytes[start..<ends[j + 2]])).hash, Self.trigramWeight)
                    start = ends[j]
                }
            }
        }
        return Vectors.normalized(v)
    }

    /// The UTF-8 bytes of `"#" + word + "#"` into `padded`, and the byte offset where each of its
    /// Characters ends into `ends`: a trigram is three Characters (grapheme clusters), so its
    /// bytes are `padded[ends[j - 1] ..< ends[j + 2]]`. The Characters are those of the padded
    /// String, since a word that starts with a combining mark joins the "#" before it.
    static func characterEnds(of word: String, padded: inout [UInt8], ends: inout [Int]) {
        padded.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        padded.append(UInt8(ascii: "#"))
        padded.append(contentsOf: word.utf8)
        padded.append(UInt8(ascii: "#"))
        if padded.allSatisfy({ $0 < 0x80 }) {
            // ASCII letters and digits: one byte, one Character.
            ends.append(contentsOf: 1...padded.count)
            return
        }
        var end = 0
        for c in "#" + word + "#" {
            end += c.utf8.count
            ends.append(end)
        }
    }
}

/// FNV-1a 64 over UTF-8 bytes fed in pieces, so a feature made of several strings is hashed
/// without joining them; `hash` adds a 64-bit finaliser (splitmix) so that low bits mix well.
struct FNV1a {
    private var state: UInt64

    init(seed: UInt64) { state = 0xcbf2_9ce4_8422_2325 ^ seed }

    func adding<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> FNV1a {
        var next = self
        for b in bytes {
            next.state ^= UInt64(b)
            next.state = next.state &* 0x100_0000_01b3
        }
        return next
    }

    /// The state through the splitmix64 finaliser.
    var hash: UInt64 {
        var h = state
        h ^= h >> 30
        h = h &* 0xbf58_476d_1ce4_e5b9
        h ^= h >> 27
        h = h &* 0x94d0_49bb_1331_11eb
        h ^= h >> 31
        return h
    }
}
