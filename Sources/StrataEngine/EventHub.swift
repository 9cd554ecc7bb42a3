import StrataCore
import Synchronization

/// Delivers events to subscribers: C callbacks (through `subscribe`) and Swift `AsyncStream`s.
///
/// Handlers run on the thread that made the change, after it is committed, one event at a time
/// in commit order. `unsubscribe` waits until a running delivery has finished, so after it
/// returns the handler is never called again.
final class EventHub: Sendable {
    typealias Handler = @Sendable (MemoryEvent) -> Void

    private let handlers = Mutex<(next: UInt64, table: [UInt64: Handler])>((1, [:]))
    // Held while delivering: serialises deliveries and lets unsubscribe wait for a running one.
    private let delivery = Mutex<Void>(())

    func subscribe(_ handler: @escaping Handler) -> UInt64 {
        handlers.withLock { state in
            let token = state.next
            state.next += 1
            state.table[token] = handler
            return token
        }
    }

    @discardableResult
    func unsubscribe(_ token: UInt64) -> Bool {
        delivery.withLock { _ in handlers.withLock { $0.table.removeValue(forKey: token) != nil } }
    }

    func publish(_ events: [MemoryEvent]) {
        guard !events.isEmpty else { return }
        delivery.withLock { _ in
            let current = handlers.withLock { Array($0.table.sorted { $0.key < $1.key }.map(\.value)) }
            guard !current.isEmpty else { return }
            for event in events { for handler in current { handler(event) } }
        }
    }

    /// A stream of every event from now on; the subscription ends when the stream is dropped.
    func stream() -> AsyncStream<MemoryEvent> {
        let (stream, continuation) = AsyncStream<MemoryEvent>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        let token = subscribe { continuation.yield($0) }
        continuation.onTermination = { [weak self] _ in
            // Termination may fire inside a delivery (the stream's consumer went away); removing
            // the handler directly avoids waiting on the delivery lock we may be under.
            self?.handlers.withLock { _ = $0.table.removeValue(forKey: token) }
        }
        return stream
    }
}
