import StrataCore

/// The SQLite store's schema and its migrations, applied on open.
///
/// `PRAGMA user_version` holds the schema version. Each migration moves the file from version
/// i to i + 1 inside one write transaction, so a crash mid-migration leaves the old version.
/// A file with a newer version than this plugin knows is refused, never guessed at.
enum SQLiteSchema {
    /// One step: SQL, then (optionally) Swift for what SQL cannot compute, in one transaction.
    struct Migration: Sendable {
        let sql: String
        var backfill: (@Sendable (SQLiteConnection) throws(StrataError) -> Void)? = nil
    }

    /// migrations[i] moves a file from version i to version i + 1.
    static let migrations: [Migration] = [
        // 1: memories (record JSON + vector BLOB), the change log the in-process index syncs
        //    from, history, and an FTS5 index over content kept in step by triggers.
        Migration(sql: """
        CREATE TABLE strata_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
        INSERT INTO strata_meta(key, value) VALUES ('seq', '0');
        CREATE TABLE memories(
            rid INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            seq INTEGER NOT NULL,
            content TEXT NOT NULL,
            record TEXT NOT NULL,
            vector BLOB NOT NULL
        );
        CREATE INDEX memories_seq ON memories(seq);
        CREATE TABLE removed(id TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;
        CREATE INDEX removed_seq ON removed(seq);
        CREATE TABLE history(
            hid INTEGER PRIMARY KEY,
            memory_id TEXT NOT NULL,
            at TEXT NOT NULL,
            event TEXT NOT NULL,
            entry TEXT NOT NULL
        );
        CREATE INDEX history_memory ON history(memory_id, hid);
        CREATE VIRTUAL TABLE memories_fts USING fts5(
            content, content='memories', content_rowid='rid', tokenize='unicode61 remove_diacritics 2');
        CREATE TRIGGER memories_fts_insert AFTER INSERT ON memories BEGIN
            INSERT INTO memories_fts(rowid, content) VALUES (new.rid, new.content);
        END;
        CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories BEGIN
            INSERT INTO memories_fts(memories_fts, rowid, content) VALUES ('delete', old.rid, old.content);
        END;
        CREATE TRIGGER memories_fts_update AFTER UPDATE OF content ON memories BEGIN
            INSERT INTO memories_fts(memories_fts, rowid, content) VALUES ('delete', old.rid, old.content);
            INSERT INTO memories_fts(rowid, content) VALUES (new.rid, new.content);
        END;
        """),
        // 2: a CRC-32C per memory row (id, record, vector) and per history row (memory_id, at,
        //    event, entry), since SQLite checks no row contents: computed here for the rows
        //    already there, then by every write, and checked by every read.
        Migration(sql: """
        ALTER TABLE memories ADD COLUMN crc INTEGER;
        ALTER TABLE history ADD COLUMN crc INTEGER;
        """, backfill: backfillChecksums),
    ]

    static var currentVersion: Int64 { Int64(migrations.count) }

    /// Brings the file to `currentVersion`, then checks (or records) its dimension and metric.
    static func migrate(_ db: SQLiteConnection, dimension: Int, metric: Metric) throws(StrataError) {
        try db.transaction(immediate: true) { () throws(StrataError) in
            let version = try db.integer("PRAGMA user_version") ?? 0
            guard version <= currentVersion else {
                throw StrataError(.invalidConfig,
                                  "sqlite store \"\(db.path)\": schema version \(version) is newer than this plugin's \(currentVersion); use a newer Strata")
            }
            for v in Int(version)..<migrations.count {
                try db.execute(migrations[v].sql, "migrating the schema from version \(v) to \(v + 1)")
                try migrations[v].backfill?(db)
                try db.execute("PRAGMA user_version = \(v + 1)", "recording schema version \(v + 1)")
            }
            try check(db, key: "dimension", value: String(dimension))
            try check(db, key: "metric", value: metric.rawValue)
        }
    }

    /// Checks, without writing, that a file opened read-only needs no migration and holds
    /// `dimension` and `metric`.
    static func verify(_ db: SQLiteConnection, dimension: Int, metric: Metric) throws(StrataError) {
        try db.transaction(immediate: false) { () throws(StrataError) in
            let version = try db.integer("PRAGMA user_version") ?? 0
            guard version <= currentVersion else {
                throw StrataError(.invalidConfig,
                                  "sqlite store \"\(db.path)\": schema version \(version) is newer than this plugin's \(currentVersion); use a newer Strata")
            }
            guard version == currentVersion else {
                throw StrataError(.unsupported,
                                  "sqlite store \"\(db.path)\" has schema version \(version) and needs migrating to \(currentVersion), which read_only cannot do; open it once for writing (without read_only) first")
            }
            try check(db, key: "dimension", value: String(dimension), readOnly: true)
            try check(db, key: "metric", value: metric.rawValue, readOnly: true)
        }
    }

    /// The dimension the file records, nil when it records none (a file never opened for
    /// writing by a store). For `dimension_as_stored`.
    static func storedDimension(_ db: SQLiteConnection) throws(StrataError) -> Int? {
        let version = try db.integer("PRAGMA user_version") ?? 0
        guard version > 0, let stored = try db.integer("SELECT CAST(value AS INTEGER) FROM strata_meta WHERE key = 'dimension'") else { return nil }
        guard (1...65536).contains(stored) else {
            throw StrataError(.corrupt, "sqlite store \"\(db.path)\" holds dimension \(stored) in strata_meta; \(SQLiteStoreFile.damageAdvice)")
        }
        return Int(stored)
    }

    /// Migration 2's checksums for the rows already there. `UPDATE ... SET crc` touches no
    /// content, so the FTS5 triggers do not fire, and no change sequence moves: the rows are
    /// the same for every reader.
    private static func backfillChecksums(_ db: SQLiteConnection) throws(StrataError) {
        // Read whole, then written: a table is not updated under a statement still reading it.
        for (table, key, columns, sum) in [
            ("memories", "rid", SQLiteRecordRow.columns, { (s: SQLiteStatement) in SQLiteRecordRow.storedChecksum(s) }),
            ("history", "hid", SQLiteHistoryRow.columns, { (s: SQLiteStatement) in SQLiteHistoryRow.storedChecksum(s) }),
        ] {
            var sums: [(Int64, UInt32)] = []
            let rows = try db.statement("SELECT \(columns) FROM \(table)", cached: false)
            while try rows.step() { sums.append((rows.int64(0), sum(rows))) }
            let set = try db.statement("UPDATE \(table) SET crc = ? WHERE \(key) = ?", cached: false)
            for (row, crc) in sums {
                set.reset()
                try set.bind(1, Int64(crc))
                try set.bind(2, row)
                try set.run()
            }
        }
    }

    /// A file keeps the dimension and metric it was made with; another value is a clear error.
    private static func check(_ db: SQLiteConnection, key: String, value: String, readOnly: Bool = false) throws(StrataError) {
        let read = try db.statement("SELECT value FROM strata_meta WHERE key = ?")
        try read.bind(1, key)
        defer { read.reset() }
        if try read.step() {
            let stored = read.text(0)
            guard stored == value else {
                throw StrataError(.invalidConfig,
                                  "sqlite store \"\(db.path)\" holds \(key) \(stored), but the configuration asks for \(value)")
            }
            return
        }
        guard !readOnly else {
            throw StrataError(.corrupt, "sqlite store \"\(db.path)\" has no \(key) in strata_meta; \(SQLiteStoreFile.damageAdvice)")
        }
        let write = try db.statement("INSERT INTO strata_meta(key, value) VALUES (?, ?)")
        try write.bind(1, key)
        try write.bind(2, value)
        try write.run()
    }
}
