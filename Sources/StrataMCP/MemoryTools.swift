import MCP
import StrataCore
import StrataEngine
import StrataWire

/// The memory tools over one engine, bounded by an `Access`: every call sees and changes only
/// the access's scope subtree, and only what its role allows, whatever the arguments say. Over
/// HTTP the access is the bearer token's; over stdio, `strata mcp --scope --role`.
///
/// Each call decodes its arguments with StrataWire's request decoders and answers with
/// StrataWire's `Answer` JSON, as the REST routes do, so a tool's structured content is the
/// body `strata serve` would send, and a failure carries the same status name, code and
/// message (`ToolFailure`).
///
///     let tools = MemoryTools(engine: engine, access: Access(scope: try ScopePath("org/a"), role: .write))
///     let result = await tools.call("recall", arguments: ["query": .string("window seat")])
///
/// Thread-safe: calls may run at once; the engine serializes its writers.
public final class MemoryTools: Sendable {
    /// Runs one blocking engine call off Swift's cooperative pool and returns its answer. It may
    /// throw `StrataError`, `ToolFailure` (a refusal of the caller's own, e.g. a busy server),
    /// or `CancellationError`.
    public typealias EngineCall = @Sendable (_ body: @escaping @Sendable () throws(StrataError) -> JSONValue) async throws -> JSONValue

    /// The engine every tool calls.
    public let engine: Engine
    /// The scope subtree and role bounding every call.
    public let access: Access
    private let run: EngineCall

    /// - Parameters:
    ///   - engine: the engine every tool calls.
    ///   - access: the scope subtree and role bounding every call.
    ///   - run: how a blocking engine call is run; by default on a Dispatch thread (`BlockingCall`).
    public init(engine: Engine, access: Access, run: EngineCall? = nil) {
        self.engine = engine
        self.access = access
        self.run = run ?? { body in try await BlockingCall.run(body) }
    }

    /// The tools this access may call (`MemoryToolCatalog.tools(for:)`).
    public var tools: [Tool] { MemoryToolCatalog.tools(for: access) }

    /// Calls one tool. A failure is a tool error (`isError: true`) whose structured content is
    /// the error JSON and whose text is `STATUS (code): message`.
    /// - Throws: `MCPError.invalidParams` for a name that is no tool (a protocol error, as the
    ///   MCP specification asks for unknown tools).
    public func call(_ name: String, arguments: [String: Value]?) async throws -> CallTool.Result {
        guard MemoryToolCatalog.tool(name) != nil else { throw MCPError.invalidParams("Unknown tool: \(name)") }
        let args = JSONValue.object((arguments ?? [:]).mapValues(JSONValue.init))
        do {
            let answer = try await answer(name, args)
            let structured: Value? = Value(answer)
            return CallTool.Result(content: [.text(text: Self.text(name, answer), annotations: nil, _meta: nil)], structuredContent: structured)
        } catch let failure as ToolFailure {
            return Self.result(failure)
        } catch let error as StrataError {
            return Self.result(ToolFailure(error))
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            return Self.result(ToolFailure(StrataError(.internal, "the tool failed: \(error)")))
        }
    }

    /// A failure as a tool result.
    public static func result(_ failure: ToolFailure) -> CallTool.Result {
        let structured: Value? = Value(failure.body)
        return CallTool.Result(content: [.text(text: failure.text, annotations: nil, _meta: nil)], structuredContent: structured, isError: true)
    }

    // MARK: - The tools

    private func answer(_ name: String, _ args: JSONValue) async throws -> JSONValue {
        if let needed = MemoryToolCatalog.role(name), access.role < needed {
            throw ToolFailure.forbidden("this token's role is \(access.role.rawValue); this needs \(needed.rawValue)")
        }
        if MemoryToolCatalog.spansEveryScope(name), !access.seesEverything {
            let what = name == "stats" ? "stats" : "a lifecycle cycle"
            throw ToolFailure.forbidden("\(what) spans every scope: it needs a token of the root scope, not of \"\(access.scope)\"")
        }
        let engine = engine
        switch name {
        case "remember":
            var o = try Self.fields(args, "store request", ["content", "metadata", "scope", "importance", "category"])
            try placeInScope(&o)
            let request = JSONValue.object(o)
            return try await run { () throws(StrataError) in try engine.storeJSON(request) }
        case "recall":
            let o = try Self.fields(args, "recall request", ["query", "k", "filter", "scope", "category", "tiers"])
            var q = try RecallQuery(json: .object(o), path: "recall request")
            // A model's recall reads: it never counts as an access (see MemoryToolCatalog).
            q.trackAccess = false
            q.scope = try scope(q.scope)
            if let subtree = access.subtreeFilter { q.filter = Filter.and([q.filter ?? .always, subtree]) }
            let query = q
            return try await run { () throws(StrataError) in Answer.recall(try engine.recall(query)) }
        case "get":
            let id = try Self.id(args, "get request")
            return try await visibleMemory(id)
        case "update":
            let o = try Self.fields(args, "update request", ["id", "content", "metadata", "importance", "category", "pinned"])
            let change = try MemoryUpdate(json: .object(o), path: "update request")
            try await visibleMemory(change.id)
            let request = JSONValue.object(o)
            return try await run { () throws(StrataError) in try engine.updateJSON(request) }
        case "forget":
            var o = try Self.fields(args, "forget request", ["id", "filter", "scope", "all"])
            if case .string(let id)? = o["id"] {
                try await visibleMemory(id)
            } else if o["filter"] != nil {
                switch o["scope"] {
                case nil, .null?:
                    o["scope"] = nil
                    if !access.seesEverything { o["scope"] = .string(access.scope.description) }
                case .string(let s)?:
                    _ = try scope(try ScopePath(s))
                default:
                    break  // the decoder names the wrong type
                }
            }
            let request = JSONValue.object(o)
            return try await run { () throws(StrataError) in try engine.forgetJSON(request) }
        case "history":
            let id = try Self.id(args, "history request")
            let access = access
            return try await run { () throws(StrataError) in
                let entries = try engine.history(id: id)
                // A memory's scope never changes (an update cannot move it), so any row tells.
                if !access.seesEverything {
                    guard let m = entries.last.flatMap({ $0.new ?? $0.old }), access.sees(m.scope) else {
                        throw StrataError(.notFound, "no history for id \"\(id)\"")
                    }
                }
                return Answer.history(entries)
            }
        case "stats":
            _ = try Self.fields(args, "stats request", [])
            return try await run { () throws(StrataError) in try engine.statsJSON(.object([:])) }
        case "metabolize":
            var o = try Self.fields(args, "metabolize request", ["dry_run", "now"])
            // A dry run unless the caller says otherwise: the tool's default is the safe one.
            if o["dry_run"] == nil || o["dry_run"] == .null { o["dry_run"] = .bool(true) }
            let request = JSONValue.object(o)
            return try await run { () throws(StrataError) in try engine.metabolizeJSON(request) }
        default:
            throw MCPError.invalidParams("Unknown tool: \(name)")
        }
    }

    // MARK: - Bounds

    /// The scope a call names, checked against the access; the access's own when it names
    /// none. Nil when neither narrows it (the root and no scope).
    private func scope(_ named: ScopePath?) throws -> ScopePath? {
        guard let named else { return access.seesEverything ? nil : access.scope }
        guard access.sees(named) else {
            throw ToolFailure.forbidden("this token is for scope \"\(access.scope)\" and what is below it, not \"\(named)\"")
        }
        return named
    }

    /// A memory to store goes in the access's scope unless it names one inside it.
    private func placeInScope(_ o: inout [String: JSONValue]) throws {
        switch o["scope"] {
        case nil, .null?:
            o["scope"] = nil
            if !access.seesEverything { o["scope"] = .string(access.scope.description) }
        case .string(let s)?:
            _ = try scope(try ScopePath(s))
        default:
            break  // the decoder names the wrong type
        }
    }

    /// The memory `id` when the access may see it; otherwise the engine's own not-found error,
    /// so an id in another scope cannot be told apart from one that does not exist.
    /// - Returns: the memory's JSON (`Answer.memory`).
    @discardableResult
    private func visibleMemory(_ id: String) async throws -> JSONValue {
        let engine = engine, access = access
        return try await run { () throws(StrataError) in
            let memory = try engine.get(id: id)
            guard access.sees(memory.scope) else { throw StrataError(.notFound, "no memory with id \"\(id)\"") }
            return Answer.memory(memory)
        }
    }

    // MARK: - Arguments

    /// The arguments as a request object, refusing a key the tool does not take (with the
    /// message the decoders give for an unknown key).
    private static func fields(_ args: JSONValue, _ what: String, _ allowed: [String]) throws(StrataError) -> [String: JSONValue] {
        var r = try JSONObjectReader(args, path: what)
        var o: [String: JSONValue] = [:]
        for key in allowed { if let v = r.optionalValue(key) { o[key] = v } }
        try r.finish()
        return o
    }

    private static func id(_ args: JSONValue, _ what: String) throws(StrataError) -> String {
        var r = try JSONObjectReader(args, path: what)
        let id = try r.string("id")
        try r.finish()
        return id
    }

    // MARK: - Text for the model

    /// What the model reads: for recall, one line per hit; for the rest, the answer's JSON.
    static func text(_ name: String, _ answer: JSONValue) -> String {
        guard name == "recall", case .array(let hits)? = answer.value(at: ["hits"]) else { return Wire.text(answer) }
        if hits.isEmpty { return "No memories found." }
        var lines = ["\(hits.count) memor\(hits.count == 1 ? "y" : "ies"), best first:"]
        for (i, hit) in hits.enumerated() {
            let content = hit.value(at: ["content"])?.stringValue ?? ""
            let id = hit.value(at: ["id"])?.stringValue ?? ""
            let score = hit.value(at: ["score"])?.numberValue ?? 0
            let scope = hit.value(at: ["scope"])?.stringValue ?? ""
            let category = hit.value(at: ["category"])?.stringValue ?? ""
            var line = "\(i + 1). \(content) [id \(id); score \(Self.rounded(score))"
            if !scope.isEmpty { line += "; scope \(scope)" }
            if !category.isEmpty { line += "; category \(category)" }
            if case .object(let metadata)? = hit.value(at: ["metadata"]), !metadata.isEmpty {
                line += "; metadata \(Wire.text(.object(metadata)))"
            }
            lines.append(line + "]")
        }
        return lines.joined(separator: "\n")
    }

    private static func rounded(_ x: Double) -> String {
        let r = (x * 1000).rounded() / 1000
        return "\(r)"
    }
}
