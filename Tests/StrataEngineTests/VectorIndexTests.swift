import StrataBackends
import StrataCore
import StrataEngine
import StrataTesting
import Testing

/// The engine recalls through the store's index as its configuration says: `auto` builds the
/// graph once the store reaches `auto_rows`, and recall, scopes and de-duplication keep working
/// through it.
@Suite struct VectorIndexTests {
    @Test func anAutoIndexTakesOverAtItsSizeAndRecallStillFindsEachMemory() throws {
        let config: JSONValue = [
            "embedder": ["backend": "hashing", "options": ["dimension": 64]],
            "store": ["backend": "memory", "options": ["index": ["type": "auto", "auto_rows": 300, "m": 8, "ef_construction": 40]]],
        ]
        let engine = try Engine(configuration: EngineConfiguration(json: config), clock: ManualClock())
        let words = ["harbour", "glacier", "orchard", "lantern", "meadow", "quarry", "violin", "tundra", "saffron", "canyon"]
        let texts = (0..<400).map { i in "\(words[i % 10]) \(words[i / 10 % 10]) \(words[i / 100]) note \(i)" }
        _ = try engine.store(texts.map { NewMemory($0) })
        let store = try #require(engine.store as? InMemoryVectorStore)
        #expect(store.graphStats?.nodes == 400, "past auto_rows the store keeps a graph")
        for i in stride(from: 0, to: 400, by: 37) {
            let hits = try engine.recall(RecallQuery(texts[i], k: 3))
            #expect(hits.first?.memory.content == texts[i], "\(texts[i]) finds itself first")
        }
        // Stored again, a memory merges with itself: de-duplication finds it through the graph.
        #expect(try engine.store([NewMemory(texts[123])])[0].deduplicated)
    }

    @Test func anExactIndexNeverBuildsAGraph() throws {
        let config: JSONValue = [
            "embedder": ["backend": "hashing", "options": ["dimension": 16]],
            "store": ["backend": "memory", "options": ["index": ["type": "exact"]]],
            "dedupe": ["enabled": false],
        ]
        let engine = try Engine(configuration: EngineConfiguration(json: config), clock: ManualClock())
        _ = try engine.store((0..<50).map { NewMemory("memory number \($0)") })
        #expect((engine.store as? InMemoryVectorStore)?.graphStats == nil)
    }
}
