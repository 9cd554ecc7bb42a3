#if canImport(Glibc)
import Glibc
#endif
import StrataBackends
import StrataCore

/// Named snapshots of a file store: compacted copies of its records in
/// `PATH.snapshots/NAME.snapshot`.
///
/// - Snapshot: every record, as the index keeps it, in the snapshot format (`SnapshotFile`,
///   header kind "named": creation time and record count, no history), written to a temporary
///   file, synced, and published under its name (`SnapshotFolder.publish`). Runs under the
///   writer lock, so it holds exactly the commits acknowledged before it.
/// - Rollback, under the writer lock: the named snapshot is read and checked whole first
///   (header checksum, dimension, metric, every frame's CRC-32C, the record count); damage or a
///   foreign file is `.corrupt` naming it, and nothing changes. Then the store's whole state
///   is rewritten as a compaction does (`replaceSnapshot`: temporary file, fsync, rename over
///   `PATH.snapshot`, fsync the folder, cut the log): the snapshot's records plus every
///   history row so far and one row per record the rollback changes. A crash at any step
///   reopens to the state before the rollback or after it, never between. The index takes the
///   records bit for bit (`vectorsAsKept`).
extension FileVectorStore {
    public var providesSnapshots: Bool { true }

    /// Every commit is in the log file before it returns.
    public var persists: Bool { true }

    var snapshotFolder: SnapshotFolder {
        SnapshotFolder(beside: options.path, suffix: ".snapshot", owner: "file store \"\(options.path)\"")
    }

    /// - Complexity: O(size of the records); commits wait for it, reads go on.
    public func snapshot(name: String, at: Timestamp) throws(StrataError) -> SnapshotInfo {
        try refuseIfReadOnly("snapshots")
        try SnapshotName.validate(name)
        let folder = snapshotFolder
        return try writer.withLock { (w) throws(StrataError) -> SnapshotInfo in
            if let failure = w.failure {
                throw failure.prefixed("file store \"\(options.path)\" refuses snapshots after an earlier failure; reopen it")
            }
            guard !folder.contains(name) else { throw folder.taken(name) }
            try folder.create()
            var records: [StoredRecord] = []
            records.reserveCapacity(try index.count())
            try index.scan(filter: nil) { records.append($0); return true }
            var header = FileHeader(kind: .named, dimension: dimension, metric: metric, lastSequence: w.lastSequence)
            header.createdAt = at
            header.records = UInt64(records.count)
            let temporary = folder.temporaryFile(name)
            do throws(StrataError) {
                let file = try POSIXFile(path: temporary, create: true, truncate: true)
                try SnapshotFile.write(records: records, history: [:], header: header, to: file)
                try file.sync()
                try folder.publish(temporary, as: name)
            } catch {
                unlink(temporary)
                throw error.prefixed("snapshot \"\(name)\"")
            }
            return SnapshotInfo(name: name, createdAt: at, memories: records.count, bytes: folder.size(name))
        }
    }

    /// Reads each snapshot's header only. A damaged header is `.corrupt` naming the file.
    public func snapshots() throws(StrataError) -> [SnapshotInfo] {
        let folder = snapshotFolder
        var out: [SnapshotInfo] = []
        for name in try folder.names() {
            let file = folder.file(name)
            let header = try SnapshotFile.header(path: file, kind: .named)
            out.append(SnapshotInfo(name: name, createdAt: header.createdAt, memories: Int(header.records), bytes: folder.size(name)))
        }
        return out.sorted { ($0.createdAt, $0.name) < ($1.createdAt, $1.name) }
    }

    /// - Complexity: O(size of the snapshot + size of the store, history included): the
    ///   store's files are rewritten whole.
    public func rollback(name: String, at: Timestamp) throws(StrataError) -> RollbackReport {
        try refuseIfReadOnly("rollbacks")
        try SnapshotName.validate(name)
        let folder = snapshotFolder
        return try writer.withLock { (w) throws(StrataError) -> RollbackReport in
            if let failure = w.failure {
                throw failure.prefixed("file store \"\(options.path)\" refuses writes after an earlier failure; reopen it")
            }
            guard folder.contains(name) else { throw folder.unknown(name) }
            let target = try SnapshotFile.loadNamed(path: folder.file(name), dimension: dimension, metric: metric).records
            var current: [StoredRecord] = []
            current.reserveCapacity(try index.count())
            try index.scan(filter: nil) { current.append($0); return true }
            let rows = RollbackReport.rows(from: current, to: target, snapshot: name, at: at)
            guard !rows.isEmpty else { return RollbackReport(snapshot: name, history: []) }
            var history = historyRows.withLock { $0 }
            for row in rows { history[row.memoryID, default: []].append(row) }
            let change = RollbackReport.change(rows, target: target)
            try replaceSnapshot(records: target, history: history, &w) { () throws(StrataError) in
                try index.commit(StoreChange(upserts: change.upserts, removals: change.removals), vectorsAsKept: true)
                historyRows.withLock { $0 = history }
            }
            return RollbackReport(snapshot: name, history: rows)
        }
    }

    public func deleteSnapshot(name: String) throws(StrataError) {
        try refuseIfReadOnly("deleting snapshots")
        try SnapshotName.validate(name)
        let folder = snapshotFolder
        try writer.withLock { (_) throws(StrataError) in try folder.remove(name) }
    }
}
