import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
@testable import StrataServer
import Testing

/// PolledRequest: the requests it frames whole, the ones it waits for, and everything it
/// leaves to SwiftNIO's decoder. The polled answers themselves are compared with SwiftNIO's in
/// Tests/cli/test_serve.py.
@Suite struct PolledRequestTests {
    static func frame(_ text: String) -> PolledRequest.Framing {
        Array(text.utf8).withUnsafeBytes { PolledRequest.frame($0) }
    }

    static func whole(_ text: String) -> (request: PolledRequest, head: RecallHead)? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { raw in
            guard case .whole(let request) = PolledRequest.frame(raw) else { return nil }
            return (request, RecallHead(request, raw))
        }
    }

    /// The head SwiftNIO's HTTP/1 decoder and NIOHTTPTypes give the pipeline for `text`, as
    /// the lane reads it.
    static func decoded(_ text: String) throws -> RecallHead? {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([ByteToMessageHandler(HTTPRequestDecoder()), HTTP1ToHTTPServerCodec(secure: false)])
        try channel.writeInbound(ByteBuffer(string: text))
        while let part = try channel.readInbound(as: HTTPRequestPart.self) {
            if case .head(let head) = part { return RecallHead(head) }
        }
        return nil
    }

    static let recall = "POST /v1/recall HTTP/1.1\r\nHost: 127.0.0.1:7700\r\nContent-Type: application/json\r\nContent-Length: 9\r\n"
        + "Authorization: Bearer s3cret\r\nX-Request-Id: trace-1\r\n\r\n{\"k\": 10}"

    @Test func frames_a_whole_request_and_reads_its_head_as_nio_does() throws {
        let (request, head) = try #require(Self.whole(Self.recall))
        #expect(request.length == Self.recall.utf8.count)
        #expect(request.bodyLength == 9)
        #expect(request.bodyStart == Self.recall.utf8.count - 9)
        #expect(head.path == "/v1/recall" && head.contentLength == 9 && !head.routerOnly)
        #expect(head.authorization == "Bearer s3cret" && head.requestID == "trace-1")
        #expect(try Self.decoded(Self.recall) == head)
        let bytes = Array(Self.recall.utf8)
        bytes.withUnsafeBytes { raw in
            guard case .whole(let r) = PolledRequest.frame(raw) else { return }
            #expect(r.isPost(to: ["/v1/recall"], in: raw))
            #expect(!r.isPost(to: ["/memory/recall"], in: raw))
        }
    }

    /// The fields that make a request the router's, names in any case, a field named twice:
    /// read from the bytes as SwiftNIO's decoder reads them.
    @Test func reads_the_fields_the_lane_looks_at_as_nio_does() throws {
        let start = "POST /v1/recall HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
        let cases: [(String, Bool)] = [
            ("", false),
            ("upgrade: websocket\r\n", true),
            ("Expect: 100-continue\r\n", true),
            ("Connection: Close\r\n", true),
            ("Connection: keep-alive\r\n", false),
            ("X-Request-Id: a\r\nx-request-id: b\r\n", false),
            ("AUTHORIZATION: Bearer t\r\nAuthorization: Basic u\r\n", false),
            ("Connection: keep-alive\r\nconnection: close\r\n", true),
            // Names of the same length as the ones read, but other names.
            ("X-Request-Ix: a\r\nAuthorizatiom: b\r\nExpecs: c\r\n", false),
        ]
        for (fields, routerOnly) in cases {
            let text = start + fields + "\r\n{}"
            let (_, head) = try #require(Self.whole(text))
            #expect(head.routerOnly == routerOnly, "\(fields)")
            #expect(try Self.decoded(text) == head, "\(fields)")
        }
        let (_, twice) = try #require(Self.whole(start + "X-Request-Id: a\r\nx-request-id: b\r\n\r\n{}"))
        #expect(twice.requestID == "a, b")
    }

    @Test func frames_the_first_of_pipelined_requests_and_a_bodiless_one() throws {
        let two = Self.recall + "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n"
        let (first, _) = try #require(Self.whole(two))
        #expect(first.length == Self.recall.utf8.count)
        let (health, head) = try #require(Self.whole("GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\nPOST"))
        #expect(health.bodyLength == 0 && head.contentLength == nil && head.path == "/v1/health")
        // Spaces and tabs around a value are not part of it.
        let spacedText = "POST /v1/recall HTTP/1.1\r\nContent-Length:\t 2  \r\nX-Request-Id: \t\r\nX-A: a \t\r\n\r\n{}"
        let (_, spaced) = try #require(Self.whole(spacedText))
        #expect(spaced.contentLength == 2 && spaced.requestID == "")
        #expect(try Self.decoded(spacedText) == spaced)
    }

    @Test func waits_for_a_head_or_body_not_all_in() {
        for cut in [0, 1, 10, 30, Self.recall.utf8.count - 12] {
            let text = String(Self.recall.utf8.prefix(cut))!
            guard case .partial(nil) = Self.frame(text) else {
                Issue.record("a head cut at \(cut) bytes is not partial")
                continue
            }
        }
        // The head is in: the whole length is known before the body is.
        guard case .partial(let length?) = Self.frame(String(Self.recall.utf8.dropLast(4))!) else {
            Issue.record("a body cut short is not partial with its length")
            return
        }
        #expect(length == Self.recall.utf8.count)
    }

    @Test func leaves_anything_unusual_to_the_decoder() {
        let cases: [(String, String)] = [
            ("HTTP/1.0", "POST /v1/recall HTTP/1.0\r\nContent-Length: 2\r\n\r\n{}"),
            ("chunked", "POST /v1/recall HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"),
            ("two lengths", "POST /v1/recall HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}"),
            ("a signed length", "POST /v1/recall HTTP/1.1\r\nContent-Length: +2\r\n\r\n{}"),
            ("an empty length", "POST /v1/recall HTTP/1.1\r\nContent-Length: \r\n\r\n{}"),
            ("a tab after the length", "POST /v1/recall HTTP/1.1\r\nContent-Length: 2 \t\r\n\r\n{}"),
            ("a huge length", "POST /v1/recall HTTP/1.1\r\nContent-Length: 9999999999999999999\r\n\r\n{}"),
            ("a folded line", "POST /v1/recall HTTP/1.1\r\nX-A: a\r\n b\r\nContent-Length: 2\r\n\r\n{}"),
            ("a space before the colon", "POST /v1/recall HTTP/1.1\r\nContent-Length : 2\r\n\r\n{}"),
            ("a bare LF", "POST /v1/recall HTTP/1.1\nContent-Length: 2\r\n\r\n{}"),
            ("a bare CR in a value", "POST /v1/recall HTTP/1.1\r\nX-A: a\rb\r\nContent-Length: 2\r\n\r\n{}"),
            ("a control byte in a value", "POST /v1/recall HTTP/1.1\r\nX-A: a\u{1}b\r\n\r\n"),
            ("a byte over 0x7E in a value", "POST /v1/recall HTTP/1.1\r\nX-A: caf\u{e9}\r\n\r\n"),
            ("a name that is not a token", "POST /v1/recall HTTP/1.1\r\nX(A): 1\r\n\r\n"),
            ("an empty name", "POST /v1/recall HTTP/1.1\r\n: 1\r\n\r\n"),
            ("no colon", "POST /v1/recall HTTP/1.1\r\nX-A 1\r\n\r\n"),
            ("a blank line first", "\r\nPOST /v1/recall HTTP/1.1\r\n\r\n"),
            ("two spaces in the request line", "POST  /v1/recall HTTP/1.1\r\n\r\n"),
            ("a target with a space", "POST /v1/re call HTTP/1.1\r\n\r\n"),
            ("no version", "POST /v1/recall\r\n\r\n"),
            ("a method that is not a token", "PO(ST /v1/recall HTTP/1.1\r\n\r\n"),
        ]
        // SwiftNIO's decoder refuses this one too.
        #expect(throws: (any Error).self) { try Self.decoded("POST /v1/recall HTTP/1.1\r\nContent-Length: 2 \t\r\n\r\n{}") }
        for (what, text) in cases {
            guard case .other = Self.frame(text) else {
                Issue.record("\(what) was not left to the decoder")
                continue
            }
        }
        // A head longer than the framer reads, whole or not.
        let long = "POST /v1/recall HTTP/1.1\r\nX-A: " + String(repeating: "a", count: PolledRequest.maxHead) + "\r\n\r\n"
        guard case .other = Self.frame(long) else { Issue.record("a long head was framed"); return }
        guard case .other = Self.frame(String(long.utf8.prefix(PolledRequest.maxHead + 10))!) else {
            Issue.record("a long head not all in was waited for")
            return
        }
    }
}
