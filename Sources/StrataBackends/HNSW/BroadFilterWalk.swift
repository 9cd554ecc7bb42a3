import StrataCore

/// A filter that most rows pass (a recall's scope and expiry), checked on the nearest nodes of
/// an unfiltered walk instead of inside the walk.
///
/// Checked inside the walk, a filter reads the memory of every node that would enter the
/// results: a cache miss each in memory (a tenth of a recall), a read by id from the file for
/// a mapped store. Walked without it, the graph's nearest nodes are found first and the filter
/// decides among them. The walk keeps enough candidates that about ef of them pass, as many as
/// the filtered walk would keep, so the answer (the k nearest that pass) is as good as that
/// walk's: ef for a filter expected to pass at least 95% of the rows, 2 ef for one expected to
/// pass at least half. (Two steps, not ef / share: the loaded store knows a bound from its
/// metadata index, the mapped one a sample, and both must keep the same candidates for the
/// common case.) When fewer than k pass, or fewer than nine tenths of ef, the caller runs its
/// planned search instead.
///
/// Measured at 1M x 128 (ef 64, one restored graph): a 50% filter found recall@10 0.914 when the
/// walk kept ef candidates (about ef / 2 of them passing), 0.953 with 2 ef, at the same QPS.
///
/// The loaded store (`InMemoryVectorStore`) and the mapped one (`StoreImage`) both decide and
/// search through here, so that on the same graph they give the same answer.
enum BroadFilterWalk {
    /// The candidates an unfiltered walk should keep for this search, or nil when the search
    /// should not try one: there is no filter, the store is small enough that its plan scans it
    /// exactly whatever the filter (and stays so), or the filter is known to pass fewer than
    /// half the rows.
    /// - Parameter matchesAtMost: rows the filter may match (the metadata index's upper bound,
    ///   or a sample's estimate); nil when unknown, taken as every row.
    static func candidates(rows: Int, k: Int, ef: Int, m: Int, filter: Filter?, matchesAtMost: Int?) -> Int? {
        guard let filter, rows > 0 else { return nil }
        let matches = min(rows, matchesAtMost ?? rows)
        guard matches * 2 >= rows,
              SearchPlan.choose(rows: rows, k: k, ef: ef, m: m, filter: filter, candidates: matches, sample: { _, _ in 1 }) == .graph
        else { return nil }
        return max(ef, k) * (matches * 20 >= rows * 19 ? 1 : 2)
    }

    /// The k nearest nodes `accept` lets through among the `candidates` nearest of an unfiltered
    /// walk, nearest first; nil when fewer than k of them pass, or fewer than nine tenths of
    /// max(ef, k).
    static func search(_ graph: HNSWGraph, query: UnsafePointer<Float>, rows: GraphRows, k: Int, ef: Int, candidates: Int,
                       accept: (UInt32) -> Bool) -> [(node: UInt32, distance: Float)]? {
        // Compressed copies: only the nearest 3k are read again as floats, as for an unfiltered
        // search of k; the rest follow in the walk's order.
        let found = graph.search(query, rows: rows, k: candidates, ef: candidates, rescored: max(3 * k, 16))
        var kept: [(node: UInt32, distance: Float)] = []
        kept.reserveCapacity(k)
        var passed = 0
        for hit in found where accept(hit.node) {
            passed += 1
            if kept.count < k { kept.append(hit) }
        }
        return kept.count == k && passed * 10 >= max(ef, k) * 9 ? kept : nil
    }
}
