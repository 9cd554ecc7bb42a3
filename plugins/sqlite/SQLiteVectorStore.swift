import StrataBackends
import StrataCore
import Synchronization

/// Memories, their vectors and their history in one SQLite file (WAL), shared by every process
/// on the machine that opens it.
///
/// - Durability: every `commit` is one `BEGIN IMMEDIATE` transaction: records, removals and
///   history rows land together or not at all. `synchronous` FULL (the default) syncs the WAL
///   at each commit, so an acknowledged commit survives a crash or power loss.
/// - Several processes: writers queue on the write lock for up to `busy_timeout_ms` (10 s by
///   default); readers never wait (WAL). "database is locked" does not escape under normal
///   contention.
/// - Vector search runs on an in-process copy of the vectors (the exact built-in index, all
///   cores, filters applied exactly). Each call first checks `PRAGMA data_version`, and when
///   another process has committed, reads only the rows changed since (a sequence number on
///   every row, a tombstone per removal), so processes see each other's writes at their next call.
/// - Snapshots: whole-database copies in `PATH.snapshots/NAME.sqlite`; a rollback writes the
///   difference to a snapshot as one ordinary commit with its history rows (SQLiteSnapshots.swift).
/// - Keyword search is FTS5 (BM25); `scan` and keyword search push metadata filters down to SQL
///   as far as SQL can say them (`SQLFilter`) and check each row with the exact filter.
///
/// Options: `path` (the file; without it, a private temporary database deleted on close),
/// `synchronous` ("full", "normal" or "off"), `busy_timeout_ms`, plus the host's `dimension`
/// and `metric`. Thread-safe: one connection behind a lock; searches run beside each other on
/// the in-process index.
public final class SQLiteVectorStore: ChangeApplyingStore, @unchecked Sendable {
    public let dimension: Int
    public let metric: Metric
    public let name: String
    public var providesKeywordSearch: Bool { true }
    public var keepsHistory: Bool { true }
    /// The database file ("" for a temporary one).
    public let path: String

    /// The connection and what the in-process index has seen. `@unchecked Sendable` above: every
    /// use of `db` goes through `lock`.
    struct SyncState {
        var lastSeq: Int64 = 0
        var dataVersion: Int64 = -1
    }

    let db: SQLiteConnection
    let lock = Mutex(SyncState())
    let index: InMemoryVectorStore
    /// Where named snapshots live: `PATH.snapshots/NAME.sqlite` (see SQLiteSnapshots.swift).
    let folder: SnapshotFolder

    /// Opens or creates the store; migrations run here.
    public init(options: JSONValue) throws(StrataError) {
        var r = try JSONObjectReader(options, path: "sqlite options", code: .invalidConfig)
        guard let dim = try r.optionalInt("dimension", in: 1...65536) else {
            throw StrataError(.invalidConfig, "sqlite options.dimension is required")
        }
        let metricName = try r.optionalChoice("metric", Metric.allCases.map(\.rawValue)) ?? "cosine"
        let path = try r.optionalString("path") ?? ""
        let synchronous = try r.optionalChoice("synchronous", ["full", "normal", "off"]) ?? "full"
        let busy = try r.optionalInt("busy_timeout_ms", in: 0...3_600_000) ?? 10_000
        try r.finish()
        dimension = dim
        metric = Metric(rawValue: metricName)!
        self.path = path
        name = "sqlite"
        db = try SQLiteConnection(path: path, busyTimeoutMilliseconds: Int32(busy))
        folder = SnapshotFolder(beside: path, suffix: ".sqlite", owner: "sqlite store \"\(path)\"")
        if !path.isEmpty { try db.execute("PRAGMA journal_mode = WAL", "switching to WAL", retryingBusy: true) }
        try db.execute("PRAGMA synchronous = \(synchronous.uppercased())", "setting synchronous")
        try SQLiteSchema.migrate(db, dimension: dim, metric: metric)
        index = try InMemoryVectorStore(dimension: dim, metric: metric, name: "sqlite index", keywordSearch: false)
        try lock.withLock { (state: inout SyncState) throws(StrataError) in try sync(&state) }
    }

    // MARK: - Keeping the in-process index in step with the file

    /// Reads what other connections committed since the last look, if anything.
    private func sync(_ state: inout SyncState) throws(StrataError) {
        let version = try db.integer("PRAGMA data_version") ?? 0
        guard version != state.dataVersion else { return }
        try db.transaction(immediate: false) { () throws(StrataError) in try applyChanges(&state) }
        state.dataVersion = version
    }

    /// Applies every row changed after `state.lastSeq` to the index. Runs inside a transaction,
    /// so the rows and the sequence number come from one snapshot.
    func applyChanges(_ state: inout SyncState) throws(StrataError) {
        let seq = try currentSeq()
        guard seq != state.lastSeq else { return }
        var change = StoreChange()
        let removed = try db.statement("SELECT id FROM removed WHERE seq > ?")
        try removed.bind(1, state.lastSeq)
        while try removed.step() { change.removals.append(removed.text(0)) }
        let rows = try db.statement("SELECT record, vector FROM memories WHERE seq > ?")
        try rows.bind(1, state.lastSeq)
        while try rows.step() { change.upserts.append(try record(rows, record: 0, vector: 1)) }
        // Removals first: an id removed and stored again since the last look ends up stored.
        try index.commit(StoreChange(removals: change.removals))
        try index.commit(StoreChange(upserts: change.upserts))
        state.lastSeq = seq
    }

    private func currentSeq() throws(StrataError) -> Int64 {
        let s = try db.statement("SELECT CAST(value AS INTEGER) FROM strata_meta WHERE key = 'seq'")
        defer { s.reset() }
        guard try s.step() else { throw StrataError(.corrupt, "sqlite store \"\(path)\": strata_meta has no seq row") }
        return s.int64(0)
    }

    /// Decodes one row's record JSON and vector BLOB; `file` names the database in errors.
    func record(_ s: SQLiteStatement, record: Int32, vector: Int32, file: String? = nil) throws(StrataError) -> StoredRecord {
        let file = file ?? path
        let memory = try s.withBytes(record) { (bytes) throws(StrataError) -> Memory in
            let json = try JSONParser.parse(bytes: bytes, what: "record in \(file)")
            return try Memory(json: json, what: "record in \(file)")
        }
        guard let v = s.floats(vector, dimension: dimension) else {
            throw StrataError(.corrupt, "sqlite store \"\(file)\": the vector of \(memory.id) is not \(dimension) floats")
        }
        return StoredRecord(memory: memory, vector: v)
    }

    /// Runs `body` with the connection, after catching up with other processes.
    private func synced<T>(_ body: () throws(StrataError) -> T) throws(StrataError) -> T {
        try lock.withLock { (state: inout SyncState) throws(StrataError) -> T in
            try sync(&state)
            return try body()
        }
    }

    // MARK: - Writes

    /// One write transaction; returns how many rows were removed.
    public func apply(_ change: StoreChange) throws(StrataError) -> Int {
        try change.validateVectors(dimension: dimension)
        guard !change.isEmpty else { return 0 }
        let encoded = EncodedChange(change)
        return try lock.withLock { (state: inout SyncState) throws(StrataError) -> Int in
            let removed = try db.transaction(immediate: true) { () throws(StrataError) -> Int in
                // Others' commits first: the index must not skip them when it takes our seq.
                try applyChanges(&state)
                return try write(encoded, seq: state.lastSeq + 1)
            }
            // Committed: now the index, which cannot fail on vectors validated above.
            try index.commit(StoreChange(upserts: change.upserts, removals: change.removals))
            // data_version stays as it was: our own commit does not change it, and reading it now
            // could hide a commit another process made since.
            state.lastSeq += 1
            return removed
        }
    }

    /// A change with its records and history rows already written as JSON (outside the lock).
    struct EncodedChange {
        let change: StoreChange
        let records: [String]
        let history: [String]

        init(_ change: StoreChange) {
            self.change = change
            records = change.upserts.map { JSONWriter.string($0.memory.json) }
            history = change.history.map { JSONWriter.string($0.json) }
        }
    }

    /// Writes one change as sequence number `seq`, inside the caller's write transaction, after
    /// `applyChanges` (so `seq` is the next one). Returns how many rows were removed.
    func write(_ encoded: EncodedChange, seq: Int64) throws(StrataError) -> Int {
        let change = encoded.change
        let bump = try db.statement("UPDATE strata_meta SET value = ? WHERE key = 'seq'")
        try bump.bind(1, String(seq))
        try bump.run()
        let insert = try db.statement("""
            INSERT INTO memories(id, seq, content, record, vector) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, content = excluded.content,
                record = excluded.record, vector = excluded.vector
            """)
        let unremove = try db.statement("DELETE FROM removed WHERE id = ?")
        for (r, json) in zip(change.upserts, encoded.records) {
            insert.reset()
            try insert.bind(1, r.memory.id)
            try insert.bind(2, seq)
            try insert.bind(3, r.memory.content)
            try insert.bind(4, json)
            try insert.bind(5, floats: r.vector)
            try insert.run()
            unremove.reset()
            try unremove.bind(1, r.memory.id)
            try unremove.run()
        }
        var removed = 0
        let delete = try db.statement("DELETE FROM memories WHERE id = ?")
        let tombstone = try db.statement("INSERT OR REPLACE INTO removed(id, seq) VALUES (?, ?)")
        for id in change.removals {
            delete.reset()
            try delete.bind(1, id)
            try delete.run()
            guard db.changes > 0 else { continue }
            removed += 1
            tombstone.reset()
            try tombstone.bind(1, id)
            try tombstone.bind(2, seq)
            try tombstone.run()
        }
        let log = try db.statement("INSERT INTO history(memory_id, at, event, entry) VALUES (?, ?, ?, ?)")
        for (json, entry) in zip(encoded.history, change.history) {
            log.reset()
            try log.bind(1, entry.memoryID)
            try log.bind(2, entry.at.iso8601)
            try log.bind(3, entry.event.rawValue)
            try log.bind(4, json)
            try log.run()
        }
        return removed
    }

    // MARK: - Reads

    public func get(id: String) throws(StrataError) -> StoredRecord? {
        try synced { () throws(StrataError) -> StoredRecord? in try index.get(id: id) }
    }

    public func count() throws(StrataError) -> Int {
        try synced { () throws(StrataError) -> Int in try index.count() }
    }

    public func search(_ query: [Float], k: Int, filter: Filter?) throws(StrataError) -> [ScoredRecord] {
        try lock.withLock { (state: inout SyncState) throws(StrataError) in try sync(&state) }
        // Outside the lock: searches run side by side on the index, which has its own lock.
        return try index.search(query, k: k, filter: filter)
    }

    public func keywordSearch(_ query: String, k: Int, filter: Filter?) throws(StrataError) -> [ScoredRecord] {
        // Each word quoted, joined with OR: the user's text never reaches FTS5's query syntax.
        let words = Array(Set(Tokenizer.keywords(query))).sorted()
        guard k > 0, !words.isEmpty else { return [] }
        let match = words.map { "\"" + $0.filter { $0 != "\"" } + "\"" }.joined(separator: " OR ")
        let pushed = SQLFilter(filter, column: "m.record")
        return try synced { () throws(StrataError) -> [ScoredRecord] in
            let s = try db.statement("""
                SELECT m.record, m.vector, -bm25(memories_fts) FROM memories_fts JOIN memories m ON m.rid = memories_fts.rowid
                WHERE memories_fts MATCH ? AND \(pushed.sql) ORDER BY bm25(memories_fts)
                """, cached: false)
            try s.bind(1, match)
            try pushed.bind(s, from: 2)
            var out: [ScoredRecord] = []
            while out.count < k, try s.step() {
                let r = try record(s, record: 0, vector: 1)
                if let filter, !filter.matches(r.memory) { continue }
                out.append(ScoredRecord(record: r, score: Float(s.double(2))))
            }
            return out
        }
    }

    public func scan(filter: Filter?, _ body: (StoredRecord) throws(StrataError) -> Bool) throws(StrataError) {
        let pushed = SQLFilter(filter)
        // Collected under the lock, visited outside it: `body` may call the store.
        let records = try synced { () throws(StrataError) -> [StoredRecord] in
            let s = try db.statement("SELECT record, vector FROM memories WHERE \(pushed.sql) ORDER BY rid", cached: false)
            try pushed.bind(s)
            var out: [StoredRecord] = []
            while try s.step() {
                let r = try record(s, record: 0, vector: 1)
                if filter?.matches(r.memory) ?? true { out.append(r) }
            }
            return out
        }
        for r in records where try !body(r) { return }
    }

    public func history(id: String) throws(StrataError) -> [HistoryEntry] {
        try synced { () throws(StrataError) -> [HistoryEntry] in
            let s = try db.statement("SELECT entry FROM history WHERE memory_id = ? ORDER BY hid")
            try s.bind(1, id)
            var out: [HistoryEntry] = []
            while try s.step() {
                let what = "history of \(id) in \(path)"
                let json = try s.withBytes(0) { (b) throws(StrataError) -> JSONValue in try JSONParser.parse(bytes: b, what: what) }
                out.append(try HistoryEntry(json: json, what: what))
            }
            return out
        }
    }
}
