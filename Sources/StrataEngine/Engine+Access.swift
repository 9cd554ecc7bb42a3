import StrataCore

/// Access counts that recalls recorded while a writer held the lock, waiting to be written.
struct PendingAccess: Sendable {
    /// Per memory id: how many recalls returned it, and the latest of their times.
    private(set) var byID: [String: (count: Int, at: Timestamp)] = [:]

    var isEmpty: Bool { byID.isEmpty }

    mutating func add(_ ids: [String], at: Timestamp) {
        for id in ids { add(id, count: 1, at: at) }
    }

    mutating func add(_ id: String, count: Int, at: Timestamp) {
        let old = byID[id]
        byID[id] = ((old?.count ?? 0) + count, max(old?.at ?? at, at))
    }

    /// Everything pending, leaving nothing.
    mutating func take() -> PendingAccess {
        defer { byID = [:] }
        return self
    }

    mutating func merge(_ other: PendingAccess) {
        for (id, p) in other.byID { add(id, count: p.count, at: p.at) }
    }
}

extension Engine {
    /// Records that recall returned `ids` at `now` (access count and time, which rank later
    /// recalls).
    ///
    /// When the writer lock is free, the counts are written at once, each record re-read under
    /// the lock so a concurrent update is never overwritten with stale content. When a writer
    /// holds it, recall does not wait (a lifecycle cycle may hold it for as long as its
    /// summarizer takes): the counts are queued and the writer applies them when it finishes
    /// (`write`), or the next recall that finds the lock free does.
    func recordAccess(_ ids: [String], now: Timestamp) throws(StrataError) {
        shared.withLock { $0.pendingAccess.add(ids, at: now) }
        try writer.withLockIfAvailable { (_: inout WriterState) throws(StrataError) in try applyPendingAccess() }
    }

    /// Writes the queued access counts (writer lock held). On a store error the counts go back
    /// in the queue.
    func applyPendingAccess() throws(StrataError) {
        let pending = shared.withLock { $0.pendingAccess.take() }
        guard !pending.isEmpty else { return }
        do throws(StrataError) {
            var touched: [StoredRecord] = []
            for (id, p) in pending.byID {
                guard var r = try store.get(id: id) else { continue }  // forgotten or merged meanwhile
                r.memory.accessCount = r.memory.accessCount(adding: p.count)
                r.memory.accessedAt = max(r.memory.accessedAt, p.at)
                touched.append(r)
            }
            try store.upsert(touched)
        } catch {
            shared.withLock { $0.pendingAccess.merge(pending) }
            throw error
        }
    }

    /// Runs `body` under the writer lock, then writes the access counts recalls queued while it
    /// ran. A failure to write them does not fail `body`'s change, which is committed: the
    /// counts stay queued for the next writer.
    func write<Result: Sendable>(_ body: (inout WriterState) throws(StrataError) -> Result) throws(StrataError) -> Result {
        try writer.withLock { (state: inout WriterState) throws(StrataError) -> Result in
            let result = try body(&state)
            try? applyPendingAccess()
            return result
        }
    }
}
