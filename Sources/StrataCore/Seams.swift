/// A record with its search score (higher is closer or more relevant).
public struct ScoredRecord: Sendable {
    public var record: StoredRecord
    public var score: Float

    public init(record: StoredRecord, score: Float) {
        self.record = record
        self.score = score
    }
}

/// The vector-store seam: keeps memory records with their vectors and finds
/// the nearest ones.
///
/// Threading: every method may be called from any thread, concurrently. The
/// engine never calls a writing method (`upsert`, `remove`) concurrently with
/// another writing method, but reads may run beside a write; implementations
/// guard their state accordingly. Loaded plugins that are not thread-safe are
/// wrapped by the host in a lock.
public protocol VectorStore: AnyObject, Sendable {
    /// Floats per vector; every vector in and out has this length.
    var dimension: Int { get }
    var metric: Metric { get }
    /// A name for messages and stats, e.g. "memory" or "plugin:sqlite".
    var name: String { get }
    /// Whether `keywordSearch` is implemented (otherwise the engine keeps its own keyword index).
    var providesKeywordSearch: Bool { get }

    /// Inserts or replaces records by id, all or none. Complexity: O(n) amortised for the built-in store.
    func upsert(_ records: [StoredRecord]) throws(StrataError)
    /// Removes records; unknown ids are skipped. Returns how many were removed.
    func remove(ids: [String]) throws(StrataError) -> Int
    /// One record, or nil.
    func get(id: String) throws(StrataError) -> StoredRecord?
    /// The k nearest records to `query` among those matching `filter`, best first. The filter is
    /// applied exactly, never dropped.
    func search(_ query: [Float], k: Int, filter: Filter?) throws(StrataError) -> [ScoredRecord]
    /// BM25 keyword search over content, best first. Throws `.unsupported` when not provided.
    func keywordSearch(_ query: String, k: Int, filter: Filter?) throws(StrataError) -> [ScoredRecord]
    /// Visits every record matching `filter`; `body` returns false to stop.
    func scan(filter: Filter?, _ body: (StoredRecord) throws(StrataError) -> Bool) throws(StrataError)
    /// Number of records.
    func count() throws(StrataError) -> Int

    /// Whether the store keeps history itself: `commit` persists `change.history` in the same
    /// transaction as the records, and `history(id:)` reads it back. Otherwise the engine keeps
    /// history in memory for its own lifetime.
    var keepsHistory: Bool { get }
    /// Applies upserts, removals and history rows as one change: after a crash either all of it
    /// is there or none. The default calls `upsert` then `remove` (history is the engine's).
    func commit(_ change: StoreChange) throws(StrataError)
    /// Every history row of one memory, oldest first; empty for an id never seen.
    /// Throws `.unsupported` unless `keepsHistory`.
    func history(id: String) throws(StrataError) -> [HistoryEntry]
    /// The newest `limit` rows of `history(id:)` (all when there are fewer), oldest first, and
    /// how many rows it has, without reading the others where the store can (the lifecycle
    /// ledger grows by a row a cycle). The default reads `history(id:)` and keeps its tail.
    /// Throws `.unsupported` unless `keepsHistory`.
    func historyTail(id: String, limit: Int) throws(StrataError) -> (rows: [HistoryEntry], total: Int)

    /// Whether records outlive the instance: a new store made with the same options sees every
    /// record and history row committed before (STRATA_STORE_PERSISTENT). False for a store
    /// kept in memory or in a temporary file.
    var persists: Bool { get }

    /// Whether `snapshot`, `snapshots`, `rollback` and `deleteSnapshot` are implemented.
    /// Otherwise each throws `.unsupported` naming the store.
    var providesSnapshots: Bool { get }
    /// Saves a copy of every record (memories and vectors, not history) as snapshot `name`.
    /// - Parameter at: the creation time the snapshot reports (the engine's clock).
    /// - Throws: `.invalidArgument` for a name that breaks `SnapshotName`, `.conflict` when
    ///   `name` exists, `.unsupported`, `.io`. A failed snapshot leaves no partial one behind.
    /// - Complexity: O(size of the store).
    func snapshot(name: String, at: Timestamp) throws(StrataError) -> SnapshotInfo
    /// Every snapshot, oldest first (ties by name).
    func snapshots() throws(StrataError) -> [SnapshotInfo]
    /// Makes the records exactly those of snapshot `name` (same ids, memories, vectors bit for
    /// bit) as one atomic change. History is not rolled back: the rollback adds one row per
    /// record it changes (`RollbackReport.rows`, time `at`), written with the change when the
    /// store `keepsHistory`, and returned either way. A rollback to the current state changes
    /// nothing and returns no rows.
    /// - Throws: `.invalidArgument` for a bad name, `.notFound` naming an unknown one,
    ///   `.corrupt` naming a damaged or foreign snapshot file (nothing changed), `.unsupported`.
    /// - Complexity: O(size of the store + size of the snapshot).
    func rollback(name: String, at: Timestamp) throws(StrataError) -> RollbackReport
    /// Deletes snapshot `name`; `.notFound` naming an unknown one.
    func deleteSnapshot(name: String) throws(StrataError)

    /// What the store's vector index is and the memory it holds, for stats; nil when the store
    /// does not say (the default). A reader: may run beside writes.
    /// - Complexity: O(1) for the built-in stores (O(upper-layer nodes) for a graph's bytes).
    func indexReport() throws(StrataError) -> IndexReport?
}

/// One atomic change to a store: the unit the engine writes.
public struct StoreChange: Sendable {
    /// Records to insert or replace by id.
    public var upserts: [StoredRecord]
    /// Ids to remove; unknown ids are skipped.
    public var removals: [String]
    /// History rows to append, in order (kept only by stores with `keepsHistory`).
    public var history: [HistoryEntry]

    public init(upserts: [StoredRecord] = [], removals: [String] = [], history: [HistoryEntry] = []) {
        self.upserts = upserts
        self.removals = removals
        self.history = history
    }

    public var isEmpty: Bool { upserts.isEmpty && removals.isEmpty && history.isEmpty }

    /// Throws `.dimension` or `.invalidVector` for the first upsert whose vector is not
    /// `dimension` finite floats, or `.invalidArgument` for one whose access count is outside
    /// 0...`Memory.maxAccessCount` (it would not read back as written), naming the record:
    /// stores check this before writing anything.
    public func validate(dimension: Int) throws(StrataError) {
        for (i, r) in upserts.enumerated() {
            try Vectors.validate(r.vector, dimension: dimension, what: "record \(i) (\(r.memory.id))")
            guard (0...Memory.maxAccessCount).contains(r.memory.accessCount) else {
                throw StrataError(.invalidArgument, "record \(i) (\(r.memory.id)): access_count \(r.memory.accessCount) is outside 0...\(Memory.maxAccessCount)")
            }
        }
    }
}

/// A store whose every write is one `StoreChange` through `apply`: `upsert`, `remove` and
/// `commit` come for free and cannot drift apart (the SQLite and file stores).
public protocol ChangeApplyingStore: VectorStore {
    /// Writes the change atomically; returns how many of `change.removals` were there.
    func apply(_ change: StoreChange) throws(StrataError) -> Int
}

extension ChangeApplyingStore {
    public func upsert(_ records: [StoredRecord]) throws(StrataError) { _ = try apply(StoreChange(upserts: records)) }
    public func remove(ids: [String]) throws(StrataError) -> Int { try apply(StoreChange(removals: ids)) }
    public func commit(_ change: StoreChange) throws(StrataError) { _ = try apply(change) }
}

extension VectorStore {
    public var providesKeywordSearch: Bool { false }

    public var keepsHistory: Bool { false }

    public func commit(_ change: StoreChange) throws(StrataError) {
        if !change.upserts.isEmpty { try upsert(change.upserts) }
        if !change.removals.isEmpty { _ = try remove(ids: change.removals) }
    }

    public func history(id: String) throws(StrataError) -> [HistoryEntry] {
        throw StrataError(.unsupported, "\(name) keeps no history")
    }

    public func historyTail(id: String, limit: Int) throws(StrataError) -> (rows: [HistoryEntry], total: Int) {
        let rows = try history(id: id)
        return (Array(rows.suffix(max(0, limit))), rows.count)
    }

    public func keywordSearch(_ query: String, k: Int, filter: Filter?) throws(StrataError) -> [ScoredRecord] {
        throw StrataError(.unsupported, "\(name) has no keyword search")
    }

    public var providesSnapshots: Bool { false }

    public var persists: Bool { false }

    public func snapshot(name: String, at: Timestamp) throws(StrataError) -> SnapshotInfo { throw noSnapshots }

    public func snapshots() throws(StrataError) -> [SnapshotInfo] { throw noSnapshots }

    public func rollback(name: String, at: Timestamp) throws(StrataError) -> RollbackReport { throw noSnapshots }

    public func deleteSnapshot(name: String) throws(StrataError) { throw noSnapshots }

    public func indexReport() throws(StrataError) -> IndexReport? { nil }

    /// The error of a store without snapshots, naming it.
    public var noSnapshots: StrataError { StrataError(.unsupported, "\(name) keeps no snapshots") }
}

/// The embedder seam: texts in, vectors out.
///
/// Threading: `embed` may be called from several threads at once.
public protocol Embedder: AnyObject, Sendable {
    var dimension: Int { get }
    /// Stable id of the model and its settings, stored with every memory.
    var modelID: String { get }
    /// One finite vector of `dimension` floats per text.
    func embed(_ texts: [String]) throws(StrataError) -> [[Float]]
}

/// The summarizer seam: several texts in, one summary out (a remote LLM, a local model, an
/// extractive algorithm).
///
/// Threading: `summarize` may be called from several threads at once.
public protocol Summarizer: AnyObject, Sendable {
    var name: String { get }
    /// A summary of `texts` in at most `maxCharacters` characters (0: the summarizer's default).
    func summarize(_ texts: [String], maxCharacters: Int) throws(StrataError) -> String
}

/// The memory-kernel seam, for learning loops: a float32 state carried from step to step for a
/// batch of independent streams. Buffers are row-major and owned by the caller; a kernel
/// allocates nothing per step.
///
/// Threading: a kernel holds only its weights, so calls with different state buffers may run
/// concurrently; calls sharing a state buffer must not.
public protocol MemoryKernel: AnyObject, Sendable {
    /// Width D of `hidden` and `read` rows.
    var dimension: Int { get }
    /// Floats of state per batch row.
    var stateSize: Int { get }
    /// Names of the log values each step writes per row, in order.
    var logNames: [String] { get }
    var parameterCount: Int { get }

    /// Writes the initial state of `batch` rows (batch * stateSize floats).
    func initialState(batch: Int, into state: UnsafeMutableBufferPointer<Float>) throws(StrataError)
    /// One step; rows with non-zero `doneMask` are reset first. `logs` gets batch * logNames.count floats.
    func step(
        batch: Int, state: UnsafeMutableBufferPointer<Float>, hidden: UnsafeBufferPointer<Float>,
        doneMask: UnsafeBufferPointer<Float>?, read: UnsafeMutableBufferPointer<Float>,
        logs: UnsafeMutableBufferPointer<Float>?) throws(StrataError)
    /// Resets rows whose `keepMask` is 0 to the initial state.
    func reset(batch: Int, state: UnsafeMutableBufferPointer<Float>, keepMask: UnsafeBufferPointer<Float>) throws(StrataError)
    /// `steps` steps over `hidden[steps x batch x D]`, with `doneMasks[steps x batch]` (a row is
    /// reset before the step where its mask is non-zero), writing `read[steps x batch x D]` and
    /// `logs[steps x batch x logNames.count]`. The default calls `step` once per time step.
    func sequence(
        steps: Int, batch: Int, state: UnsafeMutableBufferPointer<Float>, hidden: UnsafeBufferPointer<Float>,
        doneMasks: UnsafeBufferPointer<Float>?, read: UnsafeMutableBufferPointer<Float>,
        logs: UnsafeMutableBufferPointer<Float>?) throws(StrataError)
    /// Writes the kernel's weights to a safetensors file (`.unsupported` by default).
    func writeWeights(to path: String) throws(StrataError)
}

extension MemoryKernel {
    public func sequence(
        steps: Int, batch: Int, state: UnsafeMutableBufferPointer<Float>, hidden: UnsafeBufferPointer<Float>,
        doneMasks: UnsafeBufferPointer<Float>?, read: UnsafeMutableBufferPointer<Float>,
        logs: UnsafeMutableBufferPointer<Float>?
    ) throws(StrataError) {
        try checkSequence(steps: steps, batch: batch, state: state.count, hidden: hidden.count, doneMasks: doneMasks?.count,
                          read: read.count, logs: logs?.count)
        let d = dimension, l = logNames.count
        for t in 0..<steps {
            try step(
                batch: batch, state: state,
                hidden: UnsafeBufferPointer(rebasing: hidden[(t * batch * d)..<((t + 1) * batch * d)]),
                doneMask: doneMasks.map { UnsafeBufferPointer(rebasing: $0[(t * batch)..<((t + 1) * batch)]) },
                read: UnsafeMutableBufferPointer(rebasing: read[(t * batch * d)..<((t + 1) * batch * d)]),
                logs: logs.map { UnsafeMutableBufferPointer(rebasing: $0[(t * batch * l)..<((t + 1) * batch * l)]) })
        }
    }

    public func writeWeights(to path: String) throws(StrataError) {
        throw StrataError(.unsupported, "this memory kernel cannot write its weights")
    }

    /// Checks the buffer sizes of a `sequence` call.
    public func checkSequence(
        steps: Int, batch: Int, state: Int, hidden: Int, doneMasks: Int?, read: Int, logs: Int?
    ) throws(StrataError) {
        guard steps > 0 else { throw StrataError(.invalidArgument, "steps must be at least 1, got \(steps)") }
        guard batch > 0 else { throw StrataError(.invalidArgument, "batch must be at least 1, got \(batch)") }
        func need(_ name: String, _ got: Int, _ want: Int) throws(StrataError) {
            guard got == want else { throw StrataError(.dimension, "\(name) has \(got) floats, expected \(want)") }
        }
        try need("state", state, batch * stateSize)
        try need("hidden", hidden, steps * batch * dimension)
        if let doneMasks { try need("done_masks", doneMasks, steps * batch) }
        try need("read", read, steps * batch * dimension)
        if let logs { try need("logs", logs, steps * batch * logNames.count) }
    }
}

extension MemoryKernel {
    /// Checks buffer sizes once so implementations can index without bounds worries.
    public func checkStep(
        batch: Int, state: Int, hidden: Int, doneMask: Int?, read: Int, logs: Int?
    ) throws(StrataError) {
        guard batch > 0 else { throw StrataError(.invalidArgument, "batch must be at least 1, got \(batch)") }
        func need(_ name: String, _ got: Int, _ want: Int) throws(StrataError) {
            guard got == want else { throw StrataError(.dimension, "\(name) has \(got) floats, expected \(want)") }
        }
        try need("state", state, batch * stateSize)
        try need("hidden", hidden, batch * dimension)
        if let doneMask { try need("done_mask", doneMask, batch) }
        try need("read", read, batch * dimension)
        if let logs { try need("logs", logs, batch * logNames.count) }
    }
}
