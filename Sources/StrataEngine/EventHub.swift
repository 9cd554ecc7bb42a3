#if canImport(Glibc)
import Glibc
#endif
import StrataCore
import Synchronization

/// Delivers events to subscribers: C callbacks (through `subscribe`) and Swift `AsyncStream`s.
///
/// The engine publishes after its writer lock is released, so a handler may call any engine
/// verb, including writing ones. Events go through one queue: they are delivered one at a time,
/// in the order they were published, by whichever thread is draining the queue (the thread
/// that made the change, unless another thread is still delivering earlier events). An event
/// published from inside a handler is delivered after that handler returns, never recursively.
///
/// `unsubscribe` waits until a handler call in progress has finished, so after it returns the
/// handler is never called again; called from inside a handler it removes without waiting.
final class EventHub: Sendable {
    typealias Handler = @Sendable (MemoryEvent) -> Void

    private struct State {
        var next: UInt64 = 1
        var table: [UInt64: Handler] = [:]
        var queue: [MemoryEvent] = []
        var queueHead = 0
        /// The thread draining the queue, if any.
        var drainer: pthread_t?
    }

    private let state = Mutex(State())
    /// Held while handlers run: lets unsubscribe wait for a call in progress.
    private let running = Mutex<Void>(())

    func subscribe(_ handler: @escaping Handler) -> UInt64 {
        state.withLock { s in
            let token = s.next
            s.next += 1
            s.table[token] = handler
            return token
        }
    }

    @discardableResult
    func unsubscribe(_ token: UInt64) -> Bool {
        let (removed, insideHandler): (Bool, Bool) = state.withLock { s in
            let removed = s.table.removeValue(forKey: token) != nil
            guard let drainer = s.drainer else { return (removed, false) }
            return (removed, pthread_equal(drainer, pthread_self()) != 0)
        }
        if !insideHandler { running.withLock { _ in } }
        return removed
    }

    func publish(_ events: [MemoryEvent]) {
        guard !events.isEmpty else { return }
        let drain = state.withLock { s -> Bool in
            s.queue.append(contentsOf: events)
            guard s.drainer == nil else { return false }
            s.drainer = pthread_self()
            return true
        }
        guard drain else { return }
        while true {
            let more: Bool = running.withLock { _ in
                // Take the event and the handlers together, under `running`, so a handler removed
                // by unsubscribe is never called after unsubscribe returns.
                let next = state.withLock { s -> (MemoryEvent, [Handler])? in
                    guard s.queueHead < s.queue.count else {
                        s.queue.removeAll(keepingCapacity: true)
                        s.queueHead = 0
                        s.drainer = nil
                        return nil
                    }
                    let event = s.queue[s.queueHead]
                    s.queueHead += 1
                    return (event, s.table.sorted { $0.key < $1.key }.map(\.value))
                }
                guard let (event, handlers) = next else { return false }
                for handler in handlers { handler(event) }
                return true
            }
            if !more { return }
        }
    }

    /// A stream of every event from now on; the subscription ends when the stream is dropped.
    func stream() -> AsyncStream<MemoryEvent> {
        let (stream, continuation) = AsyncStream<MemoryEvent>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        let token = subscribe { continuation.yield($0) }
        continuation.onTermination = { [weak self] _ in
            // May fire inside a delivery: remove without waiting for `running`.
            self?.state.withLock { _ = $0.table.removeValue(forKey: token) }
        }
        return stream
    }
}
