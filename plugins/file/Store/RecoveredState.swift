import StrataBackends
import StrataCore

/// The state an open rebuilds from the snapshot and the log, change by change, before the store
/// takes it over.
struct RecoveredState {
    let index: InMemoryVectorStore
    var history: [String: [HistoryEntry]] = [:]
    /// The sequence number of the last change applied (0: none).
    var lastSequence: UInt64 = 0

    /// - Parameter graphFile: the graph saved beside the log, restored as the records load
    ///   (`InMemoryVectorStore.beginRestore`); the opener ends the restore.
    init(dimension: Int, metric: Metric, index settings: VectorIndexSettings = VectorIndexSettings(),
         graphFile: String? = nil) throws(StrataError) {
        // keywordSearch: the file keeps no index of its own, so the in-memory one provides BM25.
        index = try InMemoryVectorStore(dimension: dimension, metric: metric, name: "file index", keywordSearch: true, index: settings)
        if let graphFile { index.beginRestore(graphFile: graphFile) }
    }

    /// Applies one decoded change. `what` names the file and frame if a stored vector is not
    /// finite, which only a writer bug or a forged checksum could produce.
    mutating func apply(_ change: StoreChange, what: String) throws(StrataError) {
        do {
            try index.commit(StoreChange(upserts: change.upserts, removals: change.removals))
        } catch {
            throw StrataError(.corrupt, "\(what): \(error.message)")
        }
        for row in change.history { history[row.memoryID, default: []].append(row) }
    }
}
