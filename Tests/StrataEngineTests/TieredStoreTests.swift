import StrataBackends
import StrataCore
import StrataEngine
import StrataTesting
import Testing

@Suite struct TieredStoreTests {
    func engine(_ tiers: JSONValue) throws -> Engine {
        try Engine(configuration: EngineConfiguration(json: ["tiers": tiers, "dedupe": ["enabled": false]]))
    }

    @Test func eachTierKeepsItsMemoriesInItsOwnStoreAndRecallSpansThemAll() throws {
        let e = try engine([["name": "working", "store": ["backend": "memory"]], ["name": "episodic"]])
        let tiered = try #require(e.store as? TieredVectorStore)
        let working = try e.store(NewMemory("the kettle is on in the kitchen", tier: "working")).id
        let episodic = try e.store(NewMemory("last week the kettle broke", tier: "episodic")).id
        // A tier the configuration does not list is refused (TrustTests), so every memory is in
        // a tier its rules know: with a store of its own, or the main one.
        #expect(throws: StrataError.self) { try e.store(NewMemory("an unlisted tier", tier: "archive")) }
        #expect(try tiered.tierStores["working"]!.get(id: working) != nil)
        #expect(try tiered.tierStores["working"]!.count() == 1)
        #expect(try tiered.main.get(id: episodic) != nil)
        #expect(try tiered.main.get(id: working) == nil)
        #expect(Set(try e.recall(RecallQuery("kettle")).prefix(2).map(\.memory.id)) == [working, episodic])
        #expect(try e.recall(RecallQuery("kettle", tiers: ["episodic"])).map(\.memory.id) == [episodic])
        #expect(try e.stats().memories == 2)
        try e.forget(id: working)
        #expect(try tiered.tierStores["working"]!.count() == 0)
        #expect(try e.history(id: working).map(\.event) == [.add, .delete])
    }

    @Test func theIndexReportAddsUpEveryTiersStore() throws {
        let main = try InMemoryVectorStore(dimension: 4, index: .exact)
        let hot = try InMemoryVectorStore(dimension: 4, index: VectorIndexSettings(kind: .hnsw, m: 4, efConstruction: 8, compression: .int8))
        let s = try TieredVectorStore(main: main, tiers: ["hot": hot])
        try s.upsert((0..<6).map { i in
            StoredRecord(memory: Memory(id: "m\(i)", content: "", tier: i < 2 ? "hot" : "cold", createdAt: Timestamp(milliseconds: 0)),
                         vector: [1, Float(i), 0, 1])
        })
        let r = try #require(try s.indexReport())
        let parts = [try #require(try main.indexReport()), try #require(try hot.indexReport())]
        #expect(r.rows == 6 && r.kind == .hnsw && r.compression == .int8, "the graph's kind and compression, every row")
        #expect(r.bytes.vectors == 6 * 4 * 4 && r.bytes.codes == parts[1].bytes.codes && r.bytes.graph == parts[1].bytes.graph)
        #expect(r.bytes.total == parts[0].bytes.total + parts[1].bytes.total)
    }

    @Test func aRecordStoredUnderANewTierMovesToThatTiersStore() throws {
        let main = try InMemoryVectorStore(dimension: 4), hot = try InMemoryVectorStore(dimension: 4)
        let s = try TieredVectorStore(main: main, tiers: ["hot": hot])
        var m = Memory(id: "a", content: "a", tier: "hot", createdAt: Timestamp(milliseconds: 0))
        try s.upsert([StoredRecord(memory: m, vector: [1, 0, 0, 0])])
        #expect(try hot.count() == 1 && main.count() == 0)
        m.tier = "cold"
        try s.upsert([StoredRecord(memory: m, vector: [1, 0, 0, 0])])
        #expect(try hot.count() == 0 && main.count() == 1, "moved, not copied")
        #expect(try s.get(id: "a")?.memory.tier == "cold")
    }

    @Test func aCopyLeftByAnInterruptedMoveIsReadFromItsTiersStore() throws {
        let main = try InMemoryVectorStore(dimension: 4), hot = try InMemoryVectorStore(dimension: 4)
        let s = try TieredVectorStore(main: main, tiers: ["hot": hot])
        let t = Timestamp(milliseconds: 0)
        // As if a crash came between writing the new home (main) and removing the old copy (hot).
        try hot.upsert([StoredRecord(memory: Memory(id: "a", content: "old", tier: "hot", createdAt: t), vector: [1, 0, 0, 0])])
        try main.upsert([StoredRecord(memory: Memory(id: "a", content: "new", tier: "cold", createdAt: t), vector: [1, 0, 0, 0])])
        #expect(try s.get(id: "a")?.memory.content == "new")
    }

    @Test func passesTheVectorStoreConformanceSuite() {
        let results = VectorStoreConformance.run {
            try TieredVectorStore(main: InMemoryVectorStore(dimension: VectorStoreConformance.dimension),
                                  tiers: ["working": InMemoryVectorStore(dimension: VectorStoreConformance.dimension),
                                          "other": InMemoryVectorStore(dimension: VectorStoreConformance.dimension)])
        }
        #expect(results.count >= 10, "the conformance suite ran its cases (an empty list passes every loop)")
        for r in results { #expect(r.passed, "\(r.name): \(r.failure ?? "")") }
    }

    @Test(arguments: [
        (JSONValue.array([["name": "a"], ["name": "a"]]), "used twice"),
        (.array([["name": "a", "stor": ["backend": "memory"]]]), "stor"),
        (.array([["name": ""]]), "tiers[0].name"),
        (.array([["name": "a", "store": ["backend": "nope"]]]), "tiers[0].store"),
        (.object(["name": "a"]), "array"),
    ])
    func badTierConfigurationNamesTheCulprit(tiers: JSONValue, culprit: String) {
        #expect { _ = try engine(tiers) } throws: { error in
            let e = error as! StrataError
            return (e.code == .invalidConfig || e.code == .plugin) && e.message.contains(culprit)
        }
    }

    @Test func storesOfDifferentDimensionsAreRefusedNamingTheTier() {
        #expect {
            _ = try TieredVectorStore(main: InMemoryVectorStore(dimension: 4), tiers: ["hot": InMemoryVectorStore(dimension: 8)])
        } throws: { error in
            (error as! StrataError).message.contains("hot")
        }
    }
}
