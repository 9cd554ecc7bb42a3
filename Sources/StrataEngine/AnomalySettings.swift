import StrataCore

/// How `Engine.anomalies` scores memories: the `anomalies` section of the configuration.
///
///     {"trees": 100, "sample_size": 256, "projection_dims": 16,
///      "numeric_fields": ["profit", "latency_ms"], "memory_fields": ["importance", "access_count", "age"],
///      "threshold": 0.6, "seed": 42}
///
/// Each memory becomes one point of features: its vector projected to `projection_dims` values
/// (0: the vector is left out), then one value per `numeric_fields` metadata path (dotted for
/// nested keys, as in filters), then one per `memory_fields`. An isolation forest of `trees` trees,
/// each grown on `sample_size` memories, scores every point; memories scoring at or above
/// `threshold` are anomalies. The same memories and `seed` give the same scores.
public struct AnomalySettings: Sendable, Hashable {
    /// Numbers every memory has, usable as features.
    public enum MemoryField: String, Sendable, CaseIterable {
        case importance
        case accessCount = "access_count"
        /// Seconds since the memory was created.
        case age
    }

    /// Trees in the forest, t.
    public var trees = 100
    /// Memories each tree is grown on, psi (capped at the number scored).
    public var sampleSize = 256
    /// Values the vector is projected to; 0 leaves vectors out. At or above the engine's
    /// dimension the vector is used as it is.
    public var projectionDims = 16
    /// Metadata paths read as numbers; a memory without a finite number there gets the median.
    public var numericFields: [String] = []
    public var memoryFields: [MemoryField] = []
    /// Score at or above which a memory is an anomaly, in 0...1 (the paper's scores near 1 are
    /// anomalies, all near 0.5 means none stands out).
    public var threshold = 0.6
    public var seed: UInt64 = 42

    public init() {}

    /// Decodes the `anomalies` object; `path` names it in errors ("config.anomalies").
    public init(json: JSONValue, path: String) throws(StrataError) {
        var r = try JSONObjectReader(json, path: path, code: .invalidConfig)
        trees = try r.optionalInt("trees", in: 1...10_000) ?? trees
        sampleSize = try r.optionalInt("sample_size", in: 2...1_000_000) ?? sampleSize
        projectionDims = try r.optionalInt("projection_dims", in: 0...65_536) ?? projectionDims
        if let fields = try r.optionalStrings("numeric_fields") {
            for (i, f) in fields.enumerated() {
                guard !f.isEmpty, !f.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) else {
                    throw StrataError(.invalidConfig, "\(r.keyPath("numeric_fields"))[\(i)] must be a metadata key or dotted path, got \"\(f)\"")
                }
                if let first = fields.firstIndex(of: f), first < i {
                    throw StrataError(.invalidConfig, "\(r.keyPath("numeric_fields"))[\(i)] \"\(f)\" is listed twice (also [\(first)])")
                }
            }
            numericFields = fields
        }
        if let fields = try r.optionalStrings("memory_fields") {
            var decoded: [MemoryField] = []
            for (i, f) in fields.enumerated() {
                guard let field = MemoryField(rawValue: f) else {
                    let allowed = MemoryField.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
                    throw StrataError(.invalidConfig, "\(r.keyPath("memory_fields"))[\(i)] must be one of \(allowed), got \"\(f)\"")
                }
                guard !decoded.contains(field) else {
                    throw StrataError(.invalidConfig, "\(r.keyPath("memory_fields"))[\(i)] \"\(f)\" is listed twice")
                }
                decoded.append(field)
            }
            memoryFields = decoded
        }
        threshold = try r.optionalDouble("threshold", in: 0...1) ?? threshold
        // JSON numbers are doubles: integers are exact up to 2^53.
        seed = UInt64(try r.optionalInt("seed", in: 0...(1 << 53)) ?? Int(seed))
        try r.finish()
        guard projectionDims > 0 || !numericFields.isEmpty || !memoryFields.isEmpty else {
            throw StrataError(.invalidConfig,
                              "\(path) has no feature to score: projection_dims is 0 and numeric_fields and memory_fields are empty")
        }
    }

    public var json: JSONValue {
        .object([
            "trees": .number(Double(trees)), "sample_size": .number(Double(sampleSize)),
            "projection_dims": .number(Double(projectionDims)), "numeric_fields": .array(numericFields.map { .string($0) }),
            "memory_fields": .array(memoryFields.map { .string($0.rawValue) }), "threshold": .number(threshold),
            "seed": .number(Double(seed)),
        ])
    }
}
