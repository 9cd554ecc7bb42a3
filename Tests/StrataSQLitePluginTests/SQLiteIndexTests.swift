import StrataBackends
import StrataCore
@testable import StrataSQLitePlugin
import Synchronization
import Testing

/// The SQLite store's in-process index under `"index"` options: the graph is built on open from
/// the file's rows and answers like an exact scan.
@Suite struct SQLiteIndexTests {
    private func vector(_ i: Int) -> [Float] {
        var r = SeededRandom(seed: UInt64(i / 40 + 1))  // clusters of 40 around shared centres
        let centre = (0..<16).map { _ in Float(r.gaussian()) }
        var own = SeededRandom(seed: UInt64(1_000_000 + i))
        return centre.map { $0 + 0.5 * Float(own.gaussian()) }
    }

    private func record(_ i: Int) -> StoredRecord {
        StoredRecord(memory: Memory(id: "m\(i)", content: "row \(i)", metadata: ["odd": .bool(i % 2 == 1)],
                                    createdAt: Timestamp(milliseconds: 0)), vector: vector(i))
    }

    @Test func aGraphIndexIsRebuiltOnOpenAndAgreesWithAnExactScan() throws {
        let path = scratchFolder("hnsw-reopen") + "/s.db"
        // Loaded at open (lazy_open false): the graph file's restore is what this tests.
        let options: JSONValue = ["path": .string(path), "dimension": 16, "lazy_open": false,
                                  "index": ["type": "hnsw", "m": 8, "ef_construction": 64, "ef_search": 64]]
        do {
            let store = try SQLiteVectorStore(options: options)
            try store.commit(StoreChange(upserts: (0..<1200).map(record)))
            _ = try store.remove(ids: (0..<100).map { "m\($0 * 3)" })
        }
        let reopened = try SQLiteVectorStore(options: options)
        #expect(reopened.index.graphStats?.nodes == 1100)
        let exact = try InMemoryVectorStore(dimension: 16, index: .exact)
        try exact.upsert((0..<1200).filter { $0 % 3 != 0 || $0 / 3 >= 100 }.map(record))
        var found = 0
        for q in 0..<30 {
            let query = vector(q * 37 + 5)
            for filter in [nil, Filter.condition(path: ["metadata", "odd"], .eq(.bool(true)))] {
                let truth = Set(try exact.search(query, k: 10, filter: filter).map(\.record.memory.id))
                let hits = try reopened.search(query, k: 10, filter: filter)
                #expect(hits.count == 10)
                found += Set(hits.map(\.record.memory.id)).intersection(truth).count
            }
        }
        #expect(Double(found) / 600 >= 0.95, "recall@10 \(Double(found) / 600)")
    }

    @Test func theGraphIsSavedOnCloseAndRestoredOnOpenOrRepairedWhenBehind() throws {
        let path = scratchFolder("hnsw-saved") + "/s.db"
        let options: JSONValue = ["path": .string(path), "dimension": 16, "lazy_open": false,
                                  "index": ["type": "hnsw", "m": 8, "ef_construction": 64]]
        let lines = Lines()
        do {
            let store = try SQLiteVectorStore(options: options, report: lines.sink)
            try store.commit(StoreChange(upserts: (0..<1000).map(record)))
        }
        #expect(access(path + ".hnsw", F_OK) == 0, "closing a writer saves the graph beside the database")
        let saved = try WholeFile.read(path + ".hnsw")
        do {
            let store = try SQLiteVectorStore(options: options, report: lines.sink)
            #expect(store.index.graphStats?.nodes == 1000)
            try store.commit(StoreChange(upserts: (1000..<1100).map(record), removals: ["m1", "m2"]))
        }
        #expect(lines.all.isEmpty, "an up-to-date graph file opens silently: \(lines.all)")
        // Put the older file back, as a crash before the save would have left it.
        let f = fopen(path + ".hnsw", "wb")!
        fwrite(saved, 1, saved.count, f)
        fclose(f)
        let store = try SQLiteVectorStore(options: options, report: lines.sink)
        #expect(store.index.graphStats?.nodes == 1098)
        #expect(lines.all.count == 1 && lines.all[0].contains("linked 100 new or changed rows, unlinked 2"), "\(lines.all)")
        #expect(try store.search(vector(1050), k: 1, filter: nil).first?.record.memory.id == "m1050")
    }

    @Test func aReadOnlyOpenWritesNoGraphFile() throws {
        let path = scratchFolder("hnsw-read-only") + "/s.db"
        let options: [String: JSONValue] = ["path": .string(path), "dimension": 16, "index": ["type": "hnsw", "m": 8, "ef_construction": 32]]
        do {
            let store = try SQLiteVectorStore(options: .object(options))
            try store.commit(StoreChange(upserts: (0..<300).map(record)))
        }
        unlink(path + ".hnsw")
        var readOnly = options
        readOnly["read_only"] = true
        let lines = Lines()
        do {
            let store = try SQLiteVectorStore(options: .object(readOnly), report: lines.sink)
            #expect(store.index.graphStats?.nodes == 300, "a read-only open still searches through a graph")
        }
        #expect(access(path + ".hnsw", F_OK) != 0, "read-only changes nothing on disk")
    }

    @Test func aBadIndexOptionIsRefusedByNameBeforeAnythingIsCreated() throws {
        let path = scratchFolder("hnsw-bad") + "/s.db"
        #expect {
            _ = try SQLiteVectorStore(options: ["path": .string(path), "dimension": 16, "index": ["type": "hnsw", "ef": 10]])
        } throws: { error in
            let e = error as! StrataError
            return e.code == .invalidConfig && e.message.contains("sqlite options.index") && e.message.contains("ef")
        }
        #expect(!FileManagerless.exists(path))
    }
}

/// Report lines, kept for assertions.
final class Lines: @unchecked Sendable {
    private let lock = Mutex([String]())
    var all: [String] { lock.withLock { $0 } }
    var sink: @Sendable (String) -> Void { { line in self.lock.withLock { $0.append(line) } } }
}

/// `access(2)`, so this file needs no Foundation.
private enum FileManagerless {
    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }
}

#if canImport(Glibc)
import Glibc
#endif
