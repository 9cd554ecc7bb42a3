#if canImport(Glibc)
import Glibc
#endif
import StrataCore

/// `strata doctor` and `strata salvage` for the SQLite store: every record that can still be
/// read from a damaged database file, and one `DamageFinding` per part that cannot.
///
/// - Never changes the file: it is opened `immutable=1` (no locks, nothing created beside it),
///   or, when a non-empty `-wal` lies beside it (a store that was not closed), read-only so the
///   WAL's commits are read too (SQLite may then create the `-shm` index; it writes neither the
///   database nor the WAL).
/// - Walks `memories` in rowid order. Where a step fails (a page truncated away or damaged,
///   "database disk image is malformed"), it learns which rowids exist beyond from whatever
///   else is intact (the `seq` index, the unique index on `id`, FTS5's per-row sizes), seeks to
///   each in turn until a read succeeds, and goes on from there; with no intact index it probes
///   forward in growing steps. The rows in between are one finding, naming the records the
///   `id` index still knows.
/// - A row returning out of rowid order (a damaged b-tree) ends a stretch like an error, so
///   the walk always moves forward and ends.
/// - When anything was found damaged, a page scan (`scanPages`, on `SQLitePages`) then reads
///   the file's table-leaf pages straight from its bytes, as SQLite's own recovery does, and
///   hands over the `memories` rows the walk could not reach whose checksum matches (a file cut
///   short loses the interior pages near the root, while many leaf pages are still there);
///   nothing removed or replaced comes back (the freelist, tombstones and `seq` decide), and one
///   finding says how many it recovered. When SQLite cannot read the schema at all, the page
///   scan alone runs, with the plugin's own schema for the row's shape.
/// - Every row read is checked like the store checks it (`SQLiteRecordRow`): a checksum
///   mismatch or a record that does not decode is a finding naming the record and its rowid.
/// - A header that promises more pages than the file holds is a finding (truncated), and so is
///   each complaint of `PRAGMA quick_check` (at most `integrityFindings`).
/// - An empty file (or one shorter than a page, starting like a database) yields no records and
///   one finding: it is the store's file with every record lost, not a foreign file. A missing
///   file is `.io`; a file that is not a SQLite database, or a database without a `memories`
///   table, is `.corrupt`. History is not salvaged: `StoreSalvage` hands over records only.
///
/// Options: the store's (`path` required; `dimension`, `metric`, `synchronous`,
/// `busy_timeout_ms`, `read_only` accepted, so a store's configured options can be passed).
/// `dimension`, when given, is the vector length every record must have; otherwise the file's.
public enum SQLiteSalvage {
    public static let run: StoreSalvage = { options, record, finding throws(StrataError) in
        try withoutActuallyEscaping(finding) { (finding) throws(StrataError) in
            var salvage = try SQLiteSalvageRun(options: options, finding: finding)
            try salvage.run(record: record)
        }
    }

    /// At most this many `PRAGMA quick_check` complaints become findings.
    static let integrityFindings = 20
}

/// One salvage of one file (see `SQLiteSalvage`).
struct SQLiteSalvageRun {
    let path: String
    var dimension: Int?
    let finding: (DamageFinding) -> Void
    /// rowid -> id, from the unique index on `id`, to name lost records.
    var knownIDs: [Int64: String] = [:]
    var seenIDs = Set<String>()
    /// Every rowid the intact indexes know, once a damaged stretch needed them.
    var knownRowids: [Int64]?
    /// Every rowid the walk read (whether its record was whole or not): the page scan does not
    /// take these again.
    var walkedRowids = Set<Int64>()
    /// How many findings were reported: any at all, and the page scan runs.
    let reported = Counter()

    final class Counter {
        var value = 0
    }

    init(options: JSONValue, finding: @escaping (DamageFinding) -> Void) throws(StrataError) {
        var r = try JSONObjectReader(options, path: "sqlite salvage options", code: .invalidConfig)
        guard let path = try r.optionalString("path"), !path.isEmpty else {
            throw StrataError(.invalidConfig, "sqlite salvage options.path is required: the database file to read")
        }
        dimension = try r.optionalInt("dimension", in: 1...65536)
        _ = try r.optionalChoice("metric", Metric.allCases.map(\.rawValue))
        _ = try r.optionalChoice("synchronous", ["full", "normal", "off"])
        _ = try r.optionalInt("busy_timeout_ms", in: 0...3_600_000)
        _ = try r.optionalBool("read_only")
        _ = r.optionalValue("index")  // the index is derived: salvage reads rows only
        try r.finish()
        self.path = path
        self.finding = finding
    }

    func report(_ location: String, _ problem: String, lost: String? = nil) {
        reported.value += 1
        finding(DamageFinding(file: path, location: location, problem: problem, lost: lost))
    }

    mutating func run(record: ((StoredRecord) throws(StrataError) -> Void)?) throws(StrataError) {
        guard try checkHeader() else { return }
        let wal = SQLiteSalvageRun.size(path + "-wal") ?? 0
        let db = try SQLiteConnection(path: path, busyTimeoutMilliseconds: 1000, mode: wal > 0 ? .readOnly : .immutable)
        defer { db.close() }
        // A header promising more pages than the file has makes SQLite refuse the whole file
        // unless the schema is "writable": then it takes the file's own size. The flag is the
        // connection's; nothing is written (the file is open read-only).
        try db.execute("PRAGMA writable_schema = ON", "reading past a truncated end")
        let tables: Int64
        do {
            tables = try db.integer("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'memories'") ?? 0
        } catch {
            // Without a schema SQLite finds no table; the pages may still hold records.
            let unreadable = StrataError(.corrupt, "sqlite store \"\(path)\": its schema (page 1) cannot be read, so no record can be found: \(error.message)")
            let found = try scanPages(nil, record: record)
            guard found > 0 else { throw unreadable }
            report("schema (page 1)", "cannot be read: \(error.message); the records were looked for page by page",
                   lost: "every record that is not on an intact table page")
            return
        }
        guard tables == 1 else {
            throw StrataError(.corrupt, "sqlite store \"\(path)\" is a SQLite database without a memories table: not a Strata store")
        }
        let version = (try? db.integer("PRAGMA user_version")) ?? 0
        readMeta(db)
        collectKnownIDs(db)
        try walk(db, checksummed: version >= 2, record: record)
        integrityCheck(db)
        // Damage anywhere: the pages the walk could not reach may still hold records.
        if reported.value > 0 && version >= 2 { _ = try scanPages(db, record: record) }
    }

    // MARK: - Before SQLite

    static func size(_ path: String) -> Int? {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : nil
    }

    /// Checks what the file's first bytes say; false when there is nothing for SQLite to read
    /// (an empty or too-short file, reported as a finding).
    func checkHeader() throws(StrataError) -> Bool {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw StrataError(.io, "sqlite store \"\(path)\" cannot be salvaged: \(String(cString: strerror(errno)))")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw StrataError(.io, "sqlite store \"\(path)\" is not a regular file") }
        let size = Int(st.st_size)
        let header = Self.read(path, count: 100)
        guard let header else { throw StrataError(.io, "sqlite store \"\(path)\" cannot be read: \(String(cString: strerror(errno)))") }
        let magic = Array("SQLite format 3\0".utf8)
        guard Array(header.prefix(magic.count)) == Array(magic.prefix(header.count)) else {
            throw StrataError(.corrupt, "sqlite store \"\(path)\" is not a SQLite database (its first bytes are not \"SQLite format 3\")")
        }
        guard size >= SQLiteStoreFile.smallestDatabase else {
            report("header", size == 0 ? "the file is empty (0 bytes)" : "the file is \(size) bytes, shorter than one database page",
                   lost: "every record")
            return false
        }
        // Bytes 16-17: page size (1 means 65536); 28-31: pages, valid when 92-95 match 24-27.
        let pageSize = header[16] == 0 && header[17] == 1 ? 65536 : Int(header[16]) << 8 | Int(header[17])
        func be32(_ at: Int) -> Int { header[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        let pages = be32(28)
        if pageSize >= 512, be32(92) == be32(24), pages > 0, pages * pageSize > size {
            let missing = pages - size / pageSize
            report("end of file", "the file is \(size) bytes, its header says \(pages) pages of \(pageSize) bytes (\(pages * pageSize)): truncated",
                   lost: "the records on the last \(missing) pages")
        }
        return true
    }

    static func read(_ path: String, count: Int) -> [UInt8]? {
        guard let f = fopen(path, "rb") else { return nil }
        defer { fclose(f) }
        var out = [UInt8](repeating: 0, count: count)
        let n = fread(&out, 1, count, f)
        return Array(out.prefix(n))
    }

    // MARK: - What the intact parts say

    mutating func readMeta(_ db: SQLiteConnection) {
        do {
            guard let stored = try db.integer("SELECT CAST(value AS INTEGER) FROM strata_meta WHERE key = 'dimension'") else { return }
            if dimension == nil { dimension = Int(stored) }
        } catch {
            report("strata_meta", "cannot be read: \(error.message)", lost: "nothing by itself (the dimension is taken from the records)")
        }
    }

    /// rowid -> id from the unique index on `id`, as far as it reads.
    mutating func collectKnownIDs(_ db: SQLiteConnection) {
        guard let s = try? db.statement("SELECT rid, id FROM memories INDEXED BY sqlite_autoindex_memories_1 WHERE id >= ''", cached: false) else { return }
        while (try? s.step()) == true { knownIDs[s.int64(0)] = s.text(1) }
    }

    /// Every rowid an intact index or FTS5 table knows of, above `after`, ascending (read once).
    mutating func candidates(_ db: SQLiteConnection, after: Int64) -> [Int64] {
        if knownRowids == nil { knownRowids = allRowids(db) }
        return knownRowids!.filter { $0 > after }
    }

    func allRowids(_ db: SQLiteConnection) -> [Int64] {
        let after = Int64.min
        var out = Set(knownIDs.keys)
        for sql in ["SELECT rid FROM memories INDEXED BY memories_seq WHERE seq >= -9223372036854775808 AND rid > ?",
                    "SELECT id FROM memories_fts_docsize WHERE id > ?"] {
            guard let s = try? db.statement(sql, cached: false), (try? s.bind(1, after)) != nil else { continue }
            while (try? s.step()) == true { out.insert(s.int64(0)) }
        }
        return out.sorted()
    }

    // MARK: - The walk

    /// What one scan from a rowid got to.
    struct Stretch {
        var rows = 0
        var last: Int64?
        var error: StrataError?
    }

    mutating func walk(_ db: SQLiteConnection, checksummed: Bool, record: ((StoredRecord) throws(StrataError) -> Void)?) throws(StrataError) {
        var from = Int64.min
        while true {
            let stretch = try scan(db, from: from, checksummed: checksummed, record: record)
            guard let error = stretch.error else { return }
            // Rows after `after` could not be read: find the next rowid that can.
            let after = stretch.last ?? (from == Int64.min ? 0 : from - 1)
            var lost: [Int64] = []
            var resume: Int64?
            for c in candidates(db, after: after) {
                let probe = try scan(db, from: c, checksummed: checksummed, record: record, limit: 0)
                if probe.error == nil { resume = c; break }
                lost.append(c)
            }
            if resume == nil {
                var step: Int64 = 1
                let base = max(after, lost.last ?? after)
                while step < Int64.max / 4, base < Int64.max - step * 2 {
                    let probe = try scan(db, from: base + step, checksummed: checksummed, record: record, limit: 0)
                    if probe.error == nil {
                        if probe.rows > 0 || probe.last != nil { resume = base + step }
                        break
                    }
                    step *= 2
                }
            }
            reportLost(after: after, before: resume, rowids: lost, error: error)
            guard let resume else { return }
            from = resume
        }
    }

    /// Reads rows from rowid `from` in rowid order, handing each readable one over, until the
    /// end, an unreadable step, or (`limit` 0) just checking that the first step reads.
    mutating func scan(_ db: SQLiteConnection, from: Int64, checksummed: Bool,
                       record: ((StoredRecord) throws(StrataError) -> Void)?, limit: Int? = nil) throws(StrataError) -> Stretch {
        var stretch = Stretch()
        let s: SQLiteStatement
        do {
            s = try db.statement("SELECT rid, id, \(checksummed ? "crc" : "NULL"), record, vector FROM memories WHERE rid >= ? ORDER BY rid", cached: false)
            try s.bind(1, from)
        } catch {
            stretch.error = error
            return stretch
        }
        while true {
            // Only SQLite's errors end a stretch; what `record` throws stops the salvage.
            do {
                guard try s.step() else { return stretch }
            } catch {
                stretch.error = error
                return stretch
            }
            // A damaged b-tree can hand rows back out of order (below `from`, or not ascending):
            // the stretch ends there, so the walk always moves forward and ends.
            let rowid = s.int64(0)
            guard rowid >= from, stretch.last.map({ rowid > $0 }) ?? true else {
                stretch.error = StrataError(.corrupt, "rowid \(rowid) came after rowid \(stretch.last ?? from) in a walk in rowid order: the b-tree is damaged")
                return stretch
            }
            stretch.last = rowid
            if limit == 0 { return stretch }
            stretch.rows += 1
            walkedRowids.insert(s.int64(0))
            let decoded: Result<StoredRecord, SQLiteRecordRow.Damage>
            do { decoded = .success(try SQLiteRecordRow.decode(s, dimension: dimension, checksummed: checksummed)) } catch { decoded = .failure(error) }
            switch decoded {
            case .success(let r):
                if seenIDs.insert(r.memory.id).inserted { try record?(r) }
            case .failure(let damage):
                report(damage.location, damage.problem, lost: "this record")
            }
        }
    }

    func reportLost(after: Int64, before: Int64?, rowids: [Int64], error: StrataError) {
        let location = before.map { "rows after rowid \(after), before rowid \($0)" } ?? "rows after rowid \(after), to the end"
        let named = rowids.compactMap { knownIDs[$0] }
        let lost: String
        if rowids.isEmpty {
            lost = "the records stored there (how many is unknown: no intact index lists them)"
        } else {
            lost = "\(rowids.count) record\(rowids.count == 1 ? "" : "s")"
                + (named.isEmpty ? "" : ": " + named.prefix(10).joined(separator: ", ") + (named.count > 10 ? ", ..." : ""))
        }
        report(location, "unreadable: \(error.message)", lost: lost)
    }

    // MARK: - SQLite's own check

    func integrityCheck(_ db: SQLiteConnection) {
        do {
            let s = try db.statement("PRAGMA quick_check(\(SQLiteSalvage.integrityFindings))", cached: false)
            var reported = 0
            // SQLite may put several complaints in one row, a line each, under a heading.
            while try s.step() {
                for line in s.text(0).split(separator: "\n") where line != "ok" && !line.hasPrefix("*** in database") {
                    guard reported < SQLiteSalvage.integrityFindings else { return }
                    report("integrity check", String(line))
                    reported += 1
                }
            }
        } catch {
            report("integrity check", "could not run: \(error.message)")
        }
    }
}
