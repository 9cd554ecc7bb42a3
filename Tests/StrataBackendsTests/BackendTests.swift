import StrataBackends
import StrataCore
import StrataTesting
import Testing

@Suite struct InMemoryVectorStoreTests {
    @Test func passesTheVectorStoreConformanceSuite() {
        let results = VectorStoreConformance.run(make: { try InMemoryVectorStore(dimension: VectorStoreConformance.dimension) })
        #expect(results.count >= 10, "the suite ran its cases (an empty list passes every loop)")
        for r in results {
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
        var rng = SeededRandom(seed: 1034)  // seeded: a failure replays
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

    /// A reference answer by a plain loop: filter first, then the k best, ties to the lower row.
    func reference(_ rows: [[Float]], _ q: [Float], k: Int, metric: Metric, keep: (Int) -> Bool) -> [Int] {
        let scored = rows.indices.filter(keep).map { i -> (Int, Float) in
            var dot: Float = 0, norm: Float = 0, qn: Float = 0
            for j in q.indices { dot += rows[i][j] * q[j]; norm += rows[i][j] * rows[i][j]; qn += q[j] * q[j] }
            return (i, metric == .l2 ? -(norm - 2 * dot + qn) : dot)
        }
        return scored.sorted { $0.1 > $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }.prefix(k).map(\.0)
    }

    @Test(arguments: [Metric.dot, .l2])
    func searchSplitAcrossCoresMatchesAPlainLoopWithFiltersAndTies(metric: Metric) throws {
        // 6,000 x 128 floats is above the size at which the scan is split across threads.
        let d = 128, n = 6000
        let store = try InMemoryVectorStore(dimension: d, metric: metric)
        var rng = SeededRandom(seed: 1068)  // seeded: a failure replays
        // Integer-valued vectors: sums are exact in any order, so ties are real ties.
        var rows = (0..<n).map { _ in (0..<d).map { _ in Float(Int.random(in: -3...3, using: &rng)) } }
        for i in stride(from: 100, to: n, by: 500) { rows[i] = rows[7] }  // exact duplicates across both halves
        try store.upsert(rows.indices.map { i in
            StoredRecord(memory: Memory(id: String(i), content: "", metadata: ["even": .bool(i % 2 == 0)],
                                        createdAt: Timestamp(milliseconds: 0)), vector: rows[i])
        })
        let evenOnly = Filter.condition(path: ["metadata", "even"], .eq(.bool(true)))
        for q in [rows[7], rows[4321]] + (0..<3).map({ _ in (0..<d).map { _ in Float(Int.random(in: -3...3, using: &rng)) } }) {
            let all = try store.search(q, k: 15, filter: nil).map { Int($0.record.memory.id)! }
            #expect(all == reference(rows, q, k: 15, metric: metric, keep: { _ in true }))
            let even = try store.search(q, k: 15, filter: evenOnly).map { Int($0.record.memory.id)! }
            #expect(even == reference(rows, q, k: 15, metric: metric, keep: { $0 % 2 == 0 }))
            #expect(even.allSatisfy { $0 % 2 == 0 }, "the filter is applied, never dropped")
        }
        // The batch path agrees on the same exact data, including ties.
        let queries = [rows[7], rows[11], rows[5999]]
        let batch = try store.searchBatch(queries.flatMap { $0 }, count: queries.count, k: 12)
        for (q, hits) in zip(queries, batch) {
            #expect(hits.map { Int($0.id)! } == reference(rows, q, k: 12, metric: metric, keep: { _ in true }))
        }
    }

    @Test func aFilterThatKeepsNothingOrFewerThanKIsExact() throws {
        let store = try InMemoryVectorStore(dimension: 64, metric: .dot)
        try store.upsert((0..<9000).map { i in
            StoredRecord(memory: Memory(id: String(i), content: "", metadata: ["n": .number(Double(i))],
                                        createdAt: Timestamp(milliseconds: 0)),
                         vector: (0..<64).map { (j: Int) -> Float in Float((j * 31 + i * 17) % 11 - 5) })
        })
        let q = [Float](repeating: 1, count: 64)
        #expect(try store.search(q, k: 5, filter: .condition(path: ["metadata", "n"], .lt(-1))).isEmpty)
        let three = try store.search(q, k: 5, filter: .condition(path: ["metadata", "n"], .in([3, 4000, 8999])))
        #expect(Set(three.map(\.record.memory.id)) == ["3", "4000", "8999"])
    }

    @Test func storingInManyBatchesKeepsEveryRowAndReplacesById() throws {
        let store = try InMemoryVectorStore(dimension: 8, metric: .dot)
        for b in 0..<50 {
            try store.upsert((0..<100).map { i in record("r\(b * 100 + i)", [Float](repeating: Float(b), count: 8)) })
        }
        #expect(try store.count() == 5000)
        try store.upsert([record("r4999", [Float](repeating: -1, count: 8))])
        #expect(try store.count() == 5000)
        #expect(try store.get(id: "r4999")?.vector == [Float](repeating: -1, count: 8))
        #expect(try store.get(id: "r0")?.vector == [Float](repeating: 0, count: 8))
    }

    @Test func theMetadataIndexStaysExactThroughReplacementsAndRemovals() throws {
        // Random upserts, replacements (metadata changes) and removals (rows swap places), then
        // filtered searches the index can narrow ($eq, $in, $or, expiry) and ones it cannot ($ne),
        // each checked against a plain loop over what should be stored.
        let d = 8
        let store = try InMemoryVectorStore(dimension: d, metric: .dot)
        var rng = SeededRandom(seed: 1123)  // seeded: a failure replays
        var truth: [String: StoredRecord] = [:]
        func vector() -> [Float] { (0..<d).map { _ in Float(Int.random(in: -4...4, using: &rng)) } }
        for round in 0..<30 {
            var batch: [StoredRecord] = []
            for _ in 0..<40 {
                let id = "r\(Int.random(in: 0..<300, using: &rng))"
                var meta: [String: JSONValue] = ["color": .string(["red", "green", "blue"][Int.random(in: 0..<3, using: &rng)])]
                if Bool.random(using: &rng) { meta["n"] = .number(Double(Int.random(in: 0..<4, using: &rng))) }
                let expires: Timestamp? = Int.random(in: 0..<5, using: &rng) == 0 ? Timestamp(milliseconds: 5) : nil
                let m = Memory(id: id, content: "", metadata: meta, createdAt: Timestamp(milliseconds: 0), expiresAt: expires)
                let r = StoredRecord(memory: m, vector: vector())
                batch.removeAll { $0.memory.id == id }
                batch.append(r)
            }
            try store.upsert(batch)
            for r in batch { truth[r.memory.id] = r }
            let gone = (0..<15).map { _ in "r\(Int.random(in: 0..<300, using: &rng))" }
            _ = try store.remove(ids: gone)
            for id in gone { truth[id] = nil }
            let filters: [Filter] = [
                .condition(path: ["metadata", "color"], .eq("red")),
                .condition(path: ["metadata", "n"], .in([1, 3])),
                .any([.condition(path: ["metadata", "color"], .eq("blue")), .condition(path: ["metadata", "n"], .eq(0))]),
                .all([.condition(path: ["metadata", "color"], .eq("green")), .condition(path: ["metadata", "n"], .ne(2))]),
                .any([.condition(path: ["expires_at"], .exists(false)), .condition(path: ["expires_at"], .gt("1970-01-01T00:00:00.010Z"))]),
                .condition(path: ["metadata", "color"], .eq("purple")),
            ]
            let q = vector()
            for f in filters {
                let got = try store.search(q, k: 12, filter: f).map { ($0.record.memory.id, $0.score) }
                let want = truth.values.filter { f.matches($0.memory) }
                    .map { ($0.memory.id, zip($0.vector, q).reduce(Float(0)) { $0 + $1.0 * $1.1 }) }
                    .sorted { $0.1 > $1.1 }
                #expect(got.count == min(12, want.count), "round \(round), filter \(f)")
                #expect(got.allSatisfy { g in f.matches(truth[g.0]!.memory) }, "a hit breaks \(f)")
                // Equal scores may come in either order; the scores must be the best ones.
                #expect(got.map(\.1) == want.prefix(got.count).map(\.1), "round \(round), filter \(f)")
            }
        }
    }

    @Test func aMetadataValueStaysExactAsItsRowsTurnIntoABitmapAndBack() throws {
        // The metadata index keeps a value's rows as a set while few and as a bitmap once they
        // are many: grow one value past that line, shrink it back under, remove rows on both
        // sides of it, and check a filter on the value against what was stored at every step.
        let store = try InMemoryVectorStore(dimension: 2, metric: .dot)
        var tags: [Int: String] = [:]
        func put(_ rows: some Sequence<Int>, _ tag: String) throws {
            try store.upsert(rows.map { r in
                tags[r] = tag
                return StoredRecord(memory: Memory(id: "r\(r)", content: "", metadata: ["tag": .string(tag)], createdAt: Timestamp(milliseconds: 0)),
                                    vector: [1, Float(r)])
            })
        }
        func check(_ step: String) throws {
            for tag in ["a", "b"] {
                let got = try store.search([0, 1], k: 10_000, filter: .condition(path: ["metadata", "tag"], .eq(.string(tag))))
                let want = Set(tags.filter { $0.value == tag }.map { "r\($0.key)" })
                #expect(Set(got.map(\.record.memory.id)) == want, "\(step): tag \(tag)")
                #expect(got.count == want.count, "\(step): tag \(tag) answered a row twice")
            }
        }
        try put(0..<3000, "b")
        for grown in [10, 255, 256, 1200, 2900] {
            try put(0..<grown, "a")
            try check("a on \(grown) rows")
        }
        _ = try store.remove(ids: (100..<200).map { "r\($0)" })
        for r in 100..<200 { tags[r] = nil }
        try check("100 rows of a removed")
        for kept in [1500, 40, 3, 0] {
            try put((kept..<2900).filter { tags[$0] == "a" }, "b")
            try check("a back to \(kept) rows")
        }
        try put(2990..<3000, "a")
        try check("a on the last rows only")
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
        let results = EmbedderConformance.run(make: { try HashingEmbedder(dimension: 128) })
        #expect(results.count >= 3, "the suite ran its cases (an empty list passes every loop)")
        for r in results {
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
        let results = SummarizerConformance.run(make: { try ExtractiveSummarizer() })
        #expect(results.count >= 2, "the suite ran its cases (an empty list passes every loop)")
        for r in results {
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
