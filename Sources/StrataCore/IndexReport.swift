/// What a store's vector index is and the memory it takes: the `"index"` section of the stats
/// (`strata stats`, `GET /v1/stats`, `strata_engine_stats`), and what a plugin's
/// `index_report` hands to the host (include/strata/vector_store.h, ABI 1.8).
///
/// Bytes are what the index holds in this process, not what its files take on disk:
///
///     let r = try store.indexReport()   // nil: the store does not say
///     print(r?.bytes.total ?? 0)
public struct IndexReport: Sendable, Equatable {
    /// How nearest neighbours are found now: every row scored, or a graph walked.
    public enum Kind: String, Sendable, CaseIterable { case exact, hnsw }

    /// What a graph's walks read: the float rows, or a copy of them in half precision (fp16) or
    /// one byte a dimension (int8). The walk's candidates are scored on the float rows again.
    public enum Compression: String, Sendable, CaseIterable {
        case none, fp16, int8

        /// Bytes a walk reads per dimension of a row.
        public var bytesPerDimension: Int {
            switch self {
            case .none: 4
            case .fp16: 2
            case .int8: 1
            }
        }
    }

    /// The parameters of a graph (`VectorIndexSettings`' `m`, `ef_construction`, `ef_search`).
    public struct Graph: Sendable, Equatable {
        public var m: Int
        public var efConstruction: Int
        public var efSearch: Int

        public init(m: Int, efConstruction: Int, efSearch: Int) {
            self.m = m
            self.efConstruction = efConstruction
            self.efSearch = efSearch
        }
    }

    /// Bytes the index holds in memory, by part.
    public struct Bytes: Sendable, Equatable {
        /// The float rows as kept, with their norms where the metric keeps them (l2).
        public var vectors: Int
        /// The compressed copies of the rows a graph walks on; 0 without compression.
        public var codes: Int
        /// The graph's links, levels and flags; 0 without a graph.
        public var graph: Int
        /// The three together.
        public var total: Int { vectors + codes + graph }

        public init(vectors: Int = 0, codes: Int = 0, graph: Int = 0) {
            self.vectors = vectors
            self.codes = codes
            self.graph = graph
        }
    }

    public var kind: Kind
    /// Memories the index holds.
    public var rows: Int
    /// The graph's parameters; nil for an exact index.
    public var graph: Graph?
    public var compression: Compression
    public var bytes: Bytes
    /// Whether the store answers from an index image mapped from disk without loading its rows
    /// (the SQLite store's lazy open): `bytes.vectors` then counts the rows read so far. Nil for
    /// a store that never maps one.
    public var mapped: Bool?

    public init(kind: Kind, rows: Int, graph: Graph? = nil, compression: Compression = .none, bytes: Bytes, mapped: Bool? = nil) {
        self.kind = kind
        self.rows = rows
        self.graph = graph
        self.compression = compression
        self.bytes = bytes
        self.mapped = mapped
    }

    /// The reports of several stores serving as one (a tiered store): rows and bytes added up;
    /// a graph when any part walks one, with the parameters and compression of the first that
    /// does; mapped when any part is. Nil when no part reports.
    public static func combined(_ reports: [IndexReport]) -> IndexReport? {
        guard var out = reports.first(where: { $0.kind == .hnsw }) ?? reports.first else { return nil }
        out.rows = 0
        out.bytes = Bytes()
        for r in reports {
            out.rows += r.rows
            out.bytes.vectors += r.bytes.vectors
            out.bytes.codes += r.bytes.codes
            out.bytes.graph += r.bytes.graph
        }
        let mapped = reports.compactMap(\.mapped)
        out.mapped = mapped.isEmpty ? nil : mapped.contains(true)
        return out
    }

    /// `{"kind": "exact"|"hnsw", "rows", "m", "ef_construction", "ef_search" (hnsw only),
    /// "compression": "none"|"fp16"|"int8", "mapped" (only when the store can map an image),
    /// "bytes": {"vectors", "codes", "graph", "total"}}`.
    public var json: JSONValue {
        func n(_ x: Int) -> JSONValue { .number(Double(x)) }
        var o: [String: JSONValue] = [
            "kind": .string(kind.rawValue), "rows": n(rows), "compression": .string(compression.rawValue),
            "bytes": .object(["vectors": n(bytes.vectors), "codes": n(bytes.codes), "graph": n(bytes.graph), "total": n(bytes.total)]),
        ]
        if let graph {
            o["m"] = n(graph.m)
            o["ef_construction"] = n(graph.efConstruction)
            o["ef_search"] = n(graph.efSearch)
        }
        if let mapped { o["mapped"] = .bool(mapped) }
        return .object(o)
    }

    /// Decodes `json`'s shape strictly; `what` names the source in errors.
    /// - Throws: `.invalidJSON` naming the key for an unknown or missing key or a value of the
    ///   wrong type, and when `bytes.total` is not the sum of the parts; `.invalidArgument` for
    ///   a count out of range.
    public init(json: JSONValue, what: String = "index report") throws(StrataError) {
        var r = try JSONObjectReader(json, path: what)
        guard let kindName = try r.optionalChoice("kind", Kind.allCases.map(\.rawValue)) else {
            throw StrataError(.invalidJSON, "\(r.keyPath("kind")) is required")
        }
        kind = Kind(rawValue: kindName)!
        rows = try Self.count(&r, "rows")
        let m = try r.optionalInt("m", in: 1...Int.max / 2)
        let efConstruction = try r.optionalInt("ef_construction", in: 1...Int.max / 2)
        let efSearch = try r.optionalInt("ef_search", in: 1...Int.max / 2)
        switch (m, efConstruction, efSearch) {
        case let (m?, c?, s?): graph = Graph(m: m, efConstruction: c, efSearch: s)
        case (nil, nil, nil): graph = nil
        default: throw StrataError(.invalidJSON, "\(what) needs all of m, ef_construction and ef_search, or none")
        }
        compression = try r.optionalChoice("compression", Compression.allCases.map(\.rawValue)).flatMap(Compression.init) ?? .none
        mapped = try r.optionalBool("mapped")
        guard var b = try r.optionalReader("bytes") else { throw StrataError(.invalidJSON, "\(r.keyPath("bytes")) is required") }
        bytes = Bytes(vectors: try Self.count(&b, "vectors"), codes: try Self.count(&b, "codes"), graph: try Self.count(&b, "graph"))
        let total = try Self.count(&b, "total")
        try b.finish()
        try r.finish()
        guard total == bytes.total else {
            throw StrataError(.invalidJSON, "\(b.keyPath("total")) is \(total), not the sum of the parts (\(bytes.total))")
        }
    }

    /// A required count: an integer from 0 to 2^53.
    private static func count(_ r: inout JSONObjectReader, _ key: String) throws(StrataError) -> Int {
        guard let n = try r.optionalInt(key, in: 0...(1 << 53)) else { throw StrataError(.invalidJSON, "\(r.keyPath(key)) is required") }
        return n
    }
}
