#if canImport(Glibc)
import Glibc
#endif
import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import StrataCore
import StrataEngine
import StrataWire

/// `POST /v1/recall` (and its alias `POST /memory/recall`) answered in the channel pipeline: on
/// the event loop that read it when the server is otherwise idle (the hot request of an agent's
/// loop), and otherwise handed to the engine's threads and answered here when it comes back;
/// either way without the trip through Hummingbird's request and answer streams
/// (`NIOAsyncChannel`), its router and its middleware.
///
/// Why: on this 2-core VM Hummingbird's least request costs 82 to 102 µs of the server's CPU, a
/// SwiftNIO handler that answers in place 38 to 48, a bare epoll server 21 to 26 (bench/README.md,
/// "The recall fast lane"): about 50 µs a request, half the 100 µs the server's overhead may be.
///
/// What it answers, and what it leaves to the router unchanged (the request is passed on, so
/// the router answers it exactly as it answers any other):
/// - Only `POST /v1/recall` or `POST /memory/recall` with no query string, over HTTP/1.1, with
///   no `Upgrade`, `Expect` or `Connection: close`, a `Content-Length` body within `--max-body`,
///   and no earlier request of the connection still being answered by the router (answers keep
///   their order).
/// - Only when the request asks for at most 100 hits, and `--inline-read-us` is not 0. When
///   `EngineQueue` would run the recall inline (nothing else in flight, the verb's recent calls
///   short), it runs here; otherwise it is handed to the engine's threads (`handOff`), and what
///   the client pipelines meanwhile waits until its answer is written.
///   A hand-off from here costs a recall about 200 µs less than one through the router on the
///   Intel Xeon of session 24, text or vector (bench/README.md, "Handed-off recalls answered
///   by the lane").
/// - Only when the token, the body and the query are valid: any error found before the engine
///   runs is left to the router, which finds it again and answers it. An error of the engine
///   call itself is answered here, as `ErrorAnswers` would (the call is not made twice).
///
/// An answer made here is the router's, byte for byte in its body and status, with the same
/// headers (`Content-Type`, `Content-Length`, `X-Request-Id`, `Date`), the same access line
/// and the same request metrics (`RequestObservation`).
///
/// On a TCP connection, `SocketFront` (added first in the pipeline) follows the decoder's request
/// boundaries. When a read SwiftNIO made at a boundary holds exactly one whole request the lane
/// answers, the lane answers it there, before SwiftNIO's HTTP decoder, and writes the answer at
/// the front without SwiftNIO's encoder: "at the front". The request is framed by
/// `PolledRequest` (a subset of HTTP/1.1; anything else goes on to the decoder), and the answer
/// is the same as through SwiftNIO.
///
/// With `--busy-poll-us`, a read in which the lane answered is followed by a poll of the
/// connection's socket for the next request (`BusyPoll`), when nothing else is owed or in flight.
/// When the request that comes is one the lane answers, it is read straight from the socket
/// (`recv`, framed by `PolledRequest`) and its answer written at the pipeline's front
/// (`SocketFront`), without SwiftNIO's HTTP decoder and encoder: "polled". Only when
/// `SocketFront` knows the decoder holds no part of a request; anything else is left in the
/// socket for SwiftNIO to read as before. The next poll is a task of the event loop, so the
/// loop serves its other connections' events between a connection's polled answers.
final class RecallFastLane: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// The paths it answers: `/v1/recall` and seed 002's `POST /memory/recall`, an alias of the
    /// same handler. Each answer is counted and logged under its own path, as the router does.
    static let routes: Set<String> = ["/v1/recall", "/memory/recall"]

    private let service: MemoryService
    private let logger: Logger

    private enum State {
        /// Between requests.
        case idle
        /// A candidate's head and the body so far.
        case collecting(HTTPRequest, ByteBuffer)
        /// The request is the router's: its parts go on.
        case passing
        /// A recall handed to the engine's threads (`EngineQueue.handOff`): what comes meanwhile
        /// waits in `held` (reads stop past `heldLimit` parts) until its answer is written.
        case awaiting
    }

    private var state = State.idle
    /// Requests passed to the router whose answer's end has not been written yet.
    private var routerAnswersOwed = 0
    private var date = HTTPDate()
    /// Whether this lane answered a request since the last `channelReadComplete`.
    private var answered = false
    /// The connection's socket for `BusyPoll`, looked up at the first poll (nil: none found).
    private var socket: Int32?
    private var socketLookedUp = false
    /// With busy polling: the pipeline's first handler, which knows the request boundaries.
    private var front: SocketFront?
    /// Set by SwiftNIO's quiesce event (the server is stopping): no more polled answers.
    private var quiescing = false
    /// The connection's event loop (set by `handlerAdded`).
    private var loop: (any EventLoop)?
    /// Where a polled request is peeked at and read (allocated at the first poll).
    private var peekBuffer: UnsafeMutableRawBufferPointer?
    /// With busy polling: the requests whose heads came in this read cycle, and whether no
    /// request was part-read when it began (for `SocketFront.cycleEnded`).
    private var decodedThisCycle: [SocketFront.Shape] = []
    private var idleAtCycleStart = true
    /// With busy polling: the heads that came since `SocketFront` took the step.
    private var headsSinceStep = 0

    /// While a recall is handed off: the parts that came after it, handled once its answer is
    /// written (answers keep their order), and the events held with them (SwiftNIO's quiesce
    /// event: the handlers behind would close a connection they see as idle).
    private var held: [HTTPRequestPart] = []
    private var heldEvents: [Any] = []
    /// Whether a read was asked for and held back (`read`): asked once the held parts are handled.
    private var readHeld = false
    /// Parts passed to the router so far (wrapping): whether any were, around a stretch of work.
    private var partsPassed = 0

    /// This connection's request metrics of recalls answered (status 200), by route.
    private var answeredSeries: [(route: String, series: ServerMetrics.RequestSeries)] = []

    /// The most bytes of a request peeked at: a longer one is read by SwiftNIO.
    static let peekBytes = 64 << 10

    init(service: MemoryService, logger: Logger) {
        self.service = service
        self.logger = logger
    }

    deinit { peekBuffer?.deallocate() }

    func handlerAdded(context: ChannelHandlerContext) {
        // Every connection has this lane: the engine queue counts them per loop (`EngineQueue`'s
        // budget for a connection alone on its loop) until the channel closes, the lane's own
        // removal aside (a WebSocket upgrade removes the HTTP handlers; the connection stays).
        let loop = context.eventLoop, queue = service.queue
        self.loop = loop
        queue.connectionOpened(on: loop)
        context.channel.closeFuture.whenComplete { _ in queue.connectionClosed(on: loop) }
        // The front writes to the connection's socket, found by its addresses (`BusyPoll`): a
        // channel without them (in process, as NIO's EmbeddedChannel) has none to answer at.
        guard context.channel.localAddress != nil, context.channel.remoteAddress != nil else { return }
        let front = SocketFront()
        do {
            try context.pipeline.syncOperations.addHandler(front, position: .first)
            front.answerRead = { [unowned self] bytes in answerRead(context, bytes) }
            self.front = front
        } catch {
            // Without it the lane answers only through SwiftNIO's codec.
            logger.warning("recall fast lane: cannot add the socket front, no answers without SwiftNIO's codec on this connection: \(error)")
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // A WebSocket upgrade removes the HTTP handlers, this lane among them: the front then has
        // no requests to follow, only frames (and it holds this lane in `answerRead`).
        guard let front else { return }
        front.answerRead = nil
        self.front = nil
        context.pipeline.syncOperations.removeHandler(front, promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent { quiescing = true }
        if case .awaiting = state {
            heldEvents.append(event)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// No more reads while a recall is handed off and `heldLimit` parts wait behind it: what a
    /// client pipelines is bounded (SwiftNIO's backpressure, as the router's stream applies it
    /// past its high mark). Below it reads go on, so a client that waits for its answers, as
    /// most do, never costs its connection the two `epoll_ctl` calls of a read turned off and
    /// on again.
    func read(context: ChannelHandlerContext) {
        if case .awaiting = state, held.count >= Self.heldLimit {
            readHeld = true
        } else {
            context.read()
        }
    }

    /// The parts held behind a handed-off recall past which the connection reads no more.
    static let heldLimit = 64

    /// After a read in which this lane answered, and with nothing else owed or in flight, polls
    /// the socket for the next request for up to `--busy-poll-us` (`BusyPoll`). Here rather
    /// than after each answer: requests already read (pipelined) are answered first.
    func channelReadComplete(context: ChannelHandlerContext) {
        if let front {
            var idle = false
            if case .idle = state { idle = true }
            let wasInStep = front.inStep
            front.cycleEnded(decoded: decodedThisCycle, whole: idleAtCycleStart && idle)
            if !wasInStep, front.inStep { headsSinceStep = 0 }
            decodedThisCycle.removeAll(keepingCapacity: true)
            idleAtCycleStart = idle
        }
        context.fireChannelReadComplete()
        guard answered else { return }
        answered = false
        let budget = service.options.busyPollMicroseconds
        guard budget > 0, case .idle = state, routerAnswersOwed == 0, service.queue.inFlight == 0 else { return }
        guard let fd = descriptor(context) else { return }
        poll(context, fd, budget: budget)
    }

    /// The connection's socket, looked up once (nil: none found, as for an `EmbeddedChannel`).
    private func descriptor(_ context: ChannelHandlerContext) -> Int32? {
        if !socketLookedUp {
            socket = BusyPoll.descriptor(of: context.channel)
            socketLookedUp = true
        }
        return socket
    }

    /// Answers `bytes`, one read SwiftNIO made at a request boundary, when they are exactly one
    /// whole request the lane answers (`answerWhole`).
    private func answerRead(_ context: ChannelHandlerContext, _ bytes: ByteBuffer) -> Bool {
        guard case .idle = state, routerAnswersOwed == 0, let fd = descriptor(context),
              bytes.withUnsafeReadableBytes({ answerWhole(context, fd, $0, read: true) })
        else { return false }
        answered = true
        return true
    }

    /// Polls `fd` for the next request; when it is one the lane answers polled, answers it and
    /// polls again in a task of the event loop (its other connections' events come first).
    private func poll(_ context: ChannelHandlerContext, _ fd: Int32, budget: Int) {
        // A closed channel's descriptor may already name another file.
        guard context.channel.isActive else { return }
        let queue = service.queue
        let buffer = peekBuffer ?? UnsafeMutableRawBufferPointer.allocate(byteCount: Self.peekBytes, alignment: 16)
        peekBuffer = buffer
        let start = ContinuousClock.now
        let found = BusyPoll.wait(fd, into: buffer, budget: .microseconds(budget)) { queue.inFlight == 0 }
        service.metrics.busyPoll(ready: found != .nothing, duration: ContinuousClock.now - start)
        guard case .input(let peeked) = found, answerWhole(context, fd, UnsafeRawBufferPointer(rebasing: buffer[0..<peeked]), read: false)
        else { return }
        context.eventLoop.assumeIsolated().execute { [self] in
            guard context.channel.isActive, case .idle = state, routerAnswersOwed == 0, queue.inFlight == 0 else { return }
            poll(context, fd, budget: budget)
        }
    }

    /// Answers the request at the start of `bytes` at the front (`SocketFront.write` on `fd`),
    /// when the lane would answer it and SwiftNIO's decoder holds no part of a request, and
    /// returns whether it did. `read`: `bytes` are a read SwiftNIO made, answered only when they
    /// are that one request whole. Otherwise they are peeked from `fd` (polled): the request is
    /// read from the socket once answered, and left there for SwiftNIO to read when not. The
    /// engine runs only once the request is one the lane answers: a request left to SwiftNIO is
    /// then answered by the lane or the router as any other.
    private func answerWhole(_ context: ChannelHandlerContext, _ fd: Int32, _ bytes: UnsafeRawBufferPointer, read: Bool) -> Bool {
        // At a boundary, and every request framed there has reached this lane (none is held
        // between the decoder and here, to be overtaken).
        guard !quiescing, let front, front.atBoundary, front.framedSinceStep == headsSinceStep, case .idle = state,
              routerAnswersOwed == 0, context.channel.isActive, context.channel.isWritable,
              case .whole(let request) = PolledRequest.frame(bytes), !read || request.length == bytes.count,
              request.isPost(to: Self.routes, in: bytes)
        else { return false }
        PhaseStamps.at(.framed)
        let head = RecallHead(request, bytes)
        guard candidateBodyLength(head) == request.bodyLength, let loop, service.queue.wouldRunInline(.recall, on: loop),
              let prepared = prepare(head, UnsafeRawBufferPointer(rebasing: bytes[request.bodyStart..<request.length])),
              let answer = runInline(prepared)
        else { return false }
        PhaseStamps.at(.answered)
        var out = context.channel.allocator.buffer(capacity: answer.body.count + 192)
        Self.writeHead(status: answer.status, bodyLength: answer.body.count, engine: answer.engine, requestID: answer.requestID,
                       date: date.now(), into: &out)
        out.writeBytes(answer.body)
        PhaseStamps.at(.headWritten)
        // Polled, the request's bytes are still in the socket (peeked), and nothing reads it but
        // this loop: read exactly them. Before the write, which may close the channel (and its
        // descriptor, whose number another thread may then reuse).
        guard read || recv(fd, UnsafeMutableRawPointer(mutating: bytes.baseAddress), request.length, Int32(MSG_DONTWAIT)) == request.length else {
            logger.error("recall fast lane: a peeked request could not be read whole; closing the connection")
            context.close(promise: nil)
            return false
        }
        count(answer)
        if read { service.metrics.frontAnswer() } else { service.metrics.polledAnswer() }
        front.write(out, socket: fd)
        PhaseStamps.at(.sent)
        log(answer)
        PhaseStamps.requestDone()
        return true
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if let front, case .head(let head) = part {
            if front.inStep {
                headsSinceStep += 1
            } else {
                let length = head.headerFields[.contentLength].map { Int($0) ?? -1 } ?? 0
                decodedThisCycle.append(SocketFront.Shape(method: head.method.rawValue, target: head.path ?? "", bodyLength: length))
            }
        }
        if case .awaiting = state {
            held.append(part)
        } else {
            handle(context, part)
        }
    }

    /// A request part, in its turn: collected when it may be a recall this lane answers,
    /// passed to the router otherwise.
    private func handle(_ context: ChannelHandlerContext, _ part: HTTPRequestPart) {
        switch (state, part) {
        case (.idle, .head(let head)):
            if routerAnswersOwed == 0, head.method == .post, let length = candidateBodyLength(RecallHead(head)) {
                state = .collecting(head, context.channel.allocator.buffer(capacity: length))
            } else {
                pass(context, part)
            }
        case (.collecting(let head, var body), .body(var more)):
            if body.readableBytes + more.readableBytes > service.options.maxBodyBytes {
                // Longer than it said, or than the server takes: the router's limit answers it.
                handOver(context, head, body)
                pass(context, part)
            } else {
                body.writeBuffer(&more)
                state = .collecting(head, body)
            }
        case (.collecting(let head, let body), .end):
            state = .idle
            guard let prepared = body.withUnsafeReadableBytes({ prepare(RecallHead(head), $0) }) else {
                handOver(context, head, body)
                return pass(context, part)
            }
            if let answer = runInline(prepared) {
                write(context, answer)
            } else if !handOff(context, prepared) {
                // Refused (`--max-pending` calls in flight): the router refuses it as any other.
                handOver(context, head, body)
                pass(context, part)
            }
        case (.collecting(let head, let body), .head):
            // Not an order HTTP/1.1 parts come in; the router's stream reports it.
            handOver(context, head, body)
            pass(context, part)
        default:
            pass(context, part)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), routerAnswersOwed > 0 { routerAnswersOwed -= 1 }
        context.write(data, promise: promise)
    }

    /// Hands a part to the router: a head starts a request it owes an answer to, an end
    /// finishes the request's parts.
    private func pass(_ context: ChannelHandlerContext, _ part: HTTPRequestPart) {
        partsPassed &+= 1
        switch part {
        case .head:
            routerAnswersOwed += 1
            state = .passing
        case .end: state = .idle
        case .body: break
        }
        context.fireChannelRead(wrapInboundOut(part))
    }

    /// Hands a collected head and body to the router.
    private func handOver(_ context: ChannelHandlerContext, _ head: HTTPRequest, _ body: ByteBuffer) {
        pass(context, .head(head))
        if body.readableBytes > 0 { pass(context, .body(body)) }
    }

    /// The body length of a `POST` this lane may answer, nil for any other.
    private func candidateBodyLength(_ head: RecallHead) -> Int? {
        guard Self.routes.contains(head.path), !head.routerOnly, let length = head.contentLength,
              (0...service.options.maxBodyBytes).contains(length), service.options.inlineReadMicroseconds > 0
        else { return nil }
        return length
    }

    private struct Answer {
        var route: String
        var status: HTTPResponse.Status
        var body: [UInt8]
        var requestID: String
        var seconds: Duration
        /// How long the engine call took, for a recall answered (the `Server-Timing` field; the
        /// router's answers to a refused call carry none either).
        var engine: Duration?
    }

    /// A recall this lane answers, checked and ready for its engine call.
    private struct Prepared {
        var query: RecallQuery
        var route: String
        var requestID: String
        var start: ContinuousClock.Instant
    }

    /// The request's recall when this lane answers it: the token may read, the body and the
    /// query are valid, and the call is a short read (at most `MemoryService.inlineRows` hits).
    /// Nil leaves the request to the router, which finds any error again and answers it.
    private func prepare(_ head: RecallHead, _ body: UnsafeRawBufferPointer) -> Prepared? {
        let start = ContinuousClock.now
        let query: RecallQuery
        do {
            let access = try service.authorize(secret: MemoryService.secret(authorization: head.authorization), .read)
            query = try MemoryService.recallQuery(try Wire.parse(bytes: body.assumingMemoryBound(to: UInt8.self), what: "recall request"),
                                                  access)
        } catch {
            return nil
        }
        guard case .read(.recall) = service.recallCall(query) else { return nil }
        return Prepared(query: query, route: head.path, requestID: RequestLine.id(given: head.requestID), start: start)
    }

    /// The recall's answer, made here when `EngineQueue` runs it inline now; nil when it would
    /// not (nothing is run then).
    private func runInline(_ prepared: Prepared) -> Answer? {
        let service = service, query = prepared.query
        PhaseStamps.at(.prepared)
        guard let loop, let result = service.queue.runInlineIfIdle(.recall, on: loop, { () throws(StrataError) in
            PhaseStamps.at(.callStart)
            defer { PhaseStamps.at(.callEnd) }
            return try ServerTiming.timing { () throws(StrataError) in try service.recallHits(query) }
        }) else { return nil }
        return answer(prepared, result)
    }

    /// Hands the recall to the engine's threads (`EngineQueue.handOff`) and writes its answer on
    /// this connection's loop when it comes back; returns false, with nothing run, when the
    /// queue refuses it. Meanwhile the connection is `awaiting`.
    ///
    /// Why here and not through the router: a recall made while another call is in flight (any
    /// server with more than one busy client) skips Hummingbird's request and answer streams and
    /// the task that runs the router's handler; the hand-off to the engine's thread and back
    /// to this loop is all it pays (bench/README.md, "Handed-off recalls answered by the lane").
    private func handOff(_ context: ChannelHandlerContext, _ prepared: Prepared) -> Bool {
        let service = service, query = prepared.query, loop = context.eventLoop
        let back = NIOLoopBound(Return(lane: self, context: context, prepared: prepared), eventLoop: loop)
        let accepted = service.queue.handOff(.read(.recall), { () throws(StrataError) in
            try ServerTiming.timing { () throws(StrataError) in try service.recallHits(query) }
        }, then: { result in
            loop.execute { back.value.lane.handedOffReturned(back.value, result) }
        })
        if accepted { state = .awaiting }
        return accepted
    }

    /// What a handed-off recall's answer needs back on the loop.
    private struct Return {
        let lane: RecallFastLane
        let context: ChannelHandlerContext
        let prepared: Prepared
    }

    /// A handed-off recall's result, on the connection's loop: its answer written, then what
    /// came meanwhile handled in order.
    private func handedOffReturned(_ back: Return, _ result: Result<([Hit], Duration), StrataError>) {
        let context = back.context
        guard case .awaiting = state else { return }
        state = .idle
        guard context.channel.isActive else {
            held.removeAll()
            return
        }
        service.metrics.handedOffAnswer()
        write(context, answer(back.prepared, result), pollAfter: false)
        let passedBefore = partsPassed
        while !held.isEmpty {
            if case .awaiting = state { break }
            handle(context, held.removeFirst())
        }
        // The router's stream takes what it was given at the end of a read cycle.
        if partsPassed != passedBefore { context.fireChannelReadComplete() }
        if readHeld, held.count < Self.heldLimit {
            readHeld = false
            context.read()
        }
        // Behind another handed-off recall, the events wait for its answer too.
        if case .awaiting = state { return }
        let events = heldEvents
        heldEvents.removeAll()
        for event in events { context.fireUserInboundEventTriggered(event) }
    }

    /// A recall's answer from its engine call's result.
    private func answer(_ prepared: Prepared, _ result: Result<([Hit], Duration), StrataError>) -> Answer {
        switch result {
        case .success(let (hits, engine)):
            return Answer(route: prepared.route, status: .ok, body: Wire.recallAnswer(hits), requestID: prepared.requestID,
                          seconds: ContinuousClock.now - prepared.start, engine: engine)
        case .failure(let error):
            let refusal = APIError(error)
            return Answer(route: prepared.route, status: refusal.status, body: Array(Wire.text(refusal.body).utf8),
                          requestID: prepared.requestID, seconds: ContinuousClock.now - prepared.start, engine: nil)
        }
    }

    /// An answer's header fields, in order, through SwiftNIO (`writeHead` writes the same at
    /// the front).
    static func fields(bodyLength: Int, engine: Duration?, requestID: String, date: String) -> [HTTPField] {
        // In the router's order: the handler sets Server-Timing, the middleware then the id.
        var fields = [HTTPField(name: .contentType, value: "application/json"), HTTPField(name: .contentLength, value: String(bodyLength))]
        if let engine { fields.append(HTTPField(name: ServerTiming.name, value: ServerTiming.engine(engine))) }
        fields.append(HTTPField(name: RequestLine.header, value: requestID))
        fields.append(HTTPField(name: .date, value: date))
        return fields
    }

    /// An answer's status line and header fields as SwiftNIO's HTTP/1 encoder writes those of
    /// `fields` (the same names, spelling and order), written straight: a recall's answer is written
    /// after its engine call has emptied the caches, where every type and table not touched
    /// saves its cache misses (bench/README.md, "Recalls answered at the pipeline's front").
    static func writeHead(status: HTTPResponse.Status, bodyLength: Int, engine: Duration?, requestID: String, date: String,
                          into out: inout ByteBuffer) {
        out.writeString(statusLine(status))
        out.writeStaticString("Content-Type: application/json\r\nContent-Length: ")
        DecimalDigits.write(bodyLength) { out.writeBytes($0) }
        if let engine {
            out.writeStaticString("\r\nServer-Timing: ")
            ServerTiming.engine(engine) { out.writeBytes($0) }
        }
        out.writeStaticString("\r\nX-Request-Id: ")
        out.writeString(requestID)
        out.writeStaticString("\r\nDate: ")
        out.writeString(date)
        out.writeStaticString("\r\n\r\n")
    }

    /// The status line SwiftNIO's HTTP/1 encoder writes for `status` (NIOHTTP1's reason phrase
    /// for a code it knows: HTTPTypes' has none for some, such as 422).
    static func statusLine(_ status: HTTPResponse.Status) -> String {
        guard status.code != 200 else { return ok }
        let nio = HTTPResponseStatus(statusCode: status.code, reasonPhrase: status.reasonPhrase)
        return "HTTP/1.1 \(nio.code) \(nio.reasonPhrase)\r\n"
    }

    private static let ok = "HTTP/1.1 200 \(HTTPResponseStatus.ok.reasonPhrase)\r\n"

    /// Writes an answer through SwiftNIO's encoder. `pollAfter`: the read cycle it was made in
    /// may end in a busy poll (an answer made outside one, a handed-off recall's, never does).
    private func write(_ context: ChannelHandlerContext, _ answer: Answer, pollAfter: Bool = true) {
        var buffer = context.channel.allocator.buffer(capacity: answer.body.count)
        buffer.writeBytes(answer.body)
        count(answer)
        let fields = Self.fields(bodyLength: answer.body.count, engine: answer.engine, requestID: answer.requestID, date: date.now())
        context.write(wrapOutboundOut(.head(HTTPResponse(status: answer.status, headerFields: HTTPFields(fields)))), promise: nil)
        context.write(wrapOutboundOut(.body(buffer)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        if pollAfter { answered = true }
        log(answer)
    }

    /// Counts an answer in the request metrics as the router does, before it is written: a
    /// client that has read it and then scrapes `/metrics` finds it counted.
    private func count(_ answer: Answer) {
        guard answer.status == .ok else {
            return service.metrics.request(route: answer.route, method: "POST", status: answer.status.code, duration: answer.seconds)
        }
        // The connection's series of answered recalls, looked up once: after a recall's engine
        // call the caches are cold, and every lookup skipped is a few cache lines not read.
        let series: ServerMetrics.RequestSeries
        if let kept = answeredSeries.first(where: { $0.route == answer.route }) {
            series = kept.series
        } else {
            series = service.metrics.series(route: answer.route, method: "POST", status: 200)
            answeredSeries.append((answer.route, series))
        }
        service.metrics.request(series, duration: answer.seconds)
    }

    /// Logs an answer's access line (at `info`) as the router does.
    private func log(_ answer: Answer) {
        if logger.logLevel <= .info {
            var logger = logger
            logger[metadataKey: "hb.request.id"] = .string(answer.requestID)
            RequestLine.log(logger, method: "POST", route: answer.route, path: answer.route, status: answer.status.code, duration: answer.seconds)
        }
    }
}

/// The `Date` header's value (RFC 9110's IMF-fixdate), made once a second.
struct HTTPDate {
    private var second = -1
    private var text = ""

    mutating func now() -> String {
        var clock = timespec()
        clock_gettime(CLOCK_REALTIME, &clock)
        if clock.tv_sec != second {
            second = clock.tv_sec
            var now = clock.tv_sec
            var parts = tm()
            gmtime_r(&now, &parts)
            var buffer = [CChar](repeating: 0, count: 40)
            let n = strftime(&buffer, buffer.count, "%a, %d %b %Y %H:%M:%S GMT", &parts)
            text = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return text
    }
}
