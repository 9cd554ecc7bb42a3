import StrataCore

/// How a vector store finds nearest neighbours: the `"index"` object of a store's options.
///
/// | key               | value                                         | default |
/// |-------------------|-----------------------------------------------|---------|
/// | `type`            | "exact", "hnsw" or "auto"                     | "auto"  |
/// | `m`               | links per node and layer, 2...128 (2m on layer 0) | 16  |
/// | `ef_construction` | candidates kept while linking a node, ≥ m     | 200     |
/// | `ef_search`       | candidates kept while searching (at least k)  | 64      |
/// | `auto_rows`       | with "auto": build the graph from this many rows | 20000 |
/// | `seed`            | the seed of the layer draws (reproducible graphs) | 1   |
/// | `compression`     | "none", "fp16" or "int8": what the graph's walks read | "none" |
///
/// "exact" scans every row (exact answers, cost O(rows) per query). "hnsw" keeps a navigable
/// small-world graph (Malkov and Yashunin, 2016) beside the rows: a query visits a few thousand
/// rows whatever the size, and finds about 95-99% of the true top 10. "auto" is exact below
/// `auto_rows` rows, where a scan takes a few milliseconds, and a graph from there on.
///
/// "compression" keeps a copy of every row in half precision ("fp16", half the bytes) or one
/// byte per dimension ("int8", a quarter) for the graph's walks, and scores the nodes a walk keeps
/// on the float rows again, so hits and scores stay exact for the nodes found. A walk then reads
/// fewer bytes per distance; the copy adds those bytes beside the float rows (reported as the
/// graph's `code_bytes`).
public struct VectorIndexSettings: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable { case exact, hnsw, auto }

    /// What a graph's walks read: the float rows, or a compressed copy of them. The type the
    /// index report names (`IndexReport.Compression`), so the two cannot drift apart.
    public typealias Compression = IndexReport.Compression

    public var kind: Kind
    public var m: Int
    public var efConstruction: Int
    public var efSearch: Int
    public var autoRows: Int
    public var seed: UInt64
    public var compression: Compression

    public static let exact = VectorIndexSettings(kind: .exact)
    public static let defaultAutoRows = 20_000

    public init(kind: Kind = .auto, m: Int = 16, efConstruction: Int = 200, efSearch: Int = 64,
                autoRows: Int = defaultAutoRows, seed: UInt64 = 1, compression: Compression = .none) {
        self.kind = kind
        self.m = m
        self.efConstruction = efConstruction
        self.efSearch = efSearch
        self.autoRows = autoRows
        self.seed = seed
        self.compression = compression
    }

    /// Decodes the `"index"` object; `path` names it in messages (e.g. "sqlite options.index").
    /// - Throws: `.invalidConfig` naming the key for an unknown key or a value out of range.
    public init(json: JSONValue, path: String) throws(StrataError) {
        var r = try JSONObjectReader(json, path: path, code: .invalidConfig)
        let kind = try r.optionalChoice("type", Kind.allCases.map(\.rawValue)).flatMap(Kind.init) ?? .auto
        let m = try r.optionalInt("m", in: 2...128) ?? 16
        let efConstruction = try r.optionalInt("ef_construction", in: 1...65_536) ?? max(200, m)
        let efSearch = try r.optionalInt("ef_search", in: 1...65_536) ?? 64
        let autoRows = try r.optionalInt("auto_rows", in: 0...(1 << 40))
        let seed = try r.optionalInt("seed", in: 0...Int.max) ?? 1
        let compression = try r.optionalChoice("compression", Compression.allCases.map(\.rawValue)).flatMap(Compression.init) ?? .none
        try r.finish()
        if autoRows != nil, kind != .auto {
            throw StrataError(.invalidConfig, "\(path).auto_rows applies only with \"type\": \"auto\"")
        }
        if efConstruction < m {
            throw StrataError(.invalidConfig, "\(path).ef_construction (\(efConstruction)) must be at least m (\(m))")
        }
        self.init(kind: kind, m: m, efConstruction: efConstruction, efSearch: efSearch,
                  autoRows: autoRows ?? Self.defaultAutoRows, seed: UInt64(seed), compression: compression)
    }

    /// Whether a store of `rows` rows keeps a graph under these settings.
    func wantsGraph(rows: Int) -> Bool {
        switch kind {
        case .exact: false
        case .hnsw: true
        case .auto: rows >= autoRows
        }
    }

    /// The settings as JSON, for stats and messages.
    public var json: JSONValue {
        var o: [String: JSONValue] = ["type": .string(kind.rawValue)]
        if kind != .exact {
            o["m"] = .number(Double(m))
            o["ef_construction"] = .number(Double(efConstruction))
            o["ef_search"] = .number(Double(efSearch))
            if compression != .none { o["compression"] = .string(compression.rawValue) }
        }
        if kind == .auto { o["auto_rows"] = .number(Double(autoRows)) }
        return .object(o)
    }
}
