import StrataBackends
import StrataCore

/// Opening a large store without loading it.
///
/// Every CLI command is its own process. Loading 100k rows into the in-process index (records
/// decoded, keyword index built, graph restored) took 2.1-2.3 s and 530 MB before a single
/// recall. So a writer, when it closes, saves the index beside the file (`PATH.hnsw` and
/// `PATH.image`: the graph, the vectors as kept, the keyword index, each slot's id with a
/// checksum of its vector and content, and the sequence number they reflect), and the next open
/// maps them (`MappedVectorIndex`) instead of loading rows:
///
/// - Searches walk the saved graph over the mapped vectors and the mapped keyword index; a
///   filter is checked on the memory read from the file by id, and hits are read the same way.
///   Answers are the loaded index's: the same graph, vectors and postings, the same plan (a
///   filter the loaded index would answer exactly, and one the walk cannot satisfy, load the
///   rows and ask it).
/// - The image is current when no memory was removed since its sequence number and every row
///   written since holds the vector and content the image has for its id (at most
///   `mappedCatchUpLimit` rows are checked): updates of access counts and metadata, what recalls
///   and most edits write, leave it current. Such updates are written straight to the file.
/// - Anything else (a new or re-embedded memory, a removal, a rollback, a damaged image row, an
///   image behind the file) loads the rows first, and the image is written again at close.
///
/// `"lazy_open": false` in the options loads the rows at open, as before.
extension SQLiteVectorStore {
    /// Rows written since the image's sequence number that an open checks before it gives up on
    /// the image and loads the rows (each check reads the row and a checksum of its vector).
    static let mappedCatchUpLimit = 4096

    /// Records a mapped store reads by id (for filters and hits) before it loads its rows: an
    /// eighth of them, at least 2,000. A recall reads a few hundred; a process that keeps
    /// searching (an import de-duplicating each memory, a server) soon reads more than
    /// loading costs, and from then on it searches the loaded index.
    static func mappedReadLimit(_ mapped: MappedVectorIndex) -> Int { max(2000, mapped.count / 8) }

    /// Maps the saved index when it is there and current. Returns false (and reports nothing:
    /// the load that follows reports what it does with the graph file) otherwise.
    func openMapped(_ state: inout SyncState) throws(StrataError) -> Bool {
        let mapped: MappedVectorIndex
        do {
            mapped = try MappedVectorIndex(image: imagePath, graphFile: graphPath, dimension: dimension, metric: metric,
                                           settings: index.index)
        } catch {
            return false
        }
        state.lastSeq = mapped.stamp
        let version = try db.integer("PRAGMA data_version") ?? 0
        let current = try db.transaction(immediate: false) { () throws(StrataError) -> Bool in try catchUp(mapped, &state) }
        guard current else {
            state.lastSeq = 0
            return false
        }
        state.mapped = mapped
        state.dataVersion = version
        return true
    }

    /// Whether every change committed after `state.lastSeq` leaves `mapped` right (see the
    /// type's comment); if so, moves `state.lastSeq` to the file's sequence number. Runs inside
    /// a transaction, so the rows and the number come from one snapshot.
    func catchUp(_ mapped: MappedVectorIndex, _ state: inout SyncState) throws(StrataError) -> Bool {
        let seq = try currentSeq()
        guard seq != state.lastSeq else { return true }
        state.memories = [:]
        guard seq > state.lastSeq else { return false }  // the file went back (restored from a copy)
        let removed = try db.statement("SELECT count(*) FROM removed WHERE seq > ?")
        defer { removed.reset() }
        try removed.bind(1, state.lastSeq)
        guard try removed.step(), removed.int64(0) == 0 else { return false }
        let rows = try db.statement("SELECT \(SQLiteRecordRow.columns) FROM memories WHERE seq > ? LIMIT ?")
        defer { rows.reset() }
        try rows.bind(1, state.lastSeq)
        try rows.bind(2, Int64(Self.mappedCatchUpLimit + 1))
        var checked = 0
        while try rows.step() {
            checked += 1
            let r = try record(rows)
            guard checked <= Self.mappedCatchUpLimit, mapped.holds(id: r.memory.id, vector: r.vector, content: r.memory.content)
            else { return false }
        }
        state.lastSeq = seq
        return true
    }

    /// Writes `encoded` without loading the rows when every upsert leaves the image right and
    /// nothing is removed; returns nil after loading the rows otherwise (the caller then writes
    /// as usual).
    func applyMapped(_ encoded: EncodedChange, _ state: inout SyncState) throws(StrataError) -> Int? {
        try sync(&state)
        if let mapped = state.mapped, encoded.change.removals.isEmpty,
           encoded.change.upserts.allSatisfy({ mapped.holds(id: $0.memory.id, vector: $0.vector, content: $0.memory.content) }) {
            let written = try db.transaction(immediate: true) { () throws(StrataError) -> Int? in
                // Others may have committed since the sync: the same check for their rows.
                guard try catchUp(mapped, &state) else { return nil }
                return try write(encoded, seq: state.lastSeq + 1)
            }
            if let written {
                state.lastSeq += 1
                for r in encoded.change.upserts { state.memories[r.memory.id] = nil }
                return written
            }
        }
        if state.mapped != nil { try load(&state, imageStale: false) }
        return nil
    }

    /// The record stored under `id`, read from the file (its vector as the index keeps it, as
    /// a loaded store's `get` answers).
    func fetch(id: String) throws(StrataError) -> StoredRecord? {
        let s = try db.statement("SELECT \(SQLiteRecordRow.columns) FROM memories WHERE id = ?")
        defer { s.reset() }
        try s.bind(1, id)
        guard try s.step() else { return nil }
        var r = try record(s)
        r.vector = index.kept(r.vector)
        return r
    }

    /// A vector search answered from the mapped index, or nil when the rows are (now) loaded
    /// and the caller should ask `index`.
    func searchMapped(_ query: [Float], k: Int, filter: Filter?, _ state: inout SyncState) throws(StrataError) -> [ScoredRecord]? {
        guard let mapped = try stillMapped(&state) else { return nil }
        var reader = MemoryReader(store: self, memories: state.memories)
        defer { state.memories = reader.keptMemories }
        defer { state.fetched += reader.fetched }
        let hits: [(id: String, score: Float)]?
        do {
            hits = try mapped.search(query, k: k, filter: filter) { (id) throws(StrataError) -> Memory? in try reader.memory(id) }
        } catch where error.code == .corrupt && error.message.hasPrefix("index image") {
            report("sqlite store \"\(path)\": \(error.message): loaded the rows instead")
            try load(&state, imageStale: true)
            return nil
        }
        guard let hits else {
            try load(&state, imageStale: false)
            return nil
        }
        return try records(hits.map { ($0.id, $0.score) }, reader: &reader, &state)
    }

    /// A keyword search answered from the mapped index, or nil as `searchMapped`.
    func keywordSearchMapped(_ query: String, k: Int, filter: Filter?, _ state: inout SyncState) throws(StrataError) -> [ScoredRecord]? {
        guard let mapped = try stillMapped(&state) else { return nil }
        var reader = MemoryReader(store: self, memories: state.memories)
        defer { state.memories = reader.keptMemories }
        defer { state.fetched += reader.fetched }
        let hits = try mapped.keywordSearch(query, k: k, filter: filter) { (id) throws(StrataError) -> Memory? in try reader.memory(id) }
        return try records(hits.map { ($0.id, Float($0.score)) }, reader: &reader, &state)
    }

    /// The mapped index, unless the reads by id so far passed `mappedReadLimit` (then the rows
    /// load now, and nil).
    private func stillMapped(_ state: inout SyncState) throws(StrataError) -> MappedVectorIndex? {
        guard let mapped = state.mapped else { return nil }
        guard state.fetched <= Self.mappedReadLimit(mapped) else {
            try load(&state, imageStale: false)
            return nil
        }
        return mapped
    }

    /// The hits' records; nil (after loading the rows) if one is missing, which a current
    /// image never allows.
    private func records(_ hits: [(String, Float)], reader: inout MemoryReader, _ state: inout SyncState) throws(StrataError) -> [ScoredRecord]? {
        var out: [ScoredRecord] = []
        out.reserveCapacity(hits.count)
        for (id, score) in hits {
            guard let r = try reader.record(id) else {
                try load(&state, imageStale: true)
                return nil
            }
            out.append(ScoredRecord(record: r, score: score))
        }
        return out
    }

    /// Reads each record once per search (the filter and the answer ask about the same ids),
    /// and each memory once while the file does not change (`SyncState.memories`).
    struct MemoryReader {
        let store: SQLiteVectorStore
        var memories: [String: Memory?]
        var records: [String: StoredRecord?] = [:]
        /// Records read from the file by this reader.
        var fetched = 0
        /// Memories to keep for later searches: at most `limit`, so the cache stays small
        /// (about 300 bytes a memory).
        static let limit = 8192
        var keptMemories: [String: Memory?] { memories.count <= Self.limit ? memories : [:] }

        mutating func record(_ id: String) throws(StrataError) -> StoredRecord? {
            if let known = records[id] { return known }
            let r = try store.fetch(id: id)
            fetched += 1
            records[id] = r
            memories[id] = r?.memory
            return r
        }

        mutating func memory(_ id: String) throws(StrataError) -> Memory? {
            if let known = memories[id] { return known }
            return try record(id)?.memory
        }
    }
}
