#if canImport(Glibc)
import Glibc
#endif
import StrataBackends
import StrataCore

/// Named snapshots of a SQLite store: whole database copies in `PATH.snapshots/NAME.sqlite`.
///
/// - Snapshot: `VACUUM INTO` a temporary file ("the generated output database is a consistent
///   snapshot of the original database", taken in a read transaction, so writers in other
///   processes go on); the copy is stamped with its name, time, count and a CRC-32C of its
///   rows in its own `strata_meta`, switched to rollback-journal mode, synced (VACUUM INTO
///   "does not invoke fsync()"), and published under its name (`SnapshotFolder.publish`). It
///   keeps the schema version (`PRAGMA user_version`), dimension and metric of the store.
/// - Rollback: the snapshot is opened read-only and checked whole before anything changes
///   (schema version, `PRAGMA quick_check`, dimension, metric, every record and vector, and
///   the rows' checksum, since SQLite keeps none and a damaged byte inside a record would
///   otherwise come back as data; from schema version 2 each row's own checksum too, while a
///   version-1 snapshot is checked by its stamp alone); any damage, or a file that is not a
///   snapshot of this store, is `.corrupt` naming the file.
///   Then one `BEGIN IMMEDIATE` transaction compares it with the live rows and writes the
///   difference with its history rows through the same path as every commit: upserts and
///   removals get the next change sequence number (and tombstones), so the in-process index
///   and every other process (through `PRAGMA data_version`) pick the rollback up like any
///   write, and FTS5 follows through its triggers. Unchanged rows are not touched. Vectors are
///   BLOBs copied bit for bit; history is never rolled back.
extension SQLiteVectorStore {
    public var providesSnapshots: Bool { !path.isEmpty }

    /// A store in a file persists; one in a temporary database (empty path) does not.
    public var persists: Bool { !path.isEmpty }

    private func requireFile() throws(StrataError) {
        guard !path.isEmpty else {
            throw StrataError(.unsupported, "sqlite store: a temporary database (no options.path) keeps no snapshots; give options.path")
        }
    }

    /// - Complexity: O(size of the database): VACUUM INTO copies every page once.
    public func snapshot(name: String, at: Timestamp) throws(StrataError) -> SnapshotInfo {
        try SnapshotName.validate(name)
        try requireFile()
        try requireWritable("taking snapshot \"\(name)\"")
        guard !folder.contains(name) else { throw folder.taken(name) }
        try folder.create()
        let temporary = folder.temporaryFile(name)
        unlink(temporary)  // VACUUM INTO needs a new file; this one can only be a leftover of a crash
        do throws(StrataError) {
            try lock.withLock { (_: inout SyncState) throws(StrataError) in
                let vacuum = try db.statement("VACUUM INTO ?", cached: false)
                try vacuum.bind(1, temporary)
                try vacuum.run()
            }
            try stamp(temporary, name: name, at: at)
            guard chmod(temporary, PrivateFile.fileMode) == 0 else {
                throw StrataError(.io, "cannot set the mode of \(temporary): \(String(cString: strerror(errno)))")
            }
            try SnapshotFolder.syncFile(temporary)
            try folder.publish(temporary, as: name)
        } catch {
            unlink(temporary)
            throw error.prefixed("snapshot \"\(name)\"")
        }
        return try info(name)
    }

    /// Writes the snapshot's own description into its `strata_meta` and leaves it in
    /// rollback-journal mode, so reading it later creates no `-wal` or `-shm` file beside it.
    private func stamp(_ file: String, name: String, at: Timestamp) throws(StrataError) {
        let copy = try SQLiteConnection(path: file, busyTimeoutMilliseconds: db.busyTimeoutMilliseconds)
        defer { copy.close() }
        try copy.execute("PRAGMA journal_mode = DELETE", "leaving WAL mode")
        try copy.transaction(immediate: true) { () throws(StrataError) in
            var count = 0
            var crc: UInt32 = 0
            let rows = try copy.statement("SELECT \(SQLiteRecordRow.columns) FROM memories ORDER BY rid")
            while try rows.step() {
                _ = try record(rows, file: file)  // a damaged row is not copied into a snapshot as data
                crc = SQLiteRecordRow.storedChecksum(rows, continuing: crc)
                count += 1
            }
            let meta = try copy.statement("INSERT OR REPLACE INTO strata_meta(key, value) VALUES (?, ?)")
            for (key, value) in [("snapshot_name", name), ("snapshot_created_at", at.iso8601), ("snapshot_memories", String(count)),
                                 ("snapshot_crc32c", String(crc))] {
                meta.reset()
                try meta.bind(1, key)
                try meta.bind(2, value)
                try meta.run()
            }
        }
    }

    public func snapshots() throws(StrataError) -> [SnapshotInfo] {
        try requireFile()
        var out: [SnapshotInfo] = []
        for name in try folder.names() { out.append(try info(name)) }
        return out.sorted { ($0.createdAt, $0.name) < ($1.createdAt, $1.name) }
    }

    /// The description stamped into snapshot `name`.
    private func info(_ name: String) throws(StrataError) -> SnapshotInfo {
        let file = folder.file(name)
        return try readingSnapshot(file) { (snap, _) throws(StrataError) -> SnapshotInfo in
            let meta = try self.meta(snap, file: file)
            guard let at = meta["snapshot_created_at"].flatMap({ Timestamp(iso8601: $0) }),
                let count = meta["snapshot_memories"].flatMap({ Int($0) })
            else {
                throw StrataError(.corrupt, "sqlite snapshot \"\(file)\" has no snapshot_created_at or snapshot_memories in strata_meta: it was not made by `snapshot`")
            }
            return SnapshotInfo(name: name, createdAt: at, memories: count, bytes: folder.size(name))
        }
    }

    /// - Complexity: O(size of the snapshot + size of the store).
    public func rollback(name: String, at: Timestamp) throws(StrataError) -> RollbackReport {
        try SnapshotName.validate(name)
        try requireFile()
        try requireWritable("rolling back to snapshot \"\(name)\"")
        guard folder.contains(name) else { throw folder.unknown(name) }
        // Read and checked whole before the write lock: a damaged file changes nothing. A
        // published snapshot file is never written again, so reading it early is safe.
        let target = try snapshotRecords(name)
        return try lock.withLock { (state: inout SyncState) throws(StrataError) -> RollbackReport in
            if state.mapped != nil { try load(&state, imageStale: false) }
            let change = try db.transaction(immediate: true) { () throws(StrataError) -> StoreChange in
                try applyChanges(&state)
                // The live rows as stored (raw BLOBs, like the snapshot's), read inside the write
                // lock, so the difference is exact however other processes wrote before it.
                var current: [StoredRecord] = []
                let rows = try db.statement("SELECT \(SQLiteRecordRow.columns) FROM memories")
                defer { rows.reset() }
                while try rows.step() { current.append(try record(rows)) }
                let change = RollbackReport.change(RollbackReport.rows(from: current, to: target, snapshot: name, at: at), target: target)
                if !change.isEmpty { _ = try write(EncodedChange(change), seq: state.lastSeq + 1) }
                return change
            }
            if !change.isEmpty {
                try index.commit(StoreChange(upserts: change.upserts, removals: change.removals))
                state.lastSeq += 1
            }
            return RollbackReport(snapshot: name, history: change.history)
        }
    }

    public func deleteSnapshot(name: String) throws(StrataError) {
        try SnapshotName.validate(name)
        try requireFile()
        try requireWritable("deleting snapshot \"\(name)\"")
        try folder.remove(name)
    }

    /// Every record of snapshot `name`, after checking the file whole.
    /// - Throws: `.corrupt` naming the file for damage or a file that is not a snapshot of
    ///   this store (another schema version, dimension or metric); `.io` when it cannot be read.
    private func snapshotRecords(_ name: String) throws(StrataError) -> [StoredRecord] {
        let file = folder.file(name)
        return try readingSnapshot(file) { (snap, version) throws(StrataError) -> [StoredRecord] in
            let check = try snap.statement("PRAGMA quick_check")
            defer { check.reset() }
            guard try check.step(), check.text(0) == "ok" else {
                throw StrataError(.corrupt, "sqlite snapshot \"\(file)\" fails PRAGMA quick_check: \(check.text(0))")
            }
            let meta = try self.meta(snap, file: file)
            for (key, value) in [("dimension", String(dimension)), ("metric", metric.rawValue)] where meta[key] != value {
                throw StrataError(.corrupt, "sqlite snapshot \"\(file)\" holds \(key) \(meta[key] ?? "(none)"), this store \(value): it is not a snapshot of this store")
            }
            var out: [StoredRecord] = []
            var seen = Set<String>()
            var crc: UInt32 = 0
            // Version 1 snapshots (taken before rows had checksums) still roll back, checked by
            // their stamp's checksum alone.
            let checksummed = version >= 2
            let rows = try snap.statement("SELECT rid, id, \(checksummed ? "crc" : "NULL"), record, vector FROM memories ORDER BY rid")
            while try rows.step() {
                crc = SQLiteRecordRow.storedChecksum(rows, continuing: crc)
                let r = try record(rows, file: file, checksummed: checksummed)
                try Vectors.validate(r.vector, dimension: dimension, what: "the vector of \(r.memory.id)")
                guard seen.insert(r.memory.id).inserted else {
                    throw StrataError(.corrupt, "record \(r.memory.id) appears twice or under another id")
                }
                out.append(r)
            }
            guard meta["snapshot_crc32c"] == String(crc), meta["snapshot_memories"] == String(out.count) else {
                throw StrataError(.corrupt, "sqlite snapshot \"\(file)\" holds \(out.count) records with CRC-32C \(crc), its stamp says \(meta["snapshot_memories"] ?? "(none)") with \(meta["snapshot_crc32c"] ?? "(none)"): its rows were changed after it was made")
            }
            return out
        }
    }

    /// The `strata_meta` rows of a snapshot.
    private func meta(_ snap: SQLiteConnection, file: String) throws(StrataError) -> [String: String] {
        let s = try snap.statement("SELECT key, value FROM strata_meta")
        defer { s.reset() }
        var out: [String: String] = [:]
        while try s.step() { out[s.text(0)] = s.text(1) }
        return out
    }

    /// Opens snapshot `file` read-only, checks it holds a schema this plugin reads, and runs
    /// `body` on it with the file's schema version.
    /// What a damaged or foreign file makes SQLite or the decoders say becomes `.corrupt`
    /// naming the file; a file that cannot be opened at all stays `.io`.
    private func readingSnapshot<T>(_ file: String, _ body: (SQLiteConnection, Int64) throws(StrataError) -> T) throws(StrataError) -> T {
        let what = "sqlite snapshot \"\(file)\""
        let snap = try SQLiteConnection(path: file, busyTimeoutMilliseconds: db.busyTimeoutMilliseconds, readOnly: true)
        defer { snap.close() }
        do throws(StrataError) {
            let version = try snap.integer("PRAGMA user_version") ?? 0
            let tables = try snap.integer("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('strata_meta', 'memories')") ?? 0
            guard 1...SQLiteSchema.currentVersion ~= version, tables == 2 else {
                throw StrataError(.corrupt, "\(what) is not a Strata SQLite snapshot of schema version 1 to \(SQLiteSchema.currentVersion) (it has schema version \(version)\(tables == 2 ? "" : " and lacks the strata tables"))")
            }
            return try body(snap, version)
        } catch {
            switch error.code {
            case .corrupt where error.message.hasPrefix(what): throw error
            case .corrupt, .invalidJSON, .invalidUTF8, .invalidVector, .dimension:
                throw StrataError(.corrupt, "\(what) is damaged: \(error.message)")
            default: throw error.prefixed(what)
            }
        }
    }
}
