import Foundation
import HTTPTypes
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import StrataCore
import StrataEngine
@testable import StrataServer
import StrataWire
import Testing

/// RecallFastLane in a pipeline of its own (NIO's EmbeddedChannel): what it answers in place,
/// what it hands to the router unchanged, and that answers keep the order of their requests.
/// The same requests against the real server, with the lane and without it, are compared in
/// Tests/cli/test_serve.py.
@Suite struct RecallFastLaneTests {
    /// A service over an engine in memory with a few memories, whose recall verb has run once
    /// (a verb's first call always takes the hand-off, so the lane declines until then).
    static func service(maxBody: Int = 16 << 20, inlineMicroseconds: Int = 1_000_000,
                        aloneMicroseconds: Int = ServerOptions().inlineAloneReadMicroseconds) async throws -> MemoryService {
        let engine = try Engine()
        for text in ["tea with lemon", "rivers and hills", "a kettle on the stove", "hills in fog"] { _ = try engine.store(NewMemory(text)) }
        var options = ServerOptions()
        options.maxBodyBytes = maxBody
        options.inlineReadMicroseconds = inlineMicroseconds
        options.inlineAloneReadMicroseconds = aloneMicroseconds
        let service = MemoryService(engine: engine, options: options, tokens: TokenAuthority(path: "/nonexistent/strata-tokens.json"))
        let q = try MemoryService.recallQuery(["query": "tea", "k": 1], .unrestricted)
        _ = try await service.queue.run(.read(.recall)) { () throws(StrataError) in try service.recallHits(q) }
        return service
    }

    static func parts(_ body: String, path: String = "/v1/recall", method: HTTPRequest.Method = .post,
                      extra: HTTPFields = [:], length: Int? = nil) -> [HTTPRequestPart] {
        var fields = extra
        fields[.contentLength] = String(length ?? body.utf8.count)
        let head = HTTPRequest(method: method, scheme: nil, authority: "127.0.0.1", path: path, headerFields: fields)
        return body.isEmpty ? [.head(head), .end(nil)] : [.head(head), .body(ByteBuffer(string: body)), .end(nil)]
    }

    static func send(_ channel: EmbeddedChannel, _ parts: [HTTPRequestPart]) throws {
        for part in parts { try channel.writeInbound(part) }
    }

    /// Every part the lane handed on to the router.
    static func passed(_ channel: EmbeddedChannel) throws -> [HTTPRequestPart] {
        var out: [HTTPRequestPart] = []
        while let part = try channel.readInbound(as: HTTPRequestPart.self) { out.append(part) }
        return out
    }

    /// The answer the lane wrote, if it wrote one.
    static func answered(_ channel: EmbeddedChannel) throws -> (HTTPResponse, JSONValue)? {
        guard case .head(let head)? = try channel.readOutbound(as: HTTPResponsePart.self) else { return nil }
        guard case .body(let body)? = try channel.readOutbound(as: HTTPResponsePart.self),
              case .end? = try channel.readOutbound(as: HTTPResponsePart.self) else {
            Issue.record("an answer without its body and end")
            return nil
        }
        #expect(head.headerFields[.contentLength] == String(body.readableBytes))
        return (head, try JSONParser.parse(String(buffer: body), what: "answer"))
    }

    static func ids(_ answer: JSONValue) -> [String] {
        guard case .object(let o) = answer, case .array(let hits)? = o["hits"] else { return [] }
        return hits.compactMap { hit in
            guard case .object(let h) = hit, case .string(let id)? = h["id"] else { return nil }
            return id
        }
    }

    @Test func answers_an_idle_servers_recall_in_place_as_the_engine_does() async throws {
        let service = try await Self.service()
        let channel = EmbeddedChannel(handler: RecallFastLane(service: service, logger: Logger(label: "test")))
        // No access counted, so the engine's own recall below ranks the same.
        try Self.send(channel, Self.parts(#"{"query": "hills", "k": 2, "track_access": false}"#, extra: [RequestLine.header: "trace-1"]))
        #expect(try Self.passed(channel).isEmpty, "nothing reaches the router")
        let (head, body) = try #require(try Self.answered(channel))
        #expect(head.status == .ok)
        #expect(head.headerFields[.contentType] == "application/json")
        #expect(head.headerFields[RequestLine.header] == "trace-1")
        #expect(head.headerFields[.date]?.hasSuffix(" GMT") == true)
        #expect(head.headerFields[ServerTiming.name]?.hasPrefix("engine;dur=") == true, "the engine call's time")
        let same = try MemoryService.recallQuery(["query": "hills", "k": 2, "track_access": false], .unrestricted)
        let expected = try service.engine.recall(same).map(\.memory.id)
        #expect(Self.ids(body) == expected && expected.count == 2)
        #expect(service.queue.inFlight == 0)

        // Seed 002's POST /memory/recall is the same handler: answered here too.
        try Self.send(channel, Self.parts(#"{"query": "hills", "k": 2, "track_access": false}"#, path: "/memory/recall"))
        #expect(try Self.passed(channel).isEmpty)
        let (aliasHead, aliasBody) = try #require(try Self.answered(channel))
        #expect(aliasHead.status == .ok && Self.ids(aliasBody) == expected)

        // An error of the engine call itself (a vector of the wrong length) is answered here,
        // as the router's ErrorAnswers would: 422 and the engine's error.
        try Self.send(channel, Self.parts(#"{"vector": [1, 2, 3], "k": 2}"#))
        let (refused, error) = try #require(try Self.answered(channel))
        #expect(refused.status.code == 422)
        #expect(refused.headerFields[ServerTiming.name] == nil, "a refused call has no time, as through the router")
        #expect(Wire.text(error).contains("STRATA_ERR_DIMENSION"))
        #expect(try Self.passed(channel).isEmpty)
        _ = try channel.finish()
    }

    @Test func leaves_every_other_request_to_the_router_unchanged() async throws {
        let service = try await Self.service(maxBody: 200)
        let channel = EmbeddedChannel(handler: RecallFastLane(service: service, logger: Logger(label: "test")))
        let requests: [[HTTPRequestPart]] = [
            Self.parts("", path: "/v1/health", method: .get),
            Self.parts(#"{"query": "tea"}"#, path: "/v1/recall?x=1"),
            Self.parts("", path: "/memory/recall?query=tea", method: .get),  // the GET alias: the router's
            Self.parts(#"{"query": "tea"}"#, path: "/v1/recall", method: .put),
            Self.parts(#"{"query": "tea", "#),  // not JSON: the router answers 422
            Self.parts(#"{"query": "tea", "k": 101}"#),  // more hits than an inline call
            Self.parts(#"{"query": "tea", "scope": "no//such"}"#),
            Self.parts(#"{"query": "tea"}"#, extra: [.connection: "close"]),
            Self.parts(#"{"query": "tea"}"#, extra: [.expect: "100-continue"]),
            Self.parts(#"{"query": "tea"}"#, length: 201),  // over --max-body
            Self.parts(String(repeating: " ", count: 150) + #"{"query": "tea"}"# + String(repeating: " ", count: 150), length: 10),
        ]
        for request in requests {
            try Self.send(channel, request)
            #expect(try Self.passed(channel) == request, "\(request)")
            #expect(try channel.readOutbound(as: HTTPResponsePart.self) == nil, "the lane answered \(request)")
            // The router answers it; then the next request may take the lane again.
            try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
            try channel.writeOutbound(HTTPResponsePart.end(nil))
            while try channel.readOutbound(as: HTTPResponsePart.self) != nil {}
        }
        try Self.send(channel, Self.parts(#"{"query": "tea", "k": 1}"#))
        #expect(try Self.answered(channel)?.0.status == .ok)
        _ = try channel.finish()
    }

    @Test func keeps_answers_in_the_order_of_their_requests() async throws {
        let service = try await Self.service()
        let channel = EmbeddedChannel(handler: RecallFastLane(service: service, logger: Logger(label: "test")))
        // The router has not answered the health check yet: the recall behind it waits its turn.
        try Self.send(channel, Self.parts("", path: "/v1/health", method: .get))
        let recall = Self.parts(#"{"query": "tea", "k": 1}"#)
        try Self.send(channel, recall)
        let handed = try Self.passed(channel)
        #expect(handed.count == 5 && Array(handed.suffix(3)) == recall)
        #expect(try channel.readOutbound(as: HTTPResponsePart.self) == nil)
        // Both answered by the router; the next recall is the lane's again.
        for _ in 0..<2 {
            try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
            try channel.writeOutbound(HTTPResponsePart.end(nil))
        }
        while try channel.readOutbound(as: HTTPResponsePart.self) != nil {}
        try Self.send(channel, recall)
        #expect(try Self.passed(channel).isEmpty)
        #expect(try Self.answered(channel)?.0.status == .ok)
        _ = try channel.finish()
    }

    @Test func a_recall_over_the_budget_is_answered_only_while_its_connection_is_alone_on_its_loop() async throws {
        // A budget of 1 µs, which no recall keeps to, and a longer one for a connection alone on
        // its loop. Channels count from the lane's arrival until they close.
        let service = try await Self.service(inlineMicroseconds: 1, aloneMicroseconds: 10_000_000)
        let loop = EmbeddedEventLoop()
        let recall = Self.parts(#"{"query": "tea", "k": 1}"#)
        let first = EmbeddedChannel(handler: RecallFastLane(service: service, logger: Logger(label: "test")), loop: loop)
        #expect(service.queue.connections(on: loop) == 1)
        try Self.send(first, recall)
        loop.run()  // channels given a loop run their writes as its tasks
        #expect(try Self.answered(first)?.0.status == .ok)

        let second = EmbeddedChannel(handler: RecallFastLane(service: service, logger: Logger(label: "test")), loop: loop)
        #expect(service.queue.connections(on: loop) == 2)
        for channel in [first, second] {
            try Self.send(channel, recall)
            loop.run()
            #expect(try Self.passed(channel) == recall)  // to the router, and its hand-off
            #expect(try channel.readOutbound(as: HTTPResponsePart.self) == nil)
            // The router's answer, written through the lane (which then owes none).
            try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
            try channel.writeOutbound(HTTPResponsePart.end(nil))
            loop.run()
            while try channel.readOutbound(as: HTTPResponsePart.self) != nil {}
        }
        _ = try second.finish()
        loop.run()
        #expect(service.queue.connections(on: loop) == 1)
        try Self.send(first, recall)
        loop.run()
        #expect(try Self.answered(first)?.0.status == .ok)
        _ = try first.finish()
        loop.run()
        #expect(service.queue.connections(on: loop) == 0)
    }

    @Test func declines_when_the_engine_is_busy_or_inline_reads_are_off() async throws {
        let service = try await Self.service()
        let recall = Self.parts(#"{"query": "tea", "k": 1}"#)
        // Another engine call in flight: the recall takes the router and its hand-off.
        let release = DispatchSemaphore(value: 0)
        let busy = Task {
            try await service.queue.run { () throws(StrataError) in release.wait() }
        }
        while service.queue.inFlight == 0 { try await Task.sleep(for: .milliseconds(1)) }
        // An embedded channel may be used, and released, only on the thread that made it: here
        // all between two suspension points (a test task may resume on another thread).
        do {
            let channel = EmbeddedChannel(handler: RecallFastLane(service: service, logger: Logger(label: "test")))
            try Self.send(channel, recall)
            #expect(try Self.passed(channel) == recall)
            #expect(try channel.readOutbound(as: HTTPResponsePart.self) == nil)
            _ = try channel.finish()
        }
        release.signal()
        try await busy.value

        var options = ServerOptions()
        options.inlineReadMicroseconds = 0
        let off = MemoryService(engine: service.engine, options: options, tokens: TokenAuthority(path: "/nonexistent/strata-tokens.json"))
        let offChannel = EmbeddedChannel(handler: RecallFastLane(service: off, logger: Logger(label: "test")))
        try Self.send(offChannel, recall)
        #expect(try Self.passed(offChannel) == recall)
        _ = try offChannel.finish()
    }

    @Test func writes_at_the_front_the_head_swiftnio_writes_through_its_encoder() throws {
        // The head an answer made at the front carries (`writeHead`) is the one SwiftNIO's
        // HTTP/1 encoder writes for the same fields (`fields`), byte for byte: with and without
        // Server-Timing, for a 200 and for a status whose reason phrase only SwiftNIO knows.
        let date = "Mon, 07 Dec 2026 12:00:00 GMT"
        for (status, engine) in [(HTTPResponse.Status.ok, Duration.microseconds(5834)), (.unprocessableContent, nil), (.ok, .nanoseconds(400))] {
            var straight = ByteBufferAllocator().buffer(capacity: 256)
            RecallFastLane.writeHead(status: status, bodyLength: 3516, engine: engine, requestID: "abc-1", date: date, into: &straight)
            let channel = EmbeddedChannel()
            try channel.pipeline.syncOperations.addHandlers([HTTPResponseEncoder(), HTTP1ToHTTPServerCodec(secure: false)])
            let fields = RecallFastLane.fields(bodyLength: 3516, engine: engine, requestID: "abc-1", date: date)
            try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: status, headerFields: HTTPFields(fields))))
            var encoded = ByteBuffer()
            while var part = try channel.readOutbound(as: ByteBuffer.self) { encoded.writeBuffer(&part) }
            #expect(String(buffer: straight) == String(buffer: encoded))
            #expect(String(buffer: straight).hasSuffix("\r\nDate: \(date)\r\n\r\n"))
            _ = try channel.finish()
        }
    }
}
