import StrataCore
import StrataEngine

/// The lifecycle cycles a store has seen, one entry per committed cycle, read from the lifecycle
/// ledger (`LifecycleLedger`): each ledger row holds the running totals after its cycle, so a
/// cycle's own counts are its row's totals minus the row before. The ledger is history rows in
/// the store, so this lists cycles run by any process on the store, before a restart too.
///
///     {"cycles": [{"at", "migrated": {"working->session": 3}, "migrated_total", "pruned":
///      {"age", "relevance", "redundancy", "capacity"}, "pruned_total", "consolidated",
///      "consolidated_sources", "patterns", "compressed", "errors"}], "total"}
struct CycleHistory: Sendable, Equatable {
    /// What one cycle did.
    struct Cycle: Sendable, Equatable {
        var at: Timestamp
        /// Moves per tier edge, "from->to".
        var migrated: [String: Int]
        /// Memories pruned, by rule: "age", "relevance", "redundancy", "capacity".
        var pruned: [String: Int]
        var consolidated: Int
        var consolidatedSources: Int
        /// Pattern memories written.
        var patterns: Int
        var compressed: Int
        var errors: Int

        var json: JSONValue {
            func n(_ x: Int) -> JSONValue { .number(Double(x)) }
            return .object([
                "at": .string(at.iso8601), "migrated": .object(migrated.mapValues(n)),
                "migrated_total": n(migrated.values.reduce(0, +)), "pruned": .object(pruned.mapValues(n)),
                "pruned_total": n(pruned.values.reduce(0, +)), "consolidated": n(consolidated),
                "consolidated_sources": n(consolidatedSources), "patterns": n(patterns), "compressed": n(compressed),
                "errors": n(errors),
            ])
        }
    }

    /// The cycles kept, oldest first: every one, or the newest `newest`.
    var cycles: [Cycle]
    /// Cycles in the ledger, kept or not.
    var total: Int

    /// The cycles of the ledger's history rows (oldest first, as `Engine.history` answers).
    /// - Parameters:
    ///   - rows: the ledger's rows, or only its newest ones (`Engine.historyTail`: the newest
    ///     `newest + 1`, so the first cycle kept has the row before it).
    ///   - total: the ledger's row count when `rows` are only its newest (default: rows.count).
    ///   - newest: keep only the newest this many; only their rows and the one before them
    ///     are decoded (a ledger grows by a row a cycle, forever).
    /// - Throws: `.corrupt` naming the row when a row's totals do not decode.
    init(ledgerRows rows: [HistoryEntry], total: Int? = nil, newest: Int? = nil) throws(StrataError) {
        self.total = total ?? rows.count
        let kept = min(rows.count, newest ?? rows.count)
        var previous = LifecycleLedger()
        if kept < rows.count {
            let before = rows[rows.count - kept - 1]
            previous = try LifecycleLedger(text: before.reason, what: "lifecycle ledger row of \(before.at.iso8601)")
        }
        cycles = []
        cycles.reserveCapacity(kept)
        for row in rows.suffix(kept) {
            let totals = try LifecycleLedger(text: row.reason, what: "lifecycle ledger row of \(row.at.iso8601)")
            cycles.append(Self.difference(totals, previous, at: row.at))
            previous = totals
        }
    }

    /// The counts of the cycle that took the totals from `before` to `after`. Totals only grow;
    /// a count that would be negative (rows removed by hand) is 0.
    static func difference(_ after: LifecycleLedger, _ before: LifecycleLedger, at: Timestamp) -> Cycle {
        func d(_ a: Int, _ b: Int) -> Int { max(0, a - b) }
        var migrated: [String: Int] = [:]
        for (edge, n) in after.migrated {
            let moved = d(n, before.migrated[edge] ?? 0)
            if moved > 0 { migrated[edge] = moved }
        }
        let p = after.pruned, q = before.pruned
        return Cycle(
            at: at, migrated: migrated,
            pruned: ["age": d(p.age, q.age), "relevance": d(p.relevance, q.relevance), "redundancy": d(p.redundancy, q.redundancy),
                     "capacity": d(p.capacity, q.capacity)],
            consolidated: d(after.consolidated, before.consolidated),
            consolidatedSources: d(after.consolidatedSources, before.consolidatedSources),
            patterns: d(after.patternsWritten, before.patternsWritten), compressed: d(after.compressed, before.compressed),
            errors: d(after.errors, before.errors))
    }

    /// `{"cycles": [...], "total"}`: the newest `limit` cycles, oldest first, and how many there are.
    func json(limit: Int) -> JSONValue {
        .object(["cycles": .array(cycles.suffix(limit).map(\.json)), "total": .number(Double(total))])
    }
}
