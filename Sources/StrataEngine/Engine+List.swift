import StrataCore

/// A listing request: which memories, and which page of them.
public struct MemoryListQuery: Sendable {
    /// A filter over metadata keys (paths are relative to metadata).
    public var filter: Filter?
    /// List as this node of the agent tree sees (as `RecallQuery.scope`); nil: every memory.
    public var scope: ScopePath?
    /// Only these tiers; nil: every tier recall searches without naming one.
    public var tiers: [String]?
    public var category: String?
    /// Only the memories with these ids (ids that are not there are left out).
    public var ids: [String]?
    /// At most this many memories in the answer; 0 answers none (only the total).
    public var limit: Int?
    /// Memories to skip before the first one answered.
    public var offset: Int

    public init(
        filter: Filter? = nil, scope: ScopePath? = nil, tiers: [String]? = nil, category: String? = nil, ids: [String]? = nil,
        limit: Int? = nil, offset: Int = 0
    ) {
        self.filter = filter
        self.scope = scope
        self.tiers = tiers
        self.category = category
        self.ids = ids
        self.limit = limit
        self.offset = offset
    }
}

/// One page of a listing: the memories and how many match in all.
public struct MemoryList: Sendable {
    /// Oldest first (creation time, then id).
    public var memories: [Memory]
    /// Every memory matching the query, whatever the page.
    public var total: Int
}

extension Engine {
    /// The unexpired memories a query can see, oldest first, a page at a time; nothing is
    /// counted as an access. What is in view is what a recall with the same filter, scope,
    /// tiers and category could find.
    ///
    ///     let page = try engine.list(MemoryListQuery(filter: try Filter.parse(["user": "alice"], prefix: ["metadata"]), limit: 20))
    ///
    /// - Throws: `.invalidArgument` for a negative limit or offset, or an unknown tier.
    /// - Complexity: one scan of the store with the filter pushed down, and a sort of the matches.
    public func list(_ q: MemoryListQuery) throws(StrataError) -> MemoryList {
        if let limit = q.limit, limit < 0 { throw StrataError(.invalidArgument, "limit must be 0 or more, got \(limit)") }
        guard q.offset >= 0 else { throw StrataError(.invalidArgument, "offset must be 0 or more, got \(q.offset)") }
        if let tiers = q.tiers { try requireConfiguredTiers(tiers, what: "list tiers:") }
        var filter = visibilityFilter(RecallQuery(filter: q.filter, scope: q.scope, tiers: q.tiers, category: q.category), now: clock.now())
        if let ids = q.ids { filter = .and([filter, .condition(path: ["id"], .in(ids.map { .string($0) }))]) }
        var memories = try inView(filter).values.map(\.memory)
        memories.sort { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
        let total = memories.count
        let start = min(q.offset, total)
        let end = q.limit.map { min(total, start + $0) } ?? total
        return MemoryList(memories: Array(memories[start..<end]), total: total)
    }

    /// Every record matching `filter`, by id.
    /// - Complexity: one scan of the store with the filter pushed down.
    func inView(_ filter: Filter) throws(StrataError) -> [String: StoredRecord] {
        var found: [String: StoredRecord] = [:]
        try store.scan(filter: filter) { (r: StoredRecord) throws(StrataError) -> Bool in
            found[r.memory.id] = r
            return true
        }
        return found
    }
}
