import StrataCore

/// The records of a batch being stored, indexed by their words, so that de-duplication compares
/// an item only with the earlier records of its batch that could pass the word-overlap rule,
/// instead of with every one of them (which made a batch cost the square of its size).
///
/// The rule (`dedupe.min_word_overlap`, t) asks |A ∩ B| / |A ∪ B| >= t of the word sets, so
/// |A ∩ B| >= t |A|: a record sharing none of the first |A| - ceil(t |A|) + 1 words of A, in
/// any fixed order, shares too few. This is prefix filtering (Chaudhuri, Ganti and Kaushik
/// 2006); the order is the rarest words of the batch first, so the prefix words have short
/// lists. It only skips records that the rule would refuse, so the outcome is the same as
/// comparing with every record.
struct BatchWordIndex {
    private let minOverlap: Double
    /// Each word of the batch's texts: its rank, rarest first (ties by the word).
    private let rank: [String: Int]
    /// Record indexes holding each word (a record whose content changed keeps its old words
    /// too: a superset of the candidates is still exact).
    private var postings: [String: [Int]] = [:]
    /// Records without any word: the only ones an item without words can match.
    private var wordless: [Int] = []

    /// - Parameter texts: the contents the batch's records can have (its items' contents).
    init(texts: [String], minOverlap: Double) {
        self.minOverlap = minOverlap
        var frequency: [String: Int] = [:]
        for text in texts {
            for word in Set(Tokenizer.words(text)) { frequency[word, default: 0] += 1 }
        }
        let ordered = frequency.sorted { ($0.value, $0.key) < ($1.value, $1.key) }
        rank = Dictionary(uniqueKeysWithValues: ordered.enumerated().map { ($1.key, $0) })
    }

    /// Records `index` as holding `words`.
    mutating func add(_ index: Int, words: Set<String>) {
        if words.isEmpty { wordless.append(index) }
        for word in words { postings[word, default: []].append(index) }
    }

    /// The indexes of the records that may share enough words with `words`, ascending; nil when
    /// the rule admits every record (an overlap of 0).
    func candidates(for words: Set<String>) -> [Int]? {
        guard minOverlap > 0 else { return nil }
        guard !words.isEmpty else { return wordless }
        // The fewest words a match shares; the tolerance keeps a product such as 0.8 * 5 from
        // rounding up past an exact integer.
        let needed = max(1, Int((minOverlap * Double(words.count) - 1e-9).rounded(.up)))
        let prefix = words.sorted { (rank[$0] ?? Int.max, $0) < (rank[$1] ?? Int.max, $1) }.prefix(words.count - needed + 1)
        var found = Set<Int>()
        for word in prefix { found.formUnion(postings[word] ?? []) }
        return found.sorted()
    }
}
