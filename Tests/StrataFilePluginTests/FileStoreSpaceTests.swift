#if canImport(Glibc)
import Glibc
#endif
import StrataCore
import StrataEngine
@testable import StrataFileStore
import StrataPlugins
import StrataTesting
import Testing

/// The embedding space of a file store: a log of another dimension than the embedder's is
/// refused by the store as it opens, and the engine still names the space the log records.
@Suite struct FileStoreSpaceTests {
    private func configuration(_ path: String, dimension: Int) throws -> EngineConfiguration {
        try EngineConfiguration(json: [
            "store": ["backend": "file", "plugin": "file", "options": ["path": .string(path)]],
            "embedder": ["backend": "hashing", "options": ["dimension": .number(Double(dimension))]],
        ])
    }

    private func files(_ folder: String) throws -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        for name in ["s.log", "s.log.snapshot", "s.log.snapshot.tmp"] where access(folder + "/" + name, F_OK) == 0 {
            out[name] = try WholeFile.read(folder + "/" + name)
        }
        return out
    }

    @Test func anotherDimensionNamesTheStoredSpaceAndTheConfiguredOneAndChangesNothing() throws {
        let folder = scratchFolder("file-space")
        let path = folder + "/s.log"
        do {
            let e = try Engine(configuration: try configuration(path, dimension: 48), backends: PluginBackends())
            _ = try e.store([NewMemory("Alice prefers a window seat"), NewMemory("Bob drinks his coffee black")])
        }
        let before = try files(folder)
        let refused = strataError { _ = try Engine(configuration: try configuration(path, dimension: 24), backends: PluginBackends()) }
        #expect(refused?.code == .invalidConfig)
        let message = refused?.message ?? "no error"
        #expect(message.contains("holds vectors of the embedding space hashing (hashing-v1-48, 48 dimensions, unit length)"), "\(message)")
        #expect(message.contains("the configured embedder is hashing (hashing-v1-24, 24 dimensions)"), "\(message)")
        #expect(message.contains("strata reembed --embedder hashing"), "\(message)")
        #expect(try files(folder) == before, "nothing written, nothing created")
        #expect(try Engine(configuration: try configuration(path, dimension: 48), backends: PluginBackends()).stats().memories == 2)
    }

    @Test func dimensionAsStoredOpensTheLogWithItsHeadersDimensionForReadingOnly() throws {
        let path = scratchFolder("file-as-stored") + "/s.log"
        do {
            let store = try FileVectorStore(options: ["path": .string(path), "dimension": 8])
            let m = Memory(id: "m-1", content: "one", scope: ScopePath.root, createdAt: Timestamp(seconds: 0), model: "x")
            try store.commit(StoreChange(upserts: [StoredRecord(memory: m, vector: [Float](repeating: 0.5, count: 8))]))
        }
        let refused = strataError { _ = try FileVectorStore(options: ["path": .string(path), "dimension": 3]) }
        #expect(refused?.code == .invalidConfig, "without the option, another dimension is refused")
        let store = try FileVectorStore(options: ["path": .string(path), "dimension": 3, "dimension_as_stored": true])
        #expect(store.dimension == 8 && store.options.readOnly)
        #expect(try store.get(id: "m-1")?.vector.count == 8)
        #expect(strataError { try store.commit(StoreChange(removals: ["m-1"])) }?.code == .unsupported)
    }
}
