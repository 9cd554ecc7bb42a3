#if canImport(Glibc)
import Glibc
#endif
import StrataCore
@testable import StrataSQLitePlugin
import StrataTesting
import Testing

/// Salvage's page scan (`SQLitePages`, `SQLiteSalvageRun.scanPages`): records read straight
/// from the file's pages when the B-tree above them is gone, and nothing removed or replaced
/// brought back.
@Suite struct SQLitePageScanTests {
    struct Salvaged {
        var records: [StoredRecord] = []
        var findings: [DamageFinding] = []
        var byID: [String: StoredRecord] { Dictionary(records.map { ($0.memory.id, $0) }, uniquingKeysWith: { a, _ in a }) }
    }

    func salvage(_ path: String, dimension: Int? = nil) throws(StrataError) -> Salvaged {
        var out = Salvaged()
        var options: [String: JSONValue] = ["path": .string(path)]
        if let dimension { options["dimension"] = .number(Double(dimension)) }
        try SQLiteSalvage.run(.object(options), { out.records.append($0) }, { out.findings.append($0) })
        return out
    }

    /// Records like `strata import` of short lines makes: short content, seeded random vectors.
    func shortRecords(_ n: Int, dimension: Int, seed: UInt64 = 11, from first: Int = 0, tag: String = "") -> [StoredRecord] {
        var rng = SeededRandom(seed: seed)
        return (first..<first + n).map { i in
            StoredRecord(
                memory: Memory(id: "m-\(i)", content: "memory number \(i) about topic \(i % 37)\(tag)",
                               createdAt: Timestamp(milliseconds: 1_700_000_000_000 + Int64(i))),
                vector: (0..<dimension).map { _ in Float.random(in: -1...1, using: &rng) })
        }
    }

    func cut(_ path: String, keeping fraction: Double) throws {
        let whole = try #require(DamagedFile.bytes(path))
        DamagedFile.write(path, Array(whole.prefix(Int(Double(whole.count) * fraction))))
    }

    /// `strata import m.jsonl --batch-size 500` of 2,000 lines, then the file cut to half: the
    /// interior pages near the root are gone, so the walk by rowid reads nothing (before the page
    /// scan, salvage yielded 0 records here); the leaf pages in the first half still hold theirs.
    @Test func aStoreCutToHalfGivesBackTheRecordsOnItsSurvivingLeafPages() throws {
        let dir = scratchFolder("page-scan-half")
        let path = dir + "/s.db"
        let records = shortRecords(2000, dimension: 256)
        do {
            let s = try SQLiteVectorStore(options: ["path": .string(path), "dimension": 256])
            for batch in stride(from: 0, to: 2000, by: 500) { try s.upsert(Array(records[batch..<batch + 500])) }
        }
        let stored = Dictionary(uniqueKeysWithValues: records.map { ($0.memory.id, $0) })
        try cut(path, keeping: 0.5)
        let damaged = try #require(DamagedFile.bytes(path))

        let got = try salvage(path)
        #expect(got.records.count >= 800, "at least 40%: \(got.records.count) of 2000; \(got.findings)")
        #expect(got.records.count < 2000)
        #expect(Set(got.records.map(\.memory.id)).count == got.records.count, "each record once")
        for r in got.records { #expect(identical(r, try #require(stored[r.memory.id])), "\(r.memory.id)") }
        #expect(got.findings.contains { $0.location == "end of file" && $0.problem.contains("truncated") }, "\(got.findings)")
        // The walk reads none of them: every one comes from the page scan, which says so.
        #expect(got.findings.contains { $0.location.hasPrefix("rows after rowid 0") }, "\(got.findings)")
        #expect(got.findings.contains { $0.location == "page scan" && $0.problem.hasPrefix("\(got.records.count) records recovered") },
                "\(got.findings)")
        #expect(DamagedFile.bytes(path) == damaged, "salvage changes no byte")
        #expect(DamagedFile.names(dir) == ["s.db"], "and creates nothing beside it")
        // With the dimension given, the same.
        #expect(try salvage(path, dimension: 256).records.count == got.records.count)
    }

    /// 100 records removed and 100 replaced before closing: their old copies sit on free pages
    /// or as freed cells. Cut a little: no removed record comes back, and a replaced one comes
    /// back only as it was last stored.
    @Test func removedRecordsStayRemovedAndReplacedOnesComeBackAsLastStored() throws {
        let dir = scratchFolder("page-scan-removed")
        let path = dir + "/s.db"
        let n = 1200
        let records = shortRecords(n, dimension: 256)
        var latest = Dictionary(uniqueKeysWithValues: records.map { ($0.memory.id, $0) })
        var rng = SeededRandom(seed: 5)
        let shuffled = Array(0..<n).shuffled(using: &rng)
        let removed = Set(shuffled.prefix(100).map { "m-\($0)" })
        let replaced = shuffled.dropFirst(100).prefix(100).sorted()
        do {
            let s = try SQLiteVectorStore(options: ["path": .string(path), "dimension": 256])
            for batch in stride(from: 0, to: n, by: 300) { try s.upsert(Array(records[batch..<batch + 300])) }
            #expect(try s.remove(ids: Array(removed).sorted()) == 100)
            // Replaced with other content (longer, so the cell cannot be rewritten in place) and
            // another vector.
            let updates = replaced.map { i in
                var r = shortRecords(1, dimension: 256, seed: 1000 + UInt64(i), from: i, tag: " (edited, now rather longer)")[0]
                r.memory.createdAt = records[i].memory.createdAt
                return r
            }
            try s.upsert(updates)
            for r in updates { latest[r.memory.id] = r }
            for id in removed { latest[id] = nil }
        }
        try cut(path, keeping: 0.9)

        let got = try salvage(path)
        #expect(Set(got.records.map(\.memory.id)).count == got.records.count, "each record once")
        #expect(got.records.count > n / 2, "\(got.records.count); \(got.findings)")
        for r in got.records {
            #expect(!removed.contains(r.memory.id), "removed \(r.memory.id) came back")
            if let want = latest[r.memory.id] { #expect(identical(r, want), "\(r.memory.id) is not as last stored") }
        }
        let back = replaced.filter { got.byID["m-\($0)"] != nil }
        #expect(!back.isEmpty, "some replaced records survive the cut")
    }

    /// The same, with the freelist's trunk page made unreadable: the removed records' pages are
    /// no longer known to be free, so only the tombstones and change sequences keep them out.
    @Test func withoutTheFreelistTombstonesStillKeepRemovedRecordsOut() throws {
        let path = scratchFolder("page-scan-freelist") + "/s.db"
        let records = shortRecords(400, dimension: 256)
        do {
            let s = try SQLiteVectorStore(options: ["path": .string(path), "dimension": 256])
            try s.upsert(records)
            _ = try s.remove(ids: (0..<150).map { "m-\($0)" })
        }
        var bytes = try #require(DamagedFile.bytes(path))
        #expect(SQLitePages.be(bytes, 36, 4) > 0, "the removal freed pages")
        // The freelist trunk now points past the end.
        for (i, b) in [0x7f, 0xff, 0xff, 0x00].enumerated() { bytes[32 + i] = UInt8(b) }
        DamagedFile.write(path, bytes)
        let got = try salvage(path)
        #expect(got.records.count == 250, "\(got.findings)")
        #expect(got.records.allSatisfy { Int($0.memory.id.dropFirst(2))! >= 150 })
        #expect(got.findings.contains { $0.location == "freelist" && $0.problem.contains("beyond the end") }, "\(got.findings)")
    }

    /// A store that was not closed: its latest changes are in the `-wal` beside it. The page
    /// scan reads pages as SQLite would, the WAL's newest committed copy first, so the main
    /// file's older copies of replaced records do not come back with their old content.
    @Test func theWALsCommittedPagesAreReadBeforeTheFilesOlderOnes() throws {
        let dir = scratchFolder("page-scan-wal")
        let path = dir + "/s.db"
        let n = 600
        let records = shortRecords(n, dimension: 256)
        var latest = Dictionary(uniqueKeysWithValues: records.map { ($0.memory.id, $0) })
        do {
            let s = try SQLiteVectorStore(options: ["path": .string(path), "dimension": 256])
            for batch in stride(from: 0, to: n, by: 200) { try s.upsert(Array(records[batch..<batch + 200])) }
        }
        let removed = Set((0..<50).map { "m-\($0 * 3)" })
        let replaced = (0..<100).map { $0 * 3 + 1 }
        let copy = scratchFolder("page-scan-wal-copy") + "/s.db"
        do {
            let s = try SQLiteVectorStore(options: ["path": .string(path), "dimension": 256])
            _ = try s.remove(ids: Array(removed).sorted())
            let updates = replaced.map { i in
                shortRecords(1, dimension: 256, seed: 2000 + UInt64(i), from: i, tag: " (edited, now rather longer)")[0]
            }
            try s.upsert(updates)
            for r in updates { latest[r.memory.id] = r }
            for id in removed { latest[id] = nil }
            // The files as a crash would leave them: the changes are in the WAL only.
            DamagedFile.write(copy + "-wal", try #require(DamagedFile.bytes(path + "-wal")))
            DamagedFile.write(copy, try #require(DamagedFile.bytes(path)))
        }
        #expect((DamagedFile.bytes(copy + "-wal")?.count ?? 0) > 0)
        // Whole, the pages read through the WAL (and its freelist) hold each live record once,
        // as last stored, and no removed one; the file alone holds the old copies.
        guard case .success(let pages) = SQLitePages.open(copy) else { Issue.record("the header reads"); return }
        #expect(!pages.walPages.isEmpty)
        var raw: [String: [Int64]] = [:]
        let free = pages.freelist()
        #expect(free.problem == nil)
        for number in 1...pages.pageCount where !free.pages.contains(number) {
            guard let p = pages.page(number), let parsed = pages.cells(p, number: number, skip: free.pages),
                  parsed.kind == .tableLeaf else { continue }
            for case let cell? in parsed.cells {
                if let row = SQLiteSalvageRun.rawRow(cell, rowid: cell.rowid!, page: number, shape: .current) { raw[row.id, default: []].append(row.seq) }
            }
        }
        pages.close()
        #expect(Set(raw.keys) == Set(latest.keys))
        #expect(raw.values.allSatisfy { $0.count == 1 }, "one copy each")
        #expect(replaced.allSatisfy { raw["m-\($0)"]?.first ?? 0 > raw["m-599"]!.first! }, "the replaced ones newer")
        try cut(copy, keeping: 0.5)
        let damaged = try #require(DamagedFile.bytes(copy))
        let got = try salvage(copy)
        #expect(Set(got.records.map(\.memory.id)).count == got.records.count, "each record once")
        #expect(got.records.count > n / 4, "\(got.records.count); \(got.findings)")
        for r in got.records {
            #expect(!removed.contains(r.memory.id), "removed \(r.memory.id) came back")
            if let want = latest[r.memory.id] { #expect(identical(r, want), "\(r.memory.id) is not as last stored") }
        }
        #expect(replaced.contains { got.byID["m-\($0)"] != nil }, "some replaced records survive")
        #expect(DamagedFile.bytes(copy) == damaged, "salvage changes no byte of the file")
    }

    // MARK: - Hostile files

    /// A real header, then random bytes: findings or a `.corrupt` error, never a crash or a hang.
    @Test func randomBytesAfterAValidHeaderGiveFindingsOrAnError() throws {
        let dir = scratchFolder("page-scan-random")
        let good = dir + "/good.db"
        do {
            let s = try SQLiteVectorStore(options: ["path": .string(good), "dimension": 16])
            try s.upsert(shortRecords(40, dimension: 16))
        }
        let real = try #require(DamagedFile.bytes(good))
        let pageSize = SQLitePages.be(real, 16, 2)
        var rng = SeededRandom(seed: 99)
        for (name, keep) in [("header", 100), ("page1", pageSize)] {
            for round in 0..<4 {
                let path = dir + "/\(name)-\(round).db"
                var bytes = Array(real.prefix(keep))
                bytes += (0..<(pageSize * 40 - keep)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                DamagedFile.write(path, bytes)
                do {
                    let got = try salvage(path)
                    #expect(!got.findings.isEmpty, "\(path)")
                    #expect(got.records.isEmpty, "random bytes hold no checksummed record")
                } catch {
                    #expect(error.code == .corrupt && error.message.contains(path), "\(error)")
                }
                #expect(DamagedFile.bytes(path) == bytes)
            }
        }
    }

    /// Page counts, freelists and overflow chains that lie: bounded work, findings.
    @Test func aHeaderClaimingHugePageCountsAndLoopingChainsStaysBounded() throws {
        let path = scratchFolder("page-scan-huge") + "/s.db"
        do {
            let s = try SQLiteVectorStore(options: ["path": .string(path), "dimension": 16])
            try s.upsert(shortRecords(60, dimension: 16))
        }
        var bytes = try #require(DamagedFile.bytes(path))
        let pageSize = SQLitePages.be(bytes, 16, 2)
        func put(_ value: Int, at: Int, _ count: Int = 4) {
            for i in 0..<count { bytes[at + i] = UInt8(truncatingIfNeeded: value >> (8 * (count - 1 - i))) }
        }
        // A header promising 2^31 pages and as many free ones, its freelist trunk a page that
        // names itself as the next trunk.
        put(0x7fff_fff0, at: 28)
        put(SQLitePages.be(bytes, 24, 4), at: 92)
        let last = bytes.count / pageSize
        put(last, at: 32)
        put(0x7fff_fff0, at: 36)
        let trunk = (last - 1) * pageSize
        put(last, at: trunk)
        put(0, at: trunk + 4)
        // The page before it: a table leaf with 65535 cells claimed, and one cell whose payload
        // spills onto an overflow chain that loops back to its own page.
        let leaf = (last - 2) * pageSize
        for i in 0..<pageSize { bytes[leaf + i] = 0 }
        bytes[leaf] = 13
        put(1, at: leaf + 3, 2)
        put(200, at: leaf + 8, 2)
        let cell = leaf + 200
        bytes[cell] = 0x84; bytes[cell + 1] = 0x80; bytes[cell + 2] = 0x00  // payload 65536 bytes
        bytes[cell + 3] = 1  // rowid 1
        // Its local part is the minimum (489 bytes of a 4096-byte page), then the first
        // overflow page: the trunk page, whose first four bytes name itself.
        #expect(pageSize == 4096)
        put(last, at: cell + 4 + 489)
        DamagedFile.write(path, bytes)
        let looped = Array(bytes)
        var got: Salvaged?
        do { got = try salvage(path) } catch { #expect(error.code == .corrupt, "\(error)") }
        if let got {
            #expect(got.findings.contains { $0.location == "end of file" }, "\(got.findings)")
            #expect(got.findings.contains { $0.location == "freelist" }, "\(got.findings)")
        }
        // A cell pointer array longer than the page.
        bytes = looped
        put(65535, at: leaf + 3, 2)
        DamagedFile.write(path, bytes)
        do { _ = try salvage(path) } catch { #expect(error.code == .corrupt, "\(error)") }

        // The page reader alone, on the looping page: nothing, no trap.
        DamagedFile.write(path, looped)
        guard case .success(let pages) = SQLitePages.open(path) else { Issue.record("the header reads"); return }
        defer { pages.close() }
        let p = try #require(pages.page(last - 1))
        let cells = try #require(pages.cells(p, number: last - 1))
        #expect(cells.kind == .tableLeaf && cells.cells.count == 1 && cells.cells[0] == nil)
        #expect(pages.page(0x7fff_fff0) == nil)
        #expect(pages.freelist().problem != nil)
    }

    /// Varints and records at their edges.
    @Test func varintsAndRecordsParseExactlyOrNotAtAll() {
        #expect(SQLitePages.varint([0x05], 0, limit: 1)! == (5, 1))
        #expect(SQLitePages.varint([0x81, 0x00], 0, limit: 2)! == (128, 2))
        #expect(SQLitePages.varint([0x81], 0, limit: 1) == nil)
        let nine = [UInt8](repeating: 0xff, count: 9)
        #expect(SQLitePages.varint(nine, 0, limit: 9)! == (UInt64.max, 9))
        // Header 4 bytes: NULL, int8, text of 2; body -1, "hi".
        #expect(SQLitePages.record([4, 0, 1, 17, 0xff, 0x68, 0x69]) == [.null, .integer(-1), .text([0x68, 0x69])])
        #expect(SQLitePages.record([4, 0, 1, 17, 0xff, 0x68]) == nil, "body shorter than its header says")
        #expect(SQLitePages.record([3, 10, 0]) == nil, "reserved serial type")
        #expect(SQLitePages.record([200]) == nil, "header longer than the payload")
        #expect(SQLitePages.record([]) == nil)
    }
}
