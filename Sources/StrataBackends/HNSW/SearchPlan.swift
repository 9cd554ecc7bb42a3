import StrataCore

/// Which way a search over a store with a graph runs: an exact scan of the rows the filter may
/// match, or a walk of the graph with the filter applied inside the walk.
///
/// The choice compares rough costs in distance computations. A graph walk computes about
/// ef · m distances to fill ef results; with a filter that passes a fraction p of the rows, only
/// that fraction of what it reaches counts, so it needs about ef · m / p. An exact scan of the
/// candidate rows (the metadata bitmap, when the index can narrow the filter) computes one
/// distance per candidate, but reads rows in order, which the hardware prefetches: a quarter
/// the cost of a walk's scattered reads. A 1% filter on 100k rows scans its 1,000 rows; an
/// unfiltered or 50% search walks the graph.
enum SearchPlan: Equatable {
    case exact
    case graph

    /// - Parameters:
    ///   - rows: memories in the store.
    ///   - candidates: rows the metadata bitmap allows (a superset of the matches), or nil when
    ///     the index cannot narrow the filter.
    ///   - sample: estimates the fraction of rows a filter matches, for filters without a bitmap;
    ///     its second argument is the fraction above which the graph is chosen whatever the
    ///     estimate, so a sample may stop as soon as it knows the fraction is above it.
    static func choose(rows: Int, k: Int, ef: Int, m: Int, filter: Filter?, candidates: Int?,
                       sample: (Filter, Double) -> Double) -> SearchPlan {
        guard let filter else { return .graph }
        let matches: Double
        let scanned: Double
        if let candidates {
            matches = Double(candidates)
            scanned = Double(candidates)
        } else {
            matches = sample(filter, graphAbove(rows: rows, k: k, ef: ef, m: m)) * Double(rows)
            scanned = Double(rows)
        }
        let fraction = max(matches / Double(max(rows, 1)), 1e-6)
        let walk = Double(max(ef, k) * 2 * m) / fraction
        let scan = scanned / 4
        return scan <= walk ? .exact : .graph
    }

    /// The matched fraction above which a filter without a bitmap is walked on the graph: where
    /// a scan of every row (rows / 4) costs more than the walk (ef · 2m / fraction).
    static func graphAbove(rows: Int, k: Int, ef: Int, m: Int) -> Double {
        Double(max(ef, k) * 2 * m) * 4 / Double(max(rows, 1))
    }

    /// The fraction of up to 256 occupied slots, spread evenly over the store, that a filter
    /// matches (at least one match counted, so a rare filter is not taken for an empty one).
    ///
    /// Once the matches seen exceed `enough` of every slot the sample could visit, the true
    /// fraction is above `enough` whatever the rest hold: the sample stops there and returns that
    /// lower bound. A recall's usual filter (scope, expiry) matches nearly every row, so this
    /// reads a few dozen rows a query instead of 256.
    /// - Parameter matches: whether the filter matches the slot's memory, nil for a free slot.
    static func sampleSelectivity(slots: Int, enough: Double = 1, matches: (Int) -> Bool?) -> Double {
        guard slots > 0 else { return 1 }
        let step = max(1, slots / 256)
        let planned = Double((slots + step - 1) / step)
        var seen = 0
        var matched = 0
        var row = 0
        while row < slots {
            if let hit = matches(row) {
                seen += 1
                if hit {
                    matched += 1
                    if Double(matched) / planned > enough { return Double(matched) / planned }
                }
            }
            row += step
        }
        return Double(max(matched, 1)) / Double(max(seen, 1))
    }
}
