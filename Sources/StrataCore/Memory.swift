/// One memory: a piece of content with metadata, living at a node of the agent
/// tree and in one tier.
public struct Memory: Sendable, Hashable {
    public var id: String
    public var content: String
    /// Free-form metadata: always a JSON object.
    public var metadata: [String: JSONValue]
    public var scope: ScopePath
    public var visibility: Visibility
    /// The tier the memory lives in (e.g. "working"); tiers are configuration.
    public var tier: String
    public var category: String
    /// 0...1.
    public var importance: Double
    /// A pinned memory is never pruned.
    public var pinned: Bool
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    public var accessedAt: Timestamp
    /// Recalls that returned this memory, at most `maxAccessCount`.
    public var accessCount: Int
    /// The embedder's model id: vectors of different models are never compared.
    public var model: String
    public var expiresAt: Timestamp?

    public init(
        id: String, content: String, metadata: [String: JSONValue] = [:], scope: ScopePath = .root,
        visibility: Visibility = .local, tier: String = "working", category: String = "general",
        importance: Double = 0.5, pinned: Bool = false, createdAt: Timestamp, updatedAt: Timestamp? = nil,
        accessedAt: Timestamp? = nil, accessCount: Int = 0, model: String = "", expiresAt: Timestamp? = nil
    ) {
        self.id = id
        self.content = content
        self.metadata = metadata
        self.scope = scope
        self.visibility = visibility
        self.tier = tier
        self.category = category
        self.importance = importance
        self.pinned = pinned
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
        self.accessedAt = accessedAt ?? createdAt
        self.accessCount = accessCount
        self.model = model
        self.expiresAt = expiresAt
    }

    /// The largest access count: 2^53, the largest integer every JSON reader (a double) holds
    /// exactly. Counts stop there rather than come back from a store as a different number;
    /// a record that carries more is refused when read.
    public static let maxAccessCount = 1 << 53

    /// `accessCount` plus `more` accesses (which may be negative), kept in 0...maxAccessCount.
    public func accessCount(adding more: Int) -> Int {
        min(Self.maxAccessCount, max(0, accessCount + more))
    }

    /// The record JSON stores keep and filters see (include/strata/vector_store.h).
    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "id": .string(id), "content": .string(content), "metadata": .object(metadata),
            "scope": .string(scope.description), "visibility": .string(visibility.rawValue),
            "tier": .string(tier), "category": .string(category), "importance": .number(importance),
            "pinned": .bool(pinned), "created_at": .string(createdAt.iso8601),
            "updated_at": .string(updatedAt.iso8601), "accessed_at": .string(accessedAt.iso8601),
            "access_count": .number(Double(accessCount)), "model": .string(model),
            "expires_at": expiresAt.map { .string($0.iso8601) } ?? .null,
        ]
        // Stores push scope visibility down as a filter on the parent path.
        o["parent_scope"] = scope.parent.map { .string($0.description) } ?? .null
        return .object(o)
    }

    /// Decodes a record JSON; `what` names the source in errors.
    public init(json: JSONValue, what: String = "memory record") throws(StrataError) {
        var r = try JSONObjectReader(json, path: what)
        func time(_ key: String) throws(StrataError) -> Timestamp {
            let s = try r.string(key)
            guard let t = Timestamp(iso8601: s) else { throw StrataError(.invalidJSON, "\(what).\(key) is not an ISO-8601 time: \"\(s)\"") }
            return t
        }
        id = try r.string("id")
        content = try r.string("content")
        metadata = try r.optionalObject("metadata") ?? [:]
        scope = try ScopePath(try r.optionalString("scope") ?? "")
        _ = r.optionalValue("parent_scope")
        let vis = try r.optionalChoice("visibility", Visibility.allCases.map(\.rawValue)) ?? "local"
        visibility = Visibility(rawValue: vis)!
        tier = try r.optionalString("tier") ?? "working"
        category = try r.optionalString("category") ?? "general"
        importance = try r.optionalDouble("importance") ?? 0.5
        pinned = try r.optionalBool("pinned") ?? false
        createdAt = try time("created_at")
        updatedAt = try time("updated_at")
        accessedAt = try time("accessed_at")
        accessCount = try r.optionalInt("access_count", in: 0...Self.maxAccessCount) ?? 0
        model = try r.optionalString("model") ?? ""
        if let e = try r.optionalString("expires_at") {
            guard let t = Timestamp(iso8601: e) else { throw StrataError(.invalidJSON, "\(what).expires_at is not an ISO-8601 time") }
            expiresAt = t
        } else {
            expiresAt = nil
        }
        try r.finish()
    }
}

/// A memory together with its embedding, as a vector store keeps it.
public struct StoredRecord: Sendable {
    public var memory: Memory
    public var vector: [Float]

    public init(memory: Memory, vector: [Float]) {
        self.memory = memory
        self.vector = vector
    }
}
