import StrataCore

/// Copies memories, vectors bit for bit, from one store into another, with their history when
/// both stores keep it: what `init --force` does when the new configuration names another
/// store, and what `salvage` does with what it could read.
struct StoreCopy {
    let target: any VectorStore
    /// Records per commit: one atomic change each, so an interrupted copy leaves whole batches.
    var batchSize = 500

    private var pending: [StoredRecord] = []
    private var pendingHistory: [HistoryEntry] = []
    private(set) var copied = 0

    init(into target: any VectorStore) { self.target = target }

    /// Queues one record (with its history rows, written only when the target keeps history).
    mutating func add(_ record: StoredRecord, history: [HistoryEntry] = []) throws(StrataError) {
        guard record.vector.count == target.dimension else {
            throw StrataError(.dimension, "memory \(record.memory.id) has a vector of \(record.vector.count) floats, the new store \(target.name) takes \(target.dimension)")
        }
        pending.append(record)
        if target.keepsHistory { pendingHistory += history }
        if pending.count >= batchSize { try flush() }
    }

    /// Writes what is queued.
    mutating func flush() throws(StrataError) {
        guard !pending.isEmpty else { return }
        try target.commit(StoreChange(upserts: pending, history: pendingHistory))
        copied += pending.count
        pending.removeAll(keepingCapacity: true)
        pendingHistory.removeAll(keepingCapacity: true)
    }

    /// Copies every record of `source` (with history when both keep it).
    /// - Returns: how many records were copied.
    static func copyAll(from source: any VectorStore, into target: any VectorStore) throws(StrataError) -> Int {
        var copy = StoreCopy(into: target)
        let withHistory = source.keepsHistory && target.keepsHistory
        try source.scan(filter: nil) { (record: StoredRecord) throws(StrataError) -> Bool in
            try copy.add(record, history: withHistory ? try source.history(id: record.memory.id) : [])
            return true
        }
        try copy.flush()
        return copy.copied
    }
}
