import StrataCore

/// The built-in vector store: exact search over a contiguous row-major matrix in memory.
///
/// - Search scores every row with SIMD dot products on every core and keeps the k best
///   in a heap (`ExactScan`): exact results, O(n·d) per query, at memory bandwidth. A filter
///   is evaluated only for rows that would enter the top k, which gives the same answer as
///   filtering first. `searchBatch` runs a block of queries as one OpenBLAS sgemm.
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

    private struct State {
        var matrix: [Float] = []        // rows * dimension
        var norms: [Float] = []         // squared norms, for l2
        var memories: [Memory] = []
        var rowOf: [String: Int] = [:]
        var keywords = KeywordIndex()
        var metadata = MetadataIndex()
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
    public init(dimension: Int, metric: Metric = .cosine, name: String = "memory", keywordSearch: Bool = true) throws(StrataError) {
        guard dimension >= 1, dimension <= 1 << 16 else {
            throw StrataError(.invalidConfig, "\(name): dimension must be in 1...65536, got \(dimension)")
        }
        self.dimension = dimension
        self.metric = metric
        self.name = name
        providesKeywordSearch = keywordSearch
    }

    /// Creates the store from its JSON options: {"dimension": N, "metric": "cosine"|"dot"|"l2"}.
    public convenience init(options: JSONValue, path: String) throws(StrataError) {
        var r = try JSONObjectReader(options, path: path, code: .invalidConfig)
        guard let dim = try r.optionalInt("dimension", in: 1...65536) else {
            throw StrataError(.invalidConfig, "\(path).dimension is required")
        }
        let metric = try r.optionalChoice("metric", Metric.allCases.map(\.rawValue)).flatMap(Metric.init) ?? .cosine
        try r.finish()
        try self.init(dimension: dim, metric: metric)
    }

    private func prepared(_ v: [Float]) -> [Float] { metric == .cosine ? Vectors.normalized(v) : v }

    public func upsert(_ records: [StoredRecord]) throws(StrataError) {
        try commit(StoreChange(upserts: records))
    }

    public func remove(ids: [String]) throws(StrataError) -> Int {
        state.write { s in ids.reduce(0) { $0 + (remove(id: $1, from: &s) ? 1 : 0) } }
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
        let rows = vectorsAsKept ? change.upserts.map(\.vector) : change.upserts.map { prepared($0.vector) }
        state.write { s in
            // Grow geometrically: reserving the exact size on every batch would copy the whole
            // matrix per batch (quadratic in the number of batches).
            let needed = s.matrix.count + change.upserts.count * dimension
            if needed > s.matrix.capacity { s.matrix.reserveCapacity(max(needed, s.matrix.capacity * 2)) }
            for (record, row) in zip(change.upserts, rows) {
                let norm = Vectors.dot(row, row)
                if let at = s.rowOf[record.memory.id] {
                    // The same text indexes the same way: every recall's access bump is an
                    // upsert, and need not tokenise the content again.
                    if providesKeywordSearch, s.memories[at].content != record.memory.content {
                        s.keywords.add(id: record.memory.id, text: record.memory.content)
                    }
                    s.matrix.replaceSubrange(at * dimension..<(at + 1) * dimension, with: row)
                    s.norms[at] = norm
                    s.metadata.remove(s.memories[at], row: at)
                    s.memories[at] = record.memory
                    s.metadata.add(record.memory, row: at)
                } else {
                    s.rowOf[record.memory.id] = s.memories.count
                    s.metadata.add(record.memory, row: s.memories.count)
                    s.matrix.append(contentsOf: row)
                    s.norms.append(norm)
                    s.memories.append(record.memory)
                    if providesKeywordSearch { s.keywords.add(id: record.memory.id, text: record.memory.content) }
                }
            }
            for id in change.removals { _ = remove(id: id, from: &s) }
        }
    }

    private func remove(id: String, from s: inout State) -> Bool {
        guard let at = s.rowOf.removeValue(forKey: id) else { return false }
        // Swap the last row into the hole: O(d) per removal, rows stay contiguous.
        let last = s.memories.count - 1
        s.metadata.remove(s.memories[at], row: at)
        if at != last {
            for j in 0..<dimension { s.matrix[at * dimension + j] = s.matrix[last * dimension + j] }
            s.norms[at] = s.norms[last]
            s.metadata.remove(s.memories[last], row: last)
            s.memories[at] = s.memories[last]
            s.metadata.add(s.memories[at], row: at)
            s.rowOf[s.memories[at].id] = at
        }
        s.matrix.removeLast(dimension)
        s.norms.removeLast()
        s.memories.removeLast()
        s.keywords.remove(id: id)
        return true
    }

    public func get(id: String) throws(StrataError) -> StoredRecord? {
        state.read { s in
            guard let at = s.rowOf[id] else { return nil }
            return StoredRecord(memory: s.memories[at], vector: Array(s.matrix[at * dimension..<(at + 1) * dimension]))
        }
    }

    public func count() throws(StrataError) -> Int { state.read { $0.memories.count } }

    public func scan(filter: Filter?, _ body: (StoredRecord) throws(StrataError) -> Bool) throws(StrataError) {
        // Copy out under the lock, call back outside it, so a callback may use the store.
        let records: [StoredRecord] = state.read { s in
            var out: [StoredRecord] = []
            for (at, m) in s.memories.enumerated() where filter?.matches(m) ?? true {
                out.append(StoredRecord(memory: m, vector: Array(s.matrix[at * dimension..<(at + 1) * dimension])))
            }
            return out
        }
        for r in records where try !body(r) { return }
    }

    public func search(_ query: [Float], k: Int, filter: Filter?) throws(StrataError) -> [ScoredRecord] {
        try Vectors.validate(query, dimension: dimension, what: "query vector")
        guard k > 0 else { return [] }
        let q = prepared(query)
        let qNorm = Vectors.dot(q, q)
        return state.read { s in
            let n = s.memories.count
            guard n > 0 else { return [] }
            let filter = filter.flatMap { $0.isAlways ? nil : $0 }
            // Rows the metadata index rules out are skipped without reading their vectors.
            let allowed = filter.flatMap { s.metadata.candidates(for: $0, rows: n) }
            let hits = s.matrix.withUnsafeBufferPointer { m in
                s.norms.withUnsafeBufferPointer { norms in
                    q.withUnsafeBufferPointer { qp in
                        s.memories.withUnsafeBufferPointer { memories in
                            (allowed?.words ?? []).withUnsafeBufferPointer { bits in
                                ExactScan.topK(
                                    matrix: m.baseAddress!, norms: norms.baseAddress!, rows: n, dimension: dimension,
                                    query: qp.baseAddress!, queryNorm: qNorm, l2: metric == .l2, k: k,
                                    allowed: allowed == nil ? nil : bits.baseAddress,
                                    accept: filter.map { f in { row in f.matches(stored: memories.baseAddress! + row) } })
                            }
                        }
                    }
                }
            }
            return hits.map { ScoredRecord(record: record(s, $0.item), score: Float($0.score)) }
        }
    }

    /// Rows per sgemm block in `searchBatch`: the block of scores (queries x rows floats) stays
    /// near 8 MB, inside the last-level cache, so selection reads it back from cache. Measured on
    /// the 2-core EPYC: 8 MB and 16 MB blocks were equal within noise, 4 MB lost ~10%.
    public static func batchBlockRows(rows: Int, queries: Int) -> Int {
        max(256, min(rows, (1 << 21) / max(queries, 1)))
    }

    /// Searches many queries at once as blocked sgemm: the fast path for batches.
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
            let n = s.memories.count
            var tops = (0..<count).map { _ in TopK<Int>(k: k) }
            guard n > 0, k > 0 else { return tops.map { _ in [] } }
            let block = Self.batchBlockRows(rows: n, queries: count)
            var scores = [Float](repeating: 0, count: count * block)
            var product = PackedProduct()
            defer { product.release() }
            s.matrix.withUnsafeBufferPointer { m in
                s.norms.withUnsafeBufferPointer { norms in
                    qs.withUnsafeBufferPointer { qp in
                        qNorms.withUnsafeBufferPointer { qn in
                            scores.withUnsafeMutableBufferPointer { sp in
                                tops.withUnsafeMutableBufferPointer { tp in
                                    var start = 0
                                    while start < n {
                                        let rows = min(block, n - start)
                                        product.multiply(x: qp.baseAddress!, m: count, w: m.baseAddress! + start * dimension,
                                                         n: rows, k: dimension, into: sp.baseAddress!)
                                        ExactScan.selectBlock(
                                            scores: sp.baseAddress!, queries: count, rows: rows, firstRow: start,
                                            norms: norms.baseAddress!, queryNorms: qn.baseAddress!, l2: metric == .l2, tops: tp)
                                        start += rows
                                    }
                                }
                            }
                        }
                    }
                }
            }
            return tops.map { $0.sortedDescending().map { (id: s.memories[$0.item].id, score: Float($0.score)) } }
        }
    }

    public func keywordSearch(_ query: String, k: Int, filter: Filter?) throws(StrataError) -> [ScoredRecord] {
        guard providesKeywordSearch else { throw StrataError(.unsupported, "\(name) keeps no keyword index") }
        return state.read { s in
            let filter = filter.flatMap { $0.isAlways ? nil : $0 }
            // The metadata index rules most refused rows out with one bit, before the exact test.
            let allowed = filter.flatMap { s.metadata.candidates(for: $0, rows: s.memories.count) }
            let hits = s.keywords.search(query, k: k) { id in
                guard let filter else { return true }
                let row = s.rowOf[id]!
                if let allowed, !allowed.contains(row) { return false }
                return filter.matches(s.memories[row])
            }
            return hits.map { ScoredRecord(record: record(s, s.rowOf[$0.id]!), score: Float($0.score)) }
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
            let copy = state.read { $0 }
            let info = SnapshotInfo(name: snapshotName, createdAt: at, memories: copy.memories.count)
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
                if !rows.isEmpty { s = target.state }
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

    /// Every record of `s`, vectors as kept (normalised for cosine).
    private func records(_ s: State) -> [StoredRecord] {
        (0..<s.memories.count).map { record(s, $0) }
    }

    @inline(__always)
    private func score(dot: Float, rowNorm: Float, queryNorm: Float) -> Float {
        metric == .l2 ? -(rowNorm - 2 * dot + queryNorm) : dot
    }

    private func record(_ s: State, _ row: Int) -> StoredRecord {
        StoredRecord(memory: s.memories[row], vector: Array(s.matrix[row * dimension..<(row + 1) * dimension]))
    }
}
