#if canImport(Glibc)
import Glibc
#endif

/// The parts of a recall score, each reported with every hit.
public struct ScoreParts: Sendable, Hashable {
    /// Raw vector similarity (cosine for the built-in store), or nil if the hit was not among the vector candidates.
    public var vector: Double?
    /// Raw BM25 score, or nil if the hit was not among the keyword candidates.
    public var keyword: Double?
    /// Reciprocal-rank fusion of both lists, scaled so 1 means first in both.
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

/// Hybrid ranking: reciprocal-rank fusion, then recency, importance and access.
public enum Ranking {
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
