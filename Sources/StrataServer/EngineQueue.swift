import Dispatch
import NIOPosix
import StrataCore
import Synchronization

/// Runs the engine's blocking calls on Dispatch threads, never on Swift's cooperative pool, so
/// a recall that takes a while leaves the pool free for `/v1/health`, WebSocket traffic and the
/// event loop's own work. At most `limit` calls wait or run at once; the next is refused at
/// once with 503 rather than queued without bound.
///
/// Thread-safe.
final class EngineQueue: Sendable {
    private let queue = DispatchQueue(label: "strata.engine", attributes: .concurrent)
    private let pending = Mutex(0)
    let limit: Int

    init(limit: Int) { self.limit = limit }

    /// Calls in flight (waiting or running).
    var inFlight: Int { pending.withLock { $0 } }

    func run<T: Sendable>(_ body: @escaping @Sendable () throws(StrataError) -> T) async throws -> T {
        let admitted = pending.withLock { n -> Bool in
            guard n < limit else { return false }
            n += 1
            return true
        }
        guard admitted else { throw APIError.busy("the server has \(limit) engine calls in flight (--max-pending); try again") }
        defer { pending.withLock { $0 -= 1 } }
        // A caller on an event loop (`EventLoopExecutor`) is resumed on that loop: resuming from
        // the Dispatch thread would wake another loop, and the answer would then cross to the
        // connection's loop once more.
        let home = MultiThreadedEventLoopGroup.currentEventLoop
        let result: Result<T, StrataError> = await withCheckedContinuation { continuation in
            queue.async {
                let result: Result<T, StrataError>
                do throws(StrataError) {
                    result = .success(try body())
                } catch {
                    result = .failure(error)
                }
                if let home {
                    home.execute { continuation.resume(returning: result) }
                } else {
                    continuation.resume(returning: result)
                }
            }
        }
        return try result.get()
    }
}
