#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// The first handler of a connection's pipeline, next to the socket: it follows where the
/// requests SwiftNIO reads begin and end, hands the recall fast lane a read that is one whole
/// request, and writes the answers the lane makes without SwiftNIO's HTTP codec.
///
/// Why: the lane may answer a recall without SwiftNIO's HTTP decoder, its conversion to HTTPTypes
/// and its encoder, which cost an answer about 94 µs to decode and 30 to 50 more to write here
/// after the connection was idle a few milliseconds (bench/README.md, "Recalls answered at the
/// pipeline's front"): when a read SwiftNIO made holds exactly one whole request (`answerRead`,
/// "at the front"), and between two requests, when the lane reads the next one itself with `recv`
/// (`--busy-poll-us`, "polled"). That is only right when the decoder holds no byte of a request,
/// or it would see the rest of one whose start it never got. The decoder does not say, so this
/// handler frames the bytes it passes on (`PolledRequest`) and knows the connection is at a
/// boundary when every byte read is part of a whole request.
///
/// It is added once the connection's first request has been read in part (Hummingbird sets up
/// the HTTP/1 pipeline after its upgrade handler has seen that request), so it starts out of
/// step: it takes the step of a read cycle whose bytes it frames as whole requests, ending
/// with the cycle, that are the requests the decoder gave in that cycle (the same count, and
/// each with the same method, target and body length), with no request part-read before or
/// after it (`cycleEnded`, called by the lane). The decoder then ended where the framer did.
/// A request the framer does not read (chunked, HTTP/1.0, anything unusual) puts it out of step
/// again; the lane then answers only through SwiftNIO, as without busy polling.
///
/// Answers written here go straight to the socket when SwiftNIO has none of its own to write
/// there, and behind SwiftNIO's own otherwise, so they keep their order.
final class SocketFront: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    /// What the framer and the decoder each say of one request, compared to take the step.
    struct Shape: Equatable {
        var method: String
        var target: String
        var bodyLength: Int
    }

    /// Whether the framer follows the decoder's request boundaries.
    private(set) var inStep = false
    /// Whole requests framed since it took the step: the lane compares it with the heads it got
    /// since, so a request still held between the decoder and the lane is never overtaken.
    private(set) var framedSinceStep = 0
    /// In step: bytes of a request whose head is not all in yet.
    private var pending = ByteBuffer()
    /// In step: bytes still to come of a request whose head was framed.
    private var bodyToSkip = 0
    /// Out of step: the bytes of this read cycle (nil past `maxCycle`).
    private var cycle: ByteBuffer? = ByteBuffer()
    private var context: ChannelHandlerContext?

    /// Whether a write went through SwiftNIO since it last had no bytes pending.
    private var wroteThroughSwiftNIO = false

    /// Set by the recall fast lane: answers the bytes of one read, when they are one whole
    /// request it answers at the front, and returns whether it did (the bytes then go no further:
    /// the decoder never sees them, and the connection stays at a boundary).
    var answerRead: ((ByteBuffer) -> Bool)?

    /// The most bytes of a read cycle kept to take the step.
    static let maxCycle = 64 << 10

    /// Whether every byte SwiftNIO has read belongs to a whole request (none is in its decoder).
    var atBoundary: Bool { inStep && bodyToSkip == 0 && pending.readableBytes == 0 }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        PhaseStamps.at(.read)
        let bytes = unwrapInboundIn(data)
        if atBoundary, let answerRead, answerRead(bytes) { return }
        if inStep {
            follow(bytes)
        } else if var kept = cycle {
            cycle = nil  // one reference while it grows
            if kept.readableBytes + bytes.readableBytes <= Self.maxCycle {
                kept.writeImmutableBuffer(bytes)
                cycle = kept
            }
        }
        context.fireChannelRead(data)
    }

    /// The end of a read cycle, from the lane: `decoded` holds the requests whose heads the
    /// decoder gave in it, `whole` whether no request was part-read at its start or end.
    func cycleEnded(decoded: [Shape], whole: Bool) {
        defer { cycle = inStep ? nil : ByteBuffer() }
        guard !inStep, whole, !decoded.isEmpty, let bytes = cycle, bytes.readableBytes > 0 else { return }
        let framed: [Shape]? = bytes.withUnsafeReadableBytes { raw in
            var shapes: [Shape] = []
            var at = 0
            while at < raw.count {
                let rest = UnsafeRawBufferPointer(rebasing: raw[at...])
                guard case .whole(let request) = PolledRequest.frame(rest) else { return nil }
                shapes.append(request.shape(rest))
                at += request.length
            }
            return shapes
        }
        if framed == decoded {
            inStep = true
            framedSinceStep = 0
        }
    }

    /// Writes an answer's bytes to the connection's socket `fd`: straight (`send`) when
    /// SwiftNIO has no bytes of its own still to write there, and what the socket does not take
    /// at once (or all of it, otherwise) through SwiftNIO, behind its own.
    ///
    /// Why straight: SwiftNIO's write (its pipeline, pending-write queue, flush and promise)
    /// cost 3 to 5 µs of a polled answer's critical path here, where a `send` is what any
    /// server pays. A send that fails is left to SwiftNIO too: it meets the error on the
    /// socket and closes the channel as it does for any write.
    func write(_ answer: ByteBuffer, socket fd: Int32) {
        var rest = answer
        if nothingPending() {
            let sent = rest.withUnsafeReadableBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
            if sent > 0 { rest.moveReaderIndex(forwardBy: sent) }
            guard rest.readableBytes > 0 else { return }
        }
        wroteThroughSwiftNIO = true
        context?.writeAndFlush(wrapOutboundOut(.byteBuffer(rest)), promise: nil)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        wroteThroughSwiftNIO = true
        context.write(data, promise: promise)
    }

    /// Whether SwiftNIO has no bytes of this connection's still to write. Asked of the channel
    /// only after a write went through SwiftNIO since it last said none: the option's lookup
    /// costs an answer about 5 µs on cold caches, and most connections write only at the front.
    private func nothingPending() -> Bool {
        guard wroteThroughSwiftNIO else { return true }
        guard let channel = context?.channel, (try? channel.syncOptions?.getOption(.bufferedWritableBytes)) == 0 else { return false }
        wroteThroughSwiftNIO = false
        return true
    }

    /// In step: frames the requests in `bytes`, after the ones read before.
    private func follow(_ bytes: ByteBuffer) {
        var bytes = bytes
        if bodyToSkip > 0 {
            let skipped = min(bodyToSkip, bytes.readableBytes)
            bodyToSkip -= skipped
            bytes.moveReaderIndex(forwardBy: skipped)
        }
        guard bytes.readableBytes > 0 else { return }
        if pending.readableBytes == 0 {
            pending = bytes
        } else {
            pending.writeImmutableBuffer(bytes)
        }
        while pending.readableBytes > 0 {
            switch pending.withUnsafeReadableBytes({ PolledRequest.frame($0) }) {
            case .whole(let request):
                pending.moveReaderIndex(forwardBy: request.length)
                framedSinceStep += 1
            case .partial(let length?):
                // The head is in: only the body's length matters from here.
                bodyToSkip = length - pending.readableBytes
                pending = ByteBuffer()
                framedSinceStep += 1
            case .partial(nil):
                return
            case .other:
                inStep = false
                pending = ByteBuffer()
                cycle = ByteBuffer()
                return
            }
        }
        pending = ByteBuffer()
    }
}
