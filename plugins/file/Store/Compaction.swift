import StrataCore

/// The steps of a compaction, in the order they happen. A test hook
/// (`WriterState.compactionFault`) can stop a compaction right after any of them, leaving the
/// files as a crash at that moment would.
enum CompactionStep: CaseIterable, Sendable {
    /// `PATH.snapshot.tmp` holds the whole state, not yet synced.
    case snapshotWritten
    /// The temporary snapshot is synced, not yet renamed.
    case snapshotSynced
    /// It is renamed over `PATH.snapshot`; the folder is not yet synced.
    case snapshotRenamed
    /// The folder is synced: the new snapshot survives a power cut. The log is not yet cut.
    case directorySynced
    /// The log is cut back to its header, not yet synced.
    case logTruncated
}

extension FileVectorStore {
    /// Writes the whole state (records and history) to a new snapshot and empties the log.
    ///
    /// Every step leaves files that open to the last acknowledged commit:
    /// 1. write `PATH.snapshot.tmp` and sync it: until the rename, the old snapshot and the
    ///    full log still hold everything, and the next open deletes the temporary file;
    /// 2. rename it over `PATH.snapshot` and sync the folder: from here the new snapshot holds
    ///    every commit up to its sequence number, and the open skips log frames up to that
    ///    number, so a log not yet cut is replayed without applying anything twice;
    /// 3. cut the log back to its header and sync it.
    ///
    /// Runs under the writer lock, so commits wait for it; reads go on. Complexity: O(size of
    /// the state).
    /// - Throws: `.io` naming the file and call; the store stays usable unless the log was
    ///   already being cut, when writes fail until it is reopened.
    public func compact() throws(StrataError) {
        try refuseIfReadOnly("compaction")
        try writer.withLock { (w) throws(StrataError) in
            if let failure = w.failure { throw failure }
            try compact(&w)
        }
    }

    /// Compacts when the log has grown past `compactAfterBytes`. A failure is reported, not
    /// thrown: the commit that triggered it is durable already, and the log still holds it.
    func compactIfDue(_ w: inout WriterState) {
        guard !options.readOnly, w.end - LogRecovery.headerSize > options.compactAfterBytes, w.end >= w.compactionRetryAt else { return }
        do {
            try compact(&w)
        } catch {
            w.compactionRetryAt = w.end + options.compactAfterBytes
            report("file store \"\(options.path)\": compaction failed; the log keeps every commit and compaction is tried again after \(options.compactAfterBytes) more bytes: \(error.message)")
        }
    }

    private func compact(_ w: inout WriterState) throws(StrataError) {
        var records: [StoredRecord] = []
        records.reserveCapacity(try index.count())
        try index.scan(filter: nil) { records.append($0); return true }
        try replaceSnapshot(records: records, history: historyRows.withLock { $0 }, &w) {}
    }

    /// Makes `records` and `history` the store's whole durable state: writes them as the new
    /// `PATH.snapshot` at the current sequence number and cuts the log, by the steps `compact()`
    /// documents. Compaction passes the current state; a rollback passes another one. The
    /// rename is the commit point: `renamed` runs right after it, to bring the in-memory state
    /// along; if it fails, writes stop until the store is reopened (which reads the files).
    func replaceSnapshot(records: [StoredRecord], history rows: [String: [HistoryEntry]], _ w: inout WriterState,
                         renamed: () throws(StrataError) -> Void) throws(StrataError) {
        // Compaction and rollback both end here; neither may touch a read-only store's files.
        try refuseIfReadOnly("rewriting its snapshot")
        let fault = w.compactionFault
        func reached(_ step: CompactionStep) throws(StrataError) { try fault?(step) }
        let header = FileHeader(kind: .snapshot, dimension: dimension, metric: metric, lastSequence: w.lastSequence)

        let temporary = options.snapshotTemporaryPath
        do {
            let file = try POSIXFile(path: temporary, create: true, truncate: true)
            try SnapshotFile.write(records: records, history: rows, header: header, to: file)
            try reached(.snapshotWritten)
            try file.sync()
        }
        try reached(.snapshotSynced)
        try POSIXFile.rename(temporary, to: options.snapshotPath)
        do { try renamed() } catch {
            w.failure = error
            throw error
        }
        try reached(.snapshotRenamed)
        try POSIXFile.syncDirectory(of: options.snapshotPath)
        try reached(.directorySynced)
        do {
            try log.truncate(to: LogRecovery.headerSize)
            // In our books at once: appending at the old end would leave a hole of zeros.
            w.end = LogRecovery.headerSize
            try reached(.logTruncated)
            try log.sync(includingMetadata: true)
        } catch {
            // A cut that may not be durable while later frames are could mix old and new frames
            // after a power cut; only a reopen (which rereads the log) is safe now.
            w.failure = error
            throw error
        }
        w.unsynced = false
    }
}
