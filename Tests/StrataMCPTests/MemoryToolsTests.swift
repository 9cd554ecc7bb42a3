import MCP
import StrataCore
import StrataEngine
@testable import StrataMCP
import StrataWire
import Testing

/// Tests Sources/StrataMCP/MemoryTools.swift, MemoryToolCatalog.swift and MemoryMCPServer.swift
/// through the MCP Swift SDK's own client, connected to the server over the SDK's in-process
/// transport: the JSON-RPC messages a real client sends, encoded and decoded by the SDK.
@Suite struct MemoryToolsTests {
    /// A started server over `engine` bounded by `access`, and a client connected to it.
    struct Session {
        let client: Client
        let server: Server

        init(_ engine: Engine, _ access: Access) async throws {
            let (clientSide, serverSide) = await InMemoryTransport.createConnectedPair()
            server = await MemoryMCPServer.make(MemoryTools(engine: engine, access: access), version: "test")
            try await server.start(transport: serverSide)
            client = Client(name: "strata-tests", version: "1")
            _ = try await client.connect(transport: clientSide)
        }

        func call(_ name: String, _ arguments: [String: Value] = [:]) async throws -> CallTool.Result {
            try await client.send(CallTool.request(.init(name: name, arguments: arguments))).value
        }

        /// A call that must succeed; its structured content as JSON.
        func ok(_ name: String, _ arguments: [String: Value] = [:]) async throws -> JSONValue {
            let r = try await call(name, arguments)
            #expect(r.isError != true, "\(name) failed: \(r.content)")
            return JSONValue(try #require(r.structuredContent))
        }

        /// A call that must fail as a tool error; its error object.
        func failure(_ name: String, _ arguments: [String: Value] = [:]) async throws -> (status: String, code: Double, message: String, text: String) {
            let r = try await call(name, arguments)
            #expect(r.isError == true)
            let e = JSONValue(try #require(r.structuredContent))
            guard case .text(let text, _, _)? = r.content.first else { Issue.record("no text content"); return ("", 0, "", "") }
            return (e.value(at: ["error", "status"])?.stringValue ?? "", e.value(at: ["error", "code"])?.numberValue ?? 0,
                    e.value(at: ["error", "message"])?.stringValue ?? "", text)
        }

        func stop() async {
            await client.disconnect()
            await server.stop()
        }
    }

    static func access(_ scope: String, _ role: TokenRole) throws -> Access { Access(scope: try ScopePath(scope), role: role) }

    @Test func listsEveryToolWithSchemasAndHonestAnnotations() async throws {
        let s = try await Session(try Engine(), .unrestricted)
        let (tools, _) = try await s.client.listTools()
        #expect(tools.map(\.name) == ["remember", "recall", "get", "update", "forget", "history", "stats", "metabolize"])
        for tool in tools {
            #expect(JSONValue(tool.inputSchema).value(at: ["type"]) == "object", "\(tool.name) input schema")
            #expect(tool.outputSchema.map { JSONValue($0).value(at: ["type"]) } == "object", "\(tool.name) output schema")
            #expect(tool.annotations.openWorldHint == false)
        }
        let byName = Dictionary(uniqueKeysWithValues: tools.map { ($0.name, $0.annotations) })
        for name in ["recall", "get", "history", "stats"] { #expect(byName[name]?.readOnlyHint == true, "\(name)") }
        for name in ["remember", "update", "forget", "metabolize"] { #expect(byName[name]?.readOnlyHint == false, "\(name)") }
        #expect(byName["forget"]?.destructiveHint == true)
        #expect(byName["update"]?.destructiveHint == true)
        #expect(byName["metabolize"]?.destructiveHint == true)
        #expect(byName["remember"]?.destructiveHint == false)
        #expect(byName["remember"]?.idempotentHint == false)
        #expect(JSONValue(tools[0].inputSchema).value(at: ["required"]) == ["content"])
        await s.stop()
    }

    @Test func aRoleAndAScopeNarrowTheList() async throws {
        let engine = try Engine()
        let reader = try await Session(engine, try Self.access("org/a", .read))
        #expect(try await reader.client.listTools().tools.map(\.name) == ["recall", "get", "history"])
        let writer = try await Session(engine, try Self.access("org/a", .admin))
        // stats and metabolize span every scope: not offered under a scope, whatever the role.
        #expect(try await writer.client.listTools().tools.map(\.name) == ["remember", "recall", "get", "update", "forget", "history"])
        await reader.stop()
        await writer.stop()
    }

    @Test func callsEveryTool() async throws {
        let s = try await Session(try Engine(), .unrestricted)
        let stored = try await s.ok("remember", [
            "content": "Alice prefers a window seat on long flights", "metadata": ["topic": "travel"], "scope": "org/a",
            "importance": 0.8, "category": "preference",
        ])
        let id = try #require(stored.value(at: ["id"])?.stringValue)
        #expect(stored.value(at: ["deduplicated"]) == [])

        let r = try await s.call("recall", ["query": "window seat", "k": 3])
        let structured = try #require(r.structuredContent)
        let hits = try #require(JSONValue(structured).value(at: ["hits"])?.arrayValue)
        #expect(hits.first?.value(at: ["id"])?.stringValue == id)
        #expect(hits.first?.value(at: ["scores", "fused"])?.numberValue != nil)
        guard case .text(let text, _, _)? = r.content.first else { Issue.record("no text"); return }
        #expect(text.hasPrefix("1 memory, best first:\n1. Alice prefers a window seat on long flights [id \(id); score "))

        let got = try await s.ok("get", ["id": .string(id)])
        #expect(got.value(at: ["category"]) == "preference")
        // recall through MCP reads: the access count is unchanged.
        #expect(got.value(at: ["access_count"]) == 0)

        let updated = try await s.ok("update", ["id": .string(id), "importance": 0.3, "pinned": true])
        #expect(updated.value(at: ["importance"]) == 0.3)
        #expect(updated.value(at: ["pinned"]) == true)

        let history = try await s.ok("history", ["id": .string(id)])
        #expect(history.value(at: ["history"])?.arrayValue?.map { $0.value(at: ["event"]) } == ["ADD", "UPDATE"])

        let stats = try await s.ok("stats")
        #expect(stats.value(at: ["memories"]) == 1)

        let cycle = try await s.ok("metabolize")
        #expect(cycle.value(at: ["dry_run"]) == true)

        #expect(try await s.ok("forget", ["id": .string(id)]) == ["forgotten": [.string(id)]])
        #expect(try await s.ok("stats").value(at: ["memories"]) == 0)
        await s.stop()
    }

    @Test func forgetByFilterStaysInTheScope() async throws {
        let engine = try Engine()
        let root = try await Session(engine, .unrestricted)
        _ = try await root.ok("remember", ["content": "a note of team a", "scope": "org/a", "metadata": ["kind": "note"]])
        _ = try await root.ok("remember", ["content": "a note of team b", "scope": "org/b", "metadata": ["kind": "note"]])
        let a = try await Session(engine, try Self.access("org/a", .write))
        let forgotten = try await a.ok("forget", ["filter": ["kind": "note"]])
        #expect(forgotten.value(at: ["forgotten"])?.arrayValue?.count == 1)
        #expect(try await root.ok("stats").value(at: ["by_scope"]) == ["org/b": 1])
        await a.stop()
        await root.stop()
    }

    @Test func aScopedAccessNeitherSeesNorReachesAnotherScope() async throws {
        let engine = try Engine()
        let root = try await Session(engine, .unrestricted)
        let bID = try #require(try await root.ok("remember", ["content": "the launch code of team b is 4711", "scope": "org/b"])
            .value(at: ["id"])?.stringValue)
        let a = try await Session(engine, try Self.access("org/a", .write))
        // Stored without a scope: it lands in the access's own.
        let aID = try #require(try await a.ok("remember", ["content": "team a meets on Mondays"]).value(at: ["id"])?.stringValue)
        #expect(try await a.ok("get", ["id": .string(aID)]).value(at: ["scope"]) == "org/a")

        let hits = try await a.ok("recall", ["query": "launch code team b"]).value(at: ["hits"])?.arrayValue ?? []
        #expect(!hits.contains { $0.value(at: ["id"])?.stringValue == bID })
        #expect(hits.allSatisfy { $0.value(at: ["scope"]) == "org/a" })

        // Another scope's id is answered as an unknown one, on every verb.
        for tool in ["get", "history", "update", "forget"] {
            var args: [String: Value] = ["id": .string(bID)]
            if tool == "update" { args["content"] = "changed" }
            let e = try await a.failure(tool, args)
            #expect(e.status == "STRATA_ERR_NOT_FOUND", "\(tool)")
            #expect(e.code == -2)
        }
        for (tool, args) in [("recall", ["query": "x", "scope": "org/b"]), ("remember", ["content": "x", "scope": "org/b"] as [String: Value])] {
            let e = try await a.failure(tool, args)
            #expect(e.status == "FORBIDDEN", "\(tool)")
            #expect(e.code == 403)
            #expect(e.message == "this token is for scope \"org/a\" and what is below it, not \"org/b\"")
        }
        let stats = try await a.failure("stats")
        #expect(stats.message == "stats spans every scope: it needs a token of the root scope, not of \"org/a\"")
        // Still there, unchanged.
        #expect(try await root.ok("get", ["id": .string(bID)]).value(at: ["content"]) == "the launch code of team b is 4711")
        await a.stop()
        await root.stop()
    }

    @Test func aReadRoleCannotWrite() async throws {
        let s = try await Session(try Engine(), try Self.access("", .read))
        let e = try await s.failure("remember", ["content": "x"])
        #expect(e.status == "FORBIDDEN")
        #expect(e.message == "this token's role is read; this needs write")
        #expect(try await s.failure("metabolize").message == "this token's role is read; this needs admin")
        await s.stop()
    }

    @Test func engineErrorsAreToolErrorsWithTheCodeAndMessageOfEveryFace() async throws {
        let engine = try Engine()
        let s = try await Session(engine, .unrestricted)
        let missing = try await s.failure("get", ["id": "nope"])
        #expect(missing.text == "STRATA_ERR_NOT_FOUND (-2): no memory with id \"nope\"")
        // The message the engine gives the C ABI and the CLI for the same request.
        do {
            _ = try engine.getJSON(["id": "nope"])
            Issue.record("get of an unknown id succeeded")
        } catch {
            #expect(missing.message == error.message)
        }
        let unknownKey = try await s.failure("remember", ["content": "x", "colour": "red"])
        #expect(unknownKey.status == "STRATA_ERR_INVALID_JSON")
        #expect(unknownKey.message == "unknown key store request.colour")
        // remember takes no id: a caller's id would replace the memory that has it, whatever its scope.
        let withID = try await s.failure("remember", ["content": "x", "id": "m-1"])
        #expect(withID.message == "unknown key store request.id")
        let badFilter = try await s.failure("recall", ["query": "x", "filter": ["n": ["$near": 1]]])
        #expect(badFilter.status == "STRATA_ERR_INVALID_FILTER")
        let importance = try await s.failure("remember", ["content": "x", "importance": 2])
        #expect(importance.status == "STRATA_ERR_INVALID_ARGUMENT" || importance.status == "STRATA_ERR_INVALID_JSON")
        let empty = try await s.failure("remember", [:])
        #expect(empty.message == "store request.content is required (non-empty text)")
        let both = try await s.failure("forget", [:])
        #expect(both.message == "forget request needs exactly one of \"id\" or \"filter\"")
        await s.stop()
    }

    @Test func anUnknownToolIsAProtocolError() async throws {
        let s = try await Session(try Engine(), .unrestricted)
        await #expect(throws: MCPError.self) { _ = try await s.call("drop_everything") }
        await s.stop()
    }

    @Test func metabolizeIsADryRunUnlessAskedOtherwise() async throws {
        let s = try await Session(try Engine(), .unrestricted)
        #expect(try await s.ok("metabolize", ["dry_run": false]).value(at: ["dry_run"]) == false)
        #expect(try await s.ok("metabolize", [:]).value(at: ["dry_run"]) == true)
        await s.stop()
    }
}
