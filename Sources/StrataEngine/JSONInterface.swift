import StrataCore

/// The memory verbs with JSON requests and answers, as include/strata/engine.h documents them.
/// Every face that speaks JSON (the C ABI, the CLI, the server, Python through C) calls these,
/// so each request shape is decoded in one place.
extension Engine {
    /// `{"content", ...}` or `{"items": [...]}` -> `{"id"}` or `{"ids"}`, plus `"deduplicated"`.
    public func storeJSON(_ request: JSONValue, vectors: [[Float]]? = nil) throws(StrataError) -> JSONValue {
        let items: [NewMemory]
        let batch: Bool
        if case .object(let o) = request, let list = o["items"] {
            guard o.count == 1 else {
                let extra = o.keys.filter { $0 != "items" }.sorted().joined(separator: ", ")
                throw StrataError(.invalidJSON, "store request: \"items\" cannot be combined with \(extra)")
            }
            guard case .array(let values) = list, !values.isEmpty else {
                throw StrataError(.invalidJSON, "store request.items must be a non-empty array")
            }
            var decoded: [NewMemory] = []
            for (i, v) in values.enumerated() {
                decoded.append(try NewMemory(json: v, path: "store request.items[\(i)]", contentRequired: vectors == nil))
            }
            items = decoded
            batch = true
        } else {
            items = [try NewMemory(json: request, path: "store request", contentRequired: vectors == nil)]
            batch = false
        }
        return try storeAnswer(store(items, vectors: vectors), batch: batch || vectors != nil)
    }

    /// Stores `count` memories with no fields but their vectors (the C fast path with a NULL
    /// request): `{"ids": [...], "deduplicated": [...]}`, without decoding a request per item.
    public func storeVectorsJSON(_ vectors: [[Float]]) throws(StrataError) -> JSONValue {
        try storeAnswer(store(Array(repeating: NewMemory(""), count: vectors.count), vectors: vectors), batch: true)
    }

    private func storeAnswer(_ outcomes: [StoreOutcome], batch: Bool) -> JSONValue {
        var answer: [String: JSONValue] = batch
            ? ["ids": .array(outcomes.map { .string($0.id) })] : ["id": .string(outcomes[0].id)]
        answer["deduplicated"] = .array(outcomes.filter(\.deduplicated).map { .string($0.id) })
        return .object(answer)
    }

    /// `{"query", "k", "filter", "scope", "tiers", "category"}` -> `{"hits": [...]}`.
    public func recallJSON(_ request: JSONValue, vector: [Float]? = nil) throws(StrataError) -> JSONValue {
        var q = try RecallQuery(json: request, path: "recall request", textRequired: vector == nil)
        q.vector = vector
        return .object(["hits": .array(try recall(q).map(\.json))])
    }

    /// `{"id"}` -> the memory.
    public func getJSON(_ request: JSONValue) throws(StrataError) -> JSONValue {
        try get(id: try Self.id(request, "get request")).publicJSON
    }

    /// `{"id", "content"?, "metadata"?, ...}` -> the updated memory.
    public func updateJSON(_ request: JSONValue) throws(StrataError) -> JSONValue {
        try update(try MemoryUpdate(json: request, path: "update request")).publicJSON
    }

    /// `{"id"}` or `{"filter", "scope"?, "all"?}` -> `{"forgotten": [ids]}`. With a scope, only
    /// the memories that node owns; a filter without a condition needs `"all": true`.
    public func forgetJSON(_ request: JSONValue) throws(StrataError) -> JSONValue {
        var r = try JSONObjectReader(request, path: "forget request")
        let id = try r.optionalString("id")
        let filterJSON = r.optionalValue("filter")
        let scope = try r.optionalString("scope").map { (s: String) throws(StrataError) -> ScopePath in try ScopePath(s) }
        let all = try r.optionalBool("all") ?? false
        try r.finish()
        switch (id, filterJSON) {
        case (let id?, nil):
            guard scope == nil, !all else { throw StrataError(.invalidJSON, "forget request: \"scope\" and \"all\" go with \"filter\", not \"id\"") }
            try forget(id: id)
            return .object(["forgotten": .array([.string(id)])])
        case (nil, let f?):
            let filter = try Filter.parse(f, prefix: ["metadata"], what: "forget request.filter")
            return .object(["forgotten": .array(try forget(filter: filter, scope: scope, all: all).map { .string($0) })])
        default:
            throw StrataError(.invalidJSON, "forget request needs exactly one of \"id\" or \"filter\"")
        }
    }

    /// `{"id"}` -> `{"history": [...]}`.
    public func historyJSON(_ request: JSONValue) throws(StrataError) -> JSONValue {
        .object(["history": .array(try history(id: try Self.id(request, "history request")).map(\.json))])
    }

    /// `{}` -> the stats object.
    public func statsJSON(_ request: JSONValue) throws(StrataError) -> JSONValue {
        try JSONObjectReader(request, path: "stats request").finish()
        return try stats().json
    }

    /// `{"now"?: ISO-8601, "dry_run"?: bool, "moves"?: bool}` -> the cycle's report (with the
    /// list of moves unless `"moves": false`).
    public func metabolizeJSON(_ request: JSONValue) throws(StrataError) -> JSONValue {
        var r = try JSONObjectReader(request, path: "metabolize request")
        var now: Timestamp?
        if let text = try r.optionalString("now") {
            guard let t = Timestamp(iso8601: text) else {
                throw StrataError(.invalidArgument, "metabolize request.now is not an ISO-8601 time with a zone: \"\(text)\"")
            }
            now = t
        }
        let dryRun = try r.optionalBool("dry_run") ?? false
        let moves = try r.optionalBool("moves") ?? true
        try r.finish()
        let report = try metabolize(now: now, dryRun: dryRun)
        return moves ? report.json : report.summaryJSON
    }

    private static func id(_ request: JSONValue, _ what: String) throws(StrataError) -> String {
        var r = try JSONObjectReader(request, path: what)
        let id = try r.string("id")
        try r.finish()
        return id
    }
}

extension NewMemory {
    /// Decodes one memory of a store request. Content may be left out only when the caller
    /// brings the vector (`contentRequired` false).
    public init(json: JSONValue, path: String, contentRequired: Bool = true) throws(StrataError) {
        var r = try JSONObjectReader(json, path: path)
        self.init(try r.optionalString("content") ?? "")
        metadata = try r.optionalObject("metadata") ?? [:]
        scope = try ScopePath(try r.optionalString("scope") ?? "")
        visibility = try r.optionalChoice("visibility", Visibility.allCases.map(\.rawValue)).flatMap(Visibility.init)
        category = try r.optionalString("category")
        importance = try r.optionalDouble("importance", in: 0...1)
        pinned = try r.optionalBool("pinned") ?? false
        tier = try r.optionalString("tier")
        if let at = try r.optionalString("at") {
            guard let t = Timestamp(iso8601: at) else {
                throw StrataError(.invalidArgument, "\(path).at is not an ISO-8601 time with a zone: \"\(at)\"")
            }
            self.at = t
        }
        ttlSeconds = try r.optionalDouble("ttl_seconds", in: 0.001...1e12)
        try r.finish()
        if contentRequired, content.isEmpty { throw StrataError(.invalidJSON, "\(path).content is required (non-empty text)") }
    }
}

extension RecallQuery {
    /// Decodes a recall request; `filter` paths are metadata keys.
    public init(json: JSONValue, path: String, textRequired: Bool = true) throws(StrataError) {
        var r = try JSONObjectReader(json, path: path)
        self.init(try r.optionalString("query") ?? "")
        if textRequired, text.isEmpty { throw StrataError(.invalidJSON, "\(path).query is required (non-empty text)") }
        k = try r.optionalInt("k", in: 1...10_000)
        if let f = r.optionalValue("filter") { filter = try Filter.parse(f, prefix: ["metadata"], what: "\(path).filter") }
        scope = try r.optionalString("scope").map { (s: String) throws(StrataError) -> ScopePath in try ScopePath(s) }
        tiers = try r.optionalStrings("tiers")
        category = try r.optionalString("category")
        try r.finish()
    }
}

extension MemoryUpdate {
    public init(json: JSONValue, path: String) throws(StrataError) {
        var r = try JSONObjectReader(json, path: path)
        self.init(id: try r.string("id"))
        content = try r.optionalString("content")
        metadata = try r.optionalObject("metadata")
        category = try r.optionalString("category")
        importance = try r.optionalDouble("importance", in: 0...1)
        pinned = try r.optionalBool("pinned")
        visibility = try r.optionalChoice("visibility", Visibility.allCases.map(\.rawValue)).flatMap(Visibility.init)
        try r.finish()
        // As in a store request: an empty content would be embedded as nothing and then match
        // every query (the CLI's `update --text ""` is refused the same way).
        if let content, content.isEmpty { throw StrataError(.invalidJSON, "\(path).content must be non-empty text") }
        if content == nil, metadata == nil, category == nil, importance == nil, pinned == nil, visibility == nil {
            throw StrataError(.invalidJSON, "\(path) changes nothing: give content, metadata, category, importance, pinned or visibility")
        }
    }
}
