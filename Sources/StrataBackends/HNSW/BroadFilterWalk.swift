import StrataCore

/// A filter that nearly every row passes (a recall's scope and expiry), checked on the walk's
/// ef nearest only instead of inside the walk.
///
/// Checked inside the walk, a filter reads the memory of every node that would enter the
/// results: a cache miss each in memory (a tenth of a recall), a read by id from the file for
/// a mapped store. Walked without it, the graph's ef nearest are found first and the filter
/// decides among them: when at least k of them and at least half pass, the k nearest that pass
/// are the answer; otherwise the caller runs its planned search.
///
/// The loaded store (`InMemoryVectorStore`) and the mapped one (`StoreImage`) both decide and
/// search through here, so that on the same graph they give the same answer.
enum BroadFilterWalk {
    /// Whether a search should try the unfiltered walk first: there is a filter, the store is
    /// big enough that its plan walks the graph even if every row passed (a small store is
    /// scanned exactly whatever the filter, and stays so), and the filter is not known to pass
    /// fewer than half the rows.
    /// - Parameter matchesAtMost: rows the filter may match (the metadata index's upper bound,
    ///   or a sample's estimate); nil when unknown.
    static func applies(rows: Int, k: Int, ef: Int, m: Int, filter: Filter?, matchesAtMost: Int?) -> Bool {
        guard let filter else { return false }
        if let matchesAtMost, matchesAtMost * 2 < rows { return false }
        return SearchPlan.choose(rows: rows, k: k, ef: ef, m: m, filter: filter,
                                 candidates: matchesAtMost ?? rows, sample: { _, _ in 1 }) == .graph
    }

    /// The k nearest nodes `accept` lets through among the ef nearest of an unfiltered walk,
    /// nearest first; nil when fewer than k of them pass, or fewer than half.
    static func search(_ graph: HNSWGraph, query: UnsafePointer<Float>, rows: GraphRows, k: Int, ef: Int,
                       accept: (UInt32) -> Bool) -> [(node: UInt32, distance: Float)]? {
        // Compressed copies: only the nearest 3k are read again as floats, as for an unfiltered
        // search of k; the rest follow in the walk's order.
        let found = graph.search(query, rows: rows, k: max(k, ef), ef: ef, rescored: max(3 * k, 16))
        var kept: [(node: UInt32, distance: Float)] = []
        kept.reserveCapacity(k)
        var passed = 0
        for hit in found where accept(hit.node) {
            passed += 1
            if kept.count < k { kept.append(hit) }
        }
        return kept.count == k && passed * 2 >= found.count ? kept : nil
    }
}
