#if canImport(Glibc)
import Glibc
#endif
import StrataBackends
import StrataCore
import StrataEngine
@testable import StrataSQLitePlugin
import StrataTesting
import Testing

/// Snapshots of the SQLite store (plugins/sqlite/SQLiteSnapshots.swift). The cases every store
/// passes run in `passesTheConformanceSuiteOnARealFile`; these are the SQLite-specific ones.
@Suite struct SQLiteSnapshotTests {
    static let t0 = Timestamp(milliseconds: 1_700_000_000_000)

    func open(_ path: String, dimension: Int = 4) throws -> SQLiteVectorStore {
        try SQLiteVectorStore(options: ["path": .string(path), "dimension": .number(Double(dimension))])
    }

    func records(_ n: Int, prefix: String = "r") -> [StoredRecord] {
        (0..<n).map { i in
            StoredRecord(
                memory: Memory(id: "\(prefix)\(i)", content: "memory \(i) with some words to index, number \(i)",
                               metadata: ["i": .number(Double(i))], createdAt: Self.t0, accessCount: i),
                vector: [Float(i) + 0.25, 1, -Float(i) / 3, 0.5])
        }
    }

    /// Every row as stored: id -> (record JSON, vector bytes).
    func rows(_ path: String) throws -> [String: [UInt8]] {
        let db = try SQLiteConnection(path: path, busyTimeoutMilliseconds: 1000)
        defer { db.close() }
        let s = try db.statement("SELECT id, record, vector FROM memories")
        var out: [String: [UInt8]] = [:]
        while try s.step() {
            let record = Array(s.text(1).utf8)
            out[s.text(0)] = try s.withBytes(2) { (b) throws(StrataError) -> [UInt8] in record + Array(b) }
        }
        return out
    }

    @Test func theSnapshotFileCarriesTheSchemaVersionAndItsStamp() throws {
        let path = scratchFolder("snapshot-file") + "/s.db"
        let s = try open(path)
        try s.upsert(records(5))
        let info = try s.snapshot(name: "first", at: Self.t0)
        let file = path + ".snapshots/first.sqlite"
        let copy = try SQLiteConnection(path: file, busyTimeoutMilliseconds: 1000, readOnly: true)
        defer { copy.close() }
        #expect(try copy.integer("PRAGMA user_version") == SQLiteSchema.currentVersion)
        #expect(try copy.integer("SELECT count(*) FROM memories") == 5)
        let mode = try copy.statement("PRAGMA journal_mode")
        #expect(try mode.step() && mode.text(0) == "delete", "a snapshot leaves WAL mode, so reading it creates no files")
        mode.reset()
        #expect(info == SnapshotInfo(name: "first", createdAt: Self.t0, memories: 5, bytes: info.bytes))
        var st = stat()
        #expect(stat(file, &st) == 0 && info.bytes == Int(st.st_size))
        let leftovers = try SnapshotFolder(beside: path, suffix: "", owner: "test").names().filter { $0 != "first.sqlite" }
        #expect(leftovers.isEmpty, "no temporary file stays behind: \(leftovers)")
    }

    @Test func aRollbackRestoresTheRowsByteForByteAndAnotherConnectionSeesIt() throws {
        let path = scratchFolder("rollback-rows") + "/s.db"
        let a = try open(path), b = try open(path)
        try a.upsert(records(8))
        let before = try rows(path)
        _ = try a.snapshot(name: "v1", at: Self.t0)
        try a.commit(StoreChange(upserts: records(3, prefix: "new"), removals: ["r1", "r2"]))
        var changed = records(8)[5]
        changed.memory.content = "rewritten"
        changed.vector = [9, 9, 9, 9]
        try b.upsert([changed])
        #expect(try a.count() == 9 && b.get(id: "r5")?.memory.content == "rewritten")

        let report = try a.rollback(name: "v1", at: Self.t0.adding(seconds: 5))
        #expect(report.added == ["r1", "r2"] && report.removed == ["new0", "new1", "new2"] && report.changed == ["r5"])
        #expect(try rows(path) == before, "record JSON and vector BLOBs are the snapshot's, byte for byte")
        // The other connection sees the rollback at its next call (data_version, change sequence).
        #expect(try b.count() == 8)
        #expect(try b.get(id: "r5")?.memory.content == "memory 5 with some words to index, number 5")
        #expect(try b.get(id: "new0") == nil)
        #expect(try b.search([1.25, 1, -1.0 / 3, 0.5], k: 1, filter: nil).first?.record.memory.id == "r1")
        #expect(try b.keywordSearch("rewritten", k: 5, filter: nil).isEmpty, "keyword search follows the rollback")
        #expect(try b.history(id: "new0").map(\.reason) == ["rollback to snapshot v1"])
        #expect(try b.snapshots().map(\.name) == ["v1"])
    }

    @Test(arguments: ["garbage", "damaged page", "a changed record", "foreign database", "another dimension"])
    func aBadSnapshotFileIsCorruptNamingItAndChangesNothing(damage: String) throws {
        let dir = scratchFolder("bad-snapshot")
        let path = dir + "/s.db"
        let s = try open(path)
        try s.upsert(records(60))
        _ = try s.snapshot(name: "v1", at: Self.t0)
        try s.commit(StoreChange(upserts: records(2, prefix: "after"), removals: ["r0"]))
        let file = path + ".snapshots/v1.sqlite"
        switch damage {
        case "garbage":
            let f = fopen(file, "w")!
            for _ in 0..<100 { fputs("not a database at all. ", f) }
            fclose(f)
        case "damaged page":
            let f = fopen(file, "r+")!
            fseek(f, 4096 * 2, SEEK_SET)
            for i in 0..<4096 { fputc(Int32(i * 7 % 251), f) }
            fclose(f)
        case "a changed record":
            // A valid database: only the snapshot's checksum of its rows tells.
            let copy = try SQLiteConnection(path: file, busyTimeoutMilliseconds: 1000)
            try copy.execute("UPDATE memories SET record = replace(record, 'memory 7 ', 'memory 8 ') WHERE id = 'r7'", "test")
            #expect(copy.changes == 1)
            copy.close()
        case "foreign database":
            unlink(file)
            let other = try SQLiteConnection(path: file, busyTimeoutMilliseconds: 1000)
            try other.execute("CREATE TABLE t(x); INSERT INTO t VALUES (1)", "test")
            other.close()
        default:
            let other = try open(dir + "/other.db", dimension: 8)
            try other.upsert([StoredRecord(memory: Memory(id: "x", content: "x", createdAt: Self.t0), vector: [Float](repeating: 1, count: 8))])
            unlink(file)
            _ = try other.snapshot(name: "v1", at: Self.t0)
            #expect(rename(dir + "/other.db.snapshots/v1.sqlite", file) == 0)
        }
        let before = try rows(path)
        let error = try #require(throws: StrataError.self) { _ = try s.rollback(name: "v1", at: Self.t0) }
        #expect(error.code == .corrupt, "\(error)")
        #expect(error.message.contains(file), "\(error)")
        #expect(try rows(path) == before, "a refused rollback changes nothing")
        #expect(try s.history(id: "r0").count == 0, "and writes no history")
        #expect(try s.count() == 61)
    }

    @Test func anEngineOnThePluginRollsBackAndASecondEngineSeesIt() throws {
        let path = scratchFolder("engine-rollback") + "/s.db"
        let a = try sqliteEngine(path), b = try sqliteEngine(path)
        #expect(a.store.providesSnapshots, "through the plugin ABI")
        let id = try a.store(NewMemory("the office wifi password is on the fridge")).id
        try a.snapshot(name: "before")
        try a.update(MemoryUpdate(id: id, content: "the wifi password changed last week"))
        let other = try b.store(NewMemory("written by the other engine")).id
        let report = try a.rollback(name: "before")
        #expect(report.changed == [id] && report.removed == [other] && report.added.isEmpty)
        #expect(try b.get(id: id).content == "the office wifi password is on the fridge")
        #expect(throws: StrataError.self) { _ = try b.get(id: other) }
        #expect(try b.history(id: other).map(\.event) == [.add, .delete])
        #expect(try b.history(id: id).last?.reason == "rollback to snapshot before")
        #expect(try b.recall(RecallQuery("fridge")).first?.scores.keyword != nil)
        #expect(try b.snapshots().map(\.name) == ["before"])
    }

    @Test func aTemporaryStoreHasNoSnapshots() throws {
        let s = try SQLiteVectorStore(options: ["dimension": 4])
        #expect(!s.providesSnapshots)
        let error = try #require(throws: StrataError.self) { _ = try s.snapshot(name: "x", at: Self.t0) }
        #expect(error.code == .unsupported && error.message.contains("options.path"))
    }
}
