#if canImport(Glibc)
import Glibc
#endif

/// The parts of a recall score, each reported with every hit.
public struct ScoreParts: Sendable, Hashable {
    /// Raw vector similarity (cosine for the built-in store), or nil if the hit was not among the vector candidates.
    public var vector: Double?
    /// Raw BM25 score, or nil if the hit was not among the keyword candidates.
    public var keyword: Double?
    /// The vector and keyword lists fused into one relevance in 0...1 by the configured `Fusion`
    /// (1: first in both lists for reciprocal rank; the best similarity and a strong keyword match
    /// for scores).
    public var fused: Double
    /// Recency decay in 0...1: 0.5^(age / half-life) since the last access.
    public var recency: Double
    /// The memory's importance, 0...1.
    public var importance: Double
    /// Access-count score in 0...1: 1 - 1 / (1 + ln(1 + count)).
    public var access: Double
    /// Cosine between the memory's vector and the working-memory kernel's read for the query,
    /// or nil when no kernel is configured (`working_kernel`).
    public var kernel: Double?

    public init(
        vector: Double?, keyword: Double?, fused: Double, recency: Double, importance: Double, access: Double, kernel: Double? = nil
    ) {
        self.vector = vector
        self.keyword = keyword
        self.fused = fused
        self.recency = recency
        self.importance = importance
        self.access = access
        self.kernel = kernel
    }

    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "vector": vector.map { .number($0) } ?? .null, "keyword": keyword.map { .number($0) } ?? .null,
            "fused": .number(fused), "recency": .number(recency), "importance": .number(importance),
            "access": .number(access),
        ]
        if let kernel { o["kernel"] = .number(kernel) }
        return .object(o)
    }
}

/// How much each part weighs in the total; configuration (`recall.weights`).
public struct RankingWeights: Sendable, Hashable {
    public var relevance: Double = 1.0
    public var recency: Double = 0.05
    public var importance: Double = 0.05
    public var access: Double = 0.02

    public init() {}
    public init(relevance: Double, recency: Double, importance: Double, access: Double) {
        self.relevance = relevance
        self.recency = recency
        self.importance = importance
        self.access = access
    }
}

/// One recall result: the memory, its total score and each part.
public struct Hit: Sendable {
    public var memory: Memory
    public var score: Double
    public var scores: ScoreParts

    public init(memory: Memory, score: Double, scores: ScoreParts) {
        self.memory = memory
        self.score = score
        self.scores = scores
    }
}

/// How one recall's vector and keyword candidate lists become one `fused` relevance in 0...1;
/// configuration (`recall.fusion`), chosen per embedder, since how far the keyword list may move
/// the vector list depends on how good the embedder is.
public enum Fusion: Sendable, Hashable {
    /// Reciprocal-rank fusion: the sum over lists of 1 / (k + rank + 1), scaled so 1 means first
    /// in every list searched. Scores are ignored, so a weak list moves a strong one as much as the
    /// strong one moves it: right for two lists of like quality (the hashing embedder and BM25),
    /// wrong for a neural embedder beside BM25 (bench/README.md, "Fusion").
    case reciprocalRank(k: Double)
    /// A convex combination of normalised scores:
    /// `(1 - keywordWeight) * v + keywordWeight * b / (b + keywordSaturation)`, where `v` is the
    /// similarity min-max normalised over this recall's vector candidates (1 the best, 0 the last
    /// or absent; any metric, since only the order and spacing of one list are used) and `b` the
    /// raw BM25 score (0 when absent). BM25 is saturated rather than min-max normalised, so a list
    /// whose best match is one common word stays near 0 instead of being stretched to 1; the
    /// saturation is the BM25 score counted as half a match. Without query text there is no
    /// keyword list and `fused` is `v` alone.
    case scores(keywordWeight: Double, keywordSaturation: Double)

    /// The configuration's name of the method (`"rrf"`, `"scores"`).
    public var method: String {
        switch self {
        case .reciprocalRank: "rrf"
        case .scores: "scores"
        }
    }
}

/// Hybrid ranking: vector and keyword lists fused (`Fusion`), then recency, importance and access.
public enum Ranking {
    /// Fuses one recall's candidate lists, each best first.
    /// - Parameters:
    ///   - vector: the vector search's hits (id, similarity), or nil when no vector search ran.
    ///   - keyword: the keyword search's hits (id, BM25), or nil when no keyword search ran (no
    ///     query text). An empty list is a search that found nothing, and still counts.
    /// - Returns: the fused relevance of every id in either list, in 0...1.
    /// - Complexity: O(n) in the candidates.
    public static func fuse(
        vector: [(id: String, score: Double)]?, keyword: [(id: String, score: Double)]?, by fusion: Fusion
    ) -> [String: Double] {
        var fused: [String: Double] = [:]
        switch fusion {
        case .reciprocalRank(let k):
            let lists = [vector, keyword].compactMap { $0 }
            let best = Double(lists.count) * reciprocalRank(0, k: k)
            for list in lists {
                for (rank, h) in list.enumerated() { fused[h.id, default: 0] += reciprocalRank(rank, k: k) / best }
            }
        case .scores(let weight, let saturation):
            let keywordWeight = keyword == nil ? 0 : weight
            if let vector, !vector.isEmpty {
                let scores = vector.map(\.score)
                let low = scores.min()!, spread = scores.max()! - low
                for h in vector {
                    // One candidate, or all alike: each is as good as the best.
                    let v = spread > 0 ? (h.score - low) / spread : 1
                    fused[h.id, default: 0] += (1 - keywordWeight) * v
                }
            }
            if let keyword {
                let w = vector == nil ? 1 : keywordWeight
                for h in keyword {
                    let b = max(0, h.score)
                    fused[h.id, default: 0] += w * b / (b + saturation)
                }
            }
        }
        return fused
    }

    /// RRF contribution of a 0-based rank: 1 / (k + rank + 1).
    public static func reciprocalRank(_ rank: Int, k: Double) -> Double { 1 / (k + Double(rank) + 1) }

    /// 0.5^(age / halfLife); 1 for a future or zero age.
    public static func recency(ageSeconds: Double, halfLifeSeconds: Double) -> Double {
        guard halfLifeSeconds > 0, ageSeconds > 0 else { return 1 }
        return pow(0.5, ageSeconds / halfLifeSeconds)
    }

    public static func access(count: Int) -> Double { 1 - 1 / (1 + log1p(Double(max(0, count)))) }

    public static func total(_ p: ScoreParts, weights w: RankingWeights) -> Double {
        w.relevance * p.fused + w.recency * p.recency + w.importance * p.importance + w.access * p.access
    }
}
