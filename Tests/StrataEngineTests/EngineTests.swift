import StrataCore
import StrataEngine
import StrataTesting
import Synchronization
import Testing

@Suite struct EngineStoreRecallTests {
    let clock = ManualClock()

    func engine(_ json: JSONValue = [:]) throws -> Engine {
        try Engine(configuration: EngineConfiguration(json: json), clock: clock)
    }

    @Test func recallPutsTheRelevantMemoryFirstAndReportsEveryPart() throws {
        let e = try engine()
        let tea = try e.store(NewMemory("Alice prefers green tea in the morning", metadata: ["user": "alice"])).id
        try e.store(NewMemory("Bob deploys the service on Tuesdays"))
        try e.store(NewMemory("The cafeteria closes at three"))
        let hits = try e.recall(RecallQuery("what tea does Alice drink"))
        #expect(hits.first?.memory.id == tea)
        let p = try #require(hits.first?.scores)
        #expect(p.vector != nil && p.keyword != nil)
        #expect(p.fused == 1, "first in both lists")
        #expect(p.importance == 0.5 && p.recency == 1 && p.access == 0)
        #expect(hits.count == 3 || hits.count == 2)
    }

    @Test func recallBumpsAccessAndRecencyDecaysWithTime() throws {
        let e = try engine()
        let id = try e.store(NewMemory("release checklist for the mobile app")).id
        _ = try e.recall(RecallQuery("release checklist"))
        #expect(try e.get(id: id).accessCount == 1)
        clock.advance(hours: 168)
        let hit = try #require(try e.recall(RecallQuery("release checklist")).first)
        #expect(abs(hit.scores.recency - 0.5) < 1e-9, "one half-life since the last access")
        #expect(hit.scores.access > 0)
    }

    @Test func accessTrackingCanBeTurnedOff() throws {
        let e = try engine(["recall": ["track_access": false]])
        let id = try e.store(NewMemory("quiet memory")).id
        _ = try e.recall(RecallQuery("quiet"))
        #expect(try e.get(id: id).accessCount == 0)
    }

    @Test func nearDuplicatesInOneScopeUpdateInsteadOfCopying() throws {
        let e = try engine()
        let first = try e.store(NewMemory("The standup is at 9:30 every weekday", metadata: ["a": 1], importance: 0.3))
        let again = try e.store(NewMemory("The standup is at 9:30 every weekday", metadata: ["b": 2], importance: 0.8))
        #expect(again.id == first.id && again.deduplicated && !first.deduplicated)
        let m = try e.get(id: first.id)
        #expect(m.metadata == ["a": 1, "b": 2], "metadata merged")
        #expect(m.importance == 0.8, "importance raised")
        let h = try e.history(id: first.id)
        #expect(h.map(\.event) == [.add, .update])
        #expect(h[1].reason.contains("deduplicated"))
        let other = try e.store(NewMemory("The standup is at 9:30 every weekday", scope: try ScopePath("team/b")))
        #expect(other.id != first.id, "another scope keeps its own copy")
        #expect(try e.stats().memories == 2)
    }

    @Test func duplicatesInsideOneBatchCollapse() throws {
        let e = try engine()
        let out = try e.store([NewMemory("same words here"), NewMemory("same words here"), NewMemory("different")])
        #expect(out[0].id == out[1].id && out[1].deduplicated)
        #expect(try e.stats().memories == 2)
    }

    @Test func dedupeCanBeDisabled() throws {
        let e = try engine(["dedupe": ["enabled": false]])
        try e.store(NewMemory("twice"))
        try e.store(NewMemory("twice"))
        #expect(try e.stats().memories == 2)
    }

    @Test func metadataFiltersAndCategoriesRestrictRecall() throws {
        let e = try engine()
        try e.store(NewMemory("order pizza for the team", metadata: ["user": "a", "n": 1], category: "food"))
        let b = try e.store(NewMemory("order pizza for the board", metadata: ["user": "b", "n": 5], category: "food")).id
        try e.store(NewMemory("order pizza supplies", metadata: ["user": "b", "n": 9], category: "ops"))
        let hits = try e.recall(RecallQuery("pizza", filter: try Filter.parse(["user": "b", "n": ["$lt": 6]], prefix: ["metadata"])))
        #expect(hits.map(\.memory.id) == [b])
        #expect(try e.recall(RecallQuery("pizza", category: "ops")).count == 1)
    }

    @Test func scopesFollowLocalSharedGlobal() throws {
        let e = try engine()
        func put(_ text: String, _ scope: String, _ v: Visibility) throws -> String {
            try e.store(NewMemory(text, scope: try ScopePath(scope), visibility: v)).id
        }
        let local = try put("alpha local note", "org/planner", .local)
        let shared = try put("alpha shared plan", "org/planner", .shared)
        let global = try put("alpha global rule", "org/other", .global)
        func sees(_ node: String) throws -> Set<String> {
            Set(try e.recall(RecallQuery("alpha", k: 50, scope: try ScopePath(node))).map(\.memory.id))
        }
        #expect(try sees("org/planner") == [local, shared, global])
        #expect(try sees("org") == [shared, global], "parent sees SHARED, not LOCAL")
        #expect(try sees("org/planner/child") == [shared, global], "child sees SHARED")
        #expect(try sees("org/sibling") == [global])
        #expect(try sees("org/planner/child/grandchild") == [global], "SHARED reaches one level only")
        #expect(Set(try e.recall(RecallQuery("alpha", k: 50)).map(\.memory.id)) == [local, shared, global], "no scope: everything")
    }

    @Test func expiredMemoriesAreNotRecalled() throws {
        let e = try engine()
        try e.store(NewMemory("temporary door code 4711", ttlSeconds: 3600))
        #expect(try e.recall(RecallQuery("door code")).count == 1)
        clock.advance(hours: 2)
        #expect(try e.recall(RecallQuery("door code")).isEmpty)
    }

    @Test func storeAtSetsTheRealAge() throws {
        let e = try engine()
        let old = Timestamp(iso8601: "2025-06-01T12:00:00Z")!
        let id = try e.store(NewMemory("an old memory", at: old)).id
        #expect(try e.get(id: id).createdAt == old)
    }
}

@Suite struct EngineChangeTests {
    let clock = ManualClock()

    @Test func updateReEmbedsAndHistoryKeepsOldAndNew() throws {
        let e = try Engine(clock: clock)
        let id = try e.store(NewMemory("the meeting is on monday")).id
        clock.advance(hours: 1)
        let m = try e.update(MemoryUpdate(id: id, content: "the offsite moved to friday", importance: 0.9))
        #expect(m.importance == 0.9 && m.updatedAt > m.createdAt)
        #expect(try e.recall(RecallQuery("offsite friday")).first?.memory.id == id)
        let h = try e.history(id: id)
        #expect(h.map(\.event) == [.add, .update])
        #expect(h[1].old?.content == "the meeting is on monday" && h[1].new?.content == "the offsite moved to friday")
    }

    @Test func forgetByIdAndByFilterKeepHistory() throws {
        let e = try Engine(clock: clock)
        let a = try e.store(NewMemory("one", metadata: ["tmp": true])).id
        let b = try e.store(NewMemory("two", metadata: ["tmp": true])).id
        let c = try e.store(NewMemory("three")).id
        try e.forget(id: c)
        #expect(throws: StrataError.self) { try e.get(id: c) }
        #expect(try e.history(id: c).last?.event == .delete)
        let gone = try e.forget(filter: try Filter.parse(["tmp": true], prefix: ["metadata"]))
        #expect(Set(gone) == [a, b])
        #expect(try e.stats().memories == 0)
        #expect(try e.forget(filter: try Filter.parse(["tmp": true], prefix: ["metadata"])).isEmpty)
    }

    @Test func unknownIdsAreNotFoundNamingTheId() throws {
        let e = try Engine()
        for call in [{ _ = try e.get(id: "m-nope") }, { try e.forget(id: "m-nope") }, { _ = try e.history(id: "m-nope") },
                     { _ = try e.update(MemoryUpdate(id: "m-nope", content: "x")) }] as [() throws -> Void] {
            #expect { try call() } throws: { ($0 as! StrataError).code == .notFound && ($0 as! StrataError).message.contains("m-nope") }
        }
    }

    @Test func badInputIsRefusedAndLosesNothing() throws {
        let e = try Engine(configuration: EngineConfiguration(json: ["embedder": ["backend": "hashing", "options": ["dimension": 8]]]))
        try e.store(NewMemory("kept"))
        let bad: [(String, () throws -> Void, StrataError.Code)] = [
            ("importance", { _ = try e.store([NewMemory("x"), NewMemory("y", importance: 2)]) }, .invalidArgument),
            ("nan", { _ = try e.store([NewMemory("x"), NewMemory("y")], vectors: [[Float](repeating: 1, count: 8), [1, 1, 1, .nan, 1, 1, 1, 1]]) }, .invalidVector),
            ("dimension", { _ = try e.store([NewMemory("x")], vectors: [[1, 2, 3]]) }, .dimension),
            ("count", { _ = try e.store([NewMemory("x")], vectors: []) }, .invalidArgument),
            ("k", { _ = try e.recall(RecallQuery("x", k: 0)) }, .invalidArgument),
            ("query vector", { _ = try e.recall(RecallQuery(vector: [1, 2])) }, .dimension),
        ]
        for (name, call, code) in bad {
            #expect("\(name)", performing: call, throws: { ($0 as? StrataError)?.code == code })
        }
        #expect(try e.stats().memories == 1)
        #expect(try e.recall(RecallQuery("kept")).count == 1)
    }

    @Test func eventsReachCallbacksAndStreams() async throws {
        let e = try Engine(clock: clock)
        let seen = Mutex<[String]>([])
        let token = e.subscribe { ev in seen.withLock { $0.append(ev.kind.rawValue) } }
        let stream = e.events()
        let id = try e.store(NewMemory("event source")).id
        try e.store(NewMemory("event source"))
        try e.update(MemoryUpdate(id: id, importance: 0.1))
        try e.forget(id: id)
        #expect(e.unsubscribe(token))
        try e.store(NewMemory("after unsubscribe"))
        #expect(seen.withLock { $0 } == ["memory.stored", "memory.deduplicated", "memory.updated", "memory.forgotten"])
        var kinds: [MemoryEvent.Kind] = []
        for await ev in stream {
            kinds.append(ev.kind)
            if kinds.count == 5 { break }
        }
        #expect(kinds == [.stored, .deduplicated, .updated, .forgotten, .stored])
    }

    @Test func manyThreadsStoreAndRecallAtOnce() async throws {
        let e = try Engine()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for t in 0..<8 {
                group.addTask {
                    for i in 0..<25 {
                        try e.store(NewMemory("task \(t) item \(i) unique-\(t)-\(i)"))
                        _ = try e.recall(RecallQuery("item \(i)", k: 3))
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try e.stats().memories == 200)
    }

    @Test func summarizeUsesTheConfiguredSummarizer() throws {
        let e = try Engine()
        let a = try e.store(NewMemory("The launch moves to March. Marketing is ready.")).id
        let b = try e.store(NewMemory("The March launch needs a demo.")).id
        let s = try e.summarize(ids: [a, b], maxCharacters: 60)
        #expect(!s.isEmpty && s.count <= 60 && s.contains("launch"))
    }
}

@Suite struct ConfigurationTests {
    @Test(arguments: [
        (["stroe": [:]] as JSONValue, "config.stroe") as (JSONValue, String),
        (["recall": ["weights": ["recency": -1]]], "config.recall.weights.recency"),
        (["recall": ["kk": 3]], "config.recall.kk"),
        (["store": ["backend": "memory", "option": [:]]], "config.store.option"),
        (["dedupe": ["threshold": 1.5]], "config.dedupe.threshold"),
        (["defaults": ["visibility": "public"]], "config.defaults.visibility"),
        (["store": "memory"], "config.store"),
    ] as [(JSONValue, String)])
    func badConfigurationNamesTheKey(json: JSONValue, key: String) {
        #expect {
            _ = try Engine(configuration: EngineConfiguration(json: json))
        } throws: { error in
            let e = error as! StrataError
            return e.code == .invalidConfig && e.message.contains(key)
        }
    }

    @Test func writtenOutConfigurationReadsBackTheSame() throws {
        var c = EngineConfiguration()
        c.recall.k = 7
        c.dedupe.threshold = 0.9
        c.embedder = BackendChoice(backend: "hashing", options: ["dimension": 64])
        #expect(try EngineConfiguration(json: c.json) == c)
    }
}

@Suite struct EngineReentrancyTests {
    @Test func handlersMayCallEveryVerbOfTheSameEngine() throws {
        let e = try Engine()
        let calls = Mutex<[String]>([])
        let token = Mutex<UInt64>(0)
        let t = e.subscribe { ev in
            guard ev.kind == .stored, ev.memory?.content == "trigger" else { return }
            do {
                _ = try e.recall(RecallQuery("trigger"))
                _ = try e.history(id: ev.memoryID)
                _ = try e.stats()
                try e.store(NewMemory("written from inside a handler"))
                calls.withLock { $0.append("ok") }
            } catch {
                calls.withLock { $0.append("\(error)") }
            }
            e.unsubscribe(token.withLock { $0 })
        }
        token.withLock { $0 = t }
        try e.store(NewMemory("trigger"))
        #expect(calls.withLock { $0 } == ["ok"])
        #expect(try e.stats().memories == 2)
    }

    @Test func differentNumbersAreDifferentFactsEvenWhenVectorsAreClose() throws {
        let e = try Engine()
        let a = try e.store(NewMemory("thread 7 item 13 wordwordwordwordwordwordwordword")).id
        let b = try e.store(NewMemory("thread 7 item 19 wordwordwordwordwordwordwordword")).id
        #expect(a != b)
        #expect(try e.get(id: a).content.contains("13"))
    }
}

/// Recall with no query, read-only recall, and memories stored under the caller's ids.
@Suite struct EngineRecallModesAndCallerIDTests {
    let clock = ManualClock()

    func engine(_ json: JSONValue = [:]) throws -> Engine {
        try Engine(configuration: EngineConfiguration(json: json), clock: clock)
    }

    @Test func anEmptyQueryRanksWhatIsInViewByImportanceAndRecency() throws {
        let e = try engine()
        try e.store(NewMemory("an ordinary note", importance: 0.2))
        let key = try e.store(NewMemory("the key fact", importance: 1)).id
        try e.store(NewMemory("a note of team b", scope: ScopePath("team/b"), importance: 0.9))
        let hits = try e.recall(RecallQuery(""))
        #expect(hits.count == 3 && hits.first?.memory.id == key)
        #expect(hits.allSatisfy { $0.scores.vector == nil && $0.scores.keyword == nil && $0.scores.fused == 0 })
        #expect(try e.recall(RecallQuery("", k: 1, scope: ScopePath("team/b"))).map(\.memory.content) == ["a note of team b"])
        clock.advance(hours: 24 * 30)
        let fresh = try e.store(NewMemory("just now", importance: 0.9)).id
        #expect(try e.recall(RecallQuery("", trackAccess: false)).first?.memory.id == fresh, "recency weighs in")
    }

    @Test func aRecallWithoutTrackAccessChangesNoAccessCount() throws {
        let e = try engine()
        let id = try e.store(NewMemory("release checklist for the mobile app")).id
        let first = try e.recall(RecallQuery("release checklist", trackAccess: false))
        let second = try e.recall(RecallQuery("release checklist", trackAccess: false))
        #expect(first.first?.score == second.first?.score)
        #expect(try e.get(id: id).accessCount == 0)
        _ = try e.recall(RecallQuery("release checklist"))
        #expect(try e.get(id: id).accessCount == 1)
        let untracked = try engine(["recall": ["track_access": false]])
        let other = try untracked.store(NewMemory("release checklist")).id
        _ = try untracked.recall(RecallQuery("release checklist", trackAccess: true))
        #expect(try untracked.get(id: other).accessCount == 1, "the request overrides the configuration")
    }

    @Test func aCallerIDAddsThenReplacesKeepingWhatItLeavesOut() throws {
        let e = try engine()
        var item = NewMemory("Alice likes tea", metadata: ["v": 1], category: "preferences", importance: 0.9)
        item.id = "doc-1"
        let outcome = try e.store(item)
        #expect(outcome.id == "doc-1" && !outcome.deduplicated)
        clock.advance(hours: 1)
        var again = NewMemory("Alice likes coffee now", metadata: ["v": 2])
        again.id = "doc-1"
        try e.store(again)
        let m = try e.get(id: "doc-1")
        #expect(m.content == "Alice likes coffee now" && m.metadata == ["v": 2])
        #expect(m.category == "preferences" && m.importance == 0.9, "left out: kept")
        #expect(m.createdAt < m.updatedAt)
        #expect(try e.history(id: "doc-1").map(\.event) == [.add, .update])
        #expect(try e.stats().memories == 1)
        #expect(try e.recall(RecallQuery("coffee")).first?.memory.id == "doc-1")
    }

    @Test func callerIDsAreNeverDeduplicatedAndTheLaterOfABatchWins() throws {
        let e = try engine()
        var a = NewMemory("the very same words"), b = NewMemory("the very same words")
        a.id = "a"
        b.id = "b"
        #expect(try e.store([a, b]).map(\.id) == ["a", "b"])
        var c1 = NewMemory("first version"), c2 = NewMemory("second version")
        c1.id = "c"
        c2.id = "c"
        #expect(try e.store([c1, c2]).map(\.id) == ["c", "c"])
        #expect(try e.get(id: "c").content == "second version")
        #expect(try e.history(id: "c").map(\.event) == [.add, .update])
    }

    @Test func badCallerIDsAreRefusedNamedAndStoreNothing() throws {
        let e = try engine()
        for (id, words) in [("", "1 to 256 bytes"), (String(repeating: "x", count: 257), "1 to 256 bytes"),
                            ("a\u{7}b", "control character"), ("strata:space", "starts with \"strata:\"")] {
            var item = NewMemory("x")
            item.id = id
            #expect { try e.store([NewMemory("fine"), item]) } throws: {
                ($0 as! StrataError).code == .invalidArgument && ($0 as! StrataError).message.contains("item 1: ")
                    && ($0 as! StrataError).message.contains(words)
            }
        }
        #expect(try e.stats().memories == 0)
    }
}
