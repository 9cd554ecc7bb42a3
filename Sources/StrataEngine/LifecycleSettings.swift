import StrataCore

/// The rules of `metabolize` beyond the tiers and categories: which metadata fields hold a
/// memory's outcome, relevance pruning, redundancy pruning, consolidation, pattern extraction
/// and the background schedule. The `lifecycle` key of the configuration:
///
///     "lifecycle": {
///       "schedule_minutes": null,
///       "outcome": {"success_field": "success", "numeric_field": "profit"},
///       "relevance": {"min_score": 0.3, "base": 0.5, "success_boost": 1.2, "numeric_scale": 100,
///                     "numeric_max_boost": 0.5, "access_scale": 10, "access_max_boost": 0.3,
///                     "recency_days": 30, "recency_floor": 0.5, "max_access_count": 2,
///                     "idle_days": 7, "exempt_tiers": ["hot", "archive"]},
///       "redundancy": {"threshold": 0.85, "min_word_overlap": 0.5},
///       "consolidation": {"from_tier": "session", "group_by": "scope", "window_hours": 24,
///                         "min_memories": 2, "category": "episodes", "max_characters": 600},
///       "patterns": {"keys": ["type", "action"], "categories": [], "min_occurrences": 3,
///                    "min_confidence": 0.7, "category": "patterns", "tier": "archive"}
///     }
///
/// Every part is optional and off unless configured (the embedded default only expires TTLs and
/// applies category retention); the `metabolic` and `tiered` presets switch on what their seeds
/// describe, with the seeds' numbers.
public struct LifecycleSettings: Sendable, Hashable {
    /// Minutes between background cycles; nil: only when asked.
    public var scheduleMinutes: Double?
    public var outcome = Outcome()
    /// nil: no relevance pruning.
    public var relevance: Relevance?
    /// nil: no redundancy pruning.
    public var redundancy: Redundancy?
    /// nil: no consolidation.
    public var consolidation: Consolidation?
    /// nil: no pattern extraction.
    public var patterns: Patterns?

    public init() {}

    /// The metadata fields that say how a memory turned out. Seed 004 calls them `success` and
    /// `profit`; nothing here assumes a domain.
    public struct Outcome: Sendable, Hashable {
        /// A field whose `true` (or non-zero number) means the memory's action succeeded.
        public var successField: String?
        /// A numeric field (profit, reward, latency) whose mean and spread patterns report.
        public var numericField: String?
        public init(successField: String? = nil, numericField: String? = nil) {
            self.successField = successField
            self.numericField = numericField
        }
    }

    /// Seed 004's relevance score and pruning rule, every weight a setting:
    /// `base * importance * (success ? success_boost : 1)
    ///  * (1 + min(max(numeric, 0) / numeric_scale, numeric_max_boost))
    ///  * (1 + min(access_count / access_scale, access_max_boost))
    ///  * max(recency_floor, 1 - age_days / recency_days)`, capped at 1. A memory scoring below
    /// `min_score`, accessed fewer than `max_access_count` times and not in the last `idle_days`
    /// (or never), is pruned.
    public struct Relevance: Sendable, Hashable {
        public var minScore = 0.3
        public var base = 0.5
        public var successBoost = 1.2
        public var numericScale = 100.0
        public var numericMaxBoost = 0.5
        public var accessScale = 10.0
        public var accessMaxBoost = 0.3
        public var recencyDays = 30.0
        public var recencyFloor = 0.5
        public var maxAccessCount = 2
        public var idleDays = 7.0
        /// Tiers never pruned by relevance (seed 004 spares hot and archive).
        public var exemptTiers: [String] = []
        public init() {}
    }

    /// Near-duplicate clusters (cosine at or above `threshold`: seed 004's DBSCAN with eps 0.15
    /// and min_samples 2) keep their most valuable member; the rest are merged into it.
    public struct Redundancy: Sendable, Hashable {
        public var threshold = 0.85
        /// And the share of distinct words both texts have in common (texts without words pass):
        /// a lexical embedder puts "Alice likes tea" and "Alice likes coffee" close.
        public var minWordOverlap = 0.5
        public init() {}
    }

    /// Seed 001's L2 to L3 step: a session, the memories of one `group_by` value ("scope" or a
    /// metadata key) that happened in one `window_hours` window, leaves `from_tier` as one
    /// episode memory written by the summarizer, as soon as any of its memories is due to leave.
    public struct Consolidation: Sendable, Hashable {
        public var fromTier: String
        public var groupBy = "scope"
        /// The length of a session, in hours (windows start at midnight UTC for 24).
        public var windowHours = 24.0
        public var minMemories = 2
        public var category = "episodes"
        public var maxCharacters = 600
        public init(fromTier: String) { self.fromTier = fromTier }
    }

    /// Seed 004's pattern extraction: memories grouped by the values of `keys`; a group of at
    /// least `min_occurrences` whose confidence reaches `min_confidence` becomes (or updates) a
    /// pattern memory in `category`.
    public struct Patterns: Sendable, Hashable {
        public var keys: [String]
        /// Only memories of these categories count; empty: all but the patterns' own.
        public var categories: [String] = []
        public var minOccurrences = 3
        public var minConfidence = 0.7
        public var category = "patterns"
        /// The tier patterns live in; nil: the last tier (or the default tier without tiers).
        public var tier: String?
        public init(keys: [String]) { self.keys = keys }
    }

    /// Decodes the `lifecycle` object; `path` names it in errors.
    public init(json: JSONValue, path: String) throws(StrataError) {
        var r = try JSONObjectReader(json, path: path, code: .invalidConfig)
        scheduleMinutes = try r.optionalDouble("schedule_minutes", in: 0.001...1e7)
        if var o = try r.optionalReader("outcome") {
            outcome.successField = try o.optionalString("success_field")
            outcome.numericField = try o.optionalString("numeric_field")
            try o.finish()
        }
        if var o = try r.optionalReader("relevance") {
            var s = Relevance()
            s.minScore = try o.optionalDouble("min_score", in: 0...1) ?? s.minScore
            s.base = try o.optionalDouble("base", in: 0...1000) ?? s.base
            s.successBoost = try o.optionalDouble("success_boost", in: 0...1000) ?? s.successBoost
            s.numericScale = try o.optionalDouble("numeric_scale", in: 1e-9...1e12) ?? s.numericScale
            s.numericMaxBoost = try o.optionalDouble("numeric_max_boost", in: 0...1000) ?? s.numericMaxBoost
            s.accessScale = try o.optionalDouble("access_scale", in: 1e-9...1e12) ?? s.accessScale
            s.accessMaxBoost = try o.optionalDouble("access_max_boost", in: 0...1000) ?? s.accessMaxBoost
            s.recencyDays = try o.optionalDouble("recency_days", in: 1e-9...1e7) ?? s.recencyDays
            s.recencyFloor = try o.optionalDouble("recency_floor", in: 0...1) ?? s.recencyFloor
            s.maxAccessCount = try o.optionalInt("max_access_count") ?? s.maxAccessCount
            s.idleDays = try o.optionalDouble("idle_days", in: 0...1e7) ?? s.idleDays
            s.exemptTiers = try o.optionalStrings("exempt_tiers") ?? s.exemptTiers
            try o.finish()
            relevance = s
        }
        if var o = try r.optionalReader("redundancy") {
            var s = Redundancy()
            s.threshold = try o.optionalDouble("threshold", in: 0...1) ?? s.threshold
            s.minWordOverlap = try o.optionalDouble("min_word_overlap", in: 0...1) ?? s.minWordOverlap
            try o.finish()
            redundancy = s
        }
        if var o = try r.optionalReader("consolidation") {
            var s = Consolidation(fromTier: try o.string("from_tier"))
            s.groupBy = try o.optionalString("group_by") ?? s.groupBy
            s.windowHours = try o.optionalDouble("window_hours", in: 0.001...1e6) ?? s.windowHours
            s.minMemories = try o.optionalInt("min_memories", in: 1...1_000_000) ?? s.minMemories
            s.category = try o.optionalString("category") ?? s.category
            s.maxCharacters = try o.optionalInt("max_characters", in: 0...10_000_000) ?? s.maxCharacters
            try o.finish()
            consolidation = s
        }
        if var o = try r.optionalReader("patterns") {
            let keys = try o.optionalStrings("keys") ?? []
            guard !keys.isEmpty else { throw StrataError(.invalidConfig, "\(o.keyPath("keys")) must list at least one metadata key") }
            var s = Patterns(keys: keys)
            s.categories = try o.optionalStrings("categories") ?? []
            s.minOccurrences = try o.optionalInt("min_occurrences", in: 1...1_000_000_000) ?? s.minOccurrences
            s.minConfidence = try o.optionalDouble("min_confidence", in: 0...1) ?? s.minConfidence
            s.category = try o.optionalString("category") ?? s.category
            s.tier = try o.optionalString("tier")
            try o.finish()
            patterns = s
        }
        try r.finish()
    }

    public var json: JSONValue {
        func text(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
        var o: [String: JSONValue] = [
            "schedule_minutes": scheduleMinutes.map { .number($0) } ?? .null,
            "outcome": .object(["success_field": text(outcome.successField), "numeric_field": text(outcome.numericField)]),
            "relevance": .null, "redundancy": .null, "consolidation": .null, "patterns": .null,
        ]
        if let s = relevance {
            o["relevance"] = .object([
                "min_score": .number(s.minScore), "base": .number(s.base), "success_boost": .number(s.successBoost),
                "numeric_scale": .number(s.numericScale), "numeric_max_boost": .number(s.numericMaxBoost),
                "access_scale": .number(s.accessScale), "access_max_boost": .number(s.accessMaxBoost),
                "recency_days": .number(s.recencyDays), "recency_floor": .number(s.recencyFloor),
                "max_access_count": .number(Double(s.maxAccessCount)), "idle_days": .number(s.idleDays),
                "exempt_tiers": .array(s.exemptTiers.map { .string($0) }),
            ])
        }
        if let s = redundancy {
            o["redundancy"] = .object(["threshold": .number(s.threshold), "min_word_overlap": .number(s.minWordOverlap)])
        }
        if let s = consolidation {
            o["consolidation"] = .object([
                "from_tier": .string(s.fromTier), "group_by": .string(s.groupBy), "window_hours": .number(s.windowHours), "min_memories": .number(Double(s.minMemories)),
                "category": .string(s.category), "max_characters": .number(Double(s.maxCharacters)),
            ])
        }
        if let s = patterns {
            o["patterns"] = .object([
                "keys": .array(s.keys.map { .string($0) }), "categories": .array(s.categories.map { .string($0) }),
                "min_occurrences": .number(Double(s.minOccurrences)), "min_confidence": .number(s.minConfidence),
                "category": .string(s.category), "tier": text(s.tier),
            ])
        }
        return .object(o)
    }
}
