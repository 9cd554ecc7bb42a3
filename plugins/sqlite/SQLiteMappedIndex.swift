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

    /// When a mapped store starts loading its rows (on their own thread, SQLiteRowLoad.swift),
    /// taken as the sign of a process that keeps searching (a server, an import de-duplicating
    /// each memory), which soon reads more than loading costs:
    /// - records read by id (for filters and hits) past an eighth of the store's, at least
    ///   2,000 (a recall reads a few hundred);
    /// - or vector rows read by the walks past a sixteenth of the store's, at least 2,000 (one
    ///   recall at ef 128 reads about 3,000 of 100k, one system call each, under one lock: a
    ///   server answering sixteen connections from the mapping managed 190 recalls a second).
    /// Searches stay mapped until the load has finished.
    static func startsLoading(memories: Int, fetched: Int, rowsRead: Int) -> Bool {
        fetched > max(2000, memories / 8) || rowsRead > max(2000, memories / 16)
    }

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
    func fetch(id: String) throws(StrataError) -> StoredRecord? { try fetch(id: id, on: db) }

    /// `fetch(id:)` through `connection` (the store's own, or one of `readers`).
    func fetch(id: String, on connection: SQLiteConnection) throws(StrataError) -> StoredRecord? {
        let s = try connection.statement("SELECT \(SQLiteRecordRow.columns) FROM memories WHERE id = ?")
        defer { s.reset() }
        try s.bind(1, id)
        guard try s.step() else { return nil }
        var r = try record(s)
        r.vector = index.kept(r.vector)
        return r
    }

    /// A vector search answered from the mapped index, or nil when the rows are (now) loaded
    /// and the caller should ask `index`.
    func searchMapped(_ query: [Float], k: Int, filter: Filter?) throws(StrataError) -> [ScoredRecord]? {
        try answerMapped { (mapped, memory) throws(StrataError) in
            try mapped.search(query, k: k, filter: filter, memory: memory)?.map { ($0.id, $0.score) }
        }
    }

    /// A keyword search answered from the mapped index, or nil as `searchMapped`.
    func keywordSearchMapped(_ query: String, k: Int, filter: Filter?) throws(StrataError) -> [ScoredRecord]? {
        try answerMapped { (mapped, memory) throws(StrataError) in
            try mapped.keywordSearch(query, k: k, filter: filter, memory: memory).map { ($0.id, Float($0.score)) }
        }
    }

    /// A search of the mapped index (`walk`, given it and a reader of memories by id), its hits'
    /// records read from the file; nil when the rows are loaded, or when they had to be loaded
    /// for this search (`walk` said nil: a plan only the loaded index answers; a damaged image
    /// row; a hit missing from the file), and the caller should ask `index`.
    ///
    /// The walk runs outside the store's lock, so mapped searches run side by side, each reading
    /// by id through a connection of its own (`SQLiteReaderPool`); the lock is taken only to
    /// start and to end. They ran one at a time before, under the lock for the whole search.
    private func answerMapped(
        _ walk: (MappedVectorIndex, (String) throws(StrataError) -> Memory?) throws(StrataError) -> [(String, Float)]?
    ) throws(StrataError) -> [ScoredRecord]? {
        let start = try lock.withLock { (state: inout SyncState) throws(StrataError) -> MappedStart? in
            try sync(&state)
            return try stillMapped(&state).map { MappedStart(mapped: $0, memories: state.memories, seq: state.lastSeq) }
        }
        guard let start else { return nil }
        return try readers.with { (connection) throws(StrataError) -> [ScoredRecord]? in
            try answerMapped(start, connection: connection, walk)
        }
    }

    /// `answerMapped(_:)` from `start`, reading by id through `connection`.
    private func answerMapped(
        _ start: MappedStart, connection: SQLiteConnection,
        _ walk: (MappedVectorIndex, (String) throws(StrataError) -> Memory?) throws(StrataError) -> [(String, Float)]?
    ) throws(StrataError) -> [ScoredRecord]? {
        var reader = MemoryReader(store: self, connection: connection, known: start.memories)
        var answer: [ScoredRecord]?
        var reload: Reload?
        var failure: StrataError?
        do {
            if let hits = try walk(start.mapped, { (id) throws(StrataError) -> Memory? in try reader.memory(id) }) {
                answer = try reader.records(hits)
                if answer == nil { reload = .missingHit }
            } else {
                reload = .plan
            }
        } catch where error.code == .corrupt && error.message.hasPrefix("index image") {
            reload = .damagedImage(error.message)
        } catch {
            failure = error
        }
        try lock.withLock { (state: inout SyncState) throws(StrataError) in
            state.fetched += reader.fetched
            // Keep what was read unless the file changed meanwhile (then a memory read before the
            // change could be stale; the sync that saw it emptied the cache).
            if state.lastSeq == start.seq, state.mapped === start.mapped { reader.keep(in: &state.memories) }
            // Another search may have loaded the rows meanwhile: then they are there already.
            guard let reload, state.mapped === start.mapped else { return }
            switch reload {
            case .plan:
                try load(&state, imageStale: false)
            case .damagedImage(let message):
                report("sqlite store \"\(path)\": \(message): loaded the rows instead")
                try load(&state, imageStale: true)
            case .missingHit:
                try load(&state, imageStale: true)
            }
        }
        if let failure { throw failure }
        return reload == nil ? answer : nil
    }

    /// Why a mapped search had the rows loaded.
    private enum Reload {
        /// The walk said only the loaded index answers this search (its plan).
        case plan
        /// A row of the image did not match its checksum (the message says which).
        case damagedImage(String)
        /// A hit is not in the file, which a current image never allows.
        case missingHit
    }

    /// Where a mapped search starts: the mapping, the memories read by earlier searches, and the
    /// sequence number they were read at.
    private struct MappedStart {
        let mapped: MappedVectorIndex
        let memories: [String: Memory?]
        let seq: Int64
    }

    /// The mapped index, or nil once the rows are loaded: the reads so far passed
    /// `startsLoading` and the load that started then on its own thread has finished.
    private func stillMapped(_ state: inout SyncState) throws(StrataError) -> MappedVectorIndex? {
        guard let mapped = state.mapped else { return nil }
        if let running = state.rowLoad {
            guard running.finished != nil else { return mapped }
            try load(&state, imageStale: false)  // takes the loaded rows in (or loads, if that failed)
            return nil
        }
        if Self.startsLoading(memories: mapped.count, fetched: state.fetched, rowsRead: mapped.rowsRead) {
            state.rowLoad = SQLiteRowLoad(SQLiteRowLoad.Work(
                path: path, mode: openMode, busyTimeoutMilliseconds: db.busyTimeoutMilliseconds, dimension: dimension,
                index: index, graphPath: graphPath, mapped: mapped))
        }
        return mapped
    }

    /// Takes in the rows a `SQLiteRowLoad` put into `index` as of sequence number `seq`, then
    /// catches up with what was committed since (by this connection while mapped, or by
    /// others), as any sync does.
    func adopt(seq: Int64, line: String?, _ state: inout SyncState, imageStale: Bool) throws(StrataError) {
        state.mapped = nil
        readers.closeIdle()
        state.memories = [:]
        state.fetched = 0
        state.lastSeq = seq
        state.dataVersion = -1
        if let line { report("sqlite store \"\(path)\": \(line)") }
        index.setImageStale(imageStale)
        try sync(&state)
    }

    /// Whether the rows are loading on their own thread (the store still answers mapped).
    var isLoadingRows: Bool { lock.withLock { $0.rowLoad != nil } }

    /// Waits until a load of the rows started on its own thread has finished (tests: the next
    /// search then takes the rows in).
    func waitForRowLoad() {
        guard let running = lock.withLock({ $0.rowLoad }) else { return }
        _ = running.wait()
    }

    /// Reads each record once per search (the filter and the answer ask about the same ids),
    /// and each memory once while the file does not change (`SyncState.memories`).
    struct MemoryReader {
        let store: SQLiteVectorStore
        /// This search's own connection (`SQLiteReaderPool`): its reads take no lock.
        let connection: SQLiteConnection
        /// Memories earlier searches read (a snapshot of `SyncState.memories`, never written
        /// here: a write would copy the whole table).
        let known: [String: Memory?]
        /// Memories this search read.
        var read: [String: Memory?] = [:]
        var records: [String: StoredRecord?] = [:]
        /// Records read from the file by this reader.
        var fetched = 0
        /// Memories kept for later searches: at most `limit`, so the cache stays small (about
        /// 300 bytes a memory). A filtered search samples the same rows every time to choose
        /// its plan, so those stay; once the table is full, what later searches read is not kept.
        static let limit = 8192

        init(store: SQLiteVectorStore, connection: SQLiteConnection, known: [String: Memory?]) {
            self.store = store
            self.connection = connection
            self.known = known
        }

        /// Adds what this search read to `memories`, up to `limit`.
        func keep(in memories: inout [String: Memory?]) {
            for (id, memory) in read where memories.count < Self.limit { memories[id] = memory }
        }

        mutating func record(_ id: String) throws(StrataError) -> StoredRecord? {
            if let known = records[id] { return known }
            let r = try store.fetch(id: id, on: connection)
            fetched += 1
            records[id] = r
            read[id] = r?.memory
            return r
        }

        mutating func memory(_ id: String) throws(StrataError) -> Memory? {
            if let memory = read[id] ?? known[id] { return memory }
            return try record(id)?.memory
        }

        /// The hits' records, in order; nil when one is missing.
        mutating func records(_ hits: [(String, Float)]) throws(StrataError) -> [ScoredRecord]? {
            var out: [ScoredRecord] = []
            out.reserveCapacity(hits.count)
            for (id, score) in hits {
                guard let r = try record(id) else { return nil }
                out.append(ScoredRecord(record: r, score: score))
            }
            return out
        }

    }
}
