import StrataCore

/// One tier of memory as the configuration names it:
///
///     {"name": "working", "store": {...}?, "retention_hours": 1, "capacity": 10,
///      "compression": "none", "keep_fields": ["action"], "recall": "always",
///      "promote": {"min_importance": 0.7, "min_access_count": 2, "min_age_hours": 0}}
///
/// - A tier with its own `store` keeps its memories there (for example the working tier in
///   memory and the rest in SQLite); a tier without one uses the engine's main `store`. Memories
///   whose tier is not listed live in the main store too.
/// - `retention_hours` and `capacity` bound the tier (null or absent: no bound); `compression`
///   says what a memory keeps when it moves into the tier; `promote` says when a memory moves on
///   to the next tier before its retention runs out; `recall` says whether recall always includes
///   the tier (the working tier of the metabolic model) or only searches it.
///
/// These are the lifecycle's rules (issue 4): the configuration carries and checks them now; the
/// `metabolize` cycle that applies them is not built yet.
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
    }

    /// When a memory is promoted to the next tier before its retention ends; each bound that is
    /// set must hold.
    public struct Promotion: Sendable, Hashable {
        public var minImportance: Double?
        public var minAccessCount: Int?
        public var minAgeHours: Double?

        public init(minImportance: Double? = nil, minAccessCount: Int? = nil, minAgeHours: Double? = nil) {
            self.minImportance = minImportance
            self.minAccessCount = minAccessCount
            self.minAgeHours = minAgeHours
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
    /// The metadata keys `light` compression keeps.
    public var keepFields: [String] = []
    public var recall: RecallMode = .search
    public var promote: Promotion?

    public init(
        name: String, store: BackendChoice? = nil, retentionHours: Double? = nil, capacity: Int? = nil,
        compression: Compression = .none, keepFields: [String] = [], recall: RecallMode = .search, promote: Promotion? = nil
    ) {
        self.name = name
        self.store = store
        self.retentionHours = retentionHours
        self.capacity = capacity
        self.compression = compression
        self.keepFields = keepFields
        self.recall = recall
        self.promote = promote
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
        if var pr = try r.optionalReader("promote") {
            promote = Promotion(
                minImportance: try pr.optionalDouble("min_importance", in: 0...1),
                minAccessCount: try pr.optionalInt("min_access_count", in: 0...Int(Int32.max)),
                minAgeHours: try pr.optionalDouble("min_age_hours", in: 0...1e9))
            try pr.finish()
        }
        try r.finish()
        if !keepFields.isEmpty, compression != .light {
            throw StrataError(.invalidConfig, "\(path).keep_fields applies to \"light\" compression only, not \"\(compression.rawValue)\"")
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
        if let p = promote {
            var po: [String: JSONValue] = [:]
            if let v = p.minImportance { po["min_importance"] = .number(v) }
            if let v = p.minAccessCount { po["min_access_count"] = .number(Double(v)) }
            if let v = p.minAgeHours { po["min_age_hours"] = .number(v) }
            o["promote"] = .object(po)
        }
        return .object(o)
    }
}
