import StrataCore
@testable import StrataEngine
import StrataTesting
import StrataWire
import Testing

/// The JSON verbs: each request decoded with every key checked, each answer in its documented shape.
@Suite struct EngineVerbsTests {
    let clock = ManualClock()

    func engine(_ json: JSONValue = ["dedupe": ["enabled": false]]) throws -> Engine {
        try Engine(configuration: EngineConfiguration(json: json), clock: clock)
    }

    @Test func storeAnswersOneIdOrABatchWithTheMergedIds() throws {
        let e = try engine(["dedupe": ["enabled": true]])
        let one = try e.storeJSON(["content": "alice drinks green tea"])
        let id = try #require(one.objectValue?["id"])
        #expect(one == ["id": id, "deduplicated": []])
        let again = try e.storeJSON(["content": "alice drinks green tea"])
        #expect(again == ["id": id, "deduplicated": [id]], "the same text merges into the first")
        let batch = try e.storeJSON(["items": [["content": "bob deploys on tuesdays"], ["content": "carol owns billing"]]])
        #expect(batch.objectValue?["ids"]?.arrayValue?.count == 2 && batch.objectValue?["deduplicated"] == [])
        let copies = try e.storeJSON(["items": [["content": "alice drinks green tea"]], "dedupe": false])
        #expect(copies.objectValue?["ids"] != [id] && copies.objectValue?["deduplicated"] == [])
        #expect { try e.storeJSON(["items": [["content": "x"]], "dedupe": "no"]) } throws: {
            ($0 as! StrataError).code == .invalidJSON && ($0 as! StrataError).message.contains("store request.dedupe must be true or false")
        }
        #expect { try e.storeJSON(["items": [["content": "x"]], "scope": "a"]) } throws: {
            ($0 as! StrataError).code == .invalidJSON && ($0 as! StrataError).message.contains("\"items\" cannot be combined with scope")
        }
    }

    @Test func storeTakesACallerIDAndRecallTakesTrackAccessAndAnEmptyQuery() throws {
        let e = try engine()
        #expect(try e.storeJSON(["content": "alice drinks green tea", "id": "doc-1"]) == ["id": "doc-1", "deduplicated": []])
        let hits = try e.recallJSON(["track_access": false])
        #expect(hits.objectValue?["hits"]?.arrayValue?.first?.objectValue?["id"] == "doc-1")
        #expect(try e.get(id: "doc-1").accessCount == 0)
        #expect { try e.recallJSON(["query": "tea", "track_access": "no"]) } throws: {
            ($0 as! StrataError).code == .invalidJSON && ($0 as! StrataError).message.contains("recall request.track_access")
        }
        #expect { try RecallQuery(json: ["k": 3], path: "recall request", textRequired: true) } throws: {
            ($0 as! StrataError).code == .invalidJSON && ($0 as! StrataError).message.contains("recall request.query is required")
        }
        #expect { try e.storeJSON(["content": "x", "id": 7]) } throws: {
            ($0 as! StrataError).code == .invalidJSON && ($0 as! StrataError).message.contains("store request.id")
        }
    }

    @Test func listAnswersThePageAndTheTotalWithEveryKeyChecked() throws {
        let e = try engine()
        let a = try e.store(NewMemory("alpha", metadata: ["n": 1])).id
        clock.advance(hours: 1)
        let b = try e.store(NewMemory("beta", metadata: ["n": 2])).id
        let all = try e.listJSON([:])
        #expect(all == ["memories": [Answer.memory(try e.get(id: a)), Answer.memory(try e.get(id: b))], "total": 2])
        #expect(try e.listJSON(["limit": 1, "offset": 1]) == ["memories": [Answer.memory(try e.get(id: b))], "total": 2])
        #expect(try e.listJSON(["filter": ["n": 2], "limit": 0]) == ["memories": [], "total": 1])
        #expect(try e.listJSON(["ids": [.string(b), "m-nope"]]).objectValue?["total"] == 1)
        #expect { try e.listJSON(["limt": 1]) } throws: {
            ($0 as! StrataError).code == .invalidJSON && ($0 as! StrataError).message.contains("limt")
        }
        #expect { try e.listJSON(["filter": ["n": ["$bogus": 1]]]) } throws: { ($0 as! StrataError).code == .invalidFilter }
    }

    @Test func countRequestIsTheListSelectionWithoutThePage() throws {
        let e = try engine()
        _ = try e.store(NewMemory("alpha", metadata: ["n": 1]))
        _ = try e.store(NewMemory("beta", metadata: ["n": 2]))
        let q = try MemoryListQuery(countJSON: ["filter": ["n": ["$gte": 2]], "category": "general"], path: "count request")
        #expect(q.limit == 0 && q.offset == 0 && q.ids == nil)
        #expect(Answer.count(try e.list(q).total) == ["total": 1])
        #expect(try e.list(try MemoryListQuery(countJSON: [:], path: "count request")).memories.isEmpty)
        for key in ["limit", "offset", "ids"] {
            #expect { try MemoryListQuery(countJSON: [key: 1], path: "count request") } throws: {
                ($0 as! StrataError).code == .invalidJSON && ($0 as! StrataError).message.contains("unknown key count request.\(key)")
            }
        }
    }

    @Test func embedAnswersTheEnginesRowsAndRefusesWhatIsNotTexts() throws {
        let e = try engine()
        let answer = try e.embedJSON(["texts": ["alice drinks green tea", ""]], maxTexts: 4)
        let rows = try e.embed(["alice drinks green tea", ""])
        #expect(answer == Answer.embeddings(rows, dimension: e.dimension, model: e.embedder.modelID))
        let first = try #require(answer.objectValue?["vectors"]?.arrayValue?.first?.arrayValue)
        #expect(first.map { Float($0.numberValue!) } == rows[0], "the numbers read back as the engine's floats")
        #expect(try e.embedJSON(["texts": []], maxTexts: 4) == ["vectors": [], "dimension": .number(Double(e.dimension)), "model": .string(e.embedder.modelID)])
        let refusals: [(JSONValue, StrataError.Code, String)] = [
            ([:], .invalidJSON, "embed request.texts is required"),
            (["texts": "one"], .invalidJSON, "embed request.texts"),
            (["texts": ["a", 1]], .invalidJSON, "embed request.texts[1]"),
            (["texts": ["a"], "model": "x"], .invalidJSON, "unknown key embed request.model"),
            (["texts": ["a", "b", "c", "d", "e"]], .invalidArgument, "has 5 texts; at most 4 a request"),
            (["texts": ["a", "b\u{0}"]], .invalidArgument, "text 1 holds a NUL character"),
        ]
        for (request, code, message) in refusals {
            #expect { try e.embedJSON(request, maxTexts: 4) } throws: {
                ($0 as! StrataError).code == code && ($0 as! StrataError).message.contains(message)
            }
        }
    }

    @Test func recallGetHistoryAndStatsAnswerTheTypedVerbsInTheirShapes() throws {
        let e = try engine()
        let id = try e.store(NewMemory("alice drinks green tea", metadata: ["user": "alice"], category: "preferences")).id
        let recall = try e.recallJSON(["query": "green tea", "k": 1])
        let hit = try #require(recall.objectValue?["hits"]?.arrayValue?.first?.objectValue)
        #expect(Set(hit.keys) == ["id", "content", "metadata", "scope", "tier", "category", "score", "scores"])
        #expect(hit["category"] == "preferences")
        #expect(try e.getJSON(["id": .string(id)]) == Answer.memory(try e.get(id: id)))
        #expect(try e.historyJSON(["id": .string(id)]) == Answer.history(try e.history(id: id)))
        let stats = try e.statsJSON([:])
        #expect(Set(try #require(stats.objectValue).keys) == [
            "memories", "expired", "by_tier", "by_category", "by_scope", "dimension", "store", "embedder", "summarizer",
            "operations", "access", "patterns", "lifecycle", "space", "index",
        ])
        let index = try #require(stats.objectValue?["index"])
        #expect(try IndexReport(json: index) == (try e.stats().index), "the index section decodes to the engine's report")
        #expect { try e.statsJSON(["extra": 1]) } throws: { ($0 as! StrataError).message.contains("stats request.extra") }
    }

    @Test func forgetTakesAnIdOrAFilterWithAllForNoCondition() throws {
        let e = try engine()
        let a = try e.store(NewMemory("one", scope: try ScopePath("org/a"))).id
        _ = try e.store(NewMemory("two", scope: try ScopePath("org/a")))
        _ = try e.store(NewMemory("three", scope: try ScopePath("org/b")))
        #expect(try e.forgetJSON(["id": .string(a)]) == ["forgotten": [.string(a)]])
        #expect { try e.forgetJSON(["filter": [:], "scope": "org/a"]) } throws: { ($0 as! StrataError).code == .invalidArgument }
        #expect(try e.forgetJSON(["filter": [:], "scope": "org/a", "all": true]).objectValue?["forgotten"]?.arrayValue?.count == 1)
        #expect { try e.forgetJSON(["id": "x", "all": true]) } throws: { ($0 as! StrataError).code == .invalidJSON }
        #expect { try e.forgetJSON([:]) } throws: { ($0 as! StrataError).code == .invalidJSON }
    }

    /// Updating a memory to empty content is refused on every face, the JSON one included.
    @Test func anUpdateToEmptyContentIsRefused() throws {
        #expect { try MemoryUpdate(json: ["id": "m-1", "content": ""], path: "update request") } throws: { error in
            let e = error as? StrataError
            return e?.code == .invalidJSON && e!.message == "update request.content must be non-empty text"
        }
    }

    @Test func snapshotVerbsAnswerTheDocumentedShapes() throws {
        let e = try engine()
        let id = try e.store(NewMemory("a memory to keep")).id
        let info = try e.snapshotJSON(["name": "s1"])
        #expect(info == ["name": "s1", "created_at": .string(clock.now().iso8601), "memories": 1, "bytes": .null])
        #expect(try e.snapshotsJSON([:]) == ["snapshots": [info]])
        try e.forget(id: id)
        #expect(try e.rollbackJSON(["name": "s1"]) == ["snapshot": "s1", "added": [.string(id)], "removed": [], "changed": []])
        #expect { _ = try e.rollbackJSON(["name": "s1", "extra": 1]) } throws: { ($0 as! StrataError).code == .invalidJSON }
        #expect { _ = try e.snapshotJSON([:]) } throws: { ($0 as! StrataError).code == .invalidJSON }
        #expect(try e.deleteSnapshotJSON(["name": "s1"]) == ["deleted": "s1"])
    }

    @Test func anomaliesRequestsAreCheckedAndTheAnswerHasItsShape() throws {
        let e = try engine()
        _ = try e.store([NewMemory("one", metadata: ["a": 1]), NewMemory("two")])
        #expect { try e.anomaliesJSON(["limits": 3]) } throws: {
            ($0 as! StrataError).code == .invalidJSON && ($0 as! StrataError).message.contains("anomalies request.limits")
        }
        #expect { try e.anomaliesJSON(["threshold": 2]) } throws: { ($0 as! StrataError).code == .invalidArgument }
        #expect { try e.anomaliesJSON(["filter": ["n": ["$near": 1]]]) } throws: { ($0 as! StrataError).code == .invalidFilter }
        let answer = try e.anomaliesJSON(["threshold": 0, "limit": 1, "scope": "", "tiers": ["working"], "category": "general"])
        let o = try #require(answer.objectValue)
        #expect(Set(o.keys) == ["anomalies", "scored", "threshold"])
        #expect(o["scored"] == 2 && o["threshold"] == 0)
        let first = try #require(o["anomalies"]?.arrayValue?.first?.objectValue)
        #expect(Set(first.keys) == ["id", "content", "metadata", "scope", "tier", "category", "score"])
    }

    @Test func anEventCarriesItsTypeAndTheScoreOnlyWhenItHasOne() throws {
        let e = try engine()
        let m = try e.get(id: try e.store(NewMemory("x")).id)
        let stored = Answer.event(MemoryEvent(kind: .stored, memoryID: m.id, at: m.createdAt, memory: m))
        #expect(stored == ["type": "memory.stored", "memory_id": .string(m.id), "at": .string(m.createdAt.iso8601), "memory": m.publicJSON])
        let anomaly = Answer.event(MemoryEvent(kind: .anomalyDetected, memoryID: m.id, at: m.createdAt, memory: nil, score: 0.75))
        #expect(anomaly.objectValue?["score"] == 0.75 && anomaly.objectValue?["memory"] == .null)
    }

    @Test func anErrorIsItsStatusNameCodeAndMessage() {
        let answer = Answer.error(StrataError(.notFound, "no memory m-1"))
        #expect(Wire.text(answer) == #"{"error":{"code":-2,"message":"no memory m-1","status":"STRATA_ERR_NOT_FOUND"}}"#)
    }

    @Test func configurationTextMalformedIsInvalidJSONAndEmptyIsTheDefault() throws {
        #expect { try EngineConfiguration(text: "{\"store\": ", source: "strata.json") } throws: {
            ($0 as! StrataError).code == .invalidJSON && ($0 as! StrataError).message.contains("strata.json")
        }
        #expect(try EngineConfiguration(text: "  ") == .embeddedDefault)
    }
}
