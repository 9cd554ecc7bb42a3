import StrataCore
import StrataEngine
import StrataTesting
import Testing

/// The dedupe thresholds and the ranking weights, pinned where a one-line change to the rule
/// (`>=` to `>`, a lowered default, a weight read and ignored) would go unnoticed otherwise.
@Suite struct DedupeAndRankingRulesTests {
    let clock = ManualClock()

    func engine(_ json: JSONValue = [:]) throws -> Engine {
        var config = json
        if case .object(var o) = config, o["embedder"] == nil {
            o["embedder"] = ["backend": "hashing", "options": ["dimension": 8]]
            config = .object(o)
        }
        return try Engine(configuration: EngineConfiguration(json: config), clock: clock)
    }

    /// A unit vector at `cosine` from [1, 0, ...] in the first two dimensions.
    func direction(_ cosine: Double) -> [Float] {
        [Float(cosine), Float((1 - cosine * cosine).squareRoot()), 0, 0, 0, 0, 0, 0]
    }

    /// Stores `first`, then `second`, with the given vectors; whether the second merged.
    func merges(_ e: Engine, _ first: (String, [Float]), _ second: (String, [Float])) throws -> Bool {
        _ = try e.store([NewMemory(first.0)], vectors: [first.1])
        return try e.store([NewMemory(second.0)], vectors: [second.1])[0].deduplicated
    }

    @Test func theDefaultsAreCosine095AndFourFifthsOfTheWords() throws {
        let d = EngineConfiguration().dedupe
        #expect(d.enabled && d.threshold == 0.95 && d.minWordOverlap == 0.8)
        let text = "apple banana cherry durian elderberry"
        #expect(try merges(try engine(), (text, direction(1)), (text, direction(0.9502))), "just above 0.95")
        #expect(try !merges(try engine(), (text, direction(1)), (text, direction(0.9498))), "just below 0.95")
    }

    @Test func aCosineExactlyAtTheThresholdMerges() throws {
        // [3, 4] against [1, 0] is exactly 3/5 in float32, the same float as the threshold 0.6.
        let e = try engine(["dedupe": ["threshold": 0.6]])
        let text = "apple banana cherry durian"
        let at: [Float] = [3, 4, 0, 0, 0, 0, 0, 0]
        #expect(Vectors.cosine([1, 0, 0, 0, 0, 0, 0, 0], at) == Float(0.6))
        #expect(try merges(e, (text, [1, 0, 0, 0, 0, 0, 0, 0]), (text, at)), "cosine == threshold is a duplicate")
        let below = try engine(["dedupe": ["threshold": 0.61]])
        #expect(try !merges(below, (text, [1, 0, 0, 0, 0, 0, 0, 0]), (text, at)))
    }

    @Test func wordOverlapExactlyAtFourFifthsMergesAndBelowDoesNot() throws {
        let same = direction(1)
        // 4 shared of 5 distinct words: exactly 0.8.
        #expect(try merges(try engine(), ("apple banana cherry durian", same), ("apple banana cherry durian elderberry", same)))
        // 3 shared of 4 (0.75) with the vectors identical: kept apart.
        #expect(try !merges(try engine(), ("apple banana cherry", same), ("apple banana cherry durian", same)))
    }

    @Test func configuredWeightsChangeTheScoreAndTheOrder() throws {
        func ranked(_ weights: JSONValue) throws -> [Hit] {
            let e = try engine(["recall": ["weights": weights], "dedupe": ["enabled": false]])
            try e.store(NewMemory("quarterly revenue figures for the board", importance: 0.1))
            try e.store(NewMemory("the office plant needs water on fridays", importance: 1.0))
            return try e.recall(RecallQuery("quarterly revenue figures", k: 2))
        }
        let plain = try ranked([:])
        #expect(plain.first?.memory.content.hasPrefix("quarterly") == true, "relevance leads by default")
        let weighted = try ranked(["importance": 5])
        #expect(weighted.first?.memory.content.hasPrefix("the office plant") == true, "importance 5 overturns relevance")
        for hit in weighted {
            let p = hit.scores
            let expected = 1.0 * p.fused + 0.05 * p.recency + 5 * p.importance + 0.02 * p.access
            #expect(abs(hit.score - expected) < 1e-12, "score is the weighted sum with the configured weights")
        }
        let noRelevance = try ranked(["relevance": 0, "importance": 0, "recency": 0, "access": 0])
        #expect(noRelevance.allSatisfy { $0.score == 0 } && noRelevance.count == 2)
    }
}
