import StrataBackends
import StrataCore
import Testing

/// The hashing embedder hashes its features from bytes in place. Its vectors are stored in
/// users' stores under the model id "hashing-v1-N", so they must stay those of its definition:
/// this is that definition, written the plain way (a String per feature), and the embedder must
/// agree with it bit for bit.
@Suite struct HashingEmbedderDefinitionTests {
    static func definition(_ text: String, dimension: Int) -> [Float] {
        func fnv(_ s: String, _ seed: UInt64) -> UInt64 {
            var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ seed
            for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            h ^= h >> 30
            h = h &* 0xbf58_476d_1ce4_e5b9
            h ^= h >> 27
            h = h &* 0x94d0_49bb_1331_11eb
            return h ^ (h >> 31)
        }
        var v = [Float](repeating: 0, count: dimension)
        func add(_ hash: UInt64, _ weight: Float) {
            v[Int(hash % UInt64(dimension))] += (hash >> 63) == 0 ? weight : -weight
        }
        let words = Tokenizer.words(text)
        for (i, w) in words.enumerated() {
            add(fnv(w, 0x5151), 1.0)
            if i > 0 { add(fnv(words[i - 1] + " " + w, 0xB16A), 0.7) }
            let chars = Array("#" + w + "#")
            if chars.count >= 3 {
                for j in 0...(chars.count - 3) { add(fnv(String(chars[j..<j + 3]), 0x7819), 0.35) }
            }
        }
        return Vectors.normalized(v)
    }

    /// Letters and digits from several scripts, among them scalars that join the Character
    /// before them (Devanagari vowel signs, Hangul jamo, Greek ypogegrammeni), "İ" (which
    /// lower-cases to "i" and a combining dot), and separators.
    static let pool: [String] = [
        "a", "b", "Z", "7", "é", "İ", "ß", "\u{915}", "\u{93E}", "\u{94D}", "\u{1100}", "\u{1161}", "\u{11A8}",
        "\u{3B1}", "\u{345}", "東", "京", "\u{E01}", "\u{E31}", "\u{FF11}", " ", " ", "-", ".", "\u{301}", "🙂",
    ]

    @Test func agreesWithItsDefinitionOnTextsOfManyScripts() throws {
        let e = try HashingEmbedder(dimension: 96)
        var rng = SystemRandomNumberGenerator()
        var texts = ["", "a", "ab", "Alice prefers green tea", "\u{93E}ka", "x-\u{93E}\u{915}", "İstanbul İİ"]
        for _ in 0..<400 {
            texts.append((0..<Int.random(in: 1...24, using: &rng)).map { _ in Self.pool.randomElement(using: &rng)! }.joined())
        }
        let got = try e.embed(texts)
        for (text, vector) in zip(texts, got) {
            #expect(vector == Self.definition(text, dimension: 96), "\(text.unicodeScalars.map { String($0.value, radix: 16) })")
        }
    }

    @Test func agreesWithItsDefinitionOnALongWord() throws {
        let text = "memo " + String(repeating: "x", count: 5_000) + " end"
        #expect(try HashingEmbedder(dimension: 64).embed([text])[0] == Self.definition(text, dimension: 64))
    }
}
