import StrataCore

/// A memory to store. Everything but `content` has a configured default.
public struct NewMemory: Sendable {
    /// The id the caller chose; nil lets the engine make one. An id that exists makes the store
    /// an upsert (`Engine.store(_:vectors:)`).
    public var id: String?
    public var content: String
    public var metadata: [String: JSONValue]
    public var scope: ScopePath
    public var visibility: Visibility?
    public var category: String?
    public var importance: Double?
    public var pinned: Bool
    public var tier: String?
    /// When the memory happened; default now. Lets old memories be imported with their real age.
    public var at: Timestamp?
    /// Seconds until the memory expires; nil: never.
    public var ttlSeconds: Double?

    public init(
        _ content: String, metadata: [String: JSONValue] = [:], scope: ScopePath = .root, visibility: Visibility? = nil,
        category: String? = nil, importance: Double? = nil, pinned: Bool = false, tier: String? = nil,
        at: Timestamp? = nil, ttlSeconds: Double? = nil
    ) {
        self.content = content
        self.metadata = metadata
        self.scope = scope
        self.visibility = visibility
        self.category = category
        self.importance = importance
        self.pinned = pinned
        self.tier = tier
        self.at = at
        self.ttlSeconds = ttlSeconds
    }
}

/// What storing one memory did.
public struct StoreOutcome: Sendable, Hashable {
    public var id: String
    /// True when a near-identical memory in the same scope was updated instead of adding a copy.
    public var deduplicated: Bool
}

/// A recall request.
public struct RecallQuery: Sendable {
    /// Query text: embedded for vector search and used for keyword search. Empty with no
    /// `vector`: every memory in view, ranked by recency, importance and access alone.
    public var text: String
    /// A query vector the caller computed; when set, the text is not embedded.
    public var vector: [Float]?
    public var k: Int?
    /// A filter over metadata keys (paths are relative to metadata).
    public var filter: Filter?
    /// Recall as this node of the agent tree; nil sees every memory.
    public var scope: ScopePath?
    /// Only these tiers; nil: all.
    public var tiers: [String]?
    public var category: String?
    /// Whether this recall counts as an access of its hits (their access count and time, which
    /// weigh in later scores); nil: the configuration's `recall.track_access`. False makes a
    /// read-only recall.
    public var trackAccess: Bool?

    public init(
        _ text: String = "", vector: [Float]? = nil, k: Int? = nil, filter: Filter? = nil, scope: ScopePath? = nil,
        tiers: [String]? = nil, category: String? = nil, trackAccess: Bool? = nil
    ) {
        self.trackAccess = trackAccess
        self.text = text
        self.vector = vector
        self.k = k
        self.filter = filter
        self.scope = scope
        self.tiers = tiers
        self.category = category
    }
}

/// A change to one memory; nil fields stay as they are.
public struct MemoryUpdate: Sendable {
    public var id: String
    public var content: String?
    /// Replaces the whole metadata object.
    public var metadata: [String: JSONValue]?
    public var category: String?
    public var importance: Double?
    public var pinned: Bool?
    public var visibility: Visibility?

    public init(
        id: String, content: String? = nil, metadata: [String: JSONValue]? = nil, category: String? = nil,
        importance: Double? = nil, pinned: Bool? = nil, visibility: Visibility? = nil
    ) {
        self.id = id
        self.content = content
        self.metadata = metadata
        self.category = category
        self.importance = importance
        self.pinned = pinned
        self.visibility = visibility
    }
}

/// Something that happened to the memories of an engine.
public struct MemoryEvent: Sendable {
    public enum Kind: String, Sendable {
        case stored = "memory.stored"
        case updated = "memory.updated"
        case deduplicated = "memory.deduplicated"
        case forgotten = "memory.forgotten"
        case recalled = "memory.recalled"
        /// `metabolize` moved the memory to another tier (the event carries it as it is now).
        case migrated = "memory.migrated"
        /// `metabolize` removed the memory: pruned, merged into a near-duplicate, consolidated
        /// into an episode or archived into a pattern (its history says which).
        case pruned = "memory.pruned"
        /// A `metabolize` cycle was committed; the memory id is the lifecycle ledger's
        /// (`strata:lifecycle`), whose history holds the totals.
        case metabolized = "lifecycle.metabolized"
        /// A rollback changed the memory: `memory` is what it is now, nil when the rollback removed it.
        case rolledBack = "memory.rolled_back"
        /// `Engine.anomalies` found the memory standing out; `score` says how much.
        case anomalyDetected = "anomaly.detected"
        /// A scheduled `metabolize` cycle failed (`Engine.metabolizeOnSchedule`); `message` says
        /// why, and the memory id is the lifecycle ledger's.
        case lifecycleFailed = "lifecycle.failed"
    }
    public var kind: Kind
    public var memoryID: String
    public var at: Timestamp
    public var memory: Memory?
    /// The anomaly score of an `anomaly.detected` event, in (0, 1]; nil for the other kinds.
    public var score: Double? = nil
    /// What went wrong, on a `lifecycle.failed` event; nil for the other kinds.
    public var message: String? = nil
}

/// Counts over the engine's memories.
public struct EngineStats: Sendable {
    /// Memories recall can still find (not expired).
    public var memories: Int
    /// Memories past their expiry time, still stored until forgotten (or pruned).
    public var expired: Int
    public var byTier: [String: Int]
    public var byCategory: [String: Int]
    public var byScope: [String: Int]
    public var dimension: Int
    public var store: String
    public var embedder: String
    public var summarizer: String
    public var operations: [String: Int]
    public var access = AccessStatistics()
    /// Memories in the patterns' category (`lifecycle.patterns.category`, else "patterns").
    public var patterns = 0
    /// Totals of every `metabolize` cycle the store has seen.
    public var lifecycle = LifecycleLedger()
    /// The embedding space the store holds (`Engine.space`): the one it records, else the
    /// configured embedder's, which it adopts on its first write (normalisation then unknown).
    public var space: EmbeddingSpace
    /// The store's vector index and the memory it holds (`VectorStore.indexReport`); nil when
    /// the store does not say (a plugin built for ABI 1.7 or older, one without a report).
    public var index: IndexReport? = nil
}

/// How the memories recall can find have been accessed (seed 004's access patterns).
public struct AccessStatistics: Sendable, Equatable {
    /// Never returned by a recall.
    public var never = 0
    /// Last accessed within the last day and the last week (a memory's creation counts as its
    /// first access time).
    public var lastDay = 0
    public var lastWeek = 0
    public var total = 0
    public var max = 0
    public var meanCount: Double { memories == 0 ? 0 : Double(total) / Double(memories) }
    var memories = 0

    public init() {}

    mutating func add(_ m: Memory, now: Timestamp) {
        memories += 1
        total += m.accessCount
        max = Swift.max(max, m.accessCount)
        if m.accessCount == 0 { never += 1 }
        let idle = now.seconds(since: m.accessedAt)
        if idle <= 86_400 { lastDay += 1 }
        if idle <= 7 * 86_400 { lastWeek += 1 }
    }
}
