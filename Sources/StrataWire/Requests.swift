import StrataCore
import StrataEngine

// Request decoders: JSON values into the engine's typed requests, every key checked (an
// unknown key is an error naming it and the request).

extension NewMemory {
    /// Decodes one memory of a store request. Content may be left out only when the caller
    /// brings the vector (`contentRequired` false).
    public init(json: JSONValue, path: String, contentRequired: Bool = true) throws(StrataError) {
        var r = try JSONObjectReader(json, path: path)
        self.init(try r.optionalString("content") ?? "")
        id = try r.optionalString("id")
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
    /// Decodes a recall request; `filter` paths are metadata keys. An empty or missing query
    /// recalls every memory in view by recency, importance and access (`RecallQuery.text`),
    /// unless `textRequired`: a face that insists on query text (`.invalidJSON` naming it).
    public init(json: JSONValue, path: String, textRequired: Bool = false) throws(StrataError) {
        var r = try JSONObjectReader(json, path: path)
        self.init(try r.optionalString("query") ?? "")
        if textRequired, text.isEmpty { throw StrataError(.invalidJSON, "\(path).query is required (non-empty text)") }
        k = try r.optionalInt("k", in: 1...10_000)
        if let f = r.optionalValue("filter") { filter = try Filter.parse(f, prefix: ["metadata"], what: "\(path).filter") }
        scope = try r.optionalString("scope").map { (s: String) throws(StrataError) -> ScopePath in try ScopePath(s) }
        tiers = try r.optionalStrings("tiers")
        category = try r.optionalString("category")
        trackAccess = try r.optionalBool("track_access")
        try r.finish()
    }
}

extension MemoryListQuery {
    /// Decodes a list request; `filter` paths are metadata keys.
    public init(json: JSONValue, path: String) throws(StrataError) {
        try self.init(json: json, path: path, paged: true)
    }

    /// Decodes a count request: the selection of a list request (`filter`, `scope`, `tiers`,
    /// `category`) without its page, so `ids`, `limit` and `offset` are unknown keys there.
    /// The query's `limit` is 0: listing it answers the total only.
    public init(countJSON json: JSONValue, path: String) throws(StrataError) {
        try self.init(json: json, path: path, paged: false)
        limit = 0
    }

    private init(json: JSONValue, path: String, paged: Bool) throws(StrataError) {
        var r = try JSONObjectReader(json, path: path)
        self.init()
        if let f = r.optionalValue("filter") { filter = try Filter.parse(f, prefix: ["metadata"], what: "\(path).filter") }
        scope = try r.optionalString("scope").map { (s: String) throws(StrataError) -> ScopePath in try ScopePath(s) }
        tiers = try r.optionalStrings("tiers")
        category = try r.optionalString("category")
        if paged {
            ids = try r.optionalStrings("ids")
            limit = try r.optionalInt("limit", in: 0...Int(Int32.max))
            offset = try r.optionalInt("offset", in: 0...Int(Int32.max)) ?? 0
        }
        try r.finish()
    }
}

/// An embed request, `{"texts": ["...", ...]}`: texts to embed with the engine's embedder
/// (`Engine.embed`), at most `maxTexts` of them, since the whole batch is one embedder call that
/// holds the embedder and its answer grows with every text.
public struct EmbedRequest: Sendable {
    /// The texts, in the order their rows are answered; `""` is a text.
    public var texts: [String]

    /// - Throws: `.invalidJSON` for a body that is not `{"texts": [strings]}` (the bad part
    ///   named); `.invalidArgument` for more than `maxTexts` texts.
    public init(json: JSONValue, path: String, maxTexts: Int) throws(StrataError) {
        var r = try JSONObjectReader(json, path: path)
        guard let texts = try r.optionalStrings("texts") else { throw StrataError(.invalidJSON, "\(path).texts is required (an array of strings)") }
        try r.finish()
        guard texts.count <= maxTexts else {
            throw StrataError(.invalidArgument, "\(path).texts has \(texts.count) texts; at most \(maxTexts) a request: embed a larger corpus in several requests")
        }
        self.texts = texts
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

extension AnomalyQuery {
    /// Decodes an anomalies request; `filter` paths are metadata keys.
    public init(json: JSONValue, path: String) throws(StrataError) {
        var r = try JSONObjectReader(json, path: path)
        self.init()
        threshold = try r.optionalDouble("threshold", in: 0...1)
        limit = try r.optionalInt("limit", in: 1...Int(Int32.max))
        if let f = r.optionalValue("filter") { filter = try Filter.parse(f, prefix: ["metadata"], what: "\(path).filter") }
        scope = try r.optionalString("scope").map { (s: String) throws(StrataError) -> ScopePath in try ScopePath(s) }
        tiers = try r.optionalStrings("tiers")
        category = try r.optionalString("category")
        try r.finish()
    }
}
