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

    /// A lane on a loop that other threads may wake (NIO's thread-safe testing channel), as a
    /// handed-off recall's answer needs, between a handler that counts the reads asked for
    /// and one that records the events passed on.
    static func laneOnTestingLoop(_ service: MemoryService, loop: NIOAsyncTestingEventLoop = NIOAsyncTestingEventLoop())
        async throws -> (NIOAsyncTestingChannel, ReadCounter, EventRecorder) {
        let reads = ReadCounter(), events = EventRecorder()
        let channel = try await NIOAsyncTestingChannel(loop: loop) { channel in
            try channel.pipeline.syncOperations.addHandlers([reads, RecallFastLane(service: service, logger: Logger(label: "test")), events])
        }
        // Active, as a connection is: an answer that comes back to a closed one is dropped.
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 7700))
        return (channel, reads, events)
    }

    /// The answer written on `channel`, waited for (a handed-off recall's comes from the loop).
    static func awaitAnswer(_ channel: NIOAsyncTestingChannel) async throws -> (HTTPResponse, JSONValue) {
        guard case .head(let head) = try await channel.waitForOutboundWrite(as: HTTPResponsePart.self),
              case .body(let body) = try await channel.waitForOutboundWrite(as: HTTPResponsePart.self),
              case .end = try await channel.waitForOutboundWrite(as: HTTPResponsePart.self)
        else { throw IncompleteAnswer() }
        #expect(head.headerFields[.contentLength] == String(body.readableBytes))
        return (head, try JSONParser.parse(String(buffer: body), what: "answer"))
    }

    /// Every part the lane handed on to the router so far.
    static func passed(_ channel: NIOAsyncTestingChannel) async throws -> [HTTPRequestPart] {
        var out: [HTTPRequestPart] = []
        while let part = try await channel.readInbound(as: HTTPRequestPart.self) { out.append(part) }
        return out
    }

    /// The engine calls run inline and handed off so far, and the lane's handed-off answers,
    /// as `/metrics` gives them.
    static func placements(_ service: MemoryService) -> (inline: Int, handedOff: Int, laneHandedOff: Int) {
        let text = String(decoding: service.metrics.registry.emitToBuffer(), as: UTF8.self)
        func value(_ series: String) -> Int {
            text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last!) }
                .map { Int($0) } ?? 0
        }
        return (value(#"strata_engine_calls_total{place="inline"}"#), value(#"strata_engine_calls_total{place="handed_off"}"#),
                value("strata_fast_lane_handed_off_answers_total"))
    }

    // A lost answer would wait forever: the limit turns that into a failure.
    @Test(.timeLimit(.minutes(1))) func a_recall_over_the_budget_is_inline_only_while_its_connection_is_alone_and_else_handed_off() async throws {
        // A budget of 1 µs, which no recall keeps to, and a longer one for a connection alone on
        // its loop. Channels count from the lane's arrival until they close.
        let service = try await Self.service(inlineMicroseconds: 1, aloneMicroseconds: 10_000_000)
        let loop = NIOAsyncTestingEventLoop()
        let body = #"{"query": "tea", "k": 2, "track_access": false}"#
        let recall = Self.parts(body)
        let expected = try service.engine.recall(try MemoryService.recallQuery(try JSONParser.parse(body, what: "q"), .unrestricted))
            .map(\.memory.id)
        let (first, _, _) = try await Self.laneOnTestingLoop(service, loop: loop)
        #expect(service.queue.connections(on: loop) == 1)
        let placed = Self.placements(service)
        for part in recall { try await first.writeInbound(part) }
        #expect(Self.ids(try await Self.awaitAnswer(first).1) == expected)
        #expect(Self.placements(service).inline == placed.inline + 1, "alone on its loop: inline")

        let (second, _, _) = try await Self.laneOnTestingLoop(service, loop: loop)
        #expect(service.queue.connections(on: loop) == 2)
        for channel in [first, second] {
            let before = Self.placements(service)
            for part in recall { try await channel.writeInbound(part) }
            // Handed to the engine's threads by the lane, not passed to the router; answered
            // as the engine answers, with the call's time.
            let (head, answer) = try await Self.awaitAnswer(channel)
            #expect(head.status == .ok && head.headerFields[ServerTiming.name]?.hasPrefix("engine;dur=") == true)
            #expect(Self.ids(answer) == expected)
            #expect(try await Self.passed(channel).isEmpty)
            let after = Self.placements(service)
            #expect(after.handedOff == before.handedOff + 1 && after.inline == before.inline)
            #expect(after.laneHandedOff == before.laneHandedOff + 1)
        }
        #expect(service.queue.inFlight == 0)
        _ = try await second.finish()
        #expect(service.queue.connections(on: loop) == 1)
        for part in recall { try await first.writeInbound(part) }
        #expect(Self.ids(try await Self.awaitAnswer(first).1) == expected)
        _ = try await first.finish()
        #expect(service.queue.connections(on: loop) == 0)
    }

    // A lost answer would wait forever: the limit turns that into a failure.
    @Test(.timeLimit(.minutes(1))) func a_handed_off_recall_keeps_what_comes_behind_it_until_its_answer_is_written() async throws {
        // Every recall is handed off (a budget of 1 µs, none alone). The recall, health checks
        // pipelined behind it, reads asked for and SwiftNIO's quiesce event all come in one
        // turn of the loop, before the engine's thread can hand the answer back.
        let service = try await Self.service(inlineMicroseconds: 1, aloneMicroseconds: 0)
        let loop = NIOAsyncTestingEventLoop()
        let (channel, reads, events) = try await Self.laneOnTestingLoop(service, loop: loop)
        let recall = Self.parts(#"{"query": "hills", "k": 1, "track_access": false}"#)
        let health = Self.parts("", path: "/v1/health", method: .get)
        let checks = RecallFastLane.heldLimit / health.count + 1
        let pipeline = channel.pipeline
        let readsBefore = try await loop.executeInContext { () -> Int in
            let before = reads.count
            for part in recall + health { pipeline.fireChannelRead(part) }
            pipeline.fireChannelReadComplete()
            pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
            pipeline.read()
            #expect(reads.count == before + 1, "a few parts held: reads go on")
            for _ in 1..<checks { for part in health { pipeline.fireChannelRead(part) } }
            pipeline.read()
            #expect(reads.count == before + 1, "no read past the limit of held parts")
            #expect(events.quiesced == 0, "the quiesce event waits for the answer")
            return before
        }
        let (head, answer) = try await Self.awaitAnswer(channel)
        #expect(head.status == .ok && Self.ids(answer).count == 1)
        // Then, in order: the health checks to the router, the read held back, the quiesce event.
        try await loop.executeInContext {
            #expect(events.quiesced == 1)
            #expect(reads.count == readsBefore + 2)
        }
        #expect(try await Self.passed(channel) == Array(repeating: health, count: checks).flatMap { $0 })
        // The router answers them through the lane; a recall after that is the lane's again.
        for _ in 0..<checks {
            try await channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
            try await channel.writeOutbound(HTTPResponsePart.end(nil))
        }
        while try await channel.readOutbound(as: HTTPResponsePart.self) != nil {}
        for part in recall { try await channel.writeInbound(part) }
        #expect(Self.ids(try await Self.awaitAnswer(channel).1).count == 1)
        _ = try await channel.finish()
    }

    // A lost answer would wait forever: the limit turns that into a failure.
    @Test(.timeLimit(.minutes(1))) func a_handed_off_recall_is_answered_as_the_router_answers_its_errors() async throws {
        let service = try await Self.service(inlineMicroseconds: 1, aloneMicroseconds: 0)
        let (channel, _, _) = try await Self.laneOnTestingLoop(service)
        // A vector of the wrong length: the engine's error, 422, as the router's ErrorAnswers.
        for part in Self.parts(#"{"vector": [1, 2, 3], "k": 2}"#) { try await channel.writeInbound(part) }
        let (head, error) = try await Self.awaitAnswer(channel)
        #expect(head.status.code == 422 && head.headerFields[ServerTiming.name] == nil)
        #expect(Wire.text(error).contains("STRATA_ERR_DIMENSION"))
        #expect(try await Self.passed(channel).isEmpty)
        _ = try await channel.finish()
    }

    // A lost answer would wait forever: the limit turns that into a failure.
    @Test(.timeLimit(.minutes(1))) func declines_when_the_queue_is_full_or_inline_reads_are_off() async throws {
        // One call at most (`--max-pending 1`), held by another caller: the recall is refused by
        // the queue, so the lane leaves it to the router, which answers 503 as for any call.
        let engine = try Engine()
        _ = try engine.store(NewMemory("tea with lemon"))
        var options = ServerOptions()
        options.maxPending = 1
        let service = MemoryService(engine: engine, options: options, tokens: TokenAuthority(path: "/nonexistent/strata-tokens.json"))
        let recall = Self.parts(#"{"query": "tea", "k": 1}"#)
        let release = DispatchSemaphore(value: 0)
        let busy = Task {
            try await service.queue.run { () throws(StrataError) in release.wait() }
        }
        while service.queue.inFlight == 0 { try await Task.sleep(for: .milliseconds(1)) }
        let (channel, _, _) = try await Self.laneOnTestingLoop(service)
        for part in recall { try await channel.writeInbound(part) }
        #expect(try await Self.passed(channel) == recall)
        #expect(try await channel.readOutbound(as: HTTPResponsePart.self) == nil)
        _ = try await channel.finish()
        release.signal()
        try await busy.value

        // `--inline-read-us 0`: the lane answers nothing (the router and its hand-off, as
        // before the lane).
        options.inlineReadMicroseconds = 0
        options.maxPending = 256
        let off = MemoryService(engine: engine, options: options, tokens: TokenAuthority(path: "/nonexistent/strata-tokens.json"))
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

/// An answer written without its head, body and end in order.
struct IncompleteAnswer: Error {}

/// Counts the reads asked for through it (outbound), for the lane's backpressure.
final class ReadCounter: ChannelOutboundHandler, @unchecked Sendable {
    typealias OutboundIn = Any
    /// Touched on the channel's loop only.
    private(set) var count = 0

    func read(context: ChannelHandlerContext) {
        count += 1
        context.read()
    }
}

/// Records the quiesce events passed on to it, and passes everything on.
final class EventRecorder: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = Any
    /// Touched on the channel's loop only.
    private(set) var quiesced = 0

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent { quiesced += 1 }
        context.fireUserInboundEventTriggered(event)
    }
}
