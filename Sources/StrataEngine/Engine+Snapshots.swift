import StrataCore

/// Snapshots and rollback: named copies of every memory kept by the store, and a way back to one.
///
/// History is the audit log and is never rolled back: a rollback adds one row per memory it
/// changes (ADD for one it brings back, DELETE for one it removes, UPDATE for one it changes;
/// reason "rollback to snapshot NAME"), kept by the store when it keeps history, else in the
/// engine's memory like every other row.
///
///     try engine.snapshot(name: "before-import")
///     try engine.store(batch)
///     let report = try engine.rollback(name: "before-import")   // report.removed: the batch's ids
extension Engine {
    /// Saves every memory with its vector as snapshot `name`, in the store (in every tier's
    /// store, under one name).
    /// - Throws: `.invalidArgument` for a name that is not 1 to 64 of `A-Z a-z 0-9 . _ -`;
    ///   `.conflict` when the name is taken; `.unsupported` naming a store without snapshots
    ///   (a plugin of ABI 1.1 or older, a temporary SQLite database).
    /// - Complexity: O(memories); writes wait for it, reads go on.
    @discardableResult
    public func snapshot(name: String) throws(StrataError) -> SnapshotInfo {
        try SnapshotName.validate(name)
        let now = clock.now()
        return try write { (_: inout WriterState) throws(StrataError) -> SnapshotInfo in
            let info = try store.snapshot(name: name, at: now)
            shared.withLock { $0.operations["snapshot", default: 0] += 1 }
            return info
        }
    }

    /// Every snapshot of the store, oldest first.
    public func snapshots() throws(StrataError) -> [SnapshotInfo] {
        try store.snapshots()
    }

    /// Makes the memories exactly those of snapshot `name` again: same ids, content, metadata,
    /// vectors and access counts; memories stored since are removed. Runs under the writer
    /// lock, then publishes one `memory.rolled_back` event per memory it changed.
    /// - Returns: what changed, with one history row per memory.
    /// - Throws: `.invalidArgument` for a bad name, `.notFound` naming an unknown one,
    ///   `.corrupt` naming a damaged snapshot file (nothing changed), `.unsupported`.
    /// - Complexity: O(memories + size of the snapshot).
    @discardableResult
    public func rollback(name: String) throws(StrataError) -> RollbackReport {
        try SnapshotName.validate(name)
        let now = clock.now()
        let report = try write { (_: inout WriterState) throws(StrataError) -> RollbackReport in
            let report = try store.rollback(name: name, at: now)
            if !store.keepsHistory { record(report.history) }
            shared.withLock { $0.operations["rollback", default: 0] += 1 }
            if shared.withLock({ $0.keywords != nil }), !report.history.isEmpty {
                // Rebuilt from the store, as at open: the store is now the snapshot's.
                var index = KeywordIndex()
                do throws(StrataError) {
                    try store.scan(filter: nil) { (r: StoredRecord) throws(StrataError) -> Bool in
                        index.add(id: r.memory.id, text: r.memory.content)
                        return true
                    }
                } catch {
                    throw StrataError(error.code, "rolled back to snapshot \"\(name)\", but rebuilding the keyword index failed: \(error.message)")
                }
                shared.withLock { $0.keywords = index }
            }
            return report
        }
        hub.publish(report.history.map { MemoryEvent(kind: .rolledBack, memoryID: $0.memoryID, at: now, memory: $0.new) })
        return report
    }

    /// Deletes snapshot `name`; `.notFound` naming an unknown one.
    public func deleteSnapshot(name: String) throws(StrataError) {
        try SnapshotName.validate(name)
        try writer.withLock { (_: inout WriterState) throws(StrataError) in try store.deleteSnapshot(name: name) }
    }
}
