#if canImport(Glibc)
import Glibc
#endif
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
/// - Keyword search runs on the in-process index too: the built-in BM25 (`KeywordIndex`, the
///   same ranking as the in-memory and file stores), whose top-k search skips what cannot reach
///   the top, so its cost follows k and the rarest query word rather than the store. FTS5's
///   `bm25()` ranks every row that holds a query word: 12-14 ms a query at 10k memories over a
///   small vocabulary and 130-138 ms at 100k, against 0.23 and 0.43 ms now (`strata bench
///   keyword`, bench/README.md). The filter is checked exactly, on the in-process copy of each
///   candidate that could enter the top k. The FTS5 table stays in the schema, kept by its
///   triggers, so files stay readable by earlier versions of this plugin.
/// - Opening: a store with a graph opens from the index its last writer saved beside it
///   (`PATH.hnsw`, `PATH.image`), mapped, and loads its rows only when something needs them
///   (SQLiteMappedIndex.swift): a fresh process recalls from 100k memories in about a tenth of a
///   second instead of loading them for 2-4 s. A process that keeps searching has them loaded on
///   a thread of their own while it goes on answering from the mapping (SQLiteRowLoad.swift).
///   `"lazy_open": false` loads them at open.
/// - `scan` pushes metadata filters down to SQL as far as SQL can say them (`SQLFilter`) and
///   checks each row with the exact filter.
/// - Damage is never data: every memory row carries a CRC-32C of its id, record JSON and vector
///   bytes, and every history row one of its columns (schema version 2, SQLiteRecordRow.swift),
///   written with the row and checked on every read; a mismatch, a record that does not decode
///   and SQLite's own "malformed" are `.corrupt` naming the file and the record (id and rowid).
///   An existing file that is empty or shorter than a database is `.corrupt` too, never an empty
///   store: new files appear whole, by link (SQLiteStoreFile.swift). `SQLiteSalvage` reads what
///   is left of a damaged file.
///
/// Options: `path` (the file; without it, a private temporary database deleted on close; a
/// missing file is created), `synchronous` ("full", "normal" or "off"), `busy_timeout_ms`,
/// `read_only` (true: open an existing file with SQLITE_OPEN_READONLY, create nothing, run no
/// migration, and refuse every write, snapshot, rollback and snapshot deletion with
/// `.unsupported`; a missing file is `.io`; a file needing a migration is an error saying to
/// open it once for writing), `index` (how the in-process index finds neighbours:
/// `VectorIndexSettings`, default auto), `lazy_open` (default true: see "Opening" above), plus
/// the host's `dimension` and `metric`, and the host's
/// `dimension_as_stored` (true: as `read_only`, with the dimension the file holds instead of
/// `dimension`, for the host to read the embedding space a file records after it refused the
/// configured dimension: plugin.h, "Options"). Thread-safe: one
/// connection behind a lock; searches run beside each other on the in-process index.
public final class SQLiteVectorStore: ChangeApplyingStore, @unchecked Sendable {
    public let dimension: Int
    public let metric: Metric
    public let name: String
    public var providesKeywordSearch: Bool { true }
    public var keepsHistory: Bool { true }
    /// The database file ("" for a temporary one).
    public let path: String
    /// Opened with `"read_only": true`: every write throws `.unsupported`.
    public let readOnly: Bool

    /// The connection and what the in-process index has seen. `@unchecked Sendable` above: every
    /// use of `db` goes through `lock`.
    struct SyncState {
        var lastSeq: Int64 = 0
        var dataVersion: Int64 = -1
        /// While the rows are not loaded: the index saved beside the file, searched in place
        /// (SQLiteMappedIndex.swift). Nil once the rows are in `index`.
        var mapped: MappedVectorIndex?
        /// While mapped: memories read by id for filters, kept across searches (nil: no such
        /// memory), emptied whenever the file changes. A filtered search samples the same rows
        /// every time (to choose its plan), so a run of searches reads them once.
        var memories: [String: Memory?] = [:]
        /// While mapped: records read by id since the open (see `startsLoading`).
        var fetched = 0
        /// While mapped: the rows loading into `index` on their own thread (SQLiteRowLoad.swift).
        var rowLoad: SQLiteRowLoad?
    }

    let db: SQLiteConnection
    /// How `db` opened the file (a load on its own thread opens it the same way).
    let openMode: SQLiteConnection.OpenMode
    /// Connections for the reads by id of searches answered from the mapping.
    let readers: SQLiteReaderPool
    let lock = Mutex(SyncState())
    let index: InMemoryVectorStore
    let report: @Sendable (String) -> Void
    /// Where named snapshots live: `PATH.snapshots/NAME.sqlite` (see SQLiteSnapshots.swift).
    let folder: SnapshotFolder

    /// Opens or creates the store; migrations run here.
    /// - Parameter report: receives a line when the open could not use the graph file beside the
    ///   database as it was (missing, damaged or behind the file) and says what it did instead.
    public init(options: JSONValue, report: @escaping @Sendable (String) -> Void = SQLiteVectorStore.standardError) throws(StrataError) {
        var r = try JSONObjectReader(options, path: "sqlite options", code: .invalidConfig)
        guard let configured = try r.optionalInt("dimension", in: 1...65536) else {
            throw StrataError(.invalidConfig, "sqlite options.dimension is required")
        }
        let metricName = try r.optionalChoice("metric", Metric.allCases.map(\.rawValue)) ?? "cosine"
        let path = try r.optionalString("path") ?? ""
        let synchronous = try r.optionalChoice("synchronous", ["full", "normal", "off"]) ?? "full"
        let busy = try r.optionalInt("busy_timeout_ms", in: 0...3_600_000) ?? 10_000
        let asStored = try r.optionalBool("dimension_as_stored") ?? false
        let readOnly = try (r.optionalBool("read_only") ?? false) || asStored
        let indexSettings = try r.optionalValue("index").map { (v) throws(StrataError) in try VectorIndexSettings(json: v, path: "sqlite options.index") }
        let lazy = try r.optionalBool("lazy_open") ?? true
        try r.finish()
        let metric = Metric(rawValue: metricName)!
        self.metric = metric
        self.path = path
        self.readOnly = readOnly
        name = "sqlite"
        if readOnly && path.isEmpty {
            throw StrataError(.invalidConfig, "sqlite options.\(asStored ? "dimension_as_stored" : "read_only") needs options.path: a temporary database starts empty")
        }
        if !path.isEmpty, try SQLiteStoreFile.state(path) == .missing {
            guard !readOnly else {
                throw StrataError(.io, "sqlite store \"\(path)\" does not exist, and read_only never creates it")
            }
            try SQLiteStoreFile.create(path, busyTimeoutMilliseconds: Int32(busy)) { (db) throws(StrataError) in
                try db.execute("PRAGMA journal_mode = WAL", "switching to WAL")
                try SQLiteSchema.migrate(db, dimension: configured, metric: metric)
            }
        }
        // dimension_as_stored only reads, but through a connection like a usual open's: a
        // read-only connection to a WAL file could leave a -wal file behind, which reads as
        // another process holding the store.
        openMode = readOnly && !asStored ? .readOnly : .readWrite
        db = try SQLiteConnection(path: path, busyTimeoutMilliseconds: Int32(busy), mode: openMode)
        readers = SQLiteReaderPool(path: path, mode: openMode, busyTimeoutMilliseconds: Int32(busy))
        folder = SnapshotFolder(beside: path, suffix: ".sqlite", owner: "sqlite store \"\(path)\"")
        if !path.isEmpty && !readOnly { try db.execute("PRAGMA journal_mode = WAL", "switching to WAL", retryingBusy: true) }
        try db.execute("PRAGMA synchronous = \(synchronous.uppercased())", "setting synchronous")
        let dim = asStored ? try SQLiteSchema.storedDimension(db) ?? configured : configured
        dimension = dim
        if readOnly {
            try SQLiteSchema.verify(db, dimension: dim, metric: metric)
        } else {
            try SQLiteSchema.migrate(db, dimension: dim, metric: metric)
        }
        index = try InMemoryVectorStore(dimension: dim, metric: metric, name: "sqlite index", keywordSearch: true,
                                         index: indexSettings ?? VectorIndexSettings())
        self.report = report
        try lock.withLock { (state: inout SyncState) throws(StrataError) in
            // A large store answers from the index saved beside it, mapped, until something needs
            // its rows in memory (SQLiteMappedIndex.swift); otherwise, or when that index is
            // missing or behind the rows, the rows load now.
            if lazy, !path.isEmpty, (indexSettings ?? VectorIndexSettings()).kind != .exact, try openMapped(&state) { return }
            try load(&state, imageStale: !path.isEmpty)
        }
    }

    /// Loads every row into `index`. The graph (when the index keeps one) is saved beside the
    /// database and restored here, so an open reads it instead of linking every row again.
    /// - Parameter imageStale: whether the image beside the file must be written again at close.
    func load(_ state: inout SyncState, imageStale: Bool) throws(StrataError) {
        if let running = state.rowLoad {
            // Already loading on its own thread: wait for it rather than load twice. If it
            // failed, the load below meets the same problem and throws it to this caller.
            state.rowLoad = nil
            if case .loaded(let seq, let line) = running.wait() { return try adopt(seq: seq, line: line, &state, imageStale: imageStale) }
        }
        state.mapped = nil
        readers.closeIdle()
        state.memories = [:]
        state.fetched = 0
        state.lastSeq = 0
        state.dataVersion = -1
        if !path.isEmpty { index.beginRestore(graphFile: graphPath) }
        try sync(&state)
        if !path.isEmpty, let line = index.endRestore(graphFile: graphPath) { report("sqlite store \"\(path)\": \(line)") }
        index.setImageStale(imageStale)
    }

    /// Saves the graph beside the database when it changed (a writer only: a read-only open
    /// changes nothing on disk).
    deinit {
        if let running = lock.withLock({ $0.rowLoad }) {
            running.cancel()
            _ = running.wait()
        }
        guard !path.isEmpty, !readOnly else { return }
        let stamp = lock.withLock { $0.mapped == nil ? $0.lastSeq : nil }
        guard let stamp else { return }  // never loaded: nothing of the saved index changed
        do {
            try index.saveGraph(to: graphPath)
            try index.saveImage(to: imagePath, graphFile: graphPath, stamp: stamp)
        } catch {
            report("sqlite store \"\(path)\": could not save the index beside it (the next open loads the rows): \(error.message)")
        }
    }

    /// Whether searches are answered from the index saved beside the file, its rows not loaded
    /// (SQLiteMappedIndex.swift).
    public var isMapped: Bool { lock.withLock { $0.mapped != nil } }

    /// Where the graph is saved: derived data beside the database, checked against it on open.
    public var graphPath: String { path + ".hnsw" }
    /// Where the index image is saved (`StoreImage`): derived data, checked against the database
    /// on open.
    public var imagePath: String { path + ".image" }

    /// Writes a report line to stderr (standalone use, without a host).
    public static let standardError: @Sendable (String) -> Void = { line in
        var text = "strata [warning] sqlite: \(line)\n"
        text.withUTF8 { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    }

    // MARK: - Keeping the in-process index in step with the file

    /// Reads what other connections committed since the last look, if anything.
    func sync(_ state: inout SyncState) throws(StrataError) {
        let version = try db.integer("PRAGMA data_version") ?? 0
        guard version != state.dataVersion else { return }
        if let mapped = state.mapped {
            let current = try db.transaction(immediate: false) { () throws(StrataError) -> Bool in try catchUp(mapped, &state) }
            guard current else { return try load(&state, imageStale: true) }
        } else {
            try db.transaction(immediate: false) { () throws(StrataError) in try applyChanges(&state) }
        }
        state.dataVersion = version
    }

    /// Applies every row changed after `state.lastSeq` to the index. Runs inside a transaction,
    /// so the rows and the sequence number come from one snapshot.
    func applyChanges(_ state: inout SyncState) throws(StrataError) {
        precondition(state.mapped == nil, "applyChanges with the rows not loaded")
        let seq = try currentSeq()
        guard seq != state.lastSeq else { return }
        var change = StoreChange()
        // Reset on every exit: a cached statement left on a row (a damaged one threw) would pin
        // its read snapshot, and this connection would stop seeing other processes' commits.
        let removed = try db.statement("SELECT id FROM removed WHERE seq > ?")
        defer { removed.reset() }
        try removed.bind(1, state.lastSeq)
        while try removed.step() { change.removals.append(removed.text(0)) }
        change.upserts = try Self.rows(after: state.lastSeq, db, dimension: dimension)
        // Removals first: an id removed and stored again since the last look ends up stored.
        try index.commit(StoreChange(removals: change.removals))
        try index.commit(StoreChange(upserts: change.upserts))
        state.lastSeq = seq
    }

    func currentSeq() throws(StrataError) -> Int64 { try Self.currentSeq(db) }

    /// The file's sequence number, as `db` sees it (inside a transaction: its snapshot's).
    static func currentSeq(_ db: SQLiteConnection) throws(StrataError) -> Int64 {
        let s = try db.statement("SELECT CAST(value AS INTEGER) FROM strata_meta WHERE key = 'seq'")
        defer { s.reset() }
        guard try s.step() else { throw StrataError(.corrupt, "sqlite store \"\(db.path)\": strata_meta has no seq row") }
        return s.int64(0)
    }

    /// Every memory row written after sequence number `seq`, checked and decoded, as `db`
    /// sees them (callers run it inside a transaction, with `currentSeq`). `each` runs after
    /// every row and may throw to stop.
    /// - Throws: `.corrupt` naming the file and the first damaged row.
    static func rows(after seq: Int64, _ db: SQLiteConnection, dimension: Int,
                     each: () throws(StrataError) -> Void = {}) throws(StrataError) -> [StoredRecord] {
        let rows = try db.statement("SELECT \(SQLiteRecordRow.columns) FROM memories WHERE seq > ?")
        // Reset on every exit: see `applyChanges`.
        defer { rows.reset() }
        try rows.bind(1, seq)
        var out: [StoredRecord] = []
        while try rows.step() {
            do {
                out.append(try SQLiteRecordRow.decode(rows, dimension: dimension))
            } catch {
                throw error.error(file: db.path)
            }
            try each()
        }
        return out
    }

    /// Checks and decodes the row whose `SQLiteRecordRow.columns` start at `first`.
    /// - Parameters:
    ///   - file: names the database in errors (the store's own file when nil).
    ///   - checksummed: false for a schema-version-1 snapshot, whose rows carry no checksum.
    /// - Throws: `.corrupt` naming the file, the record's id and its rowid.
    func record(_ s: SQLiteStatement, from first: Int32 = 0, file: String? = nil, checksummed: Bool = true) throws(StrataError) -> StoredRecord {
        do {
            return try SQLiteRecordRow.decode(s, from: first, dimension: dimension, checksummed: checksummed)
        } catch {
            throw error.error(file: file ?? path)
        }
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
        try change.validate(dimension: dimension)
        guard !change.isEmpty else { return 0 }
        try requireWritable("writing")
        let encoded = EncodedChange(change)
        return try lock.withLock { (state: inout SyncState) throws(StrataError) -> Int in
            if state.mapped != nil, let removed = try applyMapped(encoded, &state) { return removed }
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

    /// `.unsupported` naming the file and `what` when the store was opened read-only.
    func requireWritable(_ what: String) throws(StrataError) {
        guard readOnly else { return }
        throw StrataError(.unsupported, "sqlite store \"\(path)\" was opened read-only (options.read_only), so \(what) is refused; open it without read_only to change it")
    }

    /// A change with its records and history rows already written as JSON, with their
    /// checksums (outside the lock).
    struct EncodedChange {
        let change: StoreChange
        let records: [String]
        let recordChecksums: [UInt32]
        let history: [String]
        let historyChecksums: [UInt32]

        init(_ change: StoreChange) {
            self.change = change
            records = change.upserts.map { $0.memory.jsonText }
            recordChecksums = zip(change.upserts, records).map { r, json in
                SQLiteRecordRow.checksum(id: r.memory.id, record: json, vector: r.vector)
            }
            history = change.history.map { JSONWriter.string($0.json) }
            historyChecksums = zip(change.history, history).map { h, json in
                SQLiteHistoryRow.checksum(memoryID: h.memoryID, at: h.at.iso8601, event: h.event.rawValue, entry: json)
            }
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
            INSERT INTO memories(id, seq, content, record, vector, crc) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, content = excluded.content,
                record = excluded.record, vector = excluded.vector, crc = excluded.crc
            """)
        let unremove = try db.statement("DELETE FROM removed WHERE id = ?")
        for (i, r) in change.upserts.enumerated() {
            insert.reset()
            try insert.bind(1, r.memory.id)
            try insert.bind(2, seq)
            try insert.bind(3, r.memory.content)
            try insert.bind(4, encoded.records[i])
            try insert.bind(5, floats: r.vector)
            try insert.bind(6, Int64(encoded.recordChecksums[i]))
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
        let log = try db.statement("INSERT INTO history(memory_id, at, event, entry, crc) VALUES (?, ?, ?, ?, ?)")
        for (i, entry) in change.history.enumerated() {
            log.reset()
            try log.bind(1, entry.memoryID)
            try log.bind(2, entry.at.iso8601)
            try log.bind(3, entry.event.rawValue)
            try log.bind(4, encoded.history[i])
            try log.bind(5, Int64(encoded.historyChecksums[i]))
            try log.run()
        }
        return removed
    }

    // MARK: - Reads

    public func get(id: String) throws(StrataError) -> StoredRecord? {
        try lock.withLock { (state: inout SyncState) throws(StrataError) -> StoredRecord? in
            try sync(&state)
            return state.mapped == nil ? try index.get(id: id) : try fetch(id: id)
        }
    }

    public func count() throws(StrataError) -> Int {
        try lock.withLock { (state: inout SyncState) throws(StrataError) -> Int in
            try sync(&state)
            return state.mapped == nil ? try index.count() : Int(try db.integer("SELECT count(*) FROM memories") ?? 0)
        }
    }

    /// The in-process index once the rows are loaded (`mapped` false), else the saved index
    /// searched in place (`mapped` true, its vectors counted at the rows read in so far), after
    /// catching up with other processes.
    public func indexReport() throws(StrataError) -> IndexReport? {
        try lock.withLock { (state: inout SyncState) throws(StrataError) -> IndexReport? in
            try sync(&state)
            if let mapped = state.mapped { return mapped.indexReport }
            var report = try index.indexReport()
            report?.mapped = false
            return report
        }
    }

    public func search(_ query: [Float], k: Int, filter: Filter?) throws(StrataError) -> [ScoredRecord] {
        try Vectors.validate(query, dimension: dimension, what: "query vector")
        if let answered = try searchMapped(query, k: k, filter: filter) { return answered }
        // Outside the lock: searches run side by side on the index, which has its own lock.
        return try index.search(query, k: k, filter: filter)
    }

    /// BM25 top k on the in-process index (see the type's comment), after catching up with
    /// other processes; rows were checked (CRC-32C) when they were read into it.
    /// Complexity: see `KeywordIndex.search`.
    public func keywordSearch(_ query: String, k: Int, filter: Filter?) throws(StrataError) -> [ScoredRecord] {
        if let answered = try keywordSearchMapped(query, k: k, filter: filter) { return answered }
        // Outside the lock, as `search`: the index has its own.
        return try index.keywordSearch(query, k: k, filter: filter)
    }

    public func scan(filter: Filter?, _ body: (StoredRecord) throws(StrataError) -> Bool) throws(StrataError) {
        let pushed = SQLFilter(filter)
        // Collected under the lock, visited outside it: `body` may call the store.
        let records = try synced { () throws(StrataError) -> [StoredRecord] in
            let s = try db.statement("SELECT \(SQLiteRecordRow.columns) FROM memories WHERE \(pushed.sql) ORDER BY rid", cached: false)
            try pushed.bind(s)
            var out: [StoredRecord] = []
            while try s.step() {
                let r = try record(s)
                if filter?.matches(r.memory) ?? true { out.append(r) }
            }
            return out
        }
        for r in records where try !body(r) { return }
    }

    public func history(id: String) throws(StrataError) -> [HistoryEntry] {
        try synced { () throws(StrataError) -> [HistoryEntry] in
            let s = try db.statement("SELECT \(SQLiteHistoryRow.columns) FROM history WHERE memory_id = ? ORDER BY hid")
            defer { s.reset() }  // also when a damaged row throws: see applyChanges
            try s.bind(1, id)
            var out: [HistoryEntry] = []
            while try s.step() { out.append(try SQLiteHistoryRow.decode(s, file: path)) }
            return out
        }
    }

    /// The newest rows through the `history_memory` index from its end (only they are read and
    /// decoded), and the count from the same index (its entries for the id are walked, no row
    /// is read), in one read transaction so that another process's commit cannot fall between
    /// the two (the lifecycle ledger, a row per cycle for the life of the store).
    public func historyTail(id: String, limit: Int) throws(StrataError) -> (rows: [HistoryEntry], total: Int) {
        try synced { () throws(StrataError) -> (rows: [HistoryEntry], total: Int) in
            try db.transaction(immediate: false) { () throws(StrataError) -> (rows: [HistoryEntry], total: Int) in
                let counting = try db.statement("SELECT count(*) FROM history WHERE memory_id = ?")
                defer { counting.reset() }
                try counting.bind(1, id)
                guard try counting.step() else { throw StrataError(.io, "\(path): counting the history of \(id) returned no row") }
                let total = Int(counting.int64(0))
                guard limit > 0, total > 0 else { return ([], total) }
                let s = try db.statement("SELECT \(SQLiteHistoryRow.columns) FROM history WHERE memory_id = ? ORDER BY hid DESC LIMIT ?")
                defer { s.reset() }
                try s.bind(1, id)
                try s.bind(2, Int64(limit))
                var out: [HistoryEntry] = []
                while try s.step() { out.append(try SQLiteHistoryRow.decode(s, file: path)) }
                return (out.reversed(), total)
            }
        }
    }
}
