import StrataCore
import StrataEngine
@testable import StrataServer
import StrataWire
import Testing

/// Tests the pieces of Sources/StrataServer/MemoryService.swift and ServerOptions.swift that need
/// no socket (an engine in memory at most); the routes themselves are tested against the real
/// binary (Tests/cli/test_serve.py).
@Suite struct MemoryServiceTests {
    @Test func scope__defaults_to_the_token_and_refuses_outside_its_subtree() throws {
        let a = Access(scope: try ScopePath("org/a"), role: .write)
        #expect(try MemoryService.scope(nil, a) == (try ScopePath("org/a")))
        #expect(try MemoryService.scope(try ScopePath("org/a/x"), a) == (try ScopePath("org/a/x")))
        #expect(try MemoryService.scope(nil, .unrestricted) == nil)
        do {
            _ = try MemoryService.scope(try ScopePath("org/b"), a)
            Issue.record("org/b accepted for a token of org/a")
        } catch let error as APIError {
            #expect(error.status == .forbidden)
            #expect(error.message == "this token is for scope \"org/a\" and what is below it, not \"org/b\"")
        }
        #expect(throws: APIError.self) { try MemoryService.requireRoot(a, "stats") }
        try MemoryService.requireRoot(.unrestricted, "stats")
    }

    @Test func narrow__lists_the_token_subtree_only_even_what_other_scopes_share_with_everyone() throws {
        let engine = try Engine()
        func put(_ text: String, _ scope: String, _ visibility: Visibility) throws -> String {
            var m = NewMemory(text)
            m.scope = try ScopePath(scope)
            m.visibility = visibility
            return try engine.store(m).id
        }
        let a = try put("of org/a", "org/a", .local)
        let below = try put("below org/a", "org/a/x", .global)
        let elsewhere = try put("of org/b, for everyone", "org/b", .global)
        let token = Access(scope: try ScopePath("org/a"), role: .read)
        func listed(_ q: MemoryListQuery, _ access: Access) throws -> Set<String> {
            var q = q
            try MemoryService.narrow(&q, access)
            return Set(try engine.list(q).memories.map(\.id))
        }
        #expect(try listed(MemoryListQuery(), token) == [a, below], "org/b's GLOBAL memory is in org/a's view, not its subtree")
        #expect(try listed(MemoryListQuery(ids: [a, elsewhere]), token) == [a])
        #expect(try listed(MemoryListQuery(), .unrestricted) == [a, below, elsewhere])
        var count = try MemoryListQuery(countJSON: [:], path: "count request")
        try MemoryService.narrow(&count, token)
        #expect(try engine.list(count).total == 2)
        #expect(throws: APIError.self) { try listed(MemoryListQuery(scope: try ScopePath("org/b")), token) }
        #expect(throws: APIError.self) { try listed(MemoryListQuery(scope: .root), token) }
    }

    @Test func recallRequest__reads_the_query_string_of_the_first_api() throws {
        let pairs: [(key: Substring, value: Substring)] = [
            ("query", "tea"), ("k", "3"), ("scope", "org/a"), ("tiers", "hot,warm"), ("filter", "{\"u\": \"x\"}"),
        ]
        #expect(try MemoryService.recallRequest(pairs) == .object([
            "query": "tea", "k": 3, "scope": "org/a", "tiers": .array(["hot", "warm"]), "filter": .object(["u": "x"]),
        ]))
        #expect(throws: StrataError.self) { try MemoryService.recallRequest([(key: "k", value: "many")]) }
        #expect(throws: StrataError.self) { try MemoryService.recallRequest([(key: "filter", value: "{")]) }
    }

    @Test func floats__name_the_element_that_is_not_a_number() throws {
        #expect(try VectorField.floats(.array([1, 2.5]), "v") == [1, 2.5])
        #expect(throws: StrataError(.invalidVector, "v[1] is not a number")) { try VectorField.floats(.array([1, "x"]), "v") }
        #expect(throws: StrataError(.invalidVector, "v must be an array of numbers or a base64 string of float32s")) {
            try VectorField.floats(.number(1), "v")
        }
    }

    @Test func closeReason__fits_a_control_frame_and_cuts_between_characters() {
        #expect(WebSocketClose.reason("short") == "short")
        let long = String(repeating: "é", count: 100)  // 200 bytes
        let cut = WebSocketClose.reason(long)
        #expect(cut.utf8.count == 122 && cut.allSatisfy { $0 == "é" })
        #expect(WebSocketClose.refused(401) == 4401)
    }

    @Test func loopback__only_names_this_machine() {
        var options = ServerOptions()
        for host in ["127.0.0.1", "127.0.0.2", "localhost", "::1"] {
            options.host = host
            #expect(options.hostIsLoopback, "\(host)")
        }
        for host in ["0.0.0.0", "::", "192.168.1.2", "example.com"] {
            options.host = host
            #expect(!options.hostIsLoopback, "\(host)")
        }
    }
}
