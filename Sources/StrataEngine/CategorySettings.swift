import StrataCore

/// One category of memory: `{"name": "trades", "retention_days": 30, "importance": 0.9}`.
///
/// A memory stored in a listed category without an importance of its own gets the category's;
/// `retention_days` (null: kept for ever) is the age past which the lifecycle prunes it (issue
/// 4's `metabolize`, which reads it; pinned memories are never pruned).
public struct CategorySettings: Sendable, Hashable {
    public var name: String
    /// Days a memory of this category is kept; nil: for ever.
    public var retentionDays: Double?
    /// The importance a memory of this category starts with.
    public var importance: Double

    public init(name: String, retentionDays: Double? = nil, importance: Double = 0.5) {
        self.name = name
        self.retentionDays = retentionDays
        self.importance = importance
    }

    /// Decodes one entry of `categories`; `path` names it in errors ("config.categories[0]").
    public init(json: JSONValue, path: String) throws(StrataError) {
        var r = try JSONObjectReader(json, path: path, code: .invalidConfig)
        name = try r.string("name")
        guard !name.isEmpty else { throw StrataError(.invalidConfig, "\(path).name must not be empty") }
        retentionDays = try r.optionalDouble("retention_days", in: 0...1e7)  // null: for ever
        importance = try r.optionalDouble("importance", in: 0...1) ?? 0.5
        try r.finish()
    }

    public var json: JSONValue {
        .object(["name": .string(name), "retention_days": retentionDays.map { .number($0) } ?? .null,
                 "importance": .number(importance)])
    }
}
