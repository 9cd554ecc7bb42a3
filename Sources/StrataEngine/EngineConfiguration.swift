import StrataCore

/// The typed configuration of an engine, decoded from one JSON document.
///
///     {
///       "plugin_dirs": ["./plugins"],
///       "store":      {"backend": "memory", "options": {"metric": "cosine"}},
///       "tiers":      [{"name": "working", "store": {"backend": "memory"}}, {"name": "episodic"}],
///       "categories": [{"name": "preferences", "retention_days": null, "importance": 1.0}],
///       "embedder":   {"backend": "hashing", "options": {"dimension": 256}},
///       "summarizer": {"backend": "extractive", "options": {"max_chars": 400}},
///       "recall": {"k": 10, "candidates": 50, "rrf_k": 10, "recency_half_life_hours": 168,
///                  "track_access": true,
///                  "fusion": {"minilm": {"method": "scores", "keyword_weight": 0.2, "keyword_saturation": 8},
///                             "hashing": {"method": "rrf"}, "default": {"method": "rrf"}},
///                  "weights": {"relevance": 1.0, "recency": 0.05, "importance": 0.05, "access": 0.02}},
///       "dedupe": {"enabled": true, "threshold": 0.95, "min_word_overlap": 0.8},
///       "defaults": {"tier": "working", "category": "general", "importance": 0.5, "visibility": "local"},
///       "lifecycle": { see LifecycleSettings }
///       "anomalies": {"trees": 100, "sample_size": 256, "projection_dims": 16, "numeric_fields": [],
///                     "memory_fields": [], "threshold": 0.6, "seed": 42}
///     }
///
/// Every key is optional; an unknown key or a bad value is `.invalidConfig` naming the key path.
public struct EngineConfiguration: Sendable, Hashable {
    public var pluginDirectories: [String] = []
    public var store = BackendChoice(backend: "memory")
    /// Tiers, in order; a tier with a store of its own keeps its memories there.
    public var tiers: [TierSettings] = []
    /// Categories with their retention and starting importance.
    public var categories: [CategorySettings] = []
    public var embedder = BackendChoice(backend: "hashing")
    public var summarizer = BackendChoice(backend: "extractive")
    public var recall = RecallSettings()
    public var dedupe = DedupeSettings()
    public var defaults = MemoryDefaults()
    /// The rules `metabolize` applies beyond tiers and categories.
    public var lifecycle = LifecycleSettings()
    /// A memory kernel read at recall time; nil: none (the default).
    public var workingKernel: WorkingKernelSettings?
    /// How `Engine.anomalies` scores memories.
    public var anomalies = AnomalySettings()

    /// The embedded default: in-memory store, hashing embedder (256-d), extractive summarizer.
    public static let embeddedDefault = EngineConfiguration()

    public init() {}

    public struct RecallSettings: Sendable, Hashable {
        /// Hits returned when a request names no k.
        public var k = 10
        /// Candidates taken from each of the vector and keyword lists before fusion (at least k).
        public var candidates = 50
        /// The k of reciprocal-rank fusion, 1 / (rrf_k + rank). Smaller than the customary 60:
        /// with 60, first and second place differ by under 2%, so recency and importance would
        /// overturn clear relevance; with 10 they differ by 8% and the other parts break near-ties.
        public var rrfK = 10.0
        public var recencyHalfLifeHours = 168.0
        /// Whether recall bumps access count and last-access time of its hits.
        public var trackAccess = true
        public var weights = RankingWeights()
        /// How the vector and keyword lists are fused, per embedder backend (`embedder.backend`),
        /// with `"default"` for any other; entries a configuration names replace these. Chosen on
        /// the tuning part of bench/recall_set (bench/README.md, "Fusion"): for minilm, scores
        /// with a light keyword weight beat vector-only recall, where reciprocal rank lost to it
        /// by 0.13 to 0.14 MRR; for hashing, whose vectors are as weak as BM25, reciprocal rank stays.
        public var fusion: [String: FusionSetting] = [
            "minilm": .scores(keywordWeight: 0.2, keywordSaturation: 8),
            "hashing": .reciprocalRank,
            "default": .reciprocalRank,
        ]
        public init() {}

        /// The fusion recall uses with the embedder `backend`: its entry, else the `"default"` one.
        public func fusion(forEmbedder backend: String) -> Fusion {
            switch fusion[backend] ?? fusion["default"] ?? .reciprocalRank {
            case .reciprocalRank: .reciprocalRank(k: rrfK)
            case .scores(let w, let s): .scores(keywordWeight: w, keywordSaturation: s)
            }
        }
    }

    /// One entry of `recall.fusion`: `{"method": "rrf"}` (with `recall.rrf_k`), or
    /// `{"method": "scores", "keyword_weight": W, "keyword_saturation": S}` (see `Fusion.scores`).
    public enum FusionSetting: Sendable, Hashable {
        case reciprocalRank
        case scores(keywordWeight: Double, keywordSaturation: Double)

        init(json: JSONValue, path: String) throws(StrataError) {
            var r = try JSONObjectReader(json, path: path, code: .invalidConfig)
            guard let method = try r.optionalChoice("method", ["rrf", "scores"]) else {
                throw StrataError(.invalidConfig, "\(path).method is required (\"rrf\" or \"scores\")")
            }
            if method == "rrf" {
                self = .reciprocalRank
            } else {
                func required(_ key: String, _ range: ClosedRange<Double>) throws(StrataError) -> Double {
                    guard let v = try r.optionalDouble(key, in: range) else {
                        throw StrataError(.invalidConfig, "\(path).\(key) is required with method \"scores\"")
                    }
                    return v
                }
                let weight = try required("keyword_weight", 0...1)
                let saturation = try required("keyword_saturation", 1e-9...1e9)
                self = .scores(keywordWeight: weight, keywordSaturation: saturation)
            }
            try r.finish()
        }

        var json: JSONValue {
            switch self {
            case .reciprocalRank: .object(["method": .string("rrf")])
            case .scores(let w, let s):
                .object(["method": .string("scores"), "keyword_weight": .number(w), "keyword_saturation": .number(s)])
            }
        }
    }

    public struct DedupeSettings: Sendable, Hashable {
        public var enabled = true
        /// Cosine at or above which a new memory updates an existing one in the same scope.
        public var threshold = 0.95
        /// And the share of distinct words both texts have in common (Jaccard) at or above which
        /// they count as the same: lexical embedders put "invoice 13 paid" and "invoice 19 paid"
        /// close, but they are different facts. Texts without words (caller vectors) pass.
        public var minWordOverlap = 0.8
        public init() {}
    }

    public struct MemoryDefaults: Sendable, Hashable {
        public var tier = "working"
        public var category = "general"
        public var importance = 0.5
        public var visibility = Visibility.local
        public init() {}
    }

    /// Decodes a configuration document; `source` names it in errors (a file name, or "config").
    public init(json: JSONValue, source: String = "config") throws(StrataError) {
        var r = try JSONObjectReader(json, path: source, code: .invalidConfig)
        pluginDirectories = try r.optionalStrings("plugin_dirs") ?? []
        if let v = r.optionalValue("store") { store = try BackendChoice(json: v, path: r.keyPath("store")) }
        if let v = r.optionalValue("tiers") { tiers = try TierSettings.list(v, path: r.keyPath("tiers"), of: "tiers") }
        if let v = r.optionalValue("categories") { categories = try CategorySettings.list(v, path: r.keyPath("categories"), of: "categories") }
        if let v = r.optionalValue("embedder") { embedder = try BackendChoice(json: v, path: r.keyPath("embedder")) }
        if let v = r.optionalValue("summarizer") { summarizer = try BackendChoice(json: v, path: r.keyPath("summarizer")) }
        if var rr = try r.optionalReader("recall") {
            recall.k = try rr.optionalInt("k", in: 1...10_000) ?? recall.k
            recall.candidates = try rr.optionalInt("candidates", in: 1...100_000) ?? recall.candidates
            recall.rrfK = try rr.optionalDouble("rrf_k", in: 0...1_000_000) ?? recall.rrfK
            recall.recencyHalfLifeHours = try rr.optionalDouble("recency_half_life_hours", in: 0...1e9) ?? recall.recencyHalfLifeHours
            recall.trackAccess = try rr.optionalBool("track_access") ?? recall.trackAccess
            if var wr = try rr.optionalReader("weights") {
                let w = recall.weights
                recall.weights = RankingWeights(
                    relevance: try wr.optionalDouble("relevance", in: 0...1000) ?? w.relevance,
                    recency: try wr.optionalDouble("recency", in: 0...1000) ?? w.recency,
                    importance: try wr.optionalDouble("importance", in: 0...1000) ?? w.importance,
                    access: try wr.optionalDouble("access", in: 0...1000) ?? w.access)
                try wr.finish()
            }
            if let entries = try rr.optionalObject("fusion") {
                for (name, value) in entries {
                    recall.fusion[name] = try FusionSetting(json: value, path: rr.keyPath("fusion") + ".\(name)")
                }
            }
            try rr.finish()
        }
        if var dr = try r.optionalReader("dedupe") {
            dedupe.enabled = try dr.optionalBool("enabled") ?? dedupe.enabled
            dedupe.threshold = try dr.optionalDouble("threshold", in: 0...1) ?? dedupe.threshold
            dedupe.minWordOverlap = try dr.optionalDouble("min_word_overlap", in: 0...1) ?? dedupe.minWordOverlap
            try dr.finish()
        }
        if var dr = try r.optionalReader("defaults") {
            defaults.tier = try dr.optionalString("tier") ?? defaults.tier
            defaults.category = try dr.optionalString("category") ?? defaults.category
            defaults.importance = try dr.optionalDouble("importance", in: 0...1) ?? defaults.importance
            if let v = try dr.optionalChoice("visibility", Visibility.allCases.map(\.rawValue)) {
                defaults.visibility = Visibility(rawValue: v)!
            }
            try dr.finish()
        }
        if let v = r.optionalValue("lifecycle") { lifecycle = try LifecycleSettings(json: v, path: r.keyPath("lifecycle")) }
        if let v = r.optionalValue("working_kernel") { workingKernel = try WorkingKernelSettings(json: v, path: r.keyPath("working_kernel")) }
        if let v = r.optionalValue("anomalies") { anomalies = try AnomalySettings(json: v, path: r.keyPath("anomalies")) }
        try r.finish()
        try checkTierNames(source: source)
    }

    /// The lifecycle names tiers; each must be configured.
    private func checkTierNames(source: String) throws(StrataError) {
        let names = tiers.map(\.name)
        func check(_ name: String, _ key: String) throws(StrataError) {
            guard names.contains(name) else {
                let known = names.isEmpty ? "no tiers are configured" : "the tiers are " + names.joined(separator: ", ")
                throw StrataError(.invalidConfig, "\(source).lifecycle.\(key) names tier \"\(name)\" but \(known)")
            }
        }
        for t in lifecycle.relevance?.exemptTiers ?? [] { try check(t, "relevance.exempt_tiers") }
        if let c = lifecycle.consolidation {
            try check(c.fromTier, "consolidation.from_tier")
            guard c.fromTier != names.last else {
                throw StrataError(.invalidConfig, "\(source).lifecycle.consolidation.from_tier \"\(c.fromTier)\" is the last tier: episodes need a next tier")
            }
        }
        if let t = lifecycle.patterns?.tier { try check(t, "patterns.tier") }
    }

    /// The whole configuration written out, every default explicit.
    public var json: JSONValue {
        let w = recall.weights
        return .object([
            "plugin_dirs": .array(pluginDirectories.map { .string($0) }),
            "store": store.json, "tiers": .array(tiers.map(\.json)), "categories": .array(categories.map(\.json)), "embedder": embedder.json, "summarizer": summarizer.json,
            "recall": .object([
                "k": .number(Double(recall.k)), "candidates": .number(Double(recall.candidates)),
                "rrf_k": .number(recall.rrfK), "recency_half_life_hours": .number(recall.recencyHalfLifeHours),
                "track_access": .bool(recall.trackAccess),
                "fusion": .object(recall.fusion.mapValues(\.json)),
                "weights": .object([
                    "relevance": .number(w.relevance), "recency": .number(w.recency),
                    "importance": .number(w.importance), "access": .number(w.access),
                ]),
            ]),
            "dedupe": .object([
                "enabled": .bool(dedupe.enabled), "threshold": .number(dedupe.threshold),
                "min_word_overlap": .number(dedupe.minWordOverlap),
            ]),
            "defaults": .object([
                "tier": .string(defaults.tier), "category": .string(defaults.category),
                "importance": .number(defaults.importance), "visibility": .string(defaults.visibility.rawValue),
            ]),
            "lifecycle": lifecycle.json,
            "working_kernel": workingKernel?.json ?? .null,
            "anomalies": anomalies.json,
        ])
    }
}
