import StrataBackends
import StrataCore
import StrataEngine
import StrataTesting
import Synchronization
import Testing

/// Makes the built-in backends, with an in-memory store that has no keyword search (so the
/// engine keeps its own keyword index) or one that keeps no snapshots.
struct StoreVariant: BackendProvider {
    enum Kind { case noKeywordSearch, noSnapshots }
    let kind: Kind

    func makeVectorStore(_ choice: BackendChoice, dimension: Int, path: String) throws(StrataError) -> any VectorStore {
        let store = try InMemoryVectorStore(dimension: dimension, keywordSearch: kind != .noKeywordSearch)
        return kind == .noSnapshots ? PlainStore(store) : store
    }
    func makeEmbedder(_ choice: BackendChoice, path: String) throws(StrataError) -> any Embedder { try BuiltinBackends().makeEmbedder(choice, path: path) }
    func makeSummarizer(_ choice: BackendChoice, path: String) throws(StrataError) -> any Summarizer { try BuiltinBackends().makeSummarizer(choice, path: path) }
    func makeMemoryKernel(_ choice: BackendChoice, path: String) throws(StrataError) -> any MemoryKernel { try BuiltinBackends().makeMemoryKernel(choice, path: path) }
}

/// A store with only the required methods: no snapshots, no history, no keyword search.
final class PlainStore: VectorStore {
    let inner: InMemoryVectorStore
    init(_ inner: InMemoryVectorStore) { self.inner = inner }
    var dimension: Int { inner.dimension }
    var metric: Metric { inner.metric }
    var name: String { "plain" }
    func upsert(_ records: [StoredRecord]) throws(StrataError) { try inner.upsert(records) }
    func remove(ids: [String]) throws(StrataError) -> Int { try inner.remove(ids: ids) }
    func get(id: String) throws(StrataError) -> StoredRecord? { try inner.get(id: id) }
    func search(_ query: [Float], k: Int, filter: Filter?) throws(StrataError) -> [ScoredRecord] { try inner.search(query, k: k, filter: filter) }
    func scan(filter: Filter?, _ body: (StoredRecord) throws(StrataError) -> Bool) throws(StrataError) { try inner.scan(filter: filter, body) }
    func count() throws(StrataError) -> Int { try inner.count() }
}

@Suite struct EngineSnapshotTests {
    let clock = ManualClock()

    func engine(_ json: JSONValue = [:], backends: any BackendProvider = BuiltinBackends()) throws -> Engine {
        try Engine(configuration: EngineConfiguration(json: json), backends: backends, clock: clock)
    }

    /// Every memory with its vector bits, by id.
    func state(_ e: Engine) throws -> [String: (Memory, [UInt32])] {
        var out: [String: (Memory, [UInt32])] = [:]
        try e.store.scan(filter: nil) { out[$0.memory.id] = ($0.memory, $0.vector.map(\.bitPattern)); return true }
        return out
    }

    func expectSame(_ a: [String: (Memory, [UInt32])], _ b: [String: (Memory, [UInt32])], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.keys.sorted() == b.keys.sorted(), sourceLocation: sourceLocation)
        for (id, (memory, bits)) in a {
            #expect(b[id]?.0 == memory, "\(id)", sourceLocation: sourceLocation)
            #expect(b[id]?.1 == bits, "the vector of \(id)", sourceLocation: sourceLocation)
        }
    }

    @Test func aRollbackBringsBackTheExactStateAndRecordsEveryChangeInHistory() throws {
        let e = try engine()
        let tea = try e.store(NewMemory("Alice prefers green tea", metadata: ["user": "alice"], importance: 0.7)).id
        let bus = try e.store(NewMemory("The bus to the office leaves at 8:10", scope: try ScopePath("org/a"))).id
        let keys = try e.store(NewMemory("Spare keys are under the blue flowerpot", ttlSeconds: 86_400)).id
        _ = try e.recall(RecallQuery("green tea"))  // access counts are part of the state
        let before = try state(e)
        clock.advance(hours: 1)
        let info = try e.snapshot(name: "morning")
        #expect(info == SnapshotInfo(name: "morning", createdAt: clock.now(), memories: 3))

        clock.advance(hours: 1)
        try e.update(MemoryUpdate(id: tea, content: "Alice switched to coffee", metadata: ["user": "alice", "v": 2]))
        try e.forget(id: bus)
        let added = try e.store(NewMemory("A memory stored after the snapshot")).id
        _ = try e.recall(RecallQuery("spare keys flowerpot"))
        #expect(try e.get(id: keys).accessCount == before[keys]!.0.accessCount + 1)

        let events = Mutex<[(String, String)]>([])
        let token = e.subscribe { event in events.withLock { $0.append((event.kind.rawValue, event.memoryID)) } }
        defer { e.unsubscribe(token) }
        clock.advance(hours: 1)
        let report = try e.rollback(name: "morning")
        expectSame(before, try state(e))
        #expect(report.added == [bus] && report.removed == [added] && report.changed.sorted() == [keys, tea].sorted())
        #expect(events.withLock { $0 }.map(\.0) == Array(repeating: "memory.rolled_back", count: 4))
        #expect(Set(events.withLock { $0 }.map(\.1)) == [tea, bus, keys, added])

        // History is the audit log: nothing taken back, one row per change added.
        #expect(try e.history(id: tea).map(\.event) == [.add, .update, .update])
        #expect(try e.history(id: bus).map(\.event) == [.add, .delete, .add])
        #expect(try e.history(id: added).map(\.event) == [.add, .delete])
        let last = try #require(try e.history(id: tea).last)
        #expect(last.reason == "rollback to snapshot morning" && last.at == clock.now())
        #expect(last.old?.content == "Alice switched to coffee" && last.new?.content == "Alice prefers green tea")
        #expect(try e.recall(RecallQuery("green tea")).first?.memory.id == tea)
        #expect(try e.stats().operations["rollback"] == 1)
    }

    @Test func theEnginesOwnKeywordIndexFollowsARollback() throws {
        let e = try engine(backends: StoreVariant(kind: .noKeywordSearch))
        #expect(!e.store.providesKeywordSearch)
        let id = try e.store(NewMemory("the quarterly report uses the alpha template")).id
        try e.snapshot(name: "v1")
        try e.update(MemoryUpdate(id: id, content: "the quarterly report uses the omega layout"))
        #expect(try e.recall(RecallQuery("omega")).first?.scores.keyword != nil)
        try e.rollback(name: "v1")
        #expect(try e.recall(RecallQuery("omega")).first?.scores.keyword == nil, "the rolled-back words are gone from the index")
        #expect(try e.recall(RecallQuery("alpha")).first?.scores.keyword != nil, "the snapshot's words are back")
    }

    /// The engine's own index asks for the top k and widens while the filter refuses: a filter
    /// that keeps one memory of 60, ranked last by keyword, still finds it.
    @Test func theEnginesOwnKeywordIndexWidensUntilTheFilterLetsKThrough() throws {
        let e = try engine(backends: StoreVariant(kind: .noKeywordSearch))
        // More "widget"s, shorter text: memory 0 ranks last.
        for i in 0..<60 {
            let words = Array(repeating: "widget", count: 1 + i % 5) + ["item\(i)"] + (i == 0 ? ["padding", "words"] : [])
            _ = try e.store(NewMemory(words.joined(separator: " "), metadata: ["n": .number(Double(i))]))
        }
        let filter = try Filter.parse(["n": ["$in": [0, 1]]], prefix: ["metadata"])
        let hits = try e.recall(RecallQuery("widget", k: 2, filter: filter))
        #expect(Set(hits.map { $0.memory.metadata["n"] }) == [.number(0), .number(1)])
        #expect(hits.allSatisfy { $0.scores.keyword != nil }, "both found by keyword")
    }

    @Test func namesAreCheckedAndAStoreWithoutSnapshotsIsNamed() throws {
        let e = try engine()
        for bad in ["", "a b", "x/y", String(repeating: "n", count: 65)] {
            #expect(throws: StrataError.self) { try e.snapshot(name: bad) }
            #expect((try? e.rollback(name: bad)) == nil)
        }
        try e.snapshot(name: "one")
        #expect { try e.snapshot(name: "one") } throws: { ($0 as! StrataError).code == .conflict }
        #expect { try e.rollback(name: "two") } throws: { error in
            let e = error as! StrataError
            return e.code == .notFound && e.message.contains("\"two\"") && e.message.contains("one")
        }
        #expect { try e.snapshot(name: "bad name") } throws: { error in
            let e = error as! StrataError
            return e.code == .invalidArgument && e.message.contains("bad name")
        }
        try e.deleteSnapshot(name: "one")
        #expect(try e.snapshots().isEmpty)

        let plain = try engine(backends: StoreVariant(kind: .noSnapshots))
        #expect { try plain.snapshot(name: "x") } throws: { error in
            let e = error as! StrataError
            return e.code == .unsupported && e.message.contains("plain")
        }
    }

    @Test func aTieredEngineSnapshotsAndRollsBackEveryTiersStore() throws {
        let e = try engine(["tiers": [["name": "working", "store": ["backend": "memory"]], ["name": "episodic"]], "dedupe": ["enabled": false]])
        let hot = try e.store(NewMemory("a passing thought", tier: "working")).id
        let kept = try e.store(NewMemory("a lasting episode", tier: "episodic")).id
        let before = try state(e)
        #expect(try e.snapshot(name: "both").memories == 2)
        try e.forget(id: hot)
        try e.update(MemoryUpdate(id: kept, content: "a changed episode"))
        let later = try e.store(NewMemory("stored later", tier: "working")).id
        let report = try e.rollback(name: "both")
        expectSame(before, try state(e))
        #expect(report.added == [hot] && report.changed == [kept] && report.removed == [later])
        #expect(try e.history(id: hot).map(\.event) == [.add, .delete, .add])
        #expect(try e.snapshots().map(\.memories) == [2])
    }
}
