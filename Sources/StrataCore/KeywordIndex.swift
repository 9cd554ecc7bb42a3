/// An in-memory inverted index with Okapi BM25 ranking (k1 = 1.2, b = 0.75).
///
/// Not thread-safe: the owner guards it. Add and remove are O(tokens of the document);
/// search is O(sum of the postings of the query terms).
public struct KeywordIndex: Sendable {
    public static let k1: Double = 1.2
    public static let b: Double = 0.75

    private var slotOf: [String: Int32] = [:]
    private var ids: [String?] = []
    private var lengths: [Int32] = []
    private var termsOf: [[String]] = []
    private var freeSlots: [Int32] = []
    private var postings: [String: [Int32: Int32]] = [:]
    private var totalLength = 0

    public init() {}

    public var count: Int { slotOf.count }

    /// Indexes (or re-indexes) a document.
    public mutating func add(id: String, text: String) {
        remove(id: id)
        let words = Tokenizer.keywords(text)
        var tf: [String: Int32] = [:]
        for w in words { tf[w, default: 0] += 1 }
        let slot: Int32
        if let free = freeSlots.popLast() {
            slot = free
            ids[Int(slot)] = id
            lengths[Int(slot)] = Int32(words.count)
            termsOf[Int(slot)] = Array(tf.keys)
        } else {
            slot = Int32(ids.count)
            ids.append(id)
            lengths.append(Int32(words.count))
            termsOf.append(Array(tf.keys))
        }
        slotOf[id] = slot
        totalLength += words.count
        for (term, n) in tf { postings[term, default: [:]][slot] = n }
    }

    public mutating func remove(id: String) {
        guard let slot = slotOf.removeValue(forKey: id) else { return }
        let s = Int(slot)
        for term in termsOf[s] {
            postings[term]?[slot] = nil
            if postings[term]?.isEmpty == true { postings[term] = nil }
        }
        totalLength -= Int(lengths[s])
        ids[s] = nil
        termsOf[s] = []
        lengths[s] = 0
        freeSlots.append(slot)
    }

    /// The k best documents for `query` by BM25 among those `accept` lets through, best first.
    public func search(_ query: String, k: Int, accept: (String) -> Bool = { _ in true }) -> [(id: String, score: Double)] {
        guard k > 0, !slotOf.isEmpty else { return [] }
        let n = Double(slotOf.count)
        let avgLength = max(Double(totalLength) / n, 1)
        var scores: [Int32: Double] = [:]
        for term in Set(Tokenizer.keywords(query)) {
            guard let list = postings[term] else { continue }
            let df = Double(list.count)
            let idf = log(1 + (n - df + 0.5) / (df + 0.5))
            for (slot, tf) in list {
                let f = Double(tf)
                let norm = Self.k1 * (1 - Self.b + Self.b * Double(lengths[Int(slot)]) / avgLength)
                scores[slot, default: 0] += idf * f * (Self.k1 + 1) / (f + norm)
            }
        }
        var top = TopK<String>(k: k)
        for (slot, score) in scores {
            guard let id = ids[Int(slot)], accept(id) else { continue }
            top.insert(id, score: score)
        }
        return top.sortedDescending().map { (id: $0.item, score: $0.score) }
    }
}

#if canImport(Glibc)
import Glibc
#endif
