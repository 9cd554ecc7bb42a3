#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import StrataBackends
import StrataCore
import Synchronization

/// A vector store whose durable state is an append-only log of checksummed frames plus a
/// compacted snapshot beside it, served from an exact in-memory index.
///
///     let store = try FileVectorStore(options: FileStoreOptions(path: "/data/agent.log", dimension: 384))
///     try store.commit(StoreChange(upserts: records, history: rows))   // one frame, all or none
///
/// - Format: `PATH` holds a `FileHeader` (magic, version, dimension, metric) and then one
///   `Frame` per commit (length, CRC-32C, payload = one `StoreChange`, see `ChangeCodec`).
///   `PATH.snapshot` holds the whole state as of a sequence number.
/// - Open: the snapshot, then the log frames after it, into an `InMemoryVectorStore` (exact
///   search, BM25) and a per-memory history. An incomplete tail (an append that did not
///   finish, see `FrameScanner.isTornTail`) is copied to `PATH.torn-OFFSET`, then cut off and
///   reported; any other damage, in the last frame too, is `.corrupt` and leaves the files as
///   they are (`LogRecovery`). `FileStoreSalvage` reads what a damaged store still holds.
/// - Durability (`FileStoreOptions.Durability`): `.always` syncs each frame before `commit`
///   returns; `.group(ms)` returns after `write(2)` and syncs within `ms`. A SIGKILL loses
///   nothing under either, since written bytes live in the kernel's page cache, not the
///   process; a power cut under `.group` can lose the commits of the last `ms` milliseconds.
/// - Compaction: when the log grows past `compactAfterBytes`, the commit that crossed the line
///   writes a new snapshot and empties the log (see `compact()`).
/// - Named snapshots: `PATH.snapshots/NAME.snapshot`; a rollback rewrites `PATH.snapshot`
///   from one by the compaction's steps (see FileSnapshots.swift).
/// - One writer: the open takes an exclusive `flock` on the log; a second opener gets
///   `.conflict`. A read-only open (`FileStoreOptions.readOnly`) takes a shared one, changes
///   nothing on disk and refuses every write with `.unsupported`. Within a process every
///   method is thread-safe: writes take one lock, reads go to the index, which runs them side
///   by side.
public final class FileVectorStore: ChangeApplyingStore {
    public let dimension: Int
    public let metric: Metric
    public let name = "file"
    public var providesKeywordSearch: Bool { true }
    public var keepsHistory: Bool { true }
    public let options: FileStoreOptions

    /// What a writer owns: guarded by `writer`.
    struct WriterState {
        /// Where the next frame goes (the log's size as far as this store knows).
        var end: Int
        var lastSequence: UInt64
        /// Group commit: frames written since the last sync, and whether a sync is on its way.
        var unsynced = false
        var syncScheduled = false
        /// Set after a failed sync or an unrepairable failed write: the durable state of the log
        /// is then unknown, so every later write fails with it until the store is reopened.
        var failure: StrataError?
        /// After a failed compaction, the log size at which to try again.
        var compactionRetryAt = 0
        /// Test hook: called after each step of a compaction; throwing stops it there, which is
        /// what a crash at that point leaves on disk.
        var compactionFault: (@Sendable (CompactionStep) throws(StrataError) -> Void)?
    }

    let log: POSIXFile
    let index: InMemoryVectorStore
    let historyRows: Mutex<[String: [HistoryEntry]]>
    let writer: Mutex<WriterState>
    let report: @Sendable (String) -> Void

    /// Opens or creates the store at `options.path`.
    /// - Parameter report: receives a line for each repair the open makes (an incomplete tail cut
    ///   off and kept aside; read-only, one left in place) and for failures of background work; the plugin passes the host's log. Default: stderr.
    /// - Throws: see `LogRecovery.open`: `.conflict`, `.invalidConfig`, `.corrupt`,
    ///   `.unsupported`, `.io`, each naming the file.
    /// - Complexity: O(size of the snapshot and the log).
    public init(options: FileStoreOptions, report: @escaping @Sendable (String) -> Void = FileVectorStore.standardError)
        throws(StrataError)
    {
        let opened = try LogRecovery.open(options, report: report)
        var options = options
        options.dimension = opened.state.index.dimension  // the header's, with `dimensionAsStored`
        self.options = options
        dimension = options.dimension
        metric = options.metric
        self.report = report
        log = opened.log
        index = opened.state.index
        historyRows = Mutex(opened.state.history)
        writer = Mutex(WriterState(end: opened.end, lastSequence: opened.state.lastSequence))
        if let line = index.endRestore(graphFile: options.graphPath) { report("file store \"\(options.path)\": \(line)") }
    }

    /// Opens the store from its JSON options (see `FileStoreOptions.init(json:)`).
    public convenience init(options json: JSONValue, report: @escaping @Sendable (String) -> Void = FileVectorStore.standardError)
        throws(StrataError)
    {
        try self.init(options: FileStoreOptions(json: json), report: report)
    }

    deinit {
        if !options.readOnly {
            do {
                try index.saveGraph(to: options.graphPath)
            } catch {
                report("file store \"\(options.path)\": could not save the graph file (the next open links the rows again): \(error.message)")
            }
        }
        // Group commit: what is written but not yet synced gets synced on close.
        guard writer.withLock({ $0.unsynced }) else { return }
        do {
            try log.sync()
        } catch {
            report("file store \"\(options.path)\": the sync on close failed; the last commits may not survive a power cut: \(error.message)")
        }
    }

    /// Writes a report line to stderr (standalone use, without a host).
    public static let standardError: @Sendable (String) -> Void = { line in
        var text = "strata [warning] file: \(line)\n"
        text.withUTF8 { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    }

    // MARK: - Writes

    /// Appends `change` as one frame, then applies it: after a crash the store opens with all
    /// of it or none. Returns how many of the removed ids were there. Complexity: O(size of the
    /// change), plus a compaction now and then.
    public func apply(_ change: StoreChange) throws(StrataError) -> Int {
        try refuseIfReadOnly("writes")
        try change.validate(dimension: dimension)
        return try writer.withLock { (w) throws(StrataError) -> Int in
            if let failure = w.failure {
                throw failure.prefixed("file store \"\(options.path)\" refuses writes after an earlier failure; reopen it")
            }
            // Removals of ids that are not there are skipped, as the protocol says, and do not
            // reach the log, so a change of only those writes nothing.
            var change = change
            let upserted = Set(change.upserts.map(\.memory.id))
            var seen = Set<String>(), removals: [String] = [], present = 0
            for id in change.removals where seen.insert(id).inserted {
                let stored = try index.get(id: id) != nil
                if stored || upserted.contains(id) { removals.append(id) }
                if stored { present += 1 }
            }
            change.removals = removals
            guard !change.isEmpty else { return 0 }
            try append(change, &w)
            // Durable (or written, under group commit): now readers may see it.
            try index.commit(StoreChange(upserts: change.upserts, removals: change.removals))
            if !change.history.isEmpty {
                historyRows.withLock { rows in for row in change.history { rows[row.memoryID, default: []].append(row) } }
            }
            compactIfDue(&w)
            return present
        }
    }

    /// Writes one frame at the end of the log and makes it as durable as the policy asks.
    private func append(_ change: StoreChange, _ w: inout WriterState) throws(StrataError) {
        let sequence = w.lastSequence + 1
        var frame = ByteWriter(reservingCapacity: Frame.headerSize + 64 + change.upserts.count * (dimension * 4 + 512))
        let start = Frame.begin(&frame)
        ChangeCodec.encode(change, sequence: sequence, into: &frame)
        guard frame.count - Frame.headerSize <= Frame.maximumPayload else {
            throw StrataError(.invalidArgument, "file store \"\(options.path)\": a commit of \(frame.count) bytes is over the 1 GiB frame limit; split it")
        }
        Frame.seal(&frame, from: start)
        do {
            try log.write(frame.bytes, at: w.end)
        } catch {
            // Take the partial frame back: a later frame after a half-written one would read as
            // damage inside the log on the next open.
            do { try log.truncate(to: w.end) } catch let undo { w.failure = undo }
            throw error
        }
        if case .always = options.durability {
            do {
                try log.sync()
            } catch {
                // After a failed sync the kernel may have dropped the pages it could not write
                // and marked them clean, so a retried sync proves nothing: the durable state of
                // the log is unknown and writes stop. The frame is taken back so the commit
                // reported as failed does not reappear on reopen.
                w.failure = error
                var message = error.message
                do { try log.truncate(to: w.end) } catch let undo {
                    message += "; taking the frame back failed too (\(undo.message)), so this commit may reappear on reopen"
                }
                throw StrataError(error.code, message)
            }
        }
        w.end += frame.count
        w.lastSequence = sequence
        if case .group(let milliseconds) = options.durability {
            w.unsynced = true
            scheduleSync(&w, milliseconds: milliseconds)
        }
    }

    /// Throws `.unsupported` when the store was opened read-only: `what` names the refused call.
    /// Checked before any lock is taken or byte is written.
    func refuseIfReadOnly(_ what: String) throws(StrataError) {
        guard options.readOnly else { return }
        throw StrataError(.unsupported, "file store \"\(options.path)\" was opened read-only (\"read_only\": true), so it refuses \(what); open it without read_only to change it")
    }

    // MARK: - Group commit

    /// Arranges one background sync within `milliseconds` unless one is already on its way.
    private func scheduleSync(_ w: inout WriterState, milliseconds: Int) {
        guard !w.syncScheduled else { return }
        w.syncScheduled = true
        // Weak: a pending sync must not keep a closed store (and its lock) alive; a store that
        // closes first syncs in deinit instead.
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(milliseconds)) { [weak self] in
            self?.backgroundSync()
        }
    }

    /// Syncs the frames written since the last sync. Runs outside the writer lock, so commits
    /// go on meanwhile; one that lands during the sync schedules the next.
    private func backgroundSync() {
        let due = writer.withLock { w in
            defer { w.unsynced = false; w.syncScheduled = false }
            return w.unsynced
        }
        guard due else { return }
        do {
            try log.sync()
        } catch {
            writer.withLock { $0.failure = error }
            report("file store \"\(options.path)\": a background sync failed; commits since the last sync may not survive a power cut, and writes fail until the store is reopened: \(error.message)")
        }
    }

    // MARK: - Reads

    public func get(id: String) throws(StrataError) -> StoredRecord? { try index.get(id: id) }

    public func count() throws(StrataError) -> Int { try index.count() }

    /// The in-memory index every record is loaded into (the file holds no index of its own).
    public func indexReport() throws(StrataError) -> IndexReport? { try index.indexReport() }

    public func search(_ query: [Float], k: Int, filter: Filter?) throws(StrataError) -> [ScoredRecord] {
        try index.search(query, k: k, filter: filter)
    }

    public func keywordSearch(_ query: String, k: Int, filter: Filter?) throws(StrataError) -> [ScoredRecord] {
        try index.keywordSearch(query, k: k, filter: filter)
    }

    public func scan(filter: Filter?, _ body: (StoredRecord) throws(StrataError) -> Bool) throws(StrataError) {
        try index.scan(filter: filter, body)
    }

    public func history(id: String) throws(StrataError) -> [HistoryEntry] {
        historyRows.withLock { $0[id] ?? [] }
    }
}
