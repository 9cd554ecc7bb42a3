import MCP
import StrataCore
import StrataWire

/// The memory tools an MCP client sees: each with its input and output JSON Schema and its
/// annotations. The output schemas describe StrataWire's answers (`Answer`), the JSON the REST
/// routes send, which each tool returns as its structured content.
///
/// Annotations say what a call does to the store, honestly:
/// - `recall`, `get`, `history`, `stats` read only (`recall` here never counts an access, so a
///   recall leaves the next one's scores as they were);
/// - `remember` adds (a near-identical memory in the same scope is merged into, with a history
///   row, never dropped), so it is neither destructive nor idempotent;
/// - `update` replaces fields (destructive; the same change twice leaves the same memory, with
///   one more history row, so a retry is harmless);
/// - `forget` removes (destructive; forgetting again removes nothing more);
/// - `metabolize` moves, compresses and prunes memories unless it is a dry run (the default).
/// Every tool's world is the one store: `openWorldHint` is false.
public enum MemoryToolCatalog {
    /// The tool names, in the order they are listed.
    public static let names = ["remember", "recall", "get", "update", "forget", "history", "stats", "metabolize"]

    /// The role a tool needs (the REST route's: reads need `read`, changes `write`, a lifecycle
    /// cycle `admin`).
    public static func role(_ name: String) -> TokenRole? {
        switch name {
        case "recall", "get", "history", "stats": .read
        case "remember", "update", "forget": .write
        case "metabolize": .admin
        default: nil
        }
    }

    /// Whether a tool spans every scope, so needs the root scope (as `GET /v1/stats` and
    /// `POST /v1/metabolize` do).
    public static func spansEveryScope(_ name: String) -> Bool { name == "stats" || name == "metabolize" }

    /// The tools `access` may call: those its role reaches, without the ones spanning every
    /// scope unless its scope is the root. A tool left out still answers a call, with the
    /// refusal the REST route gives.
    public static func tools(for access: Access) -> [Tool] {
        names.filter { name in
            guard let role = role(name), access.role >= role else { return false }
            return access.seesEverything || !spansEveryScope(name)
        }.compactMap(tool)
    }

    /// The definition of one tool, or nil for a name that is not one.
    public static func tool(_ name: String) -> Tool? {
        switch name {
        case "remember":
            return Tool(
                name: name, title: "Remember",
                description: "Store a memory: a fact, preference, event or note worth recalling later. It is embedded and indexed; "
                    + "a near-identical memory already in the same scope is updated instead of duplicated (its id is then listed "
                    + "in `deduplicated`). The scope defaults to the one this server is bounded to.",
                inputSchema: schema(
                    properties: [
                        "content": ["type": "string", "minLength": 1, "description": "The text to remember."],
                        "metadata": ["type": "object", "description": "JSON fields to keep with it and filter on later."],
                        "scope": scopeProperty,
                        "importance": ["type": "number", "minimum": 0, "maximum": 1, "description": "0 to 1; weighs in recall and retention."],
                        "category": ["type": "string", "description": "A category name, e.g. fact, preference, event."],
                    ],
                    required: ["content"]),
                annotations: .init(title: "Remember", readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false),
                outputSchema: schema(
                    properties: ["id": ["type": "string"], "deduplicated": stringArray],
                    required: ["id", "deduplicated"], closed: false))
        case "recall":
            return Tool(
                name: name, title: "Recall",
                description: "Find the memories most relevant to a query (meaning and keywords, weighted by recency and importance), "
                    + "best first, each with its score parts. With no query: what is in view by recency and importance. "
                    + "Reading does not count as an access.",
                inputSchema: schema(properties: [
                    "query": ["type": "string", "description": "What to look for, in plain words."],
                    "k": ["type": "integer", "minimum": 1, "maximum": 10_000, "description": "How many memories at most (default 10)."],
                    "filter": filterProperty,
                    "scope": scopeProperty,
                    "category": ["type": "string", "description": "Only memories of this category."],
                    "tiers": ["type": "array", "items": ["type": "string"], "description": "Only memories in these tiers."],
                ]),
                annotations: readOnly("Recall"),
                outputSchema: schema(
                    properties: ["hits": ["type": "array", "items": hitSchema]], required: ["hits"], closed: false))
        case "get":
            return Tool(
                name: name, title: "Get a memory",
                description: "One memory by id, every field.",
                inputSchema: schema(properties: ["id": idProperty], required: ["id"]),
                annotations: readOnly("Get a memory"),
                outputSchema: memorySchema)
        case "update":
            return Tool(
                name: name, title: "Update a memory",
                description: "Change a memory's content (re-embedded), metadata (replaced whole), importance, category or pinning. "
                    + "The old value stays in its history.",
                inputSchema: schema(
                    properties: [
                        "id": idProperty,
                        "content": ["type": "string", "minLength": 1],
                        "metadata": ["type": "object", "description": "Replaces the memory's metadata."],
                        "importance": ["type": "number", "minimum": 0, "maximum": 1],
                        "category": ["type": "string"],
                        "pinned": ["type": "boolean", "description": "A pinned memory is never moved, compressed or pruned."],
                    ],
                    required: ["id"]),
                annotations: .init(title: "Update a memory", readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false),
                outputSchema: memorySchema)
        case "forget":
            return Tool(
                name: name, title: "Forget",
                description: "Delete one memory by id, or every memory a scope owns that matches a metadata filter "
                    + "(a filter with no condition needs \"all\": true). Give exactly one of id or filter.",
                inputSchema: schema(properties: [
                    "id": idProperty,
                    "filter": filterProperty,
                    "scope": ["type": "string", "description": "With a filter: the scope whose memories are forgotten (default: this server's)."],
                    "all": ["type": "boolean", "description": "With an empty filter: forget everything the scope owns."],
                ]),
                annotations: .init(title: "Forget", readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false),
                outputSchema: schema(properties: ["forgotten": stringArray], required: ["forgotten"], closed: false))
        case "history":
            return Tool(
                name: name, title: "History of a memory",
                description: "Every change to one memory (ADD, UPDATE, DELETE), oldest first, with the old and new values and the reason.",
                inputSchema: schema(properties: ["id": idProperty], required: ["id"]),
                annotations: readOnly("History of a memory"),
                outputSchema: schema(
                    properties: [
                        "history": [
                            "type": "array",
                            "items": schemaJSON(
                                properties: [
                                    "event": ["type": "string", "enum": ["ADD", "UPDATE", "DELETE"]],
                                    "memory_id": ["type": "string"], "at": ["type": "string"], "reason": ["type": "string"],
                                    "old": ["anyOf": [memoryJSONSchema, ["type": "null"]]],
                                    "new": ["anyOf": [memoryJSONSchema, ["type": "null"]]],
                                ],
                                required: ["event", "memory_id", "at", "reason", "old", "new"], closed: false),
                        ],
                    ],
                    required: ["history"], closed: false))
        case "stats":
            return Tool(
                name: name, title: "Store statistics",
                description: "How many memories, per tier, category and scope; the store, embedder and summarizer; operation counts, "
                    + "access patterns and lifecycle totals. Spans every scope.",
                inputSchema: schema(properties: [:]),
                annotations: readOnly("Store statistics"),
                outputSchema: schema(
                    properties: [
                        "memories": ["type": "integer"], "expired": ["type": "integer"],
                        "by_tier": countsSchema, "by_category": countsSchema, "by_scope": countsSchema,
                        "dimension": ["type": "integer"], "store": ["type": "string"], "embedder": ["type": "string"],
                        "summarizer": ["type": "string"],
                    ],
                    required: ["memories", "by_tier", "by_category", "by_scope"], closed: false))
        case "metabolize":
            return Tool(
                name: name, title: "Lifecycle cycle",
                description: "Run one lifecycle cycle: move memories between tiers by age, access and capacity, compress, prune by age, "
                    + "relevance and redundancy, consolidate sessions and extract patterns. A dry run (the default) reports what "
                    + "would move and changes nothing; pass dry_run false to apply it. Spans every scope.",
                inputSchema: schema(properties: [
                    "dry_run": ["type": "boolean", "default": true, "description": "Report only (default true)."],
                    "now": ["type": "string", "description": "Run as of this ISO-8601 time with a zone (default: now)."],
                ]),
                annotations: .init(title: "Lifecycle cycle", readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false),
                outputSchema: schema(
                    properties: [
                        "at": ["type": "string"], "dry_run": ["type": "boolean"], "before": ["type": "integer"], "after": ["type": "integer"],
                        "migrated": countsSchema, "pruned": ["type": "object"], "errors": stringArray,
                        "moves": ["type": "array", "items": ["type": "object"]],
                    ],
                    required: ["at", "dry_run", "before", "after", "migrated", "pruned", "errors"], closed: false))
        default:
            return nil
        }
    }

    // MARK: - Schema parts

    /// An object schema. Inputs are closed (`additionalProperties: false`: the decoders refuse
    /// an unknown key too); outputs are open, so a field added to an answer later does not
    /// break a client that checks them.
    static func schema(properties: [String: JSONValue], required: [String] = [], closed: Bool = true) -> Value {
        Value(schemaJSON(properties: properties, required: required, closed: closed))
    }

    static func schemaJSON(properties: [String: JSONValue], required: [String] = [], closed: Bool = true) -> JSONValue {
        var o: [String: JSONValue] = ["type": "object", "properties": .object(properties)]
        if !required.isEmpty { o["required"] = .array(required.map { .string($0) }) }
        if closed { o["additionalProperties"] = false }
        return .object(o)
    }

    private static func readOnly(_ title: String) -> Tool.Annotations {
        .init(title: title, readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false)
    }

    private static let idProperty: JSONValue = ["type": "string", "minLength": 1, "description": "The memory's id."]
    private static let stringArray: JSONValue = ["type": "array", "items": ["type": "string"]]
    private static let countsSchema: JSONValue = ["type": "object", "additionalProperties": ["type": "number"]]
    private static let scopeProperty: JSONValue = [
        "type": "string",
        "description": "A scope path such as org/team/agent, inside the scope this server is bounded to (default: that scope).",
    ]
    private static let filterProperty: JSONValue = [
        "type": "object",
        "description": .string("A metadata filter: {\"field\": value} or operators $eq $ne $gt $gte $lt $lte $in $nin $exists $contains, "
            + "combined with $and $or $not; dotted paths reach nested fields."),
    ]

    /// A memory record as `Answer.memory` writes it.
    private static let memoryJSONSchema: JSONValue = schemaJSON(
        properties: [
            "id": ["type": "string"], "content": ["type": "string"], "metadata": ["type": "object"], "scope": ["type": "string"],
            "visibility": ["type": "string"], "tier": ["type": "string"], "category": ["type": "string"],
            "importance": ["type": "number"], "pinned": ["type": "boolean"], "created_at": ["type": "string"],
            "updated_at": ["type": "string"], "accessed_at": ["type": "string"], "access_count": ["type": "integer"],
            "model": ["type": "string"], "expires_at": ["type": ["string", "null"]],
        ],
        required: ["id", "content", "metadata", "scope", "tier", "category", "importance", "created_at", "updated_at"], closed: false)
    private static let memorySchema = Value(memoryJSONSchema)

    /// One recall hit as `Answer.hit` writes it.
    private static let hitSchema: JSONValue = schemaJSON(
        properties: [
            "id": ["type": "string"], "content": ["type": "string"], "metadata": ["type": "object"], "scope": ["type": "string"],
            "tier": ["type": "string"], "category": ["type": "string"], "score": ["type": "number"],
            "scores": schemaJSON(
                properties: [
                    "vector": ["type": ["number", "null"]], "keyword": ["type": ["number", "null"]], "fused": ["type": "number"],
                    "recency": ["type": "number"], "importance": ["type": "number"], "access": ["type": "number"],
                ],
                required: ["fused", "recency", "importance", "access"], closed: false),
        ],
        required: ["id", "content", "metadata", "scope", "tier", "category", "score", "scores"], closed: false)
}
