#if canImport(Glibc)
import Glibc
#endif
import StrataCore
@testable import StrataSQLitePlugin
import StrataTesting
import Testing

/// A damaged file's bytes, read and written around SQLite, so damage lands where SQLite keeps
/// no checksum (inside a row's payload).
enum DamagedFile {
    static func bytes(_ path: String) -> [UInt8]? {
        guard let f = fopen(path, "rb") else { return nil }
        defer { fclose(f) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buffer, 1, buffer.count, f)
            if n == 0 { break }
            out += buffer[0..<n]
        }
        return out
    }

    static func write(_ path: String, _ bytes: [UInt8]) {
        let f = fopen(path, "wb")!
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        fclose(f)
    }

    /// Where `needle` first occurs in `haystack`.
    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard !needle.isEmpty, needle.count <= haystack.count else { return nil }
        outer: for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            for i in 1..<needle.count where haystack[start + i] != needle[i] { continue outer }
            return start
        }
        return nil
    }

    static func floatBytes(_ v: [Float]) -> [UInt8] { v.withUnsafeBytes { Array($0) } }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// The names in `folder`, but "." and "..".
    static func names(_ folder: String) -> [String] {
        guard let d = opendir(folder) else { return [] }
        defer { closedir(d) }
        var out: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { out.append(name) }
        }
        return out.sorted()
    }
}

/// The same record, byte for byte: its JSON as written and its vector's bytes.
func identical(_ a: StoredRecord?, _ b: StoredRecord) -> Bool {
    guard let a else { return false }
    return sameMemory(a, b) && DamagedFile.floatBytes(a.vector) == DamagedFile.floatBytes(b.vector)
}

/// The same memory (the store's index keeps cosine vectors normalised, so not the same vector).
func sameMemory(_ a: StoredRecord?, _ b: StoredRecord) -> Bool {
    a.map { JSONWriter.string($0.memory.json) } == JSONWriter.string(b.memory.json)
}

/// Records with seeded random vectors and a long note only their JSON holds.
func damageRecords(_ n: Int, dimension: Int, seed: UInt64 = 7) -> [StoredRecord] {
    var rng = SeededRandom(seed: seed)
    return (0..<n).map { i in
        StoredRecord(
            memory: Memory(id: "m-\(i)", content: "memory \(i) about the harbour crane schedule",
                           metadata: ["note": .string("note-\(i)-" + String(repeating: "abcdefghij", count: 30))],
                           createdAt: Timestamp(milliseconds: 1_700_000_000_000 + Int64(i))),
            vector: (0..<dimension).map { _ in Float.random(in: -1...1, using: &rng) })
    }
}

@Suite struct SQLiteDamageTests {
    func open(_ path: String, dimension: Int = 16, readOnly: Bool = false) throws -> SQLiteVectorStore {
        var options: [String: JSONValue] = ["path": .string(path), "dimension": .number(Double(dimension))]
        if readOnly { options["read_only"] = true }
        return try SQLiteVectorStore(options: .object(options))
    }

    /// A closed store (WAL checkpointed into the file) holding `n` records.
    func closedStore(_ path: String, _ n: Int, dimension: Int = 16) throws -> [StoredRecord] {
        let records = damageRecords(n, dimension: dimension)
        let s = try open(path, dimension: dimension)
        try s.upsert(records)
        return records
    }

    func isCorrupt(_ e: StrataError, naming parts: [String]) -> Bool {
        e.code == .corrupt && parts.allSatisfy { e.message.contains($0) }
    }

    @Test func anEmptyFileIsCorruptNamingItAndNothingIsCreatedOrChanged() throws {
        let dir = scratchFolder("empty-file")
        let path = dir + "/s.db"
        DamagedFile.write(path, [])
        for readOnly in [false, true] {
            let e = try #require(throws: StrataError.self) { _ = try open(path, readOnly: readOnly) }
            #expect(isCorrupt(e, naming: [path, "empty", "strata doctor", "strata salvage"]), "\(e)")
        }
        DamagedFile.write(path, Array("SQLite format 3\0".utf8) + [UInt8](repeating: 0, count: 84))
        let e = try #require(throws: StrataError.self) { _ = try open(path) }
        #expect(isCorrupt(e, naming: [path, "100 bytes"]), "\(e)")
        DamagedFile.write(path, [])
        #expect(DamagedFile.bytes(path) == [], "the file stays empty")
        #expect(DamagedFile.names(dir) == ["s.db"], "no -wal, -shm or new file beside it")
    }

    @Test func aNewFileIsCreatedWholeAndATemporaryDatabaseStillWorks() throws {
        let dir = scratchFolder("new-file")
        _ = try closedStore(dir + "/s.db", 3)
        #expect(DamagedFile.names(dir) == ["s.db"], "no temporary file left behind")
        #expect(try open(dir + "/s.db").count() == 3)
        let temporary = try SQLiteVectorStore(options: ["dimension": 16])
        try temporary.upsert(damageRecords(2, dimension: 16))
        #expect(try temporary.count() == 2)
    }

    @Test func bytesOverwrittenInARecordsJSONAreCorruptNamingTheRecord() throws {
        let path = scratchFolder("json-damage") + "/s.db"
        _ = try closedStore(path, 20)
        var bytes = try #require(DamagedFile.bytes(path))
        let at = try #require(DamagedFile.find(Array("note-7-abcdefghij".utf8), in: bytes))
        for i in 0..<200 { bytes[at + 20 + i] = i % 2 == 0 ? UInt8(ascii: "\"") : 0x01 }
        DamagedFile.write(path, bytes)
        let e = try #require(throws: StrataError.self) { _ = try open(path) }
        #expect(e.code != .invalidJSON)
        #expect(isCorrupt(e, naming: [path, "record m-7 (rowid 8)"]), "\(e)")
    }

    @Test func oneFlippedBitInAVectorIsCorruptNamingTheRecord() throws {
        let path = scratchFolder("vector-bit") + "/s.db"
        let records = try closedStore(path, 20)
        var bytes = try #require(DamagedFile.bytes(path))
        let at = try #require(DamagedFile.find(DamagedFile.floatBytes(records[5].vector), in: bytes))
        bytes[at + 9] ^= 0x04  // a low mantissa bit of the third float: still a finite number
        DamagedFile.write(path, bytes)
        let e = try #require(throws: StrataError.self) { _ = try open(path) }
        #expect(isCorrupt(e, naming: [path, "record m-5 (rowid 6)", "CRC-32C"]), "\(e)")
    }

    /// Rows changed behind the store's back (another program, not through the store) are
    /// caught by every read path: change sync (which feeds vector and keyword search), scan and
    /// history.
    @Test func everyReadChecksTheRows() throws {
        let path = scratchFolder("read-paths") + "/s.db"
        let s = try open(path)
        try s.commit(StoreChange(upserts: damageRecords(5, dimension: 16),
                                 history: [HistoryEntry(event: .add, memoryID: "m-1", at: Timestamp(milliseconds: 0), old: nil, new: nil, reason: "test")]))
        let other = try SQLiteConnection(path: path, busyTimeoutMilliseconds: 1000)
        defer { other.close() }
        try other.execute("UPDATE memories SET record = replace(record, 'note-3-', 'note-X-') WHERE id = 'm-3'", "test")
        let scan = try #require(throws: StrataError.self) { try s.scan(filter: nil) { _ in true } }
        #expect(isCorrupt(scan, naming: [path, "record m-3 (rowid 4)"]), "\(scan)")
        try other.execute("UPDATE history SET at = '1999-01-01T00:00:00.000Z'", "test")
        let history = try #require(throws: StrataError.self) { _ = try s.history(id: "m-1") }
        #expect(isCorrupt(history, naming: [path, "history row 1 of record m-1"]), "\(history)")
        try other.execute("UPDATE memories SET seq = seq + 1 WHERE id = 'm-3'; UPDATE strata_meta SET value = value + 1 WHERE key = 'seq'", "test")
        let sync = try #require(throws: StrataError.self) { _ = try s.get(id: "m-0") }
        #expect(isCorrupt(sync, naming: [path, "record m-3 (rowid 4)"]), "\(sync)")
        let keyword = try #require(throws: StrataError.self) { _ = try s.keywordSearch("harbour crane", k: 10, filter: nil) }
        #expect(isCorrupt(keyword, naming: [path, "record m-3 (rowid 4)"]), "keyword search syncs first: \(keyword)")
    }

    @Test func aVersion1DatabaseMigratesGetsChecksumsAndALaterFlipIsCaught() throws {
        let path = scratchFolder("migrate-v1") + "/s.db"
        let records = damageRecords(10, dimension: 16)
        do {
            // Written as Strata wrote files before schema version 2.
            let db = try SQLiteConnection(path: path, busyTimeoutMilliseconds: 1000)
            defer { db.close() }
            try db.execute("PRAGMA journal_mode = WAL", "test")
            try db.execute(SQLiteSchema.migrations[0].sql, "test")
            try db.execute("PRAGMA user_version = 1; INSERT INTO strata_meta VALUES ('dimension', '16'), ('metric', 'cosine'); UPDATE strata_meta SET value = '1' WHERE key = 'seq'", "test")
            let insert = try db.statement("INSERT INTO memories(id, seq, content, record, vector) VALUES (?, 1, ?, ?, ?)")
            for r in records {
                insert.reset()
                try insert.bind(1, r.memory.id)
                try insert.bind(2, r.memory.content)
                try insert.bind(3, JSONWriter.string(r.memory.json))
                try insert.bind(4, floats: r.vector)
                try insert.run()
            }
            let entry = HistoryEntry(event: .add, memoryID: "m-2", at: Timestamp(milliseconds: 5), old: nil, new: records[2].memory, reason: "old")
            let log = try db.statement("INSERT INTO history(memory_id, at, event, entry) VALUES (?, ?, ?, ?)")
            try log.bind(1, "m-2")
            try log.bind(2, entry.at.iso8601)
            try log.bind(3, entry.event.rawValue)
            try log.bind(4, JSONWriter.string(entry.json))
            try log.run()
        }
        // Read-only cannot migrate, and says how to.
        let refused = try #require(throws: StrataError.self) { _ = try open(path, readOnly: true) }
        #expect(refused.message.contains("open it once for writing") && refused.message.contains(path), "\(refused)")
        do {
            let s = try open(path)
            #expect(try s.count() == 10)
            #expect(sameMemory(try s.get(id: "m-4"), records[4]))
            #expect(try s.history(id: "m-2").map(\.reason) == ["old"])
        }
        let db = try SQLiteConnection(path: path, busyTimeoutMilliseconds: 1000, readOnly: true)
        #expect(try db.integer("PRAGMA user_version") == 2)
        #expect(try db.integer("SELECT count(*) FROM memories WHERE crc IS NULL") == 0)
        #expect(try db.integer("SELECT count(*) FROM history WHERE crc IS NULL") == 0)
        db.close()
        var bytes = try #require(DamagedFile.bytes(path))
        let at = try #require(DamagedFile.find(DamagedFile.floatBytes(records[8].vector), in: bytes))
        bytes[at + 1] ^= 0x01
        DamagedFile.write(path, bytes)
        let e = try #require(throws: StrataError.self) { _ = try open(path) }
        #expect(isCorrupt(e, naming: [path, "record m-8 (rowid 9)"]), "\(e)")
    }

    @Test func aSnapshotTakenBeforeChecksumsStillRollsBack() throws {
        let path = scratchFolder("v1-snapshot") + "/s.db"
        let s = try open(path)
        let records = damageRecords(6, dimension: 16)
        try s.upsert(records)
        _ = try s.snapshot(name: "old", at: Timestamp(milliseconds: 0))
        do {
            // As schema version 1 wrote it: no checksum columns.
            let snap = try SQLiteConnection(path: path + ".snapshots/old.sqlite", busyTimeoutMilliseconds: 1000)
            defer { snap.close() }
            try snap.execute("ALTER TABLE memories DROP COLUMN crc; ALTER TABLE history DROP COLUMN crc; PRAGMA user_version = 1", "test")
        }
        _ = try s.remove(ids: ["m-2"])
        let report = try s.rollback(name: "old", at: Timestamp(milliseconds: 1))
        #expect(report.added == ["m-2"])
        #expect(sameMemory(try s.get(id: "m-2"), records[2]))
    }

    @Test func readOnlyRefusesWritesCreatesNothingAndChangesNoByte() throws {
        let dir = scratchFolder("read-only")
        let path = dir + "/s.db"
        let records = try closedStore(path, 12)
        do {
            let s = try open(path, readOnly: true)
            #expect(try s.count() == 12 && sameMemory(s.get(id: "m-3"), records[3]))
            #expect(try s.search(records[7].vector, k: 1, filter: nil).first?.record.memory.id == "m-7")
            #expect(try s.keywordSearch("crane", k: 3, filter: nil).count == 3)
            var n = 0
            try s.scan(filter: nil) { _ in n += 1; return true }
            #expect(n == 12)
            for (what, write) in [("upsert", { try s.upsert(damageRecords(1, dimension: 16, seed: 9)) }),
                                  ("remove", { _ = try s.remove(ids: ["m-1"]) }),
                                  ("snapshot", { _ = try s.snapshot(name: "x", at: Timestamp(milliseconds: 0)) })] as [(String, () throws -> Void)] {
                let e = try #require(throws: StrataError.self, "\(what)") { try write() }
                #expect(e.code == .unsupported && e.message.contains("sqlite store \"\(path)\" was opened read-only"), "\(e)")
            }
            // A writer beside it: the read-only store sees its commits.
            let writer = try open(path)
            try writer.upsert(damageRecords(1, dimension: 16, seed: 9).map { var r = $0; r.memory.id = "w"; return r })
            #expect(try s.count() == 13)
            _ = try writer.remove(ids: ["w"])
        }
        let missing = dir + "/missing.db"
        let e = try #require(throws: StrataError.self) { _ = try open(missing, readOnly: true) }
        #expect(e.code == .io && e.message.contains(missing), "\(e)")
        #expect(!DamagedFile.exists(missing))
    }

    @Test func readOnlyReadsChangeNoByteOfTheFile() throws {
        let path = scratchFolder("read-only-bytes") + "/s.db"
        let records = try closedStore(path, 12)
        let before = try #require(DamagedFile.bytes(path))
        do {
            let s = try open(path, readOnly: true)
            #expect(sameMemory(try s.get(id: "m-11"), records[11]))
            _ = try s.keywordSearch("harbour", k: 5, filter: nil)
            _ = try s.history(id: "m-1")
        }
        #expect(DamagedFile.bytes(path) == before)
    }
}

/// `SQLiteSalvage`: what is left of a damaged file, read without changing it.
@Suite struct SQLiteSalvageTests {
    struct Salvaged {
        var records: [StoredRecord] = []
        var findings: [DamageFinding] = []
    }

    func salvage(_ path: String, dimension: Int? = 384) throws -> Salvaged {
        var out = Salvaged()
        var options: [String: JSONValue] = ["path": .string(path), "read_only": true]
        if let dimension { options["dimension"] = .number(Double(dimension)) }
        try SQLiteSalvage.run(.object(options), { out.records.append($0) }, { out.findings.append($0) })
        return out
    }

    /// A closed store of `n` records of dimension 384, and the records.
    func store(_ path: String, _ n: Int) throws -> [String: StoredRecord] {
        let records = damageRecords(n, dimension: 384)
        let s = try SQLiteVectorStore(options: ["path": .string(path), "dimension": 384])
        for batch in stride(from: 0, to: n, by: 500) { try s.upsert(Array(records[batch..<min(n, batch + 500)])) }
        return Dictionary(uniqueKeysWithValues: records.map { ($0.memory.id, $0) })
    }

    @Test func aFileTruncatedToHalfYieldsTheReadableRecordsAndDescribesTheRest() throws {
        let dir = scratchFolder("salvage-truncated")
        let path = dir + "/s.db"
        let stored = try store(path, 2000)
        let whole = try #require(DamagedFile.bytes(path))
        DamagedFile.write(path, Array(whole.prefix(whole.count / 2)))
        let opened = try #require(throws: StrataError.self) { _ = try SQLiteVectorStore(options: ["path": .string(path), "dimension": 384]) }
        #expect(opened.code == .corrupt && opened.message.contains(path), "\(opened)")
        let damaged = try #require(DamagedFile.bytes(path))
        let names = DamagedFile.names(dir)

        let got = try salvage(path)
        #expect(got.records.count > 0 && got.records.count < 2000, "\(got.records.count) records")
        #expect(got.records.count > 500, "a substantial part: \(got.records.count)")
        for r in got.records { #expect(identical(r, try #require(stored[r.memory.id])), "\(r.memory.id)") }
        #expect(Set(got.records.map(\.memory.id)).count == got.records.count, "each record once")
        #expect(got.findings.contains { $0.location == "end of file" && $0.problem.contains("truncated") }, "\(got.findings)")
        #expect(got.findings.contains { $0.location.hasPrefix("rows after rowid") }, "\(got.findings)")
        #expect(got.findings.allSatisfy { $0.file == path })
        let integrity = got.findings.filter { $0.location == "integrity check" }
        #expect(!integrity.isEmpty && integrity.count <= SQLiteSalvage.integrityFindings, "\(integrity)")
        #expect(DamagedFile.bytes(path) == damaged, "salvage changes no byte")
        #expect(DamagedFile.names(dir) == names, "and creates nothing beside it")
    }

    @Test func oneFlippedVectorBitLosesThatRecordAloneWithOneFinding() throws {
        let dir = scratchFolder("salvage-bit")
        let path = dir + "/s.db"
        let stored = try store(path, 300)
        var bytes = try #require(DamagedFile.bytes(path))
        let victim = try #require(stored["m-150"])
        let at = try #require(DamagedFile.find(DamagedFile.floatBytes(victim.vector), in: bytes))
        bytes[at + 400] ^= 0x10
        DamagedFile.write(path, bytes)
        let got = try salvage(path)
        #expect(got.records.count == 299)
        #expect(!got.records.contains { $0.memory.id == "m-150" })
        for r in got.records { #expect(identical(r, try #require(stored[r.memory.id]))) }
        #expect(got.findings.count == 1, "\(got.findings)")
        #expect(got.findings.first?.location == "record m-150 (rowid 151)")
        #expect(got.findings.first?.problem.contains("CRC-32C") == true)
        #expect(DamagedFile.bytes(path) == bytes, "salvage changes no byte")
        #expect(DamagedFile.names(dir) == ["s.db"])
        // Without a dimension in the options, the file's is used.
        #expect(try salvage(path, dimension: nil).records.count == 299)
    }

    @Test func anIntactStoreYieldsEverythingAndNoFinding() throws {
        let path = scratchFolder("salvage-intact") + "/s.db"
        let stored = try store(path, 50)
        let got = try salvage(path)
        #expect(got.findings.isEmpty, "\(got.findings)")
        #expect(got.records.count == 50 && got.records.allSatisfy { identical($0, stored[$0.memory.id]!) })
    }

    @Test func emptyMissingAndForeignFiles() throws {
        let dir = scratchFolder("salvage-files")
        DamagedFile.write(dir + "/empty.db", [])
        let empty = try salvage(dir + "/empty.db")
        #expect(empty.records.isEmpty && empty.findings.count == 1 && empty.findings[0].problem.contains("empty"), "\(empty.findings)")
        let missing = try #require(throws: StrataError.self) { _ = try salvage(dir + "/missing.db") }
        #expect(missing.code == .io && missing.message.contains(dir + "/missing.db"))
        #expect(!DamagedFile.exists(dir + "/missing.db"))
        DamagedFile.write(dir + "/text.db", Array(String(repeating: "not a database. ", count: 100).utf8))
        let foreign = try #require(throws: StrataError.self) { _ = try salvage(dir + "/text.db") }
        #expect(foreign.code == .corrupt && foreign.message.contains(dir + "/text.db"))
        let noPath = try #require(throws: StrataError.self) { try SQLiteSalvage.run(["dimension": 4], nil, { _ in }) }
        #expect(noPath.code == .invalidConfig)
    }
}
