import Hummingbird
import Logging
import StrataCore
import StrataEngine
import StrataWire

/// The handlers of `/v1` over one engine: each checks the token, reads the body, and calls one
/// of StrataWire's JSON verbs (or its decoders and `Answer`, where a token's scope must be
/// added to the request) on the engine queue. Bodies and answers are StrataWire's JSON, the
/// bytes the C ABI and `strata ... --json` write.
///
/// A token sees its scope subtree only: requests naming another scope are refused (403);
/// memories outside it are answered as absent (404, with the message an unknown id gets), and
/// recall, list, count, anomalies and events never return them. Stats, metrics, lifecycle
/// cycles, snapshots and rollback span every scope, so they need a token of the root scope.
final class MemoryService: Sendable {
    let engine: Engine
    let options: ServerOptions
    let tokens: TokenAuthority
    let queue: EngineQueue
    let events: EventFanout
    let metrics: ServerMetrics
    /// Scheduled lifecycle cycles and anomaly scans, run and failed (`ScheduledWork`).
    let lifecycle: ScheduleCounts?
    let anomalyScan: ScheduleCounts?

    init(engine: Engine, options: ServerOptions, tokens: TokenAuthority) {
        self.engine = engine
        self.options = options
        self.tokens = tokens
        let metrics = ServerMetrics(tierCountSeconds: options.tierCountSeconds)
        self.metrics = metrics
        queue = EngineQueue(limit: options.maxPending, inlineBudget: .microseconds(options.inlineReadMicroseconds),
                            aloneBudget: .microseconds(options.inlineAloneReadMicroseconds),
                            placed: { metrics.engineCall(inline: $0) })
        events = EventFanout(ringSize: options.eventRing, clientBuffer: options.clientBuffer,
                             overflowed: { metrics.eventStreamOverflowed() })
        lifecycle = options.lifecycleSeconds.map(ScheduleCounts.init)
        anomalyScan = options.anomalyScanSeconds.map(ScheduleCounts.init)
    }

    // MARK: - Access

    /// The secret of `Authorization: Bearer <secret>`, or of `?token=` where `query` allows it
    /// (WebSocket clients in browsers cannot set headers).
    static func secret(_ request: Request, query: Bool = false) -> String? {
        secret(request.headers) ?? (query ? request.uri.queryParameters.get("token") : nil)
    }

    /// The secret of the `Authorization: Bearer` header, "" for another scheme, nil without one.
    static func secret(_ headers: HTTPFields) -> String? { secret(authorization: headers[.authorization]) }

    /// The secret of an `Authorization` field's value: "" for a scheme other than `Bearer`, nil
    /// without the field.
    static func secret(authorization header: String?) -> String? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        if parts.count == 2, parts[0].lowercased() == "bearer" { return String(parts[1]).trimmingSpaces }
        return ""
    }

    func authorize(_ request: Request, _ role: TokenRole, query: Bool = false) throws -> Access {
        try authorize(secret: Self.secret(request, query: query), role)
    }

    /// The access a request's secret grants, when it is at least `role`.
    func authorize(secret: String?, _ role: TokenRole) throws -> Access {
        let access: Access
        switch tokens.authorize(secret) {
        case .success(let a): access = a
        case .failure(let denial): throw APIError(denial)
        }
        guard access.role >= role else {
            throw APIError.forbidden("this token's role is \(access.role.rawValue); this needs \(role.rawValue)")
        }
        return access
    }

    /// Refuses a verb over every scope to a token of a narrower one.
    static func requireRoot(_ access: Access, _ what: String) throws {
        guard access.seesEverything else {
            throw APIError.forbidden("\(what) spans every scope: it needs a token of the root scope, not of \"\(access.scope)\"")
        }
    }

    /// The scope a request names, checked against the token; the token's own when it names none.
    /// Nil when neither narrows it (a root token and no scope).
    static func scope(_ named: ScopePath?, _ access: Access) throws -> ScopePath? {
        guard let named else { return access.seesEverything ? nil : access.scope }
        guard access.sees(named) else {
            throw APIError.forbidden("this token is for scope \"\(access.scope)\" and what is below it, not \"\(named)\"")
        }
        return named
    }

    /// The memory `id` when the token may see it; otherwise the engine's own not-found error, so
    /// an id in another scope cannot be told apart from one that does not exist.
    func visibleMemory(_ id: String, _ access: Access) async throws -> Memory {
        let engine = engine
        let memory = try await queue.run(.read(.get)) { () throws(StrataError) in try engine.get(id: id) }
        guard access.sees(memory.scope) else { throw StrataError(.notFound, "no memory with id \"\(id)\"") }
        return memory
    }

    // MARK: - Bodies and answers

    /// The request's body, at most `--max-body` bytes (413 beyond, told by Content-Length or
    /// found while reading).
    func rawBody(_ request: Request) async throws -> ByteBuffer {
        let limit = options.maxBodyBytes
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw APIError.tooLarge("the body has \(length) bytes; this server takes at most \(limit) (--max-body)")
        }
        do {
            return try await request.body.collect(upTo: limit)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw APIError.tooLarge("the body is larger than \(limit) bytes (--max-body)")
        }
    }

    func body(_ request: Request, what: String) async throws -> JSONValue {
        let buffer = try await rawBody(request)
        // The typed error caught and thrown again on purpose: `try buffer.wireJSON` straight in
        // this async function crashed the release build's coroutine splitting (Swift 6.3.1,
        // signal 11 while splitting `MemoryService.list`).
        do throws(StrataError) {
            return try buffer.wireJSON(what: what)
        } catch {
            throw error
        }
    }

    static func answer(_ value: JSONValue, _ status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: Wire.text(value))))
    }

    /// An answer already written as wire JSON (`Wire.recallAnswer`).
    static func answer(bytes: [UInt8], _ status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    // MARK: - Verbs

    /// `{"content", ...}` or `{"items": [...]}`, each may carry `"vector"` (all or none).
    func store(_ request: Request) async throws -> Response {
        let access = try authorize(request, .write)
        var json = try await body(request, what: "store request")
        var vectors: [[Float]]?
        if case .object(var o) = json {
            if case .array(var items)? = o["items"] {
                var found: [[Float]] = []
                for i in items.indices {
                    guard case .object(var item) = items[i] else { continue }
                    if let v = item.removeValue(forKey: "vector") { found.append(try VectorField.floats(v, "store request.items[\(i)].vector")) }
                    try Self.scopeItem(&item, access)
                    items[i] = .object(item)
                }
                guard found.isEmpty || found.count == items.count else {
                    throw StrataError(.invalidArgument, "store request: give every item a vector or none (\(found.count) of \(items.count) have one)")
                }
                if !found.isEmpty { vectors = found }
                o["items"] = .array(items)
            } else {
                if let v = o.removeValue(forKey: "vector") { vectors = [try VectorField.floats(v, "store request.vector")] }
                try Self.scopeItem(&o, access)
            }
            json = .object(o)
        }
        let request = json, engine = engine, given = vectors, metrics = metrics
        let ids = Self.givenIDs(json)
        return Self.answer(try await queue.run { () throws(StrataError) in
            try Self.refuseForeignIDs(ids, engine, access)
            return try metrics.timed("store") { () throws(StrataError) in try engine.storeJSON(request, vectors: given) }
        }, .created)
    }

    /// The caller-chosen ids of a store request (`"id"` of the item, or of each of `"items"`).
    private static func givenIDs(_ json: JSONValue) -> [String] {
        guard case .object(let o) = json else { return [] }
        let items: [JSONValue] = if case .array(let list)? = o["items"] { list } else { [json] }
        return items.compactMap { item in
            guard case .object(let fields) = item, case .string(let id)? = fields["id"] else { return nil }
            return id
        }
    }

    /// A store with a caller-chosen id replaces the memory of that id: refused when that memory
    /// lies outside the token's subtree, which would otherwise let a token overwrite, and pull
    /// into its own scope, a memory it may not even read. The answer says the id is taken, and
    /// nothing of that memory.
    static func refuseForeignIDs(_ ids: [String], _ engine: Engine, _ access: Access) throws(StrataError) {
        guard !access.seesEverything else { return }
        for id in ids {
            let existing: Memory
            do {
                existing = try engine.get(id: id)
            } catch where error.code == .notFound {
                continue
            }
            guard access.sees(existing.scope) else {
                throw StrataError(.conflict, "memory id \"\(id)\" is taken: choose another id")
            }
        }
    }

    /// A memory to store goes in the token's scope unless it names one inside it.
    private static func scopeItem(_ item: inout [String: JSONValue], _ access: Access) throws {
        guard !access.seesEverything else { return }
        switch item["scope"] {
        case nil, .null?: item["scope"] = .string(access.scope.description)
        case .string(let s)?: _ = try scope(try ScopePath(s), access)
        default: break  // the decoder names the wrong type
        }
    }

    /// `{"query"?, "vector"?, "k", "filter", "scope", "tiers", "category"}` -> `{"hits"}`.
    func recall(_ request: Request, fromQuery: Bool = false) async throws -> Response {
        let access = try authorize(request, .read)
        let json = fromQuery ? try Self.recallRequest(request.uri.queryParameters) : try await body(request, what: "recall request")
        let query = try Self.recallQuery(json, access)
        let (hits, took) = try await queue.run(recallCall(query)) { () throws(StrataError) in
            try ServerTiming.timing { () throws(StrataError) in try self.recallHits(query) }
        }
        var answer = Self.answer(bytes: Wire.recallAnswer(hits))
        answer.headers[ServerTiming.name] = ServerTiming.engine(took)
        return answer
    }

    /// A recall request's query as `access` may make it: its vector decoded, its scope checked
    /// and the token's subtree joined to its filter.
    static func recallQuery(_ json: JSONValue, _ access: Access) throws -> RecallQuery {
        var json = json
        var vector: [Float]?
        if case .object(var o) = json, let v = o.removeValue(forKey: "vector") {
            vector = try VectorField.floats(v, "recall request.vector")
            json = .object(o)
        }
        // No query text and no vector: what the token sees, by recency and importance, as
        // `Engine.recall` answers an empty query on every other face.
        var q = try RecallQuery(json: json, path: "recall request")
        q.vector = vector
        q.scope = try scope(q.scope, access)
        if let subtree = access.subtreeFilter { q.filter = Filter.and([q.filter ?? .always, subtree]) }
        return q
    }

    /// What kind of engine call a recall is: a recall for many hits (or a list of a long page,
    /// below) reads and writes more than the verb's usual call, so it keeps the hand-off
    /// (EngineQueue).
    func recallCall(_ q: RecallQuery) -> EngineCall {
        (q.k ?? engine.configuration.recall.k) <= Self.inlineRows ? .read(.recall) : .other
    }

    /// The engine call of a recall, timed for `/metrics`.
    func recallHits(_ q: RecallQuery) throws(StrataError) -> [Hit] {
        try metrics.timed("recall") { () throws(StrataError) in try engine.recall(q) }
    }

    /// The most hits or memories a recall or a page of a list may ask for and still run on the
    /// event loop of an idle server (`EngineQueue`).
    static let inlineRows = 100

    /// `{"filter"?, "scope"?, "tiers"?, "category"?, "ids"?, "limit"?, "offset"?}` ->
    /// `{"memories", "total"}`: a page of what the token sees, oldest first (`Engine.list`, the
    /// request and answer of the C ABI's `strata_engine_list`). At most `maxListPage` memories a
    /// page, the default when no `limit` is named; `total` counts every match.
    func list(_ request: Request) async throws -> Response {
        let access = try authorize(request, .read)
        var q = try MemoryListQuery(json: try await body(request, what: "list request"), path: "list request")
        let page = options.maxListPage
        if let limit = q.limit, limit > page {
            throw StrataError(.invalidArgument, "list request.limit must be at most \(page) on this server, got \(limit): read more with offset")
        }
        q.limit = q.limit ?? page
        try Self.narrow(&q, access)
        let query = q, engine = engine
        let call: EngineCall = (q.limit ?? page) <= Self.inlineRows ? .read(.list) : .other
        return Self.answer(Answer.list(try await queue.run(call) { () throws(StrataError) in try engine.list(query) }))
    }

    /// `{"filter"?, "scope"?, "tiers"?, "category"?}` -> `{"total"}`: how many memories a
    /// list request with the same selection finds, within the token's scope.
    func count(_ request: Request) async throws -> Response {
        let access = try authorize(request, .read)
        var q = try MemoryListQuery(countJSON: try await body(request, what: "count request"), path: "count request")
        try Self.narrow(&q, access)
        let query = q, engine = engine
        return Self.answer(Answer.count(try await queue.run(.read(.count)) { () throws(StrataError) in try engine.list(query) }.total))
    }

    /// A listing as a token sees it, as `recall` narrows a query: the named scope must lie in the
    /// token's subtree (the token's own scope when none is named), and the subtree's filter is
    /// joined to the request's, so GLOBAL or SHARED memories of other scopes stay out.
    static func narrow(_ q: inout MemoryListQuery, _ access: Access) throws {
        q.scope = try scope(q.scope, access)
        if let subtree = access.subtreeFilter { q.filter = Filter.and([q.filter ?? .always, subtree]) }
    }

    /// `{"texts": [...]}` -> `{"vectors", "dimension", "model"}` (`Engine.embed`; at most
    /// `maxEmbedTexts` texts). Reads no memory, so any token that may read may embed, whatever its scope.
    func embed(_ request: Request) async throws -> Response {
        _ = try authorize(request, .read)
        let json = try await body(request, what: "embed request"), engine = engine, most = options.maxEmbedTexts
        return Self.answer(try await queue.run { () throws(StrataError) in try engine.embedJSON(json, maxTexts: most) })
    }

    /// `GET /memory/recall?query=...&k=...&scope=...&category=...&tiers=a,b&filter={json}`.
    static func recallRequest(_ query: some Sequence<(key: Substring, value: Substring)>) throws -> JSONValue {
        var o: [String: JSONValue] = [:]
        for (key, value) in query {
            let text = String(value)
            switch key {
            case "k":
                guard let k = Int(text) else { throw StrataError(.invalidArgument, "recall request.k must be a whole number, got \"\(text)\"") }
                o["k"] = .number(Double(k))
            case "tiers": o["tiers"] = .array(text.split(separator: ",").map { .string(String($0)) })
            case "filter": o["filter"] = try JSONParser.parse(text, what: "recall request.filter")
            default: o[String(key)] = .string(text)
            }
        }
        return .object(o)
    }

    func get(_ request: Request, id: String) async throws -> Response {
        let access = try authorize(request, .read)
        return Self.answer(Answer.memory(try await visibleMemory(id, access)))
    }

    /// The body of `PATCH /v1/memories/{id}`, or of `PATCH /memory/update` with `"id"` in it.
    func update(_ request: Request, id pathID: String?) async throws -> Response {
        let access = try authorize(request, .write)
        var json = try await body(request, what: "update request")
        if let pathID, case .object(var o) = json {
            if let given = o["id"], given != .string(pathID) {
                throw StrataError(.invalidArgument, "update request.id differs from the id in the path (\(pathID))")
            }
            o["id"] = .string(pathID)
            json = .object(o)
        }
        let change = try MemoryUpdate(json: json, path: "update request")
        _ = try await visibleMemory(change.id, access)
        let request = json, engine = engine
        return Self.answer(try await queue.run { () throws(StrataError) in try engine.updateJSON(request) })
    }

    /// `{"id"}`, or `{"filter", "scope"?, "all"?}`: a filter forgets what the scope owns, the
    /// token's scope when the request names none.
    func forget(_ request: Request, id pathID: String? = nil) async throws -> Response {
        let access = try authorize(request, .write)
        var json: JSONValue
        if let pathID {
            json = .object(["id": .string(pathID)])
        } else if let queryID = request.uri.queryParameters.get("id") {
            json = .object(["id": .string(queryID)])
        } else {
            json = try await body(request, what: "forget request")
        }
        if case .object(var o) = json {
            if case .string(let id)? = o["id"] {
                _ = try await visibleMemory(id, access)
            } else if o["filter"] != nil {
                // A scope of the wrong type is left for the decoder to name.
                switch o["scope"] {
                case nil, .null?:
                    if let scope = try Self.scope(nil, access) { o["scope"] = .string(scope.description) }
                case .string(let s)?:
                    _ = try Self.scope(try ScopePath(s), access)
                default:
                    break
                }
                json = .object(o)
            }
        }
        let request = json, engine = engine
        return Self.answer(try await queue.run { () throws(StrataError) in try engine.forgetJSON(request) })
    }

    func history(_ request: Request, id: String) async throws -> Response {
        let access = try authorize(request, .read)
        let engine = engine
        let entries = try await queue.run(.read(.history)) { () throws(StrataError) in try engine.history(id: id) }
        if !access.seesEverything {
            // A memory's scope never changes (an update cannot move it), so any row tells.
            guard let m = entries.last.flatMap({ $0.new ?? $0.old }), access.sees(m.scope) else {
                throw StrataError(.notFound, "no history for id \"\(id)\"")
            }
        }
        return Self.answer(Answer.history(entries))
    }

    func stats(_ request: Request) async throws -> Response {
        let access = try authorize(request, .read)
        try Self.requireRoot(access, "stats")
        let engine = engine
        return Self.answer(try await queue.run { () throws(StrataError) in try engine.statsJSON(.object([:])) })
    }

    /// `{"dry_run"?, "now"?, "moves"?}` -> the cycle's report.
    func metabolize(_ request: Request) async throws -> Response {
        let access = try authorize(request, .admin)
        try Self.requireRoot(access, "a lifecycle cycle")
        let json = try await body(request, what: "metabolize request"), engine = engine, metrics = metrics
        return Self.answer(try await queue.run { () throws(StrataError) in
            try metrics.timed("metabolize") { () throws(StrataError) in try engine.metabolizeJSON(json) }
        })
    }

    /// `{"threshold"?, "limit"?, "filter"?, "scope"?, "tiers"?, "category"?}`, within the token's scope.
    func anomalies(_ request: Request, hasBody: Bool) async throws -> Response {
        let access = try authorize(request, .read)
        let json = hasBody ? try await body(request, what: "anomalies request") : .object([:])
        var q = try AnomalyQuery(json: json, path: "anomalies request")
        q.scope = try Self.scope(q.scope, access)
        if let subtree = access.subtreeFilter { q.filter = Filter.and([q.filter ?? .always, subtree]) }
        let query = q, engine = engine
        return Self.answer(Answer.anomalies(try await queue.run { () throws(StrataError) in try engine.anomalies(query) }))
    }

    func snapshots(_ request: Request) async throws -> Response {
        let access = try authorize(request, .read)
        try Self.requireRoot(access, "the list of snapshots")
        let engine = engine
        return Self.answer(try await queue.run { () throws(StrataError) in try engine.snapshotsJSON(.object([:])) })
    }

    /// `{"name"}` -> the snapshot taken.
    func snapshot(_ request: Request) async throws -> Response {
        let access = try authorize(request, .admin)
        try Self.requireRoot(access, "a snapshot")
        let json = try await body(request, what: "snapshot request"), engine = engine
        return Self.answer(try await queue.run { () throws(StrataError) in try engine.snapshotJSON(json) }, .created)
    }

    func rollback(_ request: Request, name: String) async throws -> Response {
        let access = try authorize(request, .admin)
        try Self.requireRoot(access, "a rollback")
        let engine = engine
        return Self.answer(try await queue.run { () throws(StrataError) in try engine.rollbackJSON(.object(["name": .string(name)])) })
    }

    func deleteSnapshot(_ request: Request, name: String) async throws -> Response {
        let access = try authorize(request, .admin)
        try Self.requireRoot(access, "deleting a snapshot")
        let engine = engine
        return Self.answer(try await queue.run { () throws(StrataError) in try engine.deleteSnapshotJSON(.object(["name": .string(name)])) })
    }

    /// `{"scope", "role", "token_id", "tokens_required"}`: what the request's token may see and
    /// do (the root scope is `""`), so a client such as the dashboard shows only what it allows.
    /// Without a token file every request is the root scope's admin and `token_id` is null.
    func whoami(_ request: Request) throws -> Response {
        let access = try authorize(request, .read)
        return Self.answer(.object([
            "scope": .string(access.scope.description), "role": .string(access.role.rawValue),
            "token_id": access.tokenID.map { .string($0) } ?? .null, "tokens_required": .bool(tokens.required),
        ]))
    }

    /// `GET /v1/lifecycle/cycles?limit=N` (default 100, at most 10,000) -> the newest N committed
    /// lifecycle cycles, oldest first, each with its own counts (`CycleHistory`), and the total.
    func lifecycleCycles(_ request: Request) async throws -> Response {
        let access = try authorize(request, .read)
        try Self.requireRoot(access, "the lifecycle cycles")
        var limit = 100
        if let text = request.uri.queryParameters.get("limit") {
            guard let n = Int(text), (1...10_000).contains(n) else {
                throw StrataError(.invalidArgument, "limit must be a whole number from 1 to 10000, got \"\(text)\"")
            }
            limit = n
        }
        let engine = engine, tail = limit + 1
        // The newest rows and the one before them (a cycle's counts are its totals minus the
        // previous row's), not the whole ledger: it grows by a row a cycle, for good.
        let (rows, total) = try await queue.run { () throws(StrataError) -> (rows: [HistoryEntry], total: Int) in
            try engine.historyTail(id: LifecycleLedger.id, limit: tail)
        }
        return Self.answer(try CycleHistory(ledgerRows: rows, total: total, newest: limit).json(limit: limit))
    }

    /// `{"status": "ok", "in_flight", "events", "lifecycle"?, "anomaly_scan"?}`, the last two
    /// when scheduled: `{"every_seconds", "runs", "failed", "last_error"}`. Answered without the engine.
    func health() -> Response {
        var o: [String: JSONValue] = [
            "status": .string("ok"), "in_flight": .number(Double(queue.inFlight)), "events": .number(Double(events.lastSeq)),
        ]
        if let lifecycle { o["lifecycle"] = lifecycle.json }
        if let anomalyScan { o["anomaly_scan"] = anomalyScan.json }
        return Self.answer(.object(o))
    }

    /// The OpenAPI document (docs/openapi.json, embedded in the binary).
    func openAPI() -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.text)))
    }

    /// Prometheus metrics (`ServerMetrics`). With a token file, a token of the root scope, any
    /// role: the counts span every scope, as `/v1/stats` does, and a scraper needs no right to
    /// change anything.
    func scrape(_ request: Request, logger: Logger) async throws -> Response {
        let access = try authorize(request, .read)
        try Self.requireRoot(access, "metrics")
        let engine = engine, queue = queue
        let bytes = await metrics.exposition(
            count: { try await queue.run { () throws(StrataError) in try engine.stats().byTier } },
            onCountFailure: { error in
                logger.warning("metrics: memories per tier not counted; the last count stays", metadata: ["error": "\(error)"])
            })
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    func version() -> Response {
        Self.answer(.object(["version": .string(options.version), "api": .string("v1")]))
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
