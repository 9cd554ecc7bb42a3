#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import StrataBackends
import StrataCore
import StrataEngine
@testable import StrataFileStore
import StrataPlugins
import StrataTesting
import Synchronization
import Testing

@Suite struct FileVectorStoreTests {
    @Test func passesTheConformanceSuiteOnRealFiles() throws {
        let dir = scratchFolder("conformance")
        var n = 0
        let results = VectorStoreConformance.run {
            n += 1
            return try FileVectorStore(options: ["path": .string("\(dir)/\(n).log"), "dimension": 16, "metric": "cosine"])
        }
        #expect(results.count >= 14)
        #expect(results.count >= 10, "the conformance suite ran its cases (an empty list passes every loop)")
        for r in results { #expect(r.passed, "\(r.name): \(r.failure ?? "")") }
    }

    @Test func reopeningKeepsRecordsVectorsAndHistory() throws {
        let path = scratchFolder("reopen") + "/s.log"
        let ids = ["a", "b", "c"]
        let before: Observed
        do {
            let s = try open(path)
            try s.commit(addition("a", "alpha", seed: 1))
            try s.commit(addition("b", "bravo", seed: 2))
            let updated = memory("a", "alpha two")
            try s.commit(StoreChange(
                upserts: [StoredRecord(memory: updated, vector: vector(3))], removals: ["b"],
                history: [
                    HistoryEntry(event: .update, memoryID: "a", at: updated.createdAt, old: memory("a", "alpha"), new: updated, reason: "edited"),
                    HistoryEntry(event: .delete, memoryID: "b", at: updated.createdAt, old: memory("b", "bravo"), new: nil, reason: "forgotten"),
                ]))
            try s.commit(addition("c", "charlie", seed: 4))
            #expect(try s.remove(ids: ["c", "c", "nope"]) == 1)
            before = try Observed(s, historyOf: ids)
        }
        let s = try open(path)
        let after = try Observed(s, historyOf: ids)
        #expect(after == before)
        #expect(after.contents == ["a": "alpha two"])
        #expect(after.history["a"]?.map(\.event) == [.add, .update])
        #expect(after.history["b"]?.map(\.event) == [.add, .delete])
        #expect(try s.get(id: "a").map { Vectors.cosine($0.vector, vector(3)) > 0.9999 } == true)
        #expect(try s.search(vector(3), k: 1, filter: nil).first?.record.memory.id == "a")
        #expect(try s.keywordSearch("alpha", k: 5, filter: nil).map(\.record.memory.id) == ["a"])
    }

    @Test func removingOnlyUnknownIdsWritesNothing() throws {
        let path = scratchFolder("noop") + "/s.log"
        let s = try open(path)
        try s.commit(addition("a", "alpha", seed: 1))
        let size = try contents(path).count
        #expect(try s.remove(ids: ["x", "y"]) == 0)
        try s.commit(StoreChange())
        #expect(try contents(path).count == size)
    }

    @Test func groupCommitPersistsEverythingAfterClose() throws {
        let path = scratchFolder("group") + "/s.log"
        do {
            let s = try open(path, durability: .group(milliseconds: 50))
            for i in 0..<200 { try s.commit(addition("m\(i)", "memory number \(i)", seed: i)) }
        }
        // Reopened at once: the closed store released its lock although a sync was scheduled.
        let s = try open(path, durability: .group(milliseconds: 50))
        #expect(try s.count() == 200)
        #expect(try s.history(id: "m199").map(\.event) == [.add])
        #expect(try s.search(vector(123), k: 1, filter: nil).first?.record.memory.id == "m123")
    }

    @Test func anotherDimensionIsAClearErrorNamingTheFileAndBothValues() throws {
        let path = scratchFolder("dimension") + "/s.log"
        _ = try open(path)
        let error = strataError { _ = try FileVectorStore(options: FileStoreOptions(path: path, dimension: 32)) }
        #expect(error?.code == .invalidConfig)
        #expect(error.map { $0.message.contains(path) && $0.message.contains("16") && $0.message.contains("32") } == true, "\(error?.message ?? "")")
        let metric = strataError { _ = try FileVectorStore(options: FileStoreOptions(path: path, dimension: 16, metric: .l2)) }
        #expect(metric?.code == .invalidConfig)
        #expect(metric.map { $0.message.contains("cosine") && $0.message.contains("l2") } == true, "\(metric?.message ?? "")")
    }

    @Test func optionsRefuseUnknownKeysAndBadValuesByName() throws {
        let base: [String: JSONValue] = ["path": "/tmp/never-created.log", "dimension": 16]
        func refused(_ extra: [String: JSONValue]) -> String? {
            strataError { _ = try FileStoreOptions(json: .object(base.merging(extra) { $1 })) }
                .flatMap { $0.code == .invalidConfig ? $0.message : "code \($0.code)" }
        }
        #expect(refused(["fsynk": "always"])?.contains("file options.fsynk") == true)
        #expect(refused(["fsync": "sometimes"])?.contains("file options.fsync") == true)
        #expect(refused(["group_commit_ms": 5])?.contains("group_commit_ms") == true)
        #expect(refused(["fsync": "group", "group_commit_ms": 0])?.contains("group_commit_ms") == true)
        #expect(refused(["compact_after_bytes": 0])?.contains("compact_after_bytes") == true)
        #expect(refused(["path": ""])?.contains("path is required") == true)
        let group = try FileStoreOptions(json: .object(base.merging(["fsync": "group", "group_commit_ms": 7, "compact_after_bytes": 4096]) { $1 }))
        #expect(group.durability == .group(milliseconds: 7) && group.compactAfterBytes == 4096)
        let defaults = try FileStoreOptions(json: .object(base))
        #expect(defaults.durability == .always && defaults.compactAfterBytes == 64 << 20 && defaults.metric == .cosine)
    }

    @Test func aSecondOpenerIsRefusedWhileTheFirstHoldsTheLog() throws {
        let path = scratchFolder("lock") + "/s.log"
        do {
            let first = try open(path)
            try first.commit(addition("a", "alpha", seed: 1))
            let error = strataError { _ = try open(path) }
            #expect(error?.code == .conflict)
            #expect(error.map { $0.message.contains(path) && $0.message.contains("another process") } == true, "\(error?.message ?? "")")
            // Another process sees the lock too: flock(1) -n gives up with the -E status.
            #expect(try run(["/usr/bin/flock", "-n", "-E", "75", path, "true"]) == 75)
        }
        // A child that a concurrent test spawns holds a copy of the descriptor (and so the lock)
        // from its fork until its exec, a few microseconds: a 75 then is that child, so ask again.
        var status: Int32 = 75
        for _ in 0..<50 where status == 75 {
            status = try run(["/usr/bin/flock", "-n", "-E", "75", path, "true"])
            if status == 75 { usleep(10_000) }
        }
        #expect(status == 0, "closing the store releases the lock")
        #expect(try open(path).count() == 1)
    }

    /// A child forked elsewhere in the program holds copies of the log's descriptor (and so its
    /// lock) until it execs; a store closed and reopened meanwhile must not be refused.
    @Test func reopeningWhileTheProgramSpawnsProcessesIsNotRefused() throws {
        let path = scratchFolder("fork") + "/s.log"
        let stop = Mutex(false), spawned = Mutex(0), failures = Mutex<[String]>([])
        let spawners = DispatchGroup()
        for _ in 0..<2 {
            DispatchQueue.global().async(group: spawners) {
                do {
                    while !stop.withLock({ $0 }) {
                        _ = try run(["/bin/true"])
                        spawned.withLock { $0 += 1 }
                    }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        defer {
            stop.withLock { $0 = true }
            spawners.wait()
        }
        // At least 100 reopenings, and on until 50 processes were spawned beside them.
        var reopened = 0
        while reopened < 100 || (spawned.withLock { $0 } < 50 && failures.withLock { $0 }.isEmpty) {
            let s = try open(path)
            try s.commit(addition("m\(reopened)", "memory \(reopened)", seed: reopened))
            reopened += 1
        }
        #expect(try open(path).count() == reopened)
        #expect(failures.withLock { $0 }.isEmpty, "spawning failed: \(failures.withLock { $0 })")
    }

    /// The configuration the C ABI, Python and the crash harness use: the plugin found by name
    /// beside libstrata.so, the store's history used by the engine.
    @Test func anEngineOnThePluginKeepsMemoriesAndHistoryAcrossReopening() throws {
        let path = scratchFolder("engine") + "/memories.log"
        let config = try EngineConfiguration(json: ["store": ["backend": "file", "plugin": "file", "options": ["path": .string(path)]]])
        let id: String
        do {
            let e = try Engine(configuration: config, backends: PluginBackends())
            id = try e.store(NewMemory("the deploy key rotates on Mondays", metadata: ["team": "ops"])).id
            _ = try e.update(MemoryUpdate(id: id, content: "the deploy key rotates on Tuesdays"))
            let gone = try e.store(NewMemory("a memory to forget")).id
            try e.forget(id: gone)
        }
        let e = try Engine(configuration: config, backends: PluginBackends())
        #expect(try e.get(id: id).content == "the deploy key rotates on Tuesdays")
        #expect(try e.history(id: id).map(\.event) == [.add, .update])
        #expect(try e.stats().memories == 1)
        let hits = try e.recall(RecallQuery("deploy key rotate", filter: try Filter.parse(["team": "ops"], prefix: ["metadata"])))
        #expect(hits.first?.memory.id == id)
        #expect(hits.first?.scores.keyword != nil, "the store's BM25 found it by keyword too")

        let bad = try EngineConfiguration(json: ["store": ["backend": "file", "plugin": "file", "options": ["path": .string(path), "fsync": "never"]]])
        let error = strataError { _ = try Engine(configuration: bad, backends: PluginBackends()) }
        #expect(error?.code == .invalidConfig && error?.message.contains("fsync") == true, "\(error?.message ?? "")")
    }
}

@Suite struct FileStoreIndexTests {
    @Test func aGraphIndexIsRebuiltFromTheLogOnOpenAndFindsTheNearest() throws {
        let path = scratchFolder("hnsw-reopen") + "/s.log"
        var settings = options(path)
        settings.index = VectorIndexSettings(kind: .hnsw, m: 8, efConstruction: 64, efSearch: 64)
        do {
            let store = try FileVectorStore(options: settings, report: Reports().sink)
            try store.commit(StoreChange(upserts: (0..<600).map { StoredRecord(memory: memory("m\($0)", "row \($0)"), vector: vector($0)) }))
            _ = try store.remove(ids: ["m7", "m8"])
        }
        let reopened = try FileVectorStore(options: settings, report: Reports().sink)
        #expect(reopened.index.graphStats?.nodes == 598)
        // Every stored vector finds itself first; removed ones are gone.
        for i in [0, 1, 99, 300, 599] {
            #expect(try reopened.search(vector(i), k: 1, filter: nil).first?.record.memory.id == "m\(i)")
        }
        #expect(try !reopened.search(vector(7), k: 5, filter: nil).contains { $0.record.memory.id == "m7" })
    }

    @Test func aBadIndexOptionIsRefusedByName() {
        let error = strataError { _ = try FileStoreOptions(json: ["path": "/tmp/x.log", "dimension": 4, "index": ["type": "hnsw", "m": 500]]) }
        #expect(error?.code == .invalidConfig)
        #expect(error?.message.contains("file options.index.m") == true, "\(error?.message ?? "")")
    }
}
