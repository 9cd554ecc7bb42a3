/// Splits text into lower-case word tokens: runs of letters and digits; everything else separates.
/// Used by keyword search and the hashing embedder, so both see the same words.
public enum Tokenizer {
    public static func words(_ text: String) -> [String] {
        var text = text
        if let ascii = text.withUTF8(asciiWords) { return ascii }
        return unicodeWords(text)
    }

    /// `words` for any text: each word gathered as UTF-8 bytes, every scalar lowered as it is
    /// appended, as `String.lowercased()` lowers a String (scalar by scalar, with
    /// `properties.lowercaseMapping`). A `String` made and then lowered per word cost 110 ns a
    /// byte of French text, 22 this way (Chinese: 65 and 45, where the property lookups, about
    /// 45 ns each, are most of it). -O, Intel Xeon.
    private static func unicodeWords(_ text: String) -> [String] {
        var out: [String] = []
        var word: [UInt8] = []
        func flush() {
            guard !word.isEmpty else { return }
            out.append(String(decoding: word, as: UTF8.self))
            word.removeAll(keepingCapacity: true)
        }
        for scalar in text.unicodeScalars {
            let v = scalar.value
            if v < 0x80 {
                let c = UInt8(v)
                switch c {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): word.append(c)
                case UInt8(ascii: "A")...UInt8(ascii: "Z"): word.append(c + 32)
                default: flush()
                }
                continue
            }
            let p = scalar.properties
            guard p.isAlphabetic || p.numericType != nil else {
                flush()
                continue
            }
            word.append(contentsOf: p.lowercaseMapping.utf8)
        }
        flush()
        return out
    }

    /// `words` for text that is all ASCII (nil otherwise), byte by byte: in ASCII the letters
    /// and digits are exactly the scalars `isAlphabetic` or numeric, and lower-casing maps A-Z
    /// to a-z, so the answer is the same as the general path's, without a Unicode property
    /// lookup per character (most of the cost of indexing a memory).
    private static func asciiWords(_ bytes: UnsafeBufferPointer<UInt8>) -> [String]? {
        var out: [String] = []
        // A word is made from its run of bytes at once, not appended a byte at a time: 1.7
        // against 4.9 ns a byte for a 60 KB word, 7.8 against 13 for prose (-O, Intel Xeon).
        var start = 0
        var upper = false
        func word(to end: Int) {
            guard end > start else { return }
            let run = UnsafeBufferPointer(rebasing: bytes[start..<end])
            guard upper else { return out.append(String(decoding: run, as: UTF8.self)) }
            out.append(String(unsafeUninitializedCapacity: run.count) { lowered in
                for (i, c) in run.enumerated() {
                    lowered[i] = c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z") ? c + 32 : c
                }
                return run.count
            })
        }
        for i in bytes.indices {
            let c = bytes[i]
            guard c < 0x80 else { return nil }
            switch c {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                continue
            case UInt8(ascii: "A")...UInt8(ascii: "Z"):
                upper = true
            default:
                word(to: i)
                start = i + 1
                upper = false
            }
        }
        word(to: bytes.count)
        return out
    }

    /// `words` without English stop words: what keyword search indexes. Stop words match almost
    /// every document, so in small collections their BM25 weight is noise.
    public static func keywords(_ text: String) -> [String] {
        words(text).filter { !stopWords.contains($0) }
    }

    /// Lucene's English stop set plus a few question words that carry no topic.
    public static let stopWords: Set<String> = [
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not",
        "of", "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was",
        "will", "with", "what", "when", "where", "which", "who", "whom", "why", "how", "do", "does", "did", "i",
        "me", "my", "we", "our", "you", "your", "he", "she", "his", "her", "its", "so", "from", "has", "have", "had",
        "any", "anyone", "about",
    ]
}
