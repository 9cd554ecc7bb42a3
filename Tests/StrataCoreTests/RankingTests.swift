import StrataCore
import Testing

@Suite struct KeywordIndexTests {
    @Test func ranksByBM25AndForgetsRemovedDocuments() {
        var index = KeywordIndex()
        index.add(id: "a", text: "the cat sat on the mat")
        index.add(id: "b", text: "cats and dogs and cats")
        index.add(id: "c", text: "cat cat cat")
        index.add(id: "d", text: "nothing relevant here")
        let hits = index.search("cat", k: 10)
        #expect(hits.map(\.id) == ["c", "a"], "the word 'cat' is in c (3 times, short) and a; 'cats' is another word")
        #expect(hits[0].score > hits[1].score)
        index.remove(id: "c")
        #expect(index.search("cat", k: 10).map(\.id) == ["a"])
        #expect(index.count == 3)
        index.add(id: "a", text: "replaced text about dogs")
        #expect(index.search("cat", k: 10).isEmpty)
        #expect(index.search("dogs", k: 10).map(\.id).sorted() == ["a", "b"])
    }

    @Test func stopWordsAloneMatchNothing() {
        var index = KeywordIndex()
        index.add(id: "a", text: "the plan for the launch")
        #expect(index.search("the and of", k: 5).isEmpty)
        #expect(index.search("the launch", k: 5).map(\.id) == ["a"])
    }

    @Test func acceptFilterIsApplied() {
        var index = KeywordIndex()
        for i in 0..<10 { index.add(id: "d\(i)", text: "shared word") }
        let hits = index.search("word", k: 3) { $0.hasSuffix("7") || $0.hasSuffix("3") }
        #expect(Set(hits.map(\.id)) == ["d3", "d7"])
    }
}

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
