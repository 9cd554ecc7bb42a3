import StrataBackends
import StrataCore
import StrataTesting
import Testing

@Suite struct InMemoryVectorStoreTests {
    @Test func passesTheVectorStoreConformanceSuite() {
        for r in VectorStoreConformance.run(make: { try InMemoryVectorStore(dimension: VectorStoreConformance.dimension) }) {
            #expect(r.passed, "\(r.name): \(r.failure ?? "")")
        }
    }

    func record(_ id: String, _ v: [Float]) -> StoredRecord {
        StoredRecord(memory: Memory(id: id, content: id, createdAt: Timestamp(milliseconds: 0)), vector: v)
    }

    @Test func dotAndL2MetricsScoreAsDocumented() throws {
        let dot = try InMemoryVectorStore(dimension: 2, metric: .dot)
        try dot.upsert([record("short", [1, 0]), record("long", [3, 0])])
        let dh = try dot.search([1, 0], k: 2, filter: nil)
        #expect(dh.map(\.record.memory.id) == ["long", "short"], "dot prefers the longer vector")
        #expect(dh[0].score == 3)

        let l2 = try InMemoryVectorStore(dimension: 2, metric: .l2)
        try l2.upsert([record("near", [1, 1]), record("far", [5, 5])])
        let lh = try l2.search([1, 2], k: 2, filter: nil)
        #expect(lh.map(\.record.memory.id) == ["near", "far"])
        #expect(lh[0].score == -1, "minus the squared distance")
    }

    @Test func batchSearchAgreesWithOneQueryAtATime() throws {
        let d = 24
        let store = try InMemoryVectorStore(dimension: d)
        var rng = SystemRandomNumberGenerator()
        func v() -> [Float] { (0..<d).map { _ in Float.random(in: -1...1, using: &rng) } }
        try store.upsert((0..<700).map { record("r\($0)", v()) })
        let queries = (0..<9).map { _ in v() }
        let batch = try store.searchBatch(queries.flatMap { $0 }, count: queries.count, k: 7)
        for (q, hits) in zip(queries, batch) {
            let single = try store.search(q, k: 7, filter: nil)
            // sgemm and sgemv sum in different orders, so near-ties may swap; scores must agree.
            #expect(hits.count == single.count)
            for (a, b) in zip(hits, single) {
                #expect(abs(a.score - b.score) < 1e-4)
                if a.id != b.record.memory.id {
                    let other = try #require(hits.first { $0.id == b.record.memory.id } ?? single.first { $0.record.memory.id == a.id }.map { (id: $0.record.memory.id, score: $0.score) })
                    #expect(abs(other.score - a.score) < 1e-4, "\(a.id) and \(b.record.memory.id) swap only on a near-tie")
                }
            }
        }
    }

    @Test func batchSearchRefusesBadInput() throws {
        let store = try InMemoryVectorStore(dimension: 4)
        #expect(throws: StrataError.self) { _ = try store.searchBatch([1, 2, 3], count: 1, k: 1) }
        #expect(throws: StrataError.self) { _ = try store.searchBatch([1, 2, .infinity, 4], count: 1, k: 1) }
    }

    @Test func optionsAreCheckedStrictly() {
        #expect { try InMemoryVectorStore(options: ["dimension": 8, "metrik": "l2"], path: "store.options") } throws: {
            ($0 as! StrataError).message.contains("store.options.metrik")
        }
        #expect { try InMemoryVectorStore(options: ["dimension": 8, "metric": "manhattan"], path: "o") } throws: {
            ($0 as! StrataError).message.contains("manhattan")
        }
        #expect(throws: StrataError.self) { try InMemoryVectorStore(dimension: 0) }
    }
}

@Suite struct HashingEmbedderTests {
    @Test func passesTheEmbedderConformanceSuite() {
        for r in EmbedderConformance.run(make: { try HashingEmbedder(dimension: 128) }) {
            #expect(r.passed, "\(r.name): \(r.failure ?? "")")
        }
    }

    @Test func vectorsAreUnitLengthAndStableAcrossInstances() throws {
        let a = try HashingEmbedder(dimension: 64), b = try HashingEmbedder(dimension: 64)
        let va = try a.embed(["Alice prefers green tea"])[0]
        #expect(abs(Vectors.squaredNorm(va) - 1) < 1e-5)
        #expect(va == (try b.embed(["Alice prefers green tea"])[0]))
        #expect(try a.embed([""])[0].allSatisfy { $0 == 0 }, "no words, no features")
        #expect(a.modelID == "hashing-v1-64")
    }

    @Test func sharedWordsAndWordPiecesBringTextsCloser() throws {
        let e = try HashingEmbedder(dimension: 256)
        let v = try e.embed(["deploy to production on tuesday", "production deploys happen on tuesdays", "alice likes tea"])
        #expect(Vectors.cosine(v[0], v[1]) > Vectors.cosine(v[0], v[2]) + 0.1)
    }
}

@Suite struct ExtractiveSummarizerTests {
    @Test func passesTheSummarizerConformanceSuite() {
        for r in SummarizerConformance.run(make: { try ExtractiveSummarizer() }) {
            #expect(r.passed, "\(r.name): \(r.failure ?? "")")
        }
    }

    @Test func keepsTheCentralSentencesInTheirOriginalOrder() throws {
        let s = try ExtractiveSummarizer()
        let texts = [
            "The launch moves to March. Lunch was pizza.",
            "Marketing prepares the March launch. The launch needs a demo.",
        ]
        let out = try s.summarize(texts, maxCharacters: 70)
        #expect(out.contains("launch"))
        #expect(!out.contains("pizza"), "the off-topic sentence is the least central")
        #expect(out.count <= 70)
    }

    @Test func cutsAnOverlongSentenceAtAWordWithAnEllipsis() throws {
        let s = try ExtractiveSummarizer()
        let out = try s.summarize(["A single very long sentence that goes on and on without any end in sight"], maxCharacters: 30)
        #expect(out.count <= 30)
        #expect(out.hasSuffix("…"))
    }

    @Test func skipsNearRepeats() throws {
        let s = try ExtractiveSummarizer()
        let out = try s.summarize(["The build is green.", "The build is green.", "The build is green!"], maxCharacters: 200)
        #expect(out == "The build is green.")
    }
}

@Suite struct BuiltinBackendsTests {
    @Test func unknownBackendsAndPluginsAreClearErrors() {
        let b = BuiltinBackends()
        #expect { _ = try b.makeEmbedder(BackendChoice(backend: "openai"), path: "config.embedder") } throws: {
            let e = $0 as! StrataError
            return e.code == .invalidConfig && e.message.contains("\"openai\"") && e.message.contains("hashing")
        }
        #expect { _ = try b.makeVectorStore(BackendChoice(backend: "memory", plugin: "x"), dimension: 8, path: "config.store") } throws: {
            ($0 as! StrataError).code == .plugin
        }
        #expect { _ = try b.makeVectorStore(BackendChoice(backend: "memory", options: ["dimension": 3]), dimension: 8, path: "config.store") } throws: {
            ($0 as! StrataError).message.contains("config.store.options.dimension")
        }
    }
}
