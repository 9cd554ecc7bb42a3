#if canImport(Glibc)
import Glibc
#endif
import CStrataSIMD
import StrataCore

/// The built-in vector store: rows of a contiguous row-major matrix in memory, searched
/// exactly or through an HNSW graph (`VectorIndexSettings`: exact, hnsw, or auto by size).
///
/// - Rows are slots: a removed memory's slot is reused by a later insert, so row numbers stay
///   put and the graph (which links rows by number) never has to be renumbered.
/// - Exact search scores every row with SIMD dot products on every core and keeps the k best
///   in a heap (`ExactScan`): exact results, O(n·d) per query, at memory bandwidth. A filter
///   is evaluated only for rows that would enter the top k, which gives the same answer as
///   filtering first. `searchBatch` runs a block of queries as one packed sgemm.
/// - Graph search visits a few thousand rows whatever the size. A filtered search picks its
///   plan by the filter's selectivity (`SearchPlan`): a selective filter scans its candidate
///   rows exactly, a broad one walks the graph with the filter applied inside the walk.
/// - Cosine vectors are normalised on the way in, so cosine is a dot product.
/// - Keyword search is BM25 over content (`KeywordIndex`).
///
/// - Snapshots are copies of the whole state kept in RAM (copy-on-write: a snapshot costs
///   nothing until the next write copies what it changes); a rollback swaps the copy back in,
///   so vectors come back bit for bit. They live as long as the store.
///
/// Thread-safe: readers run concurrently, a writer excludes them (a read-write lock).
public final class InMemoryVectorStore: VectorStore {
    public let dimension: Int
    public let metric: Metric
    public let name: String
    public let providesKeywordSearch: Bool

    /// How nearest neighbours are found.
    public let index: VectorIndexSettings

    private struct State {
        var matrix: [Float] = []        // slots * dimension
        /// Squared norms, for l2 only (the exact scan reads them for no other metric: 4 bytes a
        /// row saved for cosine and dot).
        var norms: [Float] = []
        var memories: [Memory?] = []    // nil: a free slot
        /// Each memory's slot. 32-bit slots, as the graph's node numbers are: the table keeps
        /// between 1.33 and 2.67 slots per memory, so 8-byte values cost 10.5 bytes a row more
        /// at 100k (262,144 slots for 100,000 ids).
        var rowOf: [String: UInt32] = [:]
        /// Free slots, reused last freed first.
        var free: [Int] = []
        /// One bit per slot holding a memory.
        var occupied = RowBitmap(rows: 0)
        var keywords = KeywordIndex()
        var metadata = MetadataIndex()
        /// The HNSW graph over the occupied slots, when the settings want one. Derived data:
        /// never part of a snapshot (a class, so a copy would share it); rebuilt after a rollback.
        var graph: HNSWGraph?
        /// Between `beginRestore` and `endRestore`: rows go back to the slots a saved graph
        /// knows them by, and the graph waits.
        var restoring: Restoring?
        /// The graph changed since it was restored or saved.
        var graphDirty = false {
            didSet { if graphDirty { imageDirty = true } }
        }
        /// Vectors, contents or the graph changed since the image beside the store was written
        /// (`saveImage`), or the store found that image stale (`setImageStale`).
        var imageDirty = false
        /// What the graph's walks read (`index.compression`, or what `useCompression` chose).
        var compression = VectorIndexSettings.Compression.none

        var slots: Int { memories.count }
    }

    /// A saved graph being matched with the rows as they load.
    private struct Restoring {
        var saved: SavedGraph?
        var slotOf: [String: Int] = [:]
        /// Why the saved graph is not used, for the report.
        var problem: String?
    }

    private let state = Guarded(State())

    /// A snapshot: its description and the state it copied.
    private struct Saved {
        var info: SnapshotInfo
        var state: State
    }

    /// Snapshots by name. Lock order: `saved` before `state`.
    private let saved = Guarded([String: Saved]())

    /// - Parameters:
    ///   - dimension: floats per vector, at least 1.
    ///   - metric: how closeness is measured.
    ///   - keywordSearch: keep a BM25 index over content (false when a store keeps its own
    ///     and uses this one only for vectors).
    ///   - index: exact search, an HNSW graph, or auto (exact below a size).
    public init(dimension: Int, metric: Metric = .cosine, name: String = "memory", keywordSearch: Bool = true,
                index: VectorIndexSettings = VectorIndexSettings()) throws(StrataError) {
        guard dimension >= 1, dimension <= 1 << 16 else {
            throw StrataError(.invalidConfig, "\(name): dimension must be in 1...65536, got \(dimension)")
        }
        self.dimension = dimension
        self.metric = metric
        self.name = name
        self.index = index
        providesKeywordSearch = keywordSearch
        state.write { $0.compression = index.compression }
    }

    /// Creates the store from its JSON options:
    /// {"dimension": N, "metric": "cosine"|"dot"|"l2", "index": {...} (`VectorIndexSettings`)}.
    public convenience init(options: JSONValue, path: String) throws(StrataError) {
        var r = try JSONObjectReader(options, path: path, code: .invalidConfig)
        guard let dim = try r.optionalInt("dimension", in: 1...65536) else {
            throw StrataError(.invalidConfig, "\(path).dimension is required")
        }
        let metric = try r.optionalChoice("metric", Metric.allCases.map(\.rawValue)).flatMap(Metric.init) ?? .cosine
        let index = try r.optionalValue("index").map { (v) throws(StrataError) in try VectorIndexSettings(json: v, path: "\(path).index") }
        try r.finish()
        try self.init(dimension: dim, metric: metric, index: index ?? VectorIndexSettings())
    }

    private func prepared(_ v: [Float]) -> [Float] { metric == .cosine ? Vectors.normalized(v) : v }

    public func upsert(_ records: [StoredRecord]) throws(StrataError) {
        try commit(StoreChange(upserts: records))
    }

    public func remove(ids: [String]) throws(StrataError) -> Int {
        state.write { s in
            let removed = ids.reduce(0) { $0 + (remove(id: $1, from: &s) ? 1 : 0) }
            maintainGraph(&s, linking: [])
            return removed
        }
    }

    /// Applies upserts then removals under one write lock: readers see all of it or none.
    public func commit(_ change: StoreChange) throws(StrataError) {
        try commit(change, vectorsAsKept: false)
    }

    /// `commit`, optionally taking the vectors as this store keeps them.
    /// - Parameter vectorsAsKept: the vectors come from this store's `get` or `scan` (already
    ///   normalised for cosine) and are kept bit for bit, not normalised again: how a store
    ///   that serves from this index restores records exactly (a file-store rollback).
    public func commit(_ change: StoreChange, vectorsAsKept: Bool) throws(StrataError) {
        // Validate everything first: all or none.
        for (i, r) in change.upserts.enumerated() {
            try Vectors.validate(r.vector, dimension: dimension, what: "record \(i) (\(r.memory.id))")
        }
        state.write { s in
            var linking: [Int] = []  // slots whose vector is new to the graph
            // One row's vector as kept, prepared here rather than as a copy of every vector of
            // the change: a large import would otherwise hold its vectors twice.
            var row = [Float](repeating: 0, count: dimension)
            reserve(&s, adding: change.upserts.count)
            for record in change.upserts {
                prepare(record.vector, into: &row, asKept: vectorsAsKept)
                let norm = metric == .l2 ? Vectors.dot(row, row) : 0
                if let at = s.rowOf[record.memory.id].map(Int.init) {
                    // Keeping is idempotent (`Vectors.normalized` leaves a unit vector as it is), so
                    // the kept row `get` answered, written back with an access count, compares equal.
                    if !sameVector(s.matrix, at, row) {
                        // The graph links this row by its old vector: unlink it (its neighbours
                        // are repaired) and link it again below.
                        if let graph = s.graph {
                            withRows(s) { graph.remove(at, rows: $0) }
                            s.graphDirty = true
                        }
                        s.matrix.replaceSubrange(at * dimension..<(at + 1) * dimension, with: row)
                        if metric == .l2 { s.norms[at] = norm }
                        linking.append(at)
                    }
                    // The same text indexes the same way: every recall's access bump is an
                    // upsert, and need not tokenise the content again.
                    if providesKeywordSearch, s.memories[at]!.content != record.memory.content {
                        s.keywords.add(id: record.memory.id, text: record.memory.content)
                        s.imageDirty = true
                    }
                    s.metadata.remove(s.memories[at]!, row: at)
                    s.memories[at] = record.memory
                    s.metadata.add(record.memory, row: at)
                } else {
                    let at = takeSlot(&s, for: record.memory.id)
                    s.matrix.replaceSubrange(at * dimension..<(at + 1) * dimension, with: row)
                    if metric == .l2 { s.norms[at] = norm }
                    s.memories[at] = record.memory
                    s.imageDirty = true
                    s.rowOf[record.memory.id] = UInt32(at)
                    s.occupied.insert(at)
                    s.metadata.add(record.memory, row: at)
                    if providesKeywordSearch { s.keywords.add(id: record.memory.id, text: record.memory.content) }
                    linking.append(at)
                }
            }
            for id in change.removals { _ = remove(id: id, from: &s) }
            maintainGraph(&s, linking: linking)
        }
    }

    /// Writes `vector` as this store keeps it into `row`: scaled to unit length for cosine (the
    /// same bits as `Vectors.normalized`), as it is otherwise or when `asKept`.
    private func prepare(_ vector: [Float], into row: inout [Float], asKept: Bool) {
        guard metric == .cosine, !asKept else {
            row.withUnsafeMutableBufferPointer { out in vector.withUnsafeBufferPointer { out.baseAddress!.update(from: $0.baseAddress!, count: dimension) } }
            return
        }
        // The same rule and arithmetic as `Vectors.normalized`, without its array.
        let squared = Vectors.squaredNorm(vector)
        guard squared > 0, !Vectors.isUnit(squared: squared, dimension: dimension) else {
            row.withUnsafeMutableBufferPointer { out in vector.withUnsafeBufferPointer { out.baseAddress!.update(from: $0.baseAddress!, count: dimension) } }
            return
        }
        let inv: Float = 1 / squared.squareRoot()
        for j in 0..<dimension { row[j] = vector[j] * inv }
    }

    /// Whether slot `at` holds exactly `row` (an update that changes only the memory, such as
    /// an access count, leaves the graph alone).
    private func sameVector(_ matrix: [Float], _ at: Int, _ row: [Float]) -> Bool {
        let base = at * dimension
        for j in 0..<dimension where matrix[base + j].bitPattern != row[j].bitPattern { return false }
        return true
    }

    /// Makes room at once for a batch that may add `count` rows, when that is at least as many
    /// as the store holds: the per-row tables then grow once to their size instead of doubling
    /// their way there, and the buffers each doubling frees (as much again as the final table,
    /// most of it below malloc's mapping threshold) do not stay behind in the heap. Measured at
    /// 100k x 384 (`strata bench ann`): the store's resident growth at the end of the bench was
    /// 12 MB lower with the tables reserved than without. A smaller
    /// batch grows the tables by doubling as usual (reserving each batch exactly would copy them
    /// per batch).
    private func reserve(_ s: inout State, adding count: Int) {
        guard count >= 1024, count >= s.rowOf.count else { return }
        let rows = s.slots + count
        s.matrix.reserveCapacity(rows * dimension)
        if metric == .l2 { s.norms.reserveCapacity(rows) }
        s.memories.reserveCapacity(rows)
        s.rowOf.reserveCapacity(s.rowOf.count + count)
    }

    /// A free slot, or a new one at the end (the matrix grows geometrically: reserving the
    /// exact size on every batch would copy the whole matrix per batch).
    private func takeSlot(_ s: inout State, for id: String) -> Int {
        if let at = s.restoring?.slotOf[id], at < s.slots, s.memories[at] == nil { return at }
        if let at = s.free.popLast() { return at }
        let at = s.slots
        let needed = (at + 1) * dimension
        if needed > s.matrix.capacity { s.matrix.reserveCapacity(max(needed, s.matrix.capacity * 2)) }
        s.matrix.append(contentsOf: repeatElement(0, count: dimension))
        if metric == .l2 { s.norms.append(0) }
        s.memories.append(nil)
        s.occupied.resize(rows: at + 1)
        return at
    }

    private func remove(id: String, from s: inout State) -> Bool {
        guard let at = s.rowOf.removeValue(forKey: id).map(Int.init) else { return false }
        s.imageDirty = true
        s.metadata.remove(s.memories[at]!, row: at)
        s.memories[at] = nil
        s.occupied.remove(at)
        s.free.append(at)
        s.keywords.remove(id: id)
        if let graph = s.graph {
            withRows(s) { graph.remove(at, rows: $0) }
            s.graphDirty = true
        }
        return true
    }

    /// Brings the graph in line with the settings and the rows: builds it when the store
    /// crosses `auto_rows` (on every core), drops it when an auto store shrinks below half of
    /// that, otherwise links the slots in `linking` that still hold a memory.
    private func maintainGraph(_ s: inout State, linking: [Int]) {
        guard s.restoring == nil else { return }
        let live = s.rowOf.count
        if index.wantsGraph(rows: live) {
            if s.graph == nil {
                s.graph = buildGraph(s)
                s.graphDirty = true
                // The build's scratch is freed by now, but malloc keeps its pages: 3.4 MB of
                // resident growth at 100k x 384.
                strata_heap_trim()
                return
            }
            let graph = s.graph!
            var seen = Set<Int>()
            let nodes = linking.filter { s.memories[$0] != nil && !graph.isLive($0) && seen.insert($0).inserted }
            if !nodes.isEmpty { s.graphDirty = true }
            withRows(s) { graph.insert(nodes, rows: $0, parallel: nodes.count >= 128) }
            // A batch as big as a build frees as much scratch as one.
            if nodes.count >= HNSWGraph.buildCodesFrom { strata_heap_trim() }
        } else if s.graph != nil, index.kind == .auto, live < index.autoRows / 2 {
            s.graph = nil
        }
    }

    // MARK: - A graph saved beside a store

    /// Starts loading a store's rows into this (empty) index with the graph saved at `path`:
    /// rows whose ids the saved graph knows go back to their old slots, and no graph work runs
    /// until `endRestore`. A missing or unreadable file is not an error (see `endRestore`).
    public func beginRestore(graphFile path: String) {
        state.write { s in
            var plan = Restoring()
            defer { s.restoring = plan }
            guard index.kind != .exact, access(path, F_OK) == 0 else { return }
            let saved: SavedGraph
            do throws(StrataError) {
                saved = try SavedGraph(file: path)
            } catch {
                plan.problem = "\(error.message)"
                return
            }
            guard saved.dimension == dimension, saved.metric == metric else {
                plan.problem = "it was saved for \(saved.dimension) dimensions (\(saved.metric.rawValue)), the store has \(dimension) (\(metric.rawValue))"
                return
            }
            guard saved.m == index.m, saved.efConstruction == index.efConstruction else {
                plan.problem = "it was built with m \(saved.m) and ef_construction \(saved.efConstruction), the settings say \(index.m) and \(index.efConstruction)"
                return
            }
            for (r, id) in saved.ids.enumerated() { if let id { plan.slotOf[id] = r } }
            // Rows keep their numbers: make room for every saved row, all free for now.
            s.matrix = [Float](repeating: 0, count: saved.rows * dimension)
            s.norms = [Float](repeating: 0, count: metric == .l2 ? saved.rows : 0)
            s.memories = [Memory?](repeating: nil, count: saved.rows)
            s.occupied = RowBitmap(rows: saved.rows)
            plan.saved = saved
        }
    }

    /// Ends a restore: matches the saved graph with the rows that loaded (rows whose memory and
    /// vector checksum are as saved keep their links; removed rows are unlinked and their
    /// neighbours repaired; new and changed rows are linked), or builds the graph afresh when
    /// there was no usable file or most rows changed.
    /// - Returns: one line for the store's report when the saved graph could not be used as it
    ///   was (naming what was done), nil when it was, or when no graph is wanted.
    public func endRestore(graphFile path: String) -> String? {
        state.write { s in
            guard let plan = s.restoring else { return nil }
            s.restoring = nil
            s.free = (0..<s.slots).reversed().filter { s.memories[$0] == nil }
            guard index.wantsGraph(rows: s.rowOf.count) else { return nil }
            guard let saved = plan.saved else {
                maintainGraph(&s, linking: [])
                guard let problem = plan.problem else {
                    return s.rowOf.count >= 10_000 ? "graph file \"\(path)\" is missing: built the graph from the \(s.rowOf.count) rows" : nil
                }
                return "graph file \"\(path)\" was not used (\(problem)): built the graph from the \(s.rowOf.count) rows"
            }
            var unlink: [Int] = []
            var link: [Int] = []
            for r in 0..<s.slots {
                let wasLive = r < saved.rows && saved.levels[r] >= 0 && saved.dead[r] == 0
                guard let memory = s.memories[r] else {
                    if wasLive { unlink.append(r) }
                    continue
                }
                let same = wasLive && saved.ids[r] == memory.id
                    && s.matrix.withUnsafeBufferPointer { SavedGraph.checksum($0.baseAddress! + r * dimension, dimension: dimension) } == saved.checksums[r]
                if !same {
                    if wasLive { unlink.append(r) }
                    link.append(r)
                }
            }
            if (unlink.count + link.count) * 2 > s.rowOf.count {
                maintainGraph(&s, linking: [])
                return "graph file \"\(path)\" is stale (\(link.count) rows new or changed, \(unlink.count) unlinked): built the graph afresh"
            }
            let graph = HNSWGraph(saved: saved, settings: index)
            graph.reserve(rows: s.slots)
            withRows(s) { rows in
                for r in unlink { graph.remove(r, rows: rows) }
                graph.insert(link, rows: rows, parallel: link.count >= 1024)
                graph.compress(s.compression, rows: rows)
            }
            s.graph = graph
            s.graphDirty = !unlink.isEmpty || !link.isEmpty
            guard !unlink.isEmpty || !link.isEmpty else { return nil }
            return "graph file \"\(path)\" was behind the store: linked \(link.count) new or changed rows, unlinked \(unlink.count)"
        }
    }

    /// Saves the graph to `path` (atomically: see `DerivedFile`), with each row's memory id
    /// and vector checksum. Does nothing when there is no graph, or when it has not changed
    /// since it was restored or last saved.
    /// - Throws: `.io` naming the file.
    public func saveGraph(to path: String) throws(StrataError) {
        // Under the write lock: nothing changes the graph between encoding it and clearing the
        // dirty mark (the write itself runs after, outside the lock).
        let bytes: [UInt8]? = state.write { s in
            guard let graph = s.graph, s.graphDirty else { return nil }
            s.graphDirty = false
            let checksums = s.matrix.withUnsafeBufferPointer { m in
                (0..<s.slots).map { s.memories[$0] == nil ? 0 : SavedGraph.checksum(m.baseAddress! + $0 * dimension, dimension: dimension) }
            }
            return SavedGraph(graph: graph, rows: s.slots, ids: s.memories.map { $0?.id }, checksums: checksums, metric: metric).encoded()
        }
        guard let bytes else { return }
        do {
            try DerivedFile.write(bytes, to: path)
        } catch {
            state.write { $0.graphDirty = true }
            throw error
        }
    }

    /// Writes the image of this index (`StoreImage`) to `path`, beside the graph file at
    /// `graphFile` it goes with, stamped with the store's sequence number `stamp`: what lets the
    /// next process answer searches from a mapping (`MappedVectorIndex`). Does nothing unless the
    /// index keeps a graph and a keyword index, and vectors, contents or the graph changed since
    /// the last image (or the store found the image stale). Call it after `saveGraph`.
    /// - Throws: `.io` naming the file.
    public func saveImage(to path: String, graphFile: String, stamp: Int64) throws(StrataError) {
        guard providesKeywordSearch else { return }
        let bytes: [UInt8]? = state.write { s in
            guard s.graph != nil, s.imageDirty, let identity = StoreImage.graphIdentity(graphFile) else { return nil }
            s.imageDirty = false
            let parameters = withRows(s) { s.graph!.restoredCodesParameters(s.compression, rows: $0) }
            return s.matrix.withUnsafeBufferPointer { m in
                StoreImage.encode(
                    dimension: dimension, metric: metric, graph: identity, stamp: stamp, ids: s.memories.map { $0?.id },
                    contentChecksums: s.memories.map { $0.map { StoreImage.contentChecksum($0.content) } ?? 0 },
                    matrix: m, keywords: s.keywords.encoded(), codes: parameters?.encoded ?? [])
            }
        }
        guard let bytes else { return }
        do {
            try DerivedFile.write(bytes, to: path)
        } catch {
            state.write { $0.imageDirty = true }
            throw error
        }
    }

    /// Whether the image beside the store needs a rewrite: true when the store found it missing,
    /// damaged or behind its rows, false when the rows just loaded are what it shows.
    public func setImageStale(_ stale: Bool) { state.write { $0.imageDirty = stale } }

    /// `vector` as this index keeps it (unit length for cosine, the same bits as a commit
    /// stores): what `get` answers.
    public func kept(_ vector: [Float]) -> [Float] {
        var row = [Float](repeating: 0, count: dimension)
        prepare(vector, into: &row, asKept: false)
        return row
    }

    /// Whether the index keeps a graph now.
    public var hasGraph: Bool { state.read { $0.graph != nil } }

    /// A graph over every occupied slot, linked on every core.
    private func buildGraph(_ s: State) -> HNSWGraph {
        let graph = HNSWGraph(dimension: dimension, metric: metric, settings: index)
        let nodes = (0..<s.slots).filter { s.memories[$0] != nil }
        withRows(s) {
            graph.insert(nodes, rows: $0, parallel: true)
            graph.compress(s.compression, rows: $0)
        }
        return graph
    }

    /// Makes the graph's walks read `kind` from now on (benchmarks compare them on one graph);
    /// the store's settings choose it at open.
    public func useCompression(_ kind: VectorIndexSettings.Compression) {
        state.write { s in
            s.compression = kind
            if let graph = s.graph { withRows(s) { graph.compress(kind, rows: $0) } }
        }
    }

    /// The bytes of the graph's compressed copies of the rows (0 without compression).
    public var graphCodeBytes: Int { state.read { $0.graph?.codeBytes ?? 0 } }

    /// The bytes of the rows' floats as kept: the matrix's slots in use and, for l2, their
    /// squared norms (capacity reserved past the last slot is not counted: it is never written,
    /// so the kernel never maps it in).
    public var vectorBytes: Int { state.read(Self.vectorBytes) }

    private static func vectorBytes(_ s: State) -> Int { (s.matrix.count + s.norms.count) * MemoryLayout<Float>.size }

    /// The index as it is now: a graph with its parameters and bytes once the settings built
    /// one (`auto` stays exact below `auto_rows`), else exact with the rows' bytes alone.
    /// Read under one lock, so the parts add up. Complexity: O(upper-layer nodes).
    public func indexReport() throws(StrataError) -> IndexReport? {
        state.read { s in
            let vectors = Self.vectorBytes(s)
            guard let graph = s.graph else {
                return IndexReport(kind: .exact, rows: s.rowOf.count, bytes: IndexReport.Bytes(vectors: vectors))
            }
            return IndexReport(
                kind: .hnsw, rows: s.rowOf.count,
                graph: IndexReport.Graph(m: index.m, efConstruction: index.efConstruction, efSearch: index.efSearch),
                compression: graph.compression,
                bytes: IndexReport.Bytes(vectors: vectors, codes: graph.codeBytes, graph: graph.bytes))
        }
    }

    private func withRows<T>(_ s: State, _ body: (GraphRows) -> T) -> T {
        s.matrix.withUnsafeBufferPointer { body(GraphRows(base: $0.baseAddress!, dimension: dimension)) }
    }

    public func get(id: String) throws(StrataError) -> StoredRecord? {
        state.read { s in
            guard let at = s.rowOf[id].map(Int.init) else { return nil }
            return record(s, at)
        }
    }

    public func count() throws(StrataError) -> Int { state.read { $0.rowOf.count } }

    public func scan(filter: Filter?, _ body: (StoredRecord) throws(StrataError) -> Bool) throws(StrataError) {
        // Copy out under the lock, call back outside it, so a callback may use the store.
        let records: [StoredRecord] = state.read { s in
            var out: [StoredRecord] = []
            for at in 0..<s.slots {
                guard let m = s.memories[at], filter?.matches(m) ?? true else { continue }
                out.append(record(s, at))
            }
            return out
        }
        for r in records where try !body(r) { return }
    }

    public func search(_ query: [Float], k: Int, filter: Filter?) throws(StrataError) -> [ScoredRecord] {
        try search(query, k: k, filter: filter, ef: nil)
    }

    /// `search` with the graph's candidate count for this query only (benchmarks sweep it).
    /// - Parameter ef: candidates kept on the graph's layer 0 (at least k is used); nil: the
    ///   store's `ef_search`. No effect on an exact search.
    public func search(_ query: [Float], k: Int, filter: Filter?, ef: Int?) throws(StrataError) -> [ScoredRecord] {
        try Vectors.validate(query, dimension: dimension, what: "query vector")
        guard k > 0 else { return [] }
        let q = prepared(query)
        let qNorm = Vectors.dot(q, q)
        return state.read { s in
            let n = s.slots
            guard s.rowOf.count > 0 else { return [] }
            let filter = filter.flatMap { $0.isAlways ? nil : $0 }
            // How many rows the filter may match, from the sizes of the metadata index's lists
            // (no list is walked: a broad filter, such as a recall's scope, costs nothing here).
            let estimate = filter.flatMap { s.metadata.estimate($0, rows: s.rowOf.count) }
            let hits: [(item: Int, score: Double)] = s.memories.withUnsafeBufferPointer { memories in
                let accept: ((Int) -> Bool)? = filter.map { f in
                    let compiled = CompiledFilter(f)
                    return { row in Self.matches(compiled, memories.baseAddress! + row) }
                }
                let efUsed = ef ?? index.efSearch
                // A broad filter (a recall's scope and expiry) is first checked on the walk's
                // nearest ef only (BroadFilterWalk); when too few of them pass, the plan runs.
                if let graph = s.graph, let accept,
                   let candidates = BroadFilterWalk.candidates(rows: s.rowOf.count, k: k, ef: efUsed, m: index.m, filter: filter,
                                                               matchesAtMost: estimate),
                   let kept = withRows(s, { rows in
                       q.withUnsafeBufferPointer { qp in
                           BroadFilterWalk.search(graph, query: qp.baseAddress!, rows: rows, k: k, ef: efUsed, candidates: candidates) {
                               accept(Int($0))
                           }
                       }
                   }) {
                    return kept.map { (item: Int($0.node), score: Double(-$0.distance)) }
                }
                if let graph = s.graph, plan(s, k: k, ef: efUsed, filter: filter, estimate: estimate) == .graph {
                    let found = withRows(s) { rows in
                        q.withUnsafeBufferPointer { qp in
                            graph.search(qp.baseAddress!, rows: rows, k: k, ef: efUsed,
                                         accept: accept.map { a in { a(Int($0)) } })
                        }
                    }
                    // A filter the walk could not satisfy k times (it keeps the ef nearest it
                    // reached) falls back to the exact plan below.
                    if found.count == k || filter == nil {
                        return found.map { (item: Int($0.node), score: Double(-$0.distance)) }
                    }
                }
                // The exact plan. Rows the metadata index rules out are skipped without reading
                // their vectors (its bitmap is built when it rules out at least half), and so are
                // free slots.
                var allowed: RowBitmap?
                if let filter, let estimate, estimate * 2 <= s.rowOf.count {
                    allowed = s.metadata.candidates(for: filter, rows: n)
                }
                if !s.free.isEmpty {
                    if allowed == nil { allowed = s.occupied } else { allowed!.formIntersection(s.occupied) }
                }
                return (allowed?.words ?? []).withUnsafeBufferPointer { bits in
                    exactTopK(s, q, qNorm, k, allowed == nil ? nil : bits.baseAddress, accept)
                }
            }
            return hits.map { ScoredRecord(record: record(s, $0.item), score: Float($0.score)) }
        }
    }

    /// Evaluates `filter` on the memory of a live row in place. `Optional<Memory>` is a
    /// single-payload enum, laid out as its payload at offset 0, so the memory is read where it
    /// lies: `memories[row]!` copied it, retaining its strings and dictionary for every node a
    /// walk visits (a tenth of a recall's time in the profile).
    /// The row must be live (the graph holds only live rows, and the exact plan skips free
    /// slots): even testing the optional for nil copied it.
    @inline(__always)
    static func matches(_ filter: CompiledFilter, _ slot: UnsafePointer<Memory?>) -> Bool {
        assert(slot.pointee != nil, "a filter asked about a free slot")
        return UnsafeRawPointer(slot).withMemoryRebound(to: Memory.self, capacity: 1) { filter.matches(stored: $0) }
    }

    /// The exact plan: every allowed row scored, the k best kept.
    private func exactTopK(_ s: State, _ q: [Float], _ qNorm: Float, _ k: Int, _ allowed: UnsafePointer<UInt64>?,
                           _ accept: ((Int) -> Bool)?) -> [(item: Int, score: Double)] {
        s.matrix.withUnsafeBufferPointer { m in
            withNorms(s) { norms in
                q.withUnsafeBufferPointer { qp in
                    ExactScan.topK(
                        matrix: m.baseAddress!, norms: norms, rows: s.slots, dimension: dimension,
                        query: qp.baseAddress!, queryNorm: qNorm, l2: metric == .l2, k: k, allowed: allowed, accept: accept)
                }
            }
        }
    }

    /// Calls `body` with the squared norms the exact scan takes: the kept ones for l2, a dummy
    /// otherwise (the scan reads them only for l2).
    private func withNorms<T>(_ s: State, _ body: (UnsafePointer<Float>) -> T) -> T {
        guard metric == .l2 else { return withUnsafePointer(to: Float(0)) { body($0) } }
        return s.norms.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    /// How `search` would run for this filter now: "exact" or "graph" (for stats and benchmarks).
    public func plan(k: Int, filter: Filter?) -> String {
        state.read { s in
            guard s.graph != nil else { return "exact" }
            let filter = filter.flatMap { $0.isAlways ? nil : $0 }
            return plan(s, k: k, ef: index.efSearch, filter: filter, estimate: filter.flatMap { s.metadata.estimate($0, rows: s.rowOf.count) }) == .graph
                ? "graph" : "exact"
        }
    }

    private func plan(_ s: State, k: Int, ef: Int, filter: Filter?, estimate: Int?) -> SearchPlan {
        SearchPlan.choose(
            rows: s.rowOf.count, k: k, ef: ef, m: index.m, filter: filter, candidates: estimate,
            sample: { f, enough in
                let compiled = CompiledFilter(f)
                return s.memories.withUnsafeBufferPointer { memories in
                    SearchPlan.sampleSelectivity(slots: s.slots, enough: enough) { row in
                        s.occupied.contains(row) ? Self.matches(compiled, memories.baseAddress! + row) : nil
                    }
                }
            })
    }

    /// What the graph costs: its bytes, its live nodes, and whether there is one.
    public var graphStats: (nodes: Int, bytes: Int)? {
        state.read { s in s.graph.map { (nodes: $0.count, bytes: $0.bytes) } }
    }

    /// Rows per sgemm block in `searchBatch`: the block of scores (queries x rows floats) stays
    /// near 8 MB, inside the last-level cache, so selection reads it back from cache. Measured on
    /// the 2-core EPYC: 8 MB and 16 MB blocks were equal within noise, 4 MB lost ~10%.
    public static func batchBlockRows(rows: Int, queries: Int) -> Int {
        max(256, min(rows, (1 << 21) / max(queries, 1)))
    }

    /// Searches many queries at once as blocked sgemm, exactly (whatever the index): the fast
    /// path for batches.
    /// - Parameter queries: `count` query vectors, row-major, `count * dimension` floats.
    /// - Returns: for each query, up to k (row id, score) pairs, best first.
    public func searchBatch(_ queries: [Float], count: Int, k: Int) throws(StrataError) -> [[(id: String, score: Float)]] {
        guard count >= 0, queries.count == count * dimension else {
            throw StrataError(.dimension, "queries hold \(queries.count) floats, expected \(count) x \(dimension)")
        }
        for i in 0..<count where !queries[i * dimension..<(i + 1) * dimension].allSatisfy(\.isFinite) {
            throw StrataError(.invalidVector, "query \(i) holds NaN or infinity")
        }
        var qs = queries
        var qNorms = [Float](repeating: 0, count: count)
        for i in 0..<count {
            var row = Array(qs[i * dimension..<(i + 1) * dimension])
            if metric == .cosine { row = Vectors.normalized(row) }
            qNorms[i] = Vectors.dot(row, row)
            qs.replaceSubrange(i * dimension..<(i + 1) * dimension, with: row)
        }
        return state.read { s in
            let n = s.slots
            var tops = (0..<count).map { _ in TopK<Int>(k: k) }
            guard n > 0, k > 0 else { return tops.map { _ in [] } }
            let block = Self.batchBlockRows(rows: n, queries: count)
            var scores = [Float](repeating: 0, count: count * block)
            var product = PackedProduct()
            defer { product.release() }
            let occupied = s.free.isEmpty ? nil : s.occupied
            s.matrix.withUnsafeBufferPointer { m in
                withNorms(s) { norms in
                    qs.withUnsafeBufferPointer { qp in
                        qNorms.withUnsafeBufferPointer { qn in
                            scores.withUnsafeMutableBufferPointer { sp in
                                tops.withUnsafeMutableBufferPointer { tp in
                                    (occupied?.words ?? []).withUnsafeBufferPointer { bits in
                                        var start = 0
                                        while start < n {
                                            let rows = min(block, n - start)
                                            product.multiply(x: qp.baseAddress!, m: count, w: m.baseAddress! + start * dimension,
                                                             n: rows, k: dimension, into: sp.baseAddress!)
                                            ExactScan.selectBlock(
                                                scores: sp.baseAddress!, queries: count, rows: rows, firstRow: start,
                                                norms: norms, queryNorms: qn.baseAddress!, l2: metric == .l2, tops: tp,
                                                allowed: occupied == nil ? nil : bits.baseAddress)
                                            start += rows
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            return tops.map { $0.sortedDescending().map { (id: s.memories[$0.item]!.id, score: Float($0.score)) } }
        }
    }

    public func keywordSearch(_ query: String, k: Int, filter: Filter?) throws(StrataError) -> [ScoredRecord] {
        guard providesKeywordSearch else { throw StrataError(.unsupported, "\(name) keeps no keyword index") }
        return state.read { s in
            // No metadata bitmap here: a broad filter (a recall's scope) would cost O(rows) a query
            // to build it, and the pruned search asks about few candidates.
            let filter = filter.flatMap { $0.isAlways ? nil : $0 }
            let compiled = filter.map(CompiledFilter.init)
            let hits = s.keywords.search(query, k: k) { id in
                guard let compiled else { return true }
                return s.memories.withUnsafeBufferPointer { Self.matches(compiled, $0.baseAddress! + Int(s.rowOf[id]!)) }
            }
            return hits.map { ScoredRecord(record: record(s, Int(s.rowOf[$0.id]!)), score: Float($0.score)) }
        }
    }

    // MARK: - Snapshots

    public var providesSnapshots: Bool { true }

    public func snapshot(name snapshotName: String, at: Timestamp) throws(StrataError) -> SnapshotInfo {
        try SnapshotName.validate(snapshotName)
        return try saved.write { (shelf) throws(StrataError) -> SnapshotInfo in
            guard shelf[snapshotName] == nil else {
                throw StrataError(.conflict, "\(name): snapshot \"\(snapshotName)\" exists; delete it first or choose another name")
            }
            var copy = state.read { $0 }
            copy.graph = nil  // derived, and shared by reference: rebuilt on rollback instead
            let info = SnapshotInfo(name: snapshotName, createdAt: at, memories: copy.rowOf.count)
            shelf[snapshotName] = Saved(info: info, state: copy)
            return info
        }
    }

    public func snapshots() throws(StrataError) -> [SnapshotInfo] {
        saved.read { shelf in shelf.values.map(\.info).sorted { ($0.createdAt, $0.name) < ($1.createdAt, $1.name) } }
    }

    public func rollback(name snapshotName: String, at: Timestamp) throws(StrataError) -> RollbackReport {
        try SnapshotName.validate(snapshotName)
        return try saved.read { (shelf) throws(StrataError) -> RollbackReport in
            guard let target = shelf[snapshotName] else { throw unknownSnapshot(snapshotName, shelf) }
            return state.write { s in
                let rows = RollbackReport.rows(from: records(s), to: records(target.state), snapshot: snapshotName, at: at)
                if !rows.isEmpty {
                    s = target.state
                    maintainGraph(&s, linking: [])
                }
                return RollbackReport(snapshot: snapshotName, history: rows)
            }
        }
    }

    public func deleteSnapshot(name snapshotName: String) throws(StrataError) {
        try SnapshotName.validate(snapshotName)
        try saved.write { (shelf) throws(StrataError) in
            guard shelf.removeValue(forKey: snapshotName) != nil else { throw unknownSnapshot(snapshotName, shelf) }
        }
    }

    private func unknownSnapshot(_ snapshotName: String, _ shelf: [String: Saved]) -> StrataError {
        let known = shelf.keys.sorted()
        return StrataError(.notFound, "\(name): no snapshot \"\(snapshotName)\" (" + (known.isEmpty ? "there are none" : "there are: " + known.joined(separator: ", ")) + ")")
    }

    /// Every record of `s`, vectors as kept (normalised for cosine), in slot order.
    private func records(_ s: State) -> [StoredRecord] {
        (0..<s.slots).compactMap { s.memories[$0] == nil ? nil : record(s, $0) }
    }

    private func record(_ s: State, _ row: Int) -> StoredRecord {
        StoredRecord(memory: s.memories[row]!, vector: Array(s.matrix[row * dimension..<(row + 1) * dimension]))
    }
}
