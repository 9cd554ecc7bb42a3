import StrataCore
import StrataEngine

/// The memory verbs with JSON requests and answers, as include/strata/engine.h documents them.
/// Every face that speaks JSON (the C ABI, the CLI, the server, Python through C) calls these,
/// so each request shape is decoded in one place and each answer encoded in one place
/// (`Answers.swift`); the engine itself takes and returns typed values only.
extension Engine {
    /// `{"content", ...}` or `{"items": [...], "dedupe"?: bool}` -> `{"id"}` or `{"ids"}`, plus
    /// `"deduplicated"`.
    public func storeJSON(_ request: JSONValue, vectors: [[Float]]? = nil) throws(StrataError) -> JSONValue {
        let items: [NewMemory]
        let batch: Bool
        var dedupe: Bool?
        if case .object(let o) = request, let list = o["items"] {
            let extra = o.keys.filter { $0 != "items" && $0 != "dedupe" }.sorted()
            guard extra.isEmpty else {
                throw StrataError(.invalidJSON, "store request: \"items\" cannot be combined with \(extra.joined(separator: ", "))")
            }
            if let flag = o["dedupe"] {
                guard case .bool(let b) = flag else { throw StrataError(.invalidJSON, "store request.dedupe must be true or false") }
                dedupe = b
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
        return Answer.store(try store(items, vectors: vectors, dedupe: dedupe), batch: batch || vectors != nil)
    }

    /// `{"query", "k", "filter", "scope", "tiers", "category", "track_access"}` -> `{"hits": [...]}`.
    public func recallJSON(_ request: JSONValue, vector: [Float]? = nil) throws(StrataError) -> JSONValue {
        var q = try RecallQuery(json: request, path: "recall request")
        q.vector = vector
        return Answer.recall(try recall(q))
    }

    /// `{"filter"?, "scope"?, "tiers"?, "category"?, "ids"?, "limit"?, "offset"?}` ->
    /// `{"memories": [...], "total"}`, oldest first.
    public func listJSON(_ request: JSONValue) throws(StrataError) -> JSONValue {
        Answer.list(try list(try MemoryListQuery(json: request, path: "list request")))
    }

    /// `{"texts": [...]}` (at most `maxTexts`) -> `{"vectors": [[...], ...], "dimension", "model"}`:
    /// row i embeds text i as `store` embeds content; nothing is stored.
    public func embedJSON(_ request: JSONValue, maxTexts: Int) throws(StrataError) -> JSONValue {
        let texts = try EmbedRequest(json: request, path: "embed request", maxTexts: maxTexts).texts
        return Answer.embeddings(try embed(texts), dimension: dimension, model: embedder.modelID)
    }

    /// `{"id"}` -> the memory.
    public func getJSON(_ request: JSONValue) throws(StrataError) -> JSONValue {
        Answer.memory(try get(id: try Self.id(request, "get request")))
    }

    /// `{"id", "content"?, "metadata"?, ...}` -> the updated memory.
    public func updateJSON(_ request: JSONValue) throws(StrataError) -> JSONValue {
        Answer.memory(try update(try MemoryUpdate(json: request, path: "update request")))
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
            return Answer.forgotten([id])
        case (nil, let f?):
            let filter = try Filter.parse(f, prefix: ["metadata"], what: "forget request.filter")
            return Answer.forgotten(try forget(filter: filter, scope: scope, all: all))
        default:
            throw StrataError(.invalidJSON, "forget request needs exactly one of \"id\" or \"filter\"")
        }
    }

    /// `{"id"}` -> `{"history": [...]}`.
    public func historyJSON(_ request: JSONValue) throws(StrataError) -> JSONValue {
        Answer.history(try history(id: try Self.id(request, "history request")))
    }

    /// `{}` -> the stats object.
    public func statsJSON(_ request: JSONValue) throws(StrataError) -> JSONValue {
        try JSONObjectReader(request, path: "stats request").finish()
        return Answer.stats(try stats())
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
        return Answer.metabolize(report, moves: moves)
    }

    /// `{"threshold"?, "limit"?, "filter"?, "scope"?, "tiers"?, "category"?}` ->
    /// `{"anomalies": [{"id", "content", "metadata", "scope", "tier", "category", "score"}], "scored", "threshold"}`.
    public func anomaliesJSON(_ request: JSONValue) throws(StrataError) -> JSONValue {
        Answer.anomalies(try anomalies(try AnomalyQuery(json: request, path: "anomalies request")))
    }

    /// `{"name"}` -> `{"name", "created_at", "memories", "bytes"}`.
    public func snapshotJSON(_ request: JSONValue) throws(StrataError) -> JSONValue {
        try snapshot(name: try Self.snapshotName(request, "snapshot request")).json
    }

    /// `{}` -> `{"snapshots": [{"name", "created_at", "memories", "bytes"}, ...]}`, oldest first.
    public func snapshotsJSON(_ request: JSONValue) throws(StrataError) -> JSONValue {
        try JSONObjectReader(request, path: "snapshots request").finish()
        return Answer.snapshots(try snapshots())
    }

    /// `{"name"}` -> `{"snapshot", "added": [ids], "removed": [ids], "changed": [ids]}`.
    public func rollbackJSON(_ request: JSONValue) throws(StrataError) -> JSONValue {
        try rollback(name: try Self.snapshotName(request, "rollback request")).json
    }

    /// `{"name"}` -> `{"deleted": name}`.
    public func deleteSnapshotJSON(_ request: JSONValue) throws(StrataError) -> JSONValue {
        let name = try Self.snapshotName(request, "delete snapshot request")
        try deleteSnapshot(name: name)
        return .object(["deleted": .string(name)])
    }

    /// `reembed` for the JSON faces (C, Python): request `{"batch_size": 64?}`, answer the report.
    public func reembedJSON(into target: Engine, _ request: JSONValue) throws(StrataError) -> JSONValue {
        var r = try JSONObjectReader(request, path: "reembed request")
        let batch = try r.optionalInt("batch_size", in: 1...10_000) ?? 64
        try r.finish()
        return Answer.reembed(try reembed(into: target, batchSize: batch))
    }

    private static func snapshotName(_ request: JSONValue, _ what: String) throws(StrataError) -> String {
        var r = try JSONObjectReader(request, path: what)
        let name = try r.string("name")
        try r.finish()
        return name
    }

    private static func id(_ request: JSONValue, _ what: String) throws(StrataError) -> String {
        var r = try JSONObjectReader(request, path: what)
        let id = try r.string("id")
        try r.finish()
        return id
    }
}

