#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOEmbedded
@testable import StrataServer
import Testing

/// SocketFront in a pipeline of its own (NIO's EmbeddedChannel): when it takes the step of the
/// decoder's request boundaries, how it follows them across reads, and when it loses it.
@Suite struct SocketFrontTests {
    static func request(_ path: String = "/v1/recall", body: String = "{\"k\": 1}") -> String {
        "POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    static func shape(_ path: String = "/v1/recall", body: String = "{\"k\": 1}") -> SocketFront.Shape {
        SocketFront.Shape(method: "POST", target: path, bodyLength: body.utf8.count)
    }

    static func channel() throws -> (EmbeddedChannel, SocketFront) {
        let front = SocketFront()
        return (EmbeddedChannel(handler: front), front)
    }

    static func read(_ channel: EmbeddedChannel, _ text: String) throws {
        try channel.writeInbound(ByteBuffer(string: text))
        // Passed on unchanged to the decoder.
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(string: text))
    }

    @Test func takes_the_step_of_a_cycle_of_whole_requests_the_decoder_gave_alike() throws {
        let (channel, front) = try Self.channel()
        #expect(!front.atBoundary, "added mid-request: out of step until shown otherwise")
        try Self.read(channel, Self.request() + "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        front.cycleEnded(decoded: [Self.shape(), .init(method: "GET", target: "/v1/health", bodyLength: 0)], whole: true)
        #expect(front.inStep && front.atBoundary && front.framedSinceStep == 0)
        // In step, a request split across reads: not at a boundary until its body is all in;
        // each request is counted once its head is in (when the decoder gives the head too).
        try Self.read(channel, "POST /v1/recall HTTP/1.1\r\nContent-")
        #expect(!front.atBoundary && front.framedSinceStep == 0)
        try Self.read(channel, "Length: 10\r\n\r\n{\"k\":")
        #expect(!front.atBoundary && front.framedSinceStep == 1)
        try Self.read(channel, " 12}" + Self.request())
        #expect(front.atBoundary && front.framedSinceStep == 2)
        // A request the framer does not read puts it out of step.
        try Self.read(channel, "POST /v1/recall HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
        #expect(!front.inStep && !front.atBoundary)
        front.cycleEnded(decoded: [.init(method: "POST", target: "/v1/recall", bodyLength: -1)], whole: true)
        #expect(!front.inStep)
        // And a later cycle that agrees puts it back.
        try Self.read(channel, Self.request())
        front.cycleEnded(decoded: [Self.shape()], whole: true)
        #expect(front.atBoundary)
    }

    @Test func stays_out_of_step_when_the_decoder_saw_other_requests() throws {
        let cases: [(String, [SocketFront.Shape], Bool)] = [
            ("another count", [Self.shape(), Self.shape()], true),
            ("another body length", [Self.shape(body: "{}")], true),
            ("another target", [Self.shape("/memory/recall")], true),
            ("no request", [], true),
            ("a request part-read before or after", [Self.shape()], false),
        ]
        for (what, decoded, whole) in cases {
            let (channel, front) = try Self.channel()
            try Self.read(channel, Self.request())
            front.cycleEnded(decoded: decoded, whole: whole)
            #expect(!front.inStep, "\(what)")
        }
        // The tail of a request whose start it never saw (as when Hummingbird adds it mid-request).
        let (channel, front) = try Self.channel()
        try Self.read(channel, "1}")
        front.cycleEnded(decoded: [], whole: true)
        try Self.read(channel, "\"}" + Self.request())
        front.cycleEnded(decoded: [Self.shape()], whole: true)
        #expect(!front.inStep)
        // A cycle longer than it keeps.
        let (long, longFront) = try Self.channel()
        try Self.read(long, Self.request(body: String(repeating: "a", count: SocketFront.maxCycle)))
        longFront.cycleEnded(decoded: [Self.shape(body: String(repeating: "a", count: SocketFront.maxCycle))], whole: true)
        #expect(!longFront.inStep)
    }

    /// A connected socket pair (the connection's socket, its peer), the first's send buffer
    /// made small so that it fills.
    static func socketPair() throws -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        var size: Int32 = 4096
        setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        return (fds[0], fds[1])
    }

    static func received(_ fd: Int32) -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            guard n > 0 else { return out }
            out += buffer[0..<n]
        }
    }

    static func written(_ channel: EmbeddedChannel) throws -> [UInt8] {
        var out: [UInt8] = []
        while case .byteBuffer(let b)? = try channel.readOutbound(as: IOData.self) { out += b.readableBytesView }
        return out
    }

    static let answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"

    @Test func writes_an_answer_straight_to_the_socket_when_swiftnio_has_nothing_pending() throws {
        let (channel, front) = try Self.channel()
        let (fd, peer) = try Self.socketPair()
        defer { close(fd); close(peer) }
        front.write(ByteBuffer(string: Self.answer), socket: fd)
        #expect(Self.received(peer) == Array(Self.answer.utf8))
        #expect(try Self.written(channel).isEmpty, "nothing went through SwiftNIO")
        // Once SwiftNIO has written bytes of its own and they have left (flushed), straight again.
        try channel.writeOutbound(ByteBuffer(string: "x"))
        #expect(try Self.written(channel) == Array("x".utf8))
        front.write(ByteBuffer(string: Self.answer), socket: fd)
        #expect(Self.received(peer) == Array(Self.answer.utf8))
        #expect(try Self.written(channel).isEmpty)
    }

    @Test func writes_through_swiftnio_behind_its_own_bytes_or_what_the_socket_does_not_take() throws {
        let (channel, front) = try Self.channel()
        let (fd, peer) = try Self.socketPair()
        defer { close(fd) }
        // SwiftNIO still has bytes of its own to write (written, not yet flushed): all of the
        // answer goes behind them.
        channel.write(ByteBuffer(string: "x"), promise: nil)
        front.write(ByteBuffer(string: Self.answer), socket: fd)
        #expect(Self.received(peer).isEmpty)
        #expect(try Self.written(channel) == Array(("x" + Self.answer).utf8))
        // A socket whose buffer is full takes part of an answer (or none): the rest goes through
        // SwiftNIO, in order after what was sent.
        let long = String(repeating: "a", count: 1 << 20)
        front.write(ByteBuffer(string: long), socket: fd)
        let sent = Self.received(peer)
        let rest = try Self.written(channel)
        #expect(sent.count < long.utf8.count && sent.count + rest.count == long.utf8.count)
        #expect(sent + rest == Array(long.utf8))
        // A closed peer: the send fails and the whole answer is SwiftNIO's to write (and fail).
        close(peer)
        front.write(ByteBuffer(string: Self.answer), socket: fd)
        #expect(try Self.written(channel) == Array(Self.answer.utf8))
    }

    @Test func hands_the_lane_a_read_at_a_boundary_and_passes_on_what_it_declines() throws {
        let (channel, front) = try Self.channel()
        var offered: [String] = []
        var take = true
        front.answerRead = { bytes in
            offered.append(String(buffer: bytes))
            return take
        }
        // Out of step: not offered, passed on.
        try Self.read(channel, Self.request())
        #expect(offered.isEmpty)
        front.cycleEnded(decoded: [Self.shape()], whole: true)
        // At a boundary: offered; taken, it goes no further and the boundary holds.
        try channel.writeInbound(ByteBuffer(string: Self.request()))
        #expect(offered == [Self.request()])
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        #expect(front.atBoundary && front.framedSinceStep == 0)
        // Declined: passed on to the decoder and followed as any read.
        take = false
        try Self.read(channel, Self.request())
        #expect(offered.count == 2 && front.atBoundary && front.framedSinceStep == 1)
        // A read that starts a request is offered too (the lane takes only a whole one); the
        // rest of that request comes mid-request, not at a boundary: not offered.
        try Self.read(channel, "POST /v1/recall HTTP/1.1\r\nContent-")
        #expect(offered.count == 3 && !front.atBoundary)
        take = true
        try Self.read(channel, "Length: 2\r\n\r\n{}")
        #expect(offered.count == 3 && front.atBoundary && front.framedSinceStep == 2)
        _ = try channel.finish()
    }
}
