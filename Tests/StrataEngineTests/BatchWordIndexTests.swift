import StrataCore
@testable import StrataEngine
import StrataTesting
import Testing

/// `BatchWordIndex`: prefix filtering never drops a record the word-overlap rule would accept.
@Suite struct BatchWordIndexTests {
    func jaccard(_ a: Set<String>, _ b: Set<String>) -> Double {
        let union = a.union(b).count
        return union == 0 ? 1 : Double(a.intersection(b).count) / Double(union)
    }

    @Test(arguments: [0.5, 0.8, 1.0])
    func everyRecordPassingTheRuleIsACandidate(minOverlap: Double) {
        var rng = SeededRandom(seed: 7)
        let vocabulary = (0..<12).map { "w\($0)" }
        let texts = (0..<300).map { _ in
            (0..<Int.random(in: 0...6, using: &rng)).map { _ in vocabulary.randomElement(using: &rng)! }.joined(separator: " ")
        }
        var index = BatchWordIndex(texts: texts, minOverlap: minOverlap)
        var sets: [Set<String>] = []
        for (i, text) in texts.enumerated() {
            let words = Set(Tokenizer.words(text))
            let passing = sets.indices.filter { jaccard(words, sets[$0]) >= minOverlap }
            let candidates = index.candidates(for: words)
            #expect(candidates == candidates?.sorted())
            #expect(Set(passing).isSubset(of: Set(candidates ?? [])), "text \(i): \(text)")
            index.add(i, words: words)
            sets.append(words)
        }
    }

    @Test func itCutsTheComparisonsAndZeroOverlapAdmitsAll() {
        // Six words: a match shares five, so the two rarest words of the query (its own) decide.
        let texts = (0..<1000).map { "note \($0) item\($0 * 7) about the topic" }
        var index = BatchWordIndex(texts: texts, minOverlap: 0.8)
        for (i, text) in texts.enumerated() { index.add(i, words: Set(Tokenizer.words(text))) }
        let candidates = index.candidates(for: Set(Tokenizer.words("note 5 item35 about the topic"))) ?? []
        #expect(candidates == [5], "only the record holding the rare words \"5\" and \"item35\"")
        #expect(BatchWordIndex(texts: texts, minOverlap: 0).candidates(for: ["note"]) == nil)
        var empty = BatchWordIndex(texts: ["", "x"], minOverlap: 0.8)
        empty.add(0, words: [])
        empty.add(1, words: ["x"])
        #expect(empty.candidates(for: []) == [0], "no words matches only no words")
    }
}
