import StrataCore

/// An anomaly request. Nil fields mean the configured default (`threshold`) or no restriction.
public struct AnomalyQuery: Sendable {
    /// Score at or above which a memory is reported, in 0...1 (default: `anomalies.threshold`).
    public var threshold: Double?
    /// At most this many, highest scores first (default: all at or above the threshold).
    public var limit: Int?
    /// A filter over metadata keys (paths are relative to metadata).
    public var filter: Filter?
    /// Score as this node of the agent tree, among the memories it may see; nil: every memory.
    public var scope: ScopePath?
    /// Only these tiers (exactly these: a tier recall always includes is not added); nil: all.
    public var tiers: [String]?
    public var category: String?

    public init(
        threshold: Double? = nil, limit: Int? = nil, filter: Filter? = nil, scope: ScopePath? = nil, tiers: [String]? = nil,
        category: String? = nil
    ) {
        self.threshold = threshold
        self.limit = limit
        self.filter = filter
        self.scope = scope
        self.tiers = tiers
        self.category = category
    }
}

/// A memory that stands out from the others, with its isolation-forest score in (0, 1].
public struct Anomaly: Sendable {
    public var memory: Memory
    public var score: Double
}

/// What `Engine.anomalies` found.
public struct AnomalyReport: Sendable {
    /// The memories at or above the threshold, highest score first (ties by id).
    public var anomalies: [Anomaly]
    /// How many memories were scored: every unexpired one the request could see.
    public var scored: Int
    /// The threshold applied.
    public var threshold: Double
}

extension Engine {
    /// Scores every unexpired memory the query can see with an isolation forest and returns those
    /// at or above the threshold, highest first; publishes one `anomaly.detected` event for each.
    ///
    /// Features and forest follow the configuration's `anomalies` section (`AnomalySettings`).
    /// The forest is grown afresh on each call over the memories in scope, in id order, so the
    /// same memories and seed always give the same scores. Fewer than 2 memories: an empty report.
    ///
    ///     let outliers = try engine.anomalies(AnomalyQuery(limit: 10)).anomalies
    ///
    /// - Throws: `.invalidArgument` for a threshold outside 0...1, a limit below 1 or a tier that
    ///   is not configured; what the
    ///   store's `scan` throws.
    /// - Complexity: one scan; O(n * d * k) to project n vectors of d floats to k values, and
    ///   O(n * trees * log sampleSize) to score, spread over the cores.
    public func anomalies(_ q: AnomalyQuery = AnomalyQuery()) throws(StrataError) -> AnomalyReport {
        let settings = configuration.anomalies
        let threshold = q.threshold ?? settings.threshold
        guard (0...1).contains(threshold) else { throw StrataError(.invalidArgument, "threshold must be in 0...1, got \(threshold)") }
        if let limit = q.limit, limit < 1 { throw StrataError(.invalidArgument, "limit must be at least 1, got \(limit)") }
        if let tiers = q.tiers { try requireConfiguredTiers(tiers, what: "anomalies tiers:") }
        let now = clock.now()
        var parts = [visibilityFilter(RecallQuery(filter: q.filter, scope: q.scope, category: q.category), now: now)]
        if let tiers = q.tiers { parts.append(.condition(path: ["tier"], .in(tiers.map { .string($0) }))) }
        var memories: [Memory] = []
        var vectors: [[Float]] = []
        let withVectors = settings.projectionDims > 0
        try store.scan(filter: Filter.and(parts)) { (r: StoredRecord) throws(StrataError) -> Bool in
            memories.append(r.memory)
            if withVectors { vectors.append(r.vector) }
            return true
        }
        guard memories.count >= 2 else { return AnomalyReport(anomalies: [], scored: memories.count, threshold: threshold) }
        // Id order, not the store's scan order: the subsamples, hence the scores, then depend only
        // on which memories there are, whichever store (or tiers) holds them.
        let order = memories.indices.sorted { memories[$0].id < memories[$1].id }
        memories = order.map { memories[$0] }
        if withVectors { vectors = order.map { vectors[$0] } }

        let features = AnomalyFeatures(settings: settings, dimension: dimension, now: now)
        let points = features.points(memories, vectors: vectors)
        let forest = IsolationForest(
            points: points, features: features.count,
            parameters: .init(trees: settings.trees, sampleSize: settings.sampleSize, seed: settings.seed))
        let scores = forest.scores(points)
        var found: [Anomaly] = []
        for (i, s) in scores.enumerated() where s >= threshold { found.append(Anomaly(memory: memories[i], score: s)) }
        found.sort { $0.score > $1.score || ($0.score == $1.score && $0.memory.id < $1.memory.id) }
        if let limit = q.limit, found.count > limit { found.removeLast(found.count - limit) }
        hub.publish(found.map { MemoryEvent(kind: .anomalyDetected, memoryID: $0.memory.id, at: now, memory: $0.memory, score: $0.score) })
        return AnomalyReport(anomalies: found, scored: memories.count, threshold: threshold)
    }
}

/// Turns memories into the points an isolation forest scores, as `AnomalySettings` describes.
struct AnomalyFeatures {
    let settings: AnomalySettings
    /// The engine's vector dimension.
    let dimension: Int
    /// Ages are measured to this time.
    let now: Timestamp

    /// Values the vector contributes.
    var vectorValues: Int { settings.projectionDims == 0 ? 0 : min(settings.projectionDims, dimension) }

    /// Features per point.
    var count: Int { vectorValues + settings.numericFields.count + settings.memoryFields.count }

    /// One row of `count` finite values per memory, row-major; `vectors` holds the memories'
    /// vectors when `projection_dims` > 0.
    func points(_ memories: [Memory], vectors: [[Float]]) -> [Double] {
        let n = memories.count, width = count, k = vectorValues
        var points = [Double](repeating: 0, count: n * width)
        if k > 0 {
            // An isolation forest cuts one feature at a time, so with 256 raw dimensions a tree of
            // height 8 sees at most 8 of them and a point far out along a direction no cut looks at
            // goes unnoticed; projecting to a few dimensions first mixes every dimension into each
            // feature while keeping distances (Johnson-Lindenstrauss), and makes the features 16x
            // smaller to read. At or above the engine's dimension there is nothing to gain.
            let projected: [Double] = k < dimension
                ? RandomProjection(inputDimension: dimension, outputDimension: k, seed: settings.seed).project(rows: vectors)
                : vectors.flatMap { $0.map(Double.init) }
            for i in 0..<n {
                for j in 0..<k { points[i * width + j] = Self.finite(projected[i * k + j]) }
            }
        }
        for (c, field) in settings.numericFields.enumerated() {
            let path = ["metadata"] + field.split(separator: ".").map(String.init)
            let values: [Double?] = memories.map { m in
                // Not a finite number (absent, text, NaN): imputed below, never a crash.
                guard case .number(let x)? = m.filterValue(at: path), x.isFinite else { return nil }
                return x
            }
            let fill = Self.median(values.compactMap { $0 }) ?? 0
            for i in 0..<n { points[i * width + k + c] = values[i] ?? fill }
        }
        let firstMemoryField = k + settings.numericFields.count
        for (c, field) in settings.memoryFields.enumerated() {
            for (i, m) in memories.enumerated() {
                let x: Double
                switch field {
                case .importance: x = m.importance
                case .accessCount: x = Double(m.accessCount)
                case .age: x = now.seconds(since: m.createdAt)
                }
                points[i * width + firstMemoryField + c] = x
            }
        }
        return points
    }

    /// A value the forest can cut: a float sum that overflowed (vectors of huge finite values)
    /// becomes the largest value kept, and NaN (infinity minus infinity) the middle, 0.
    static func finite(_ x: Double) -> Double {
        x.isNaN ? 0 : min(max(x, -1e300), 1e300)
    }

    /// The median, or nil for no values.
    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }
}
