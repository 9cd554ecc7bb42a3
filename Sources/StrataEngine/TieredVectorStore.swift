import StrataCore

/// Several vector stores behind one: each memory lives in the store of its tier (the main store
/// for tiers without one), and reads span them all.
///
/// - Writes go to the store of each record's tier. A record stored under a new tier is written
///   to its new store first and removed from the others after, so a crash in between leaves a
///   copy in two stores (found by `get` in the tier's store first), never a loss.
/// - Each store's part of a change is atomic in that store; a change spanning stores is not
///   atomic across them. History rows go with the main store's part (when it keeps history).
/// - Search asks every store for its k best and merges by score (one metric for all); keyword
///   search merges BM25 scores, which come from separate indexes and so are comparable only
///   roughly (ranks are what fusion uses).
///
/// - Snapshots go to every store under one name (a snapshot that fails in one store is taken
///   back from the others), and a name is listed when every store has it. A rollback rolls
///   back each store in turn (atomic per store, like a change), and history rows of the other
///   stores' rollbacks are written to the main store, which keeps the history. A memory whose
///   tier moved it to another store since the snapshot gets two rows (DELETE where it is now,
///   ADD where the snapshot had it).
///
/// Thread-safe as far as its stores are (each is, by the protocol).
public final class TieredVectorStore: VectorStore {
    public let dimension: Int
    public let metric: Metric
    public let name: String
    public let providesKeywordSearch: Bool
    public var keepsHistory: Bool { main.keepsHistory }

    /// The store of tiers without one of their own.
    public let main: any VectorStore
    /// Tier name -> the tier's own store.
    public let tierStores: [String: any VectorStore]
    /// Every distinct store: main first, then the tiers' stores in name order.
    private let all: [any VectorStore]

    /// - Throws: `.invalidConfig` naming the tier when a store's dimension or metric differs from main's.
    public init(main: any VectorStore, tiers: [String: any VectorStore]) throws(StrataError) {
        for (tier, s) in tiers {
            guard s.dimension == main.dimension else {
                throw StrataError(.invalidConfig, "tier \"\(tier)\": store \(s.name) has dimension \(s.dimension), the main store \(main.dimension)")
            }
            guard s.metric == main.metric else {
                throw StrataError(.invalidConfig, "tier \"\(tier)\": store \(s.name) uses \(s.metric.rawValue), the main store \(main.metric.rawValue)")
            }
        }
        self.main = main
        tierStores = tiers
        all = [main] + tiers.keys.sorted().map { tiers[$0]! }
        dimension = main.dimension
        metric = main.metric
        providesKeywordSearch = all.allSatisfy(\.providesKeywordSearch)
        name = "tiered(" + (["main: \(main.name)"] + tiers.keys.sorted().map { "\($0): \(tiers[$0]!.name)" }).joined(separator: ", ") + ")"
    }

    /// Index into `all` of the store that keeps memories of `tier`.
    private func slot(_ tier: String) -> Int {
        guard tierStores[tier] != nil else { return 0 }
        return 1 + tierStores.keys.sorted().firstIndex(of: tier)!
    }

    public func upsert(_ records: [StoredRecord]) throws(StrataError) {
        try commit(StoreChange(upserts: records))
    }

    public func remove(ids: [String]) throws(StrataError) -> Int {
        var removed = 0
        for s in all { removed += try s.remove(ids: ids) }
        return removed
    }

    public func commit(_ change: StoreChange) throws(StrataError) {
        for (i, r) in change.upserts.enumerated() {
            try Vectors.validate(r.vector, dimension: dimension, what: "record \(i) (\(r.memory.id))")
        }
        var parts = Array(repeating: StoreChange(), count: all.count)
        for r in change.upserts { parts[slot(r.memory.tier)].upserts.append(r) }
        parts[0].history = change.history
        // New homes first, then removals everywhere else: a crash between leaves a copy, not a loss.
        for (i, part) in parts.enumerated() where !part.upserts.isEmpty || !part.history.isEmpty {
            try all[i].commit(StoreChange(upserts: part.upserts, history: part.history))
        }
        for (i, s) in all.enumerated() {
            let movedAway = all.count > 1 ? change.upserts.filter { slot($0.memory.tier) != i }.map(\.memory.id) : []
            let removals = change.removals + movedAway
            if !removals.isEmpty { _ = try s.remove(ids: removals) }
        }
    }

    public func get(id: String) throws(StrataError) -> StoredRecord? {
        // A copy left by an interrupted move: the one in its tier's store is current.
        var first: StoredRecord?
        for (i, s) in all.enumerated() {
            guard let r = try s.get(id: id) else { continue }
            if slot(r.memory.tier) == i { return r }
            if first == nil { first = r }
        }
        return first
    }

    public func search(_ query: [Float], k: Int, filter: Filter?) throws(StrataError) -> [ScoredRecord] {
        var hits: [ScoredRecord] = []
        for s in all { hits += try s.search(query, k: k, filter: filter) }
        return Array(hits.sorted { $0.score > $1.score }.prefix(k))
    }

    public func keywordSearch(_ query: String, k: Int, filter: Filter?) throws(StrataError) -> [ScoredRecord] {
        guard providesKeywordSearch else { throw StrataError(.unsupported, "\(name): not every tier's store has keyword search") }
        var hits: [ScoredRecord] = []
        for s in all { hits += try s.keywordSearch(query, k: k, filter: filter) }
        return Array(hits.sorted { $0.score > $1.score }.prefix(k))
    }

    public func scan(filter: Filter?, _ body: (StoredRecord) throws(StrataError) -> Bool) throws(StrataError) {
        var going = true
        for s in all where going {
            try s.scan(filter: filter) { (r) throws(StrataError) -> Bool in
                going = try body(r)
                return going
            }
        }
    }

    public func count() throws(StrataError) -> Int {
        var n = 0
        for s in all { n += try s.count() }
        return n
    }

    /// Every store's index added up (`IndexReport.combined`): the memory the tiers take
    /// together. Nil when no store reports.
    public func indexReport() throws(StrataError) -> IndexReport? {
        var reports: [IndexReport] = []
        for s in all { if let r = try s.indexReport() { reports.append(r) } }
        return IndexReport.combined(reports)
    }

    public func history(id: String) throws(StrataError) -> [HistoryEntry] { try main.history(id: id) }

    public func historyTail(id: String, limit: Int) throws(StrataError) -> (rows: [HistoryEntry], total: Int) {
        try main.historyTail(id: id, limit: limit)
    }

    // MARK: - Snapshots

    public var providesSnapshots: Bool { all.allSatisfy(\.providesSnapshots) }

    private func requireSnapshots() throws(StrataError) {
        let without = all.filter { !$0.providesSnapshots }.map(\.name)
        guard without.isEmpty else { throw StrataError(.unsupported, "\(name): \(without.joined(separator: ", ")) keeps no snapshots") }
    }

    public func snapshot(name snapshotName: String, at: Timestamp) throws(StrataError) -> SnapshotInfo {
        try SnapshotName.validate(snapshotName)
        try requireSnapshots()
        for s in all where try s.snapshots().contains(where: { $0.name == snapshotName }) {
            throw StrataError(.conflict, "\(name): store \(s.name) has a snapshot \"\(snapshotName)\" already")
        }
        var parts: [SnapshotInfo] = []
        for (i, s) in all.enumerated() {
            do {
                parts.append(try s.snapshot(name: snapshotName, at: at))
            } catch {
                // No store keeps a part of a snapshot that failed in another.
                var message = "\(s.name): \(error.message)"
                for made in all[..<i] {
                    do { try made.deleteSnapshot(name: snapshotName) } catch let undo {
                        message += "; taking it back from \(made.name) failed too: \(undo.message)"
                    }
                }
                throw StrataError(error.code, message)
            }
        }
        return combined(parts)
    }

    /// The snapshots every store has, each counted over all stores.
    public func snapshots() throws(StrataError) -> [SnapshotInfo] {
        try requireSnapshots()
        var lists: [[SnapshotInfo]] = []
        for s in all { lists.append(try s.snapshots()) }
        return lists[0].compactMap { first in
            let parts = lists.compactMap { list in list.first { $0.name == first.name } }
            return parts.count == lists.count ? combined(parts) : nil
        }
    }

    public func rollback(name snapshotName: String, at: Timestamp) throws(StrataError) -> RollbackReport {
        try SnapshotName.validate(snapshotName)
        try requireSnapshots()
        // Every store must have it before any rolls back.
        for s in all where try !s.snapshots().contains(where: { $0.name == snapshotName }) {
            throw StrataError(.notFound, "\(name): store \(s.name) has no snapshot \"\(snapshotName)\"")
        }
        var rows: [HistoryEntry] = []
        for (i, s) in all.enumerated() {
            let part = try s.rollback(name: snapshotName, at: at).history
            if i > 0, main.keepsHistory, !part.isEmpty { try main.commit(StoreChange(history: part)) }
            rows += part
        }
        return RollbackReport(snapshot: snapshotName, history: rows.enumerated().sorted {
            ($0.element.memoryID, $0.offset) < ($1.element.memoryID, $1.offset)
        }.map(\.element))
    }

    public func deleteSnapshot(name snapshotName: String) throws(StrataError) {
        try SnapshotName.validate(snapshotName)
        try requireSnapshots()
        var deleted = 0
        for s in all where try s.snapshots().contains(where: { $0.name == snapshotName }) {
            try s.deleteSnapshot(name: snapshotName)
            deleted += 1
        }
        guard deleted > 0 else { throw StrataError(.notFound, "\(name): no store has a snapshot \"\(snapshotName)\"") }
    }

    /// One description for the parts of a snapshot in each store.
    private func combined(_ parts: [SnapshotInfo]) -> SnapshotInfo {
        let sizes = parts.compactMap(\.bytes)
        return SnapshotInfo(name: parts[0].name, createdAt: parts[0].createdAt, memories: parts.reduce(0) { $0 + $1.memories },
                            bytes: sizes.isEmpty ? nil : sizes.reduce(0, +))
    }
}
