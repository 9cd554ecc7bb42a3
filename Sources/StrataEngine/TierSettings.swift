import StrataCore

/// One tier of memory as the configuration names it:
///
///     {"name": "working", "store": {...}?, "retention_hours": 1, "capacity": 10,
///      "compression": "none", "keep_fields": ["action"], "recall": "always",
///      "promote": {"min_access_count": 2}, "keep": {"min_importance": 0.5}}
///
/// - A tier with its own `store` keeps its memories there (for example the working tier in
///   memory and the rest in SQLite); a tier without one uses the engine's main `store`. Memories
///   whose tier is not listed cannot be stored once tiers are configured: a store, recall or
///   anomaly scan naming one is `.invalidArgument` (the lifecycle's rules would never see it).
/// - `retention_hours` bounds a memory's age (from when it happened) in the tier, `capacity` the
///   number of memories (null or absent: no bound); `compression` says what a memory keeps when
///   it moves into the tier; `promote` says when a memory moves on to the next tier before its
///   retention runs out; `keep` says which memories past retention move on (the rest are pruned
///   by age; absent: all move on); `recall` says whether recall always includes the tier (the
///   working tier of the metabolic model), searches it, or searches it only when asked by name.
///
/// `Engine.metabolize` applies these rules (see `Metabolism`).
public struct TierSettings: Sendable, Hashable {
    /// What a memory keeps when it moves into a tier.
    public enum Compression: String, Sendable, CaseIterable {
        /// Everything.
        case none
        /// Content and the metadata keys listed in `keep_fields`.
        case light
        /// The summarizer's output in place of the content.
        case summary
        /// Only its contribution to the extracted patterns.
        case patternOnly = "pattern-only"
    }

    /// How recall treats a tier.
    public enum RecallMode: String, Sendable, CaseIterable {
        /// Always included in recall (the working tier).
        case always
        /// Searched like any memory.
        case search
        /// Searched only when a recall names the tier.
        case named
    }

    /// A condition on a memory (`promote`: when it moves on early; `keep`: whether it moves on
    /// rather than being pruned when its retention ends); each bound that is set must hold.
    public struct Rule: Sendable, Hashable {
        public var minImportance: Double?
        public var minAccessCount: Int?
        public var minAgeHours: Double?

        public init(minImportance: Double? = nil, minAccessCount: Int? = nil, minAgeHours: Double? = nil) {
            self.minImportance = minImportance
            self.minAccessCount = minAccessCount
            self.minAgeHours = minAgeHours
        }

        /// Whether `memory` meets every bound at `now`.
        public func holds(for memory: Memory, now: Timestamp) -> Bool {
            if let v = minImportance, memory.importance < v { return false }
            if let v = minAccessCount, memory.accessCount < v { return false }
            if let v = minAgeHours, now.seconds(since: memory.createdAt) < v * 3600 { return false }
            return true
        }

        /// The bounds as people read them: "importance >= 0.5, access count >= 2".
        public var summary: String {
            var parts: [String] = []
            if let v = minImportance { parts.append("importance >= \(Metabolism.number(v))") }
            if let v = minAccessCount { parts.append("access count >= \(v)") }
            if let v = minAgeHours { parts.append("age >= \(Metabolism.number(v)) h") }
            return parts.isEmpty ? "always" : parts.joined(separator: ", ")
        }

        init(json: JSONValue, path: String) throws(StrataError) {
            var r = try JSONObjectReader(json, path: path, code: .invalidConfig)
            minImportance = try r.optionalDouble("min_importance", in: 0...1)
            minAccessCount = try r.optionalInt("min_access_count", in: 0...Int(Int32.max))
            minAgeHours = try r.optionalDouble("min_age_hours", in: 0...1e9)
            try r.finish()
        }

        var json: JSONValue {
            var o: [String: JSONValue] = [:]
            if let v = minImportance { o["min_importance"] = .number(v) }
            if let v = minAccessCount { o["min_access_count"] = .number(Double(v)) }
            if let v = minAgeHours { o["min_age_hours"] = .number(v) }
            return .object(o)
        }
    }

    public var name: String
    /// The tier's own store, or nil for the main store.
    public var store: BackendChoice?
    /// How long a memory stays in the tier; nil: permanent.
    public var retentionHours: Double?
    /// How many memories the tier holds; nil: unbounded.
    public var capacity: Int?
    public var compression: Compression = .none
    /// The metadata keys `light` and `summary` compression keep.
    public var keepFields: [String] = []
    public var recall: RecallMode = .search
    public var promote: Rule?
    public var keep: Rule?

    public init(
        name: String, store: BackendChoice? = nil, retentionHours: Double? = nil, capacity: Int? = nil,
        compression: Compression = .none, keepFields: [String] = [], recall: RecallMode = .search, promote: Rule? = nil,
        keep: Rule? = nil
    ) {
        self.name = name
        self.store = store
        self.retentionHours = retentionHours
        self.capacity = capacity
        self.compression = compression
        self.keepFields = keepFields
        self.recall = recall
        self.promote = promote
        self.keep = keep
    }

    /// Decodes one entry of `tiers`; `path` names it in errors ("config.tiers[0]").
    public init(json: JSONValue, path: String) throws(StrataError) {
        var r = try JSONObjectReader(json, path: path, code: .invalidConfig)
        name = try r.string("name")
        guard !name.isEmpty else { throw StrataError(.invalidConfig, "\(path).name must not be empty") }
        store = try r.optionalValue("store").map { (v) throws(StrataError) in try BackendChoice(json: v, path: r.keyPath("store")) }
        // null reads as absent: no bound.
        retentionHours = try r.optionalDouble("retention_hours", in: 0...1e9)
        capacity = try r.optionalInt("capacity", in: 0...1_000_000_000)
        if let c = try r.optionalChoice("compression", Compression.allCases.map(\.rawValue)) { compression = Compression(rawValue: c)! }
        keepFields = try r.optionalStrings("keep_fields") ?? []
        if let m = try r.optionalChoice("recall", RecallMode.allCases.map(\.rawValue)) { recall = RecallMode(rawValue: m)! }
        promote = try r.optionalValue("promote").map { (v) throws(StrataError) in try Rule(json: v, path: r.keyPath("promote")) }
        keep = try r.optionalValue("keep").map { (v) throws(StrataError) in try Rule(json: v, path: r.keyPath("keep")) }
        try r.finish()
        if !keepFields.isEmpty, compression != .light, compression != .summary {
            throw StrataError(.invalidConfig, "\(path).keep_fields applies to \"light\" and \"summary\" compression only, not \"\(compression.rawValue)\"")
        }
    }

    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "name": .string(name), "compression": .string(compression.rawValue), "recall": .string(recall.rawValue),
            "retention_hours": retentionHours.map { .number($0) } ?? .null,
            "capacity": capacity.map { .number(Double($0)) } ?? .null,
        ]
        if let store { o["store"] = store.json }
        if !keepFields.isEmpty { o["keep_fields"] = .array(keepFields.map { .string($0) }) }
        if let promote { o["promote"] = promote.json }
        if let keep { o["keep"] = keep.json }
        return .object(o)
    }
}
