import StrataCore

/// The SQLite store's schema and its migrations, applied on open.
///
/// `PRAGMA user_version` holds the schema version. Each migration moves the file from version
/// i to i + 1 inside one write transaction, so a crash mid-migration leaves the old version.
/// A file with a newer version than this plugin knows is refused, never guessed at.
enum SQLiteSchema {
    /// migrations[i] moves a file from version i to version i + 1.
    static let migrations: [String] = [
        // 1: memories (record JSON + vector BLOB), the change log the in-process index syncs
        //    from, history, and an FTS5 index over content kept in step by triggers.
        """
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
        """,
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
                try db.execute(migrations[v], "migrating the schema from version \(v) to \(v + 1)")
                try db.execute("PRAGMA user_version = \(v + 1)", "recording schema version \(v + 1)")
            }
            try check(db, key: "dimension", value: String(dimension))
            try check(db, key: "metric", value: metric.rawValue)
        }
    }

    /// A file keeps the dimension and metric it was made with; another value is a clear error.
    private static func check(_ db: SQLiteConnection, key: String, value: String) throws(StrataError) {
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
        let write = try db.statement("INSERT INTO strata_meta(key, value) VALUES (?, ?)")
        try write.bind(1, key)
        try write.bind(2, value)
        try write.run()
    }
}
