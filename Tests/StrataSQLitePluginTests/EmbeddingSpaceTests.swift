#if canImport(Glibc)
import Glibc
#endif
import StrataBackends
import StrataCore
import StrataEngine
import StrataPlugins
@testable import StrataSQLitePlugin
import StrataTesting
import Synchronization
import Testing

/// An embedder of another space with the hashing embedder's dimension: another model id, and
/// (with `failAfter`) one that fails from its nth call on, as a crash in the middle would.
final class OtherEmbedder: Embedder, Sendable {
    let inner: HashingEmbedder
    let modelID: String
    let calls = Mutex(0)
    let failAfter: Int?
    var dimension: Int { inner.dimension }

    init(dimension: Int, modelID: String, failAfter: Int? = nil) throws {
        inner = try HashingEmbedder(dimension: dimension)
        self.modelID = modelID
        self.failAfter = failAfter
    }

    func embed(_ texts: [String]) throws(StrataError) -> [[Float]] {
        let n = calls.withLock { c in
            c += 1
            return c
        }
        if let failAfter, n > failAfter { throw StrataError(.backend, "embedder gone after \(failAfter) calls") }
        return try inner.embed(texts)
    }
}

/// The plugin backends, with `embedder` in place of the configured one.
struct EmbedderSwap: BackendProvider {
    let embedder: any Embedder
    let plugins = PluginBackends()
    func makeVectorStore(_ choice: BackendChoice, dimension: Int, path: String) throws(StrataError) -> any VectorStore {
        try plugins.makeVectorStore(choice, dimension: dimension, path: path)
    }
    func makeEmbedder(_ choice: BackendChoice, path: String) throws(StrataError) -> any Embedder { embedder }
    func makeSummarizer(_ choice: BackendChoice, path: String) throws(StrataError) -> any Summarizer {
        try plugins.makeSummarizer(choice, path: path)
    }
    func makeMemoryKernel(_ choice: BackendChoice, path: String) throws(StrataError) -> any MemoryKernel {
        try plugins.makeMemoryKernel(choice, path: path)
    }
}

private func configuration(_ path: String, embedder: String = "hashing", dimension: Int = 64) throws -> EngineConfiguration {
    try EngineConfiguration(json: [
        "store": ["backend": "sqlite", "plugin": "sqlite", "options": ["path": .string(path)]],
        "embedder": ["backend": .string(embedder), "options": ["dimension": .number(Double(dimension))]],
        "dedupe": ["enabled": false],
    ])
}

private func engine(_ path: String, dimension: Int = 64) throws -> Engine {
    try Engine(configuration: configuration(path, dimension: dimension), backends: PluginBackends())
}

private func error(_ body: () throws -> Void) -> StrataError? {
    do { try body() } catch let e as StrataError { return e } catch { return nil }
    return nil
}

private func fill(_ e: Engine, _ count: Int) throws -> [String] {
    try e.store((0..<count).map { NewMemory("note \($0): the roadmap item \($0 * 7 % 31) is due on day \($0 % 30)") }).map(\.id)
}

@Suite struct EmbeddingSpaceTests {
    @Test func aStoreRecordsItsSpaceOnTheFirstWriteAndRefusesAnotherNamingBoth() throws {
        let path = scratchFolder("space-mismatch") + "/s.db"
        do {
            let e = try engine(path)
            _ = try fill(e, 5)
            #expect(e.space == EmbeddingSpace(embedder: "hashing", modelID: "hashing-v1-64", dimension: 64, normalized: true))
        }
        let before = try WholeFile.read(path)
        let other = try OtherEmbedder(dimension: 64, modelID: "other-model-v2")
        let e = error { _ = try Engine(configuration: configuration(path, embedder: "other"), backends: EmbedderSwap(embedder: other)) }
        #expect(e?.code == .invalidConfig)
        #expect(e.map { $0.message.contains("hashing (hashing-v1-64, 64 dimensions, unit length)") && $0.message.contains("other (other-model-v2, 64 dimensions)") } == true,
                "\(e?.message ?? "no error")")
        #expect(try WholeFile.read(path) == before, "nothing written")
        #expect(try engine(path).recall(RecallQuery("roadmap")).count == 5, "the right embedder still opens it")
    }

    @Test func anotherDimensionNamesTheStoredSpaceTheConfiguredOneAndTheMoveAndChangesNothing() throws {
        let path = scratchFolder("space-dimension") + "/s.db"
        _ = try fill(try engine(path), 3)
        let before = try WholeFile.read(path)
        let e = error { _ = try engine(path, dimension: 96) }
        #expect(e?.code == .invalidConfig)
        let message = e?.message ?? "no error"
        #expect(message.contains("holds vectors of the embedding space hashing (hashing-v1-64, 64 dimensions, unit length)"), "\(message)")
        #expect(message.contains("the configured embedder is hashing (hashing-v1-96, 96 dimensions)"), "\(message)")
        #expect(message.contains(#"`strata reembed --embedder hashing --embedder-options '{"dimension":96}'`"#), "\(message)")
        #expect(try WholeFile.read(path) == before, "nothing written")
        #expect(try engine(path).stats().memories == 3, "the right embedder still opens it")
    }

    @Test func anOldStoreOfAnotherDimensionIsExplainedAndOtherRefusalsAreLeftAsTheyAre() throws {
        let folder = scratchFolder("space-old-dimension")
        do {
            // As a store written before spaces were recorded: records, no space row.
            let store = try SQLiteVectorStore(options: ["path": .string(folder + "/old.db"), "dimension": 64])
            let m = Memory(id: "m-old", content: "an old memory", scope: ScopePath.root, createdAt: Timestamp(seconds: 0), model: "hashing-v1-64")
            try store.commit(StoreChange(upserts: [StoredRecord(memory: m, vector: [Float](repeating: 0.125, count: 64))]))
        }
        let old = error { _ = try engine(folder + "/old.db", dimension: 96) }
        #expect(old?.code == .invalidConfig)
        #expect(old.map { $0.message.contains("holds dimension 64") && $0.message.contains("records no embedding space") && $0.message.contains("hashing-v1-96") } == true,
                "\(old?.message ?? "no error")")
        // A refusal that is not about the dimension is not dressed up as one.
        _ = try fill(try engine(folder + "/s.db"), 1)
        let typo = error {
            _ = try Engine(configuration: try EngineConfiguration(json: [
                "store": ["backend": "sqlite", "plugin": "sqlite", "options": ["path": .string(folder + "/s.db"), "synchronus": "full"]],
                "embedder": ["backend": "hashing", "options": ["dimension": 64]],
            ]), backends: PluginBackends())
        }
        #expect(typo?.code == .invalidConfig)
        #expect(typo.map { $0.message.contains("synchronus") && !$0.message.contains("embedding space") } == true, "\(typo?.message ?? "no error")")
    }

    @Test func dimensionAsStoredOpensTheFileWithItsOwnDimensionForReadingOnly() throws {
        let path = scratchFolder("space-as-stored") + "/s.db"
        _ = try fill(try engine(path), 2)
        let store = try SQLiteVectorStore(options: ["path": .string(path), "dimension": 7, "dimension_as_stored": true])
        #expect(store.dimension == 64 && store.readOnly)
        #expect(try store.count() == 2 && store.history(id: EmbeddingSpace.historyID).count == 1)
        #expect(error { try store.commit(StoreChange(removals: ["m-x"])) }?.code == .unsupported)
        let missing = scratchFolder("space-as-stored-missing") + "/none.db"
        #expect(error { _ = try SQLiteVectorStore(options: ["path": .string(missing), "dimension": 7, "dimension_as_stored": true]) }?.code == .io)
        #expect(access(missing, F_OK) != 0, "nothing created")
    }

    @Test func statsCarryTheSpace() throws {
        let e = try engine(scratchFolder("space-stats") + "/s.db")
        #expect(try e.stats().space == EmbeddingSpace(embedder: "hashing", modelID: "hashing-v1-64", dimension: 64))
        _ = try fill(e, 1)
        #expect(try e.stats().space.normalized == true)
        #expect(try e.stats().json.objectValue?["space"] == e.space.json)
    }

    @Test func everyTierStoreRecordsTheSpaceAndATierFileOfAnotherSpaceIsRefusedByName() throws {
        let folder = scratchFolder("space-tiers")
        func tiered(_ cold: String, dimension: Int = 64, embedder: String = "hashing") throws -> EngineConfiguration {
            try EngineConfiguration(json: [
                "store": ["backend": "sqlite", "plugin": "sqlite", "options": ["path": .string(folder + "/main.db")]],
                "embedder": ["backend": .string(embedder), "options": ["dimension": .number(Double(dimension))]],
                "tiers": [["name": "hot"], ["name": "cold", "store": ["backend": "sqlite", "plugin": "sqlite", "options": ["path": .string(cold)]]]],
                "dedupe": ["enabled": false],
            ])
        }
        do {
            let e = try Engine(configuration: try tiered(folder + "/cold.db"), backends: PluginBackends())
            _ = try e.store([NewMemory("a hot note", tier: "hot"), NewMemory("a cold note", tier: "cold")])
            let cold = try #require((e.store as? TieredVectorStore)?.tierStores["cold"])
            #expect(try cold.history(id: EmbeddingSpace.historyID).count == 1)
            #expect(try e.store.history(id: EmbeddingSpace.historyID).count == 1)
            _ = try e.store([NewMemory("another cold note", tier: "cold")])
            #expect(try cold.history(id: EmbeddingSpace.historyID).count == 1, "recorded once")
        }
        // A cold file another embedder of the same dimension filled.
        do {
            let other = try OtherEmbedder(dimension: 64, modelID: "other-model-v2")
            let e = try Engine(configuration: try configuration(folder + "/other-cold.db", embedder: "other"), backends: EmbedderSwap(embedder: other))
            _ = try fill(e, 2)
        }
        let before = try WholeFile.read(folder + "/main.db")
        let refused = error { _ = try Engine(configuration: try tiered(folder + "/other-cold.db"), backends: PluginBackends()) }
        #expect(refused?.code == .invalidConfig)
        #expect(refused.map { $0.message.contains("(the store of tier \"cold\") holds vectors of the embedding space other (other-model-v2, 64 dimensions") } == true,
                "\(refused?.message ?? "no error")")
        #expect(try WholeFile.read(folder + "/main.db") == before)
        // A cold file of another dimension: refused by the store, still named by its space.
        do { _ = try fill(try engine(folder + "/cold-32.db", dimension: 32), 1) }
        let other = error { _ = try Engine(configuration: try tiered(folder + "/cold-32.db"), backends: PluginBackends()) }
        #expect(other.map { $0.message.contains("hashing (hashing-v1-32, 32 dimensions, unit length)") && $0.message.contains("config.tiers[1].store") } == true,
                "\(other?.message ?? "no error")")
    }

    @Test func aTieredReembedThatFailsHalfwayIsResumedWithEveryTierInTheNewSpace() throws {
        let folder = scratchFolder("reembed-tiers")
        func tiered(_ prefix: String, embedder: String) throws -> EngineConfiguration {
            try EngineConfiguration(json: [
                "store": ["backend": "sqlite", "plugin": "sqlite", "options": ["path": .string("\(folder)/\(prefix)-main.db")]],
                "embedder": ["backend": .string(embedder), "options": ["dimension": 64]],
                "tiers": [["name": "hot"], ["name": "cold", "store": ["backend": "sqlite", "plugin": "sqlite", "options": ["path": .string("\(folder)/\(prefix)-cold.db")]]]],
                "dedupe": ["enabled": false],
            ])
        }
        let old = try Engine(configuration: try tiered("old", embedder: "hashing"), backends: PluginBackends())
        _ = try old.store((0..<60).map { NewMemory("note \($0) about the roadmap", tier: $0 % 3 == 0 ? "cold" : "hot") })
        do {
            let failing = try OtherEmbedder(dimension: 64, modelID: "other-model-v2", failAfter: 2)
            let new = try Engine(configuration: try tiered("new", embedder: "other"), backends: EmbedderSwap(embedder: failing))
            #expect(error { _ = try old.reembed(into: new, batchSize: 10) }?.code == .backend)
            #expect(try new.store.count() == 20)
        }
        let working = try OtherEmbedder(dimension: 64, modelID: "other-model-v2")
        let new = try Engine(configuration: try tiered("new", embedder: "other"), backends: EmbedderSwap(embedder: working))
        let report = try old.reembed(into: new, batchSize: 10)
        #expect(report.embedded == 40 && report.memories == 60)
        let tiers = try #require(new.store as? TieredVectorStore)
        #expect(try tiers.main.count() == 40 && tiers.tierStores["cold"]!.count() == 20)
        for s in [tiers.main, tiers.tierStores["cold"]!] {
            let rows = try s.history(id: EmbeddingSpace.historyID)
            #expect(rows.count == 1 && rows[0].reason.contains("other-model-v2"))
            try s.scan(filter: nil) { (r: StoredRecord) throws(StrataError) -> Bool in
                #expect(r.memory.model == "other-model-v2")
                return true
            }
        }
    }

    @Test func aStoreWithoutARecordedSpaceAdoptsTheConfiguredOneOnItsFirstWrite() throws {
        let path = scratchFolder("space-adopt") + "/s.db"
        do {
            // As a store written before spaces were recorded: records, no space row.
            let store = try SQLiteVectorStore(options: ["path": .string(path), "dimension": 64])
            let e = try HashingEmbedder(dimension: 64)
            let m = Memory(id: "m-old", content: "an old memory", scope: ScopePath.root, createdAt: Timestamp(seconds: 0), model: e.modelID)
            try store.commit(StoreChange(upserts: [StoredRecord(memory: m, vector: try e.embed([m.content])[0])]))
        }
        let e = try engine(path)
        #expect(try e.store.history(id: EmbeddingSpace.historyID).isEmpty, "opening writes nothing")
        #expect(e.space.normalized == nil)
        _ = try fill(e, 1)
        #expect(try e.store.history(id: EmbeddingSpace.historyID).count == 1)
        let other = try OtherEmbedder(dimension: 64, modelID: "other-model-v2")
        #expect(error { _ = try Engine(configuration: configuration(path, embedder: "other"), backends: EmbedderSwap(embedder: other)) }?.code == .invalidConfig)
    }

    @Test func reembedMovesEveryMemoryWhileRecallAnswersFromTheOldSpace() throws {
        let folder = scratchFolder("reembed")
        let old = try engine(folder + "/old.db")
        let ids = try fill(old, 200)
        try old.update(MemoryUpdate(id: ids[3], content: "Alice prefers a window seat"))
        let query = RecallQuery("roadmap item 12", k: 5)
        let before = try old.recall(query).map { ($0.memory.id, $0.scores.vector) }
        let new = try engine(folder + "/new.db", dimension: 96)
        var checked = false, added: String?
        let report = try old.reembed(into: new, batchSize: 32) { done, total in
            guard !checked else { return }
            checked = true
            // Mid-move: recall answers from the old space, and writes still go to the old store.
            let during = try! old.recall(query).map { ($0.memory.id, $0.scores.vector) }
            // The same 64-dimension vectors: the same cosines (to float rounding; the scan's sum order may differ).
            #expect(during.map(\.0) == before.map(\.0))
            #expect(zip(during, before).allSatisfy { abs(($0.1 ?? -9) - ($1.1 ?? 9)) < 1e-5 }, "\(during) \(before)")
            #expect(old.dimension == 64 && done == 32 && total == 200)
            added = try! old.store(NewMemory("stored while the move ran")).id
            try! old.forget(id: ids[0])
        }
        #expect(report.memories == 200 && report.removed == 1 && report.to.modelID == "hashing-v1-96" && report.to.normalized == true)
        #expect(try new.store.count() == 200)
        #expect(try new.get(id: added!).content == "stored while the move ran")
        #expect(error { _ = try new.get(id: ids[0]) }?.code == .notFound)
        try new.store.scan(filter: nil) { (r: StoredRecord) throws(StrataError) -> Bool in
            #expect(r.vector.count == 96 && r.memory.model == "hashing-v1-96")
            return true
        }
        #expect(try new.history(id: ids[3]).map(\.event) == [.add, .update])
        #expect(try new.recall(RecallQuery("window seat", k: 1)).first?.memory.id == ids[3])
    }

    @Test func aReembedThatFailsHalfwayIsResumedAndEmbedsNothingTwice() throws {
        let folder = scratchFolder("reembed-resume")
        let old = try engine(folder + "/old.db")
        _ = try fill(old, 100)
        let target = try configuration(folder + "/new.db", embedder: "other", dimension: 64)
        do {
            let failing = try OtherEmbedder(dimension: 64, modelID: "other-model-v2", failAfter: 3)
            let new = try Engine(configuration: target, backends: EmbedderSwap(embedder: failing))
            #expect(error { _ = try old.reembed(into: new, batchSize: 10) }?.code == .backend)
            #expect(try new.store.count() == 30, "three whole batches")
        }
        let working = try OtherEmbedder(dimension: 64, modelID: "other-model-v2")
        let new = try Engine(configuration: target, backends: EmbedderSwap(embedder: working))
        let report = try old.reembed(into: new, batchSize: 10)
        #expect(report.embedded == 70 && report.kept >= 30 && report.memories == 100)
        #expect(working.calls.withLock { $0 } == 7)
        #expect(try new.store.count() == 100)
    }
}
