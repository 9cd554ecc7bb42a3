import StrataCore
import StrataEngine
import StrataWire
import Synchronization

/// Hands every engine event to the WebSocket clients that may see it, numbered in the order the
/// engine published them (`seq`, from 1), keeping the last `ringSize` so a client that lost its
/// connection can resume from the last number it saw.
///
/// The engine calls `publish` on the thread that made the change; it never waits for a client.
/// Each client has a buffer of `clientBuffer` events: a client that lets it fill is dropped
/// (its stream ends and `overflow` says where), and the server closes it with
/// `WebSocketClose.tooSlow`, telling it the sequence number to resume from.
///
/// Thread-safe.
final class EventFanout: Sendable {
    /// One event as clients receive it: its JSON text (`Answer.event` plus `"seq"`).
    struct Sequenced: Sendable {
        var seq: UInt64
        var text: String
        /// The scope of the memory it is about; nil for events about no memory (a lifecycle
        /// cycle), which only tokens of the root scope see.
        var scope: ScopePath?
    }

    enum Refusal: Error, Equatable {
        /// The client asked to resume after `after`, but the oldest event kept is `oldest`.
        case gone(after: UInt64, oldest: UInt64)
        /// The server is shutting down.
        case closed
    }

    private struct Client {
        var access: Access
        var continuation: AsyncStream<Sequenced>.Continuation
    }

    private struct State {
        var nextSeq: UInt64 = 1
        var ring: [Sequenced] = []
        var ringHead = 0
        var clients: [UInt64: Client] = [:]
        var nextClient: UInt64 = 1
        /// Clients dropped for being slow: the first sequence number they did not get.
        var overflowed: [UInt64: UInt64] = [:]
        var closed = false
    }

    let ringSize: Int
    let clientBuffer: Int
    /// Called (under the fanout's lock, so it must not call back) for each client dropped for
    /// being slow, when it is dropped: its 4008 close follows only once the events already
    /// written to it drain, which a client that stopped reading never does.
    private let overflowed: @Sendable () -> Void
    private let state = Mutex(State())

    init(ringSize: Int, clientBuffer: Int, overflowed: @escaping @Sendable () -> Void = {}) {
        precondition(ringSize >= 1 && clientBuffer >= 1)
        self.ringSize = ringSize
        self.clientBuffer = clientBuffer
        self.overflowed = overflowed
    }

    static func visible(_ e: Sequenced, to access: Access) -> Bool {
        guard let scope = e.scope else { return access.seesEverything }
        return access.sees(scope)
    }

    /// The newest sequence number given out (0 before the first event).
    var lastSeq: UInt64 { state.withLock { $0.nextSeq - 1 } }

    func publish(_ event: MemoryEvent) {
        state.withLock { s in
            guard !s.closed else { return }
            guard case .object(var fields) = Answer.event(event) else { return }
            fields["seq"] = .number(Double(s.nextSeq))
            let e = Sequenced(seq: s.nextSeq, text: Wire.text(.object(fields)), scope: event.memory?.scope)
            s.nextSeq += 1
            if s.ring.count - s.ringHead >= ringSize { s.ringHead += 1 }
            s.ring.append(e)
            if s.ringHead >= ringSize {
                s.ring.removeFirst(s.ringHead)
                s.ringHead = 0
            }
            var dropped: [UInt64] = []
            for (id, c) in s.clients where Self.visible(e, to: c.access) {
                if case .dropped = c.continuation.yield(e) {
                    dropped.append(id)
                    s.overflowed[id] = e.seq
                }
            }
            for id in dropped {
                s.clients.removeValue(forKey: id)?.continuation.finish()
                overflowed()
            }
        }
    }

    /// A new client: its id and a stream of the events it may see, beginning after `since`
    /// (those still kept) when given, else with the next event published.
    func subscribe(_ access: Access, since: UInt64?) -> Result<(id: UInt64, events: AsyncStream<Sequenced>), Refusal> {
        state.withLock { s in
            guard !s.closed else { return .failure(.closed) }
            var backlog: [Sequenced] = []
            if let since, since + 1 < s.nextSeq {
                let oldest = s.ringHead < s.ring.count ? s.ring[s.ringHead].seq : s.nextSeq
                guard since + 1 >= oldest else { return .failure(.gone(after: since, oldest: oldest)) }
                backlog = s.ring[s.ringHead...].filter { $0.seq > since && Self.visible($0, to: access) }
            }
            let (stream, continuation) = AsyncStream<Sequenced>.makeStream(bufferingPolicy: .bufferingOldest(clientBuffer + backlog.count))
            for e in backlog { continuation.yield(e) }
            let id = s.nextClient
            s.nextClient += 1
            s.clients[id] = Client(access: access, continuation: continuation)
            return .success((id, stream))
        }
    }

    /// Ends a client; returns the first sequence number it missed when it was dropped for being slow.
    @discardableResult
    func unsubscribe(_ id: UInt64) -> UInt64? {
        state.withLock { s in
            s.clients.removeValue(forKey: id)?.continuation.finish()
            return s.overflowed.removeValue(forKey: id)
        }
    }

    /// Ends every client's stream and refuses new ones (the server is stopping).
    func close() {
        state.withLock { s in
            s.closed = true
            for c in s.clients.values { c.continuation.finish() }
            s.clients.removeAll()
        }
    }
}
