import StrataCore
import Testing

@Suite struct TopKTests {
    @Test(arguments: 0...12)
    func keepsTheKBestInOrder(k: Int) {
        var rng = SeededRandom(seed: 1040)  // seeded: a failure replays
        let scores = (0..<50).map { _ in Double(Int.random(in: 0..<20, using: &rng)) }
        var top = TopK<Int>(k: k)
        for (i, s) in scores.enumerated() { top.insert(i, score: s) }
        let expected = scores.enumerated().sorted { $0.element > $1.element || ($0.element == $1.element && $0.offset < $1.offset) }
            .prefix(k).map(\.offset)
        #expect(top.sortedDescending().map(\.item) == Array(expected))
    }
}

@Suite struct RankingTests {
    @Test func partsBehave() {
        #expect(Ranking.recency(ageSeconds: 3600, halfLifeSeconds: 3600) == 0.5)
        #expect(Ranking.recency(ageSeconds: -5, halfLifeSeconds: 3600) == 1)
        #expect(Ranking.access(count: 0) == 0)
        #expect(Ranking.access(count: 10) > Ranking.access(count: 1))
        #expect(Ranking.access(count: 1_000_000) < 1)
        #expect(Ranking.reciprocalRank(0, k: 10) > Ranking.reciprocalRank(1, k: 10))
        let p = ScoreParts(vector: 0.9, keyword: nil, fused: 1, recency: 0.5, importance: 0.2, access: 0)
        let w = RankingWeights(relevance: 1, recency: 0.1, importance: 0.5, access: 9)
        #expect(abs(Ranking.total(p, weights: w) - (1 + 0.05 + 0.1)) < 1e-12)
    }
}

@Suite struct FusionTests {
    typealias List = [(id: String, score: Double)]

    func order(_ fused: [String: Double]) -> [String] {
        fused.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }.map(\.key)
    }

    @Test func reciprocalRankIsOneForFirstInEveryListAndCountsAnEmptyList() {
        let vector: List = [("a", 0.9), ("b", 0.8)]
        let both = Ranking.fuse(vector: vector, keyword: [("a", 7), ("c", 2)], by: .reciprocalRank(k: 10))
        #expect(both["a"] == 1)
        #expect(abs(both["b"]! - 0.5 * 11 / 12) < 1e-12 && abs(both["c"]! - 0.5 * 11 / 12) < 1e-12)
        // A keyword search that found nothing still counts: first in one list of two is 0.5.
        #expect(Ranking.fuse(vector: vector, keyword: [], by: .reciprocalRank(k: 10))["a"] == 0.5)
        // No query text (a caller's vector): one list, and its first is 1.
        #expect(Ranking.fuse(vector: vector, keyword: nil, by: .reciprocalRank(k: 10))["a"] == 1)
    }

    @Test func scoresAreMinMaxSimilarityPlusSaturatedBM25() {
        let fused = Ranking.fuse(
            vector: [("a", 0.7), ("b", 0.5), ("c", 0.3)], keyword: [("c", 5), ("d", 15)],
            by: .scores(keywordWeight: 0.2, keywordSaturation: 5))
        #expect(abs(fused["a"]! - 0.8) < 1e-12)
        #expect(abs(fused["b"]! - 0.8 * 0.5) < 1e-12)
        #expect(abs(fused["c"]! - 0.2 * 0.5) < 1e-12, "the last vector candidate is 0, BM25 = saturation is half a match")
        #expect(abs(fused["d"]! - 0.2 * 0.75) < 1e-12, "absent from the vector list: the keyword part alone")
        #expect(order(fused) == ["a", "b", "d", "c"])
    }

    @Test func aLightKeywordWeightBreaksNearTiesButDoesNotOverturnAClearVectorWinner() {
        // The failure of rank fusion this replaces: a paraphrase whose answer shares no word with
        // it, against a memory sharing a common word (a weak BM25 hit) that the vector list
        // ranks lower. Reciprocal rank puts the weak keyword hit first; scores keep the answer.
        let vector: List = [("answer", 0.62), ("x", 0.60), ("y", 0.58), ("common", 0.35), ("z", 0.30)]
        let keyword: List = [("common", 1.4)]
        #expect(order(Ranking.fuse(vector: vector, keyword: keyword, by: .reciprocalRank(k: 10))).first == "common")
        let scores = Fusion.scores(keywordWeight: 0.1, keywordSaturation: 5)
        #expect(order(Ranking.fuse(vector: vector, keyword: keyword, by: scores)).first == "answer")
        // An exact code in the query: a strong BM25 match lifts a near tie.
        let code = Ranking.fuse(vector: [("a", 0.600), ("b", 0.598), ("c", 0.2)], keyword: [("b", 12)], by: scores)
        #expect(order(code).first == "b")
    }

    @Test func scoresEdgeCases() {
        let s = Fusion.scores(keywordWeight: 0.3, keywordSaturation: 2)
        // One candidate, or all alike: each is as good as the best.
        #expect(Ranking.fuse(vector: [("a", -3.5)], keyword: nil, by: s) == ["a": 1])
        #expect(Ranking.fuse(vector: [("a", 0.4), ("b", 0.4)], keyword: nil, by: s) == ["a": 1, "b": 1])
        // Without query text the vector part is all of it; without a vector search, BM25 is.
        #expect(Ranking.fuse(vector: [("a", 0.9), ("b", 0.1)], keyword: nil, by: s) == ["a": 1, "b": 0])
        #expect(Ranking.fuse(vector: nil, keyword: [("a", 2)], by: s) == ["a": 0.5])
        // Any metric: an L2 store answers negative distances, and only their order and spacing count.
        let l2 = Ranking.fuse(vector: [("a", -0.2), ("b", -1.2), ("c", -2.2)], keyword: [], by: s)
        #expect(abs(l2["a"]! - 0.7) < 1e-12 && abs(l2["b"]! - 0.35) < 1e-12 && l2["c"] == 0)
        // Weight 0 is the vector list's order, weight 1 the keyword list's.
        let vector: List = [("a", 0.9), ("b", 0.5)], keyword: List = [("b", 9), ("a", 1)]
        #expect(order(Ranking.fuse(vector: vector, keyword: keyword, by: .scores(keywordWeight: 0, keywordSaturation: 5))) == ["a", "b"])
        #expect(order(Ranking.fuse(vector: vector, keyword: keyword, by: .scores(keywordWeight: 1, keywordSaturation: 5))) == ["b", "a"])
        // Every value stays in 0...1.
        let all = Ranking.fuse(vector: vector, keyword: [("b", 1e9)], by: s)
        #expect(all.values.allSatisfy { (0...1).contains($0) })
        #expect(Ranking.fuse(vector: [], keyword: [], by: s).isEmpty)
    }
}
