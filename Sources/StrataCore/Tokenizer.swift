/// Splits text into lower-case word tokens: runs of letters and digits; everything else separates.
/// Used by keyword search and the hashing embedder, so both see the same words.
public enum Tokenizer {
    public static func words(_ text: String) -> [String] {
        var out: [String] = []
        var current = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                current.append(scalar)
            } else if !current.isEmpty {
                out.append(String(current).lowercased())
                current = String.UnicodeScalarView()
            }
        }
        if !current.isEmpty { out.append(String(current).lowercased()) }
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
