import Logging
import ServiceLifecycle
import StrataCore
import StrataEngine
import Synchronization

/// How often a piece of scheduled work ran and failed, for `/v1/health`.
final class ScheduleCounts: Sendable {
    struct Counts: Sendable {
        var runs = 0
        var failed = 0
        var lastError: String?
    }

    let seconds: Double
    private let state = Mutex(Counts())

    init(seconds: Double) { self.seconds = seconds }

    var now: Counts { state.withLock { $0 } }

    func succeeded() { state.withLock { $0.runs += 1 } }

    /// Records a failure; returns how many there have been.
    func failed(_ message: String) -> Int {
        state.withLock { c in
            c.runs += 1
            c.failed += 1
            c.lastError = message
            return c.failed
        }
    }

    /// `{"every_seconds", "runs", "failed", "last_error"}`.
    var json: JSONValue {
        let c = now
        return .object([
            "every_seconds": .number(seconds), "runs": .number(Double(c.runs)), "failed": .number(Double(c.failed)),
            "last_error": c.lastError.map { .string($0) } ?? .null,
        ])
    }
}

/// Background work of a served store, every `counts.seconds` until SIGTERM: the lifecycle
/// schedule (`lifecycle.schedule_minutes`, `Engine.metabolizeOnSchedule`) and the anomaly scan
/// (`--anomaly-scan-minutes`, `Engine.anomalies`, which publishes each memory it finds as an
/// `anomaly.detected` event). Each run goes through the engine queue like a request, so it never
/// blocks one of Swift's cooperative threads for its length. A failed run is logged and counted
/// (`/v1/health`, and `strata_scheduled_failures_total` on `/metrics`), never dropped, and the next one runs on time.
struct ScheduledWork: Service {
    let name: String
    /// The `work` label of its metrics (`ServerMetrics.scheduled`).
    let label: String
    let service: MemoryService
    let counts: ScheduleCounts
    let logger: Logger
    let work: @Sendable (Engine) throws(StrataError) -> Void

    func run() async throws {
        let engine = service.engine
        service.metrics.declareScheduled(label)
        while true {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(Int64(counts.seconds * 1000))) }
            } catch {
                return  // stopping
            }
            do {
                _ = try await service.queue.run { () throws(StrataError) -> Int in
                    try work(engine)
                    return 0
                }
                counts.succeeded()
                service.metrics.scheduled(label, failed: false)
            } catch {
                service.metrics.scheduled(label, failed: true)
                let message = (error as? StrataError)?.description ?? (error as? APIError)?.message ?? "\(error)"
                let failed = counts.failed(message)
                logger.error("scheduled \(name) failed", metadata: ["error": "\(message)", "failed": "\(failed)"])
            }
        }
    }
}
