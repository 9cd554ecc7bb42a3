import Logging
import ServiceLifecycle
import StrataCore
import StrataEngine
import Synchronization

/// The lifecycle schedule of a served store (`lifecycle.schedule_minutes`): a cycle every
/// `seconds`, run on the engine queue like a request (so it never blocks one of Swift's
/// cooperative threads for the length of a cycle), until SIGTERM. A failed cycle is logged,
/// counted in `/v1/health` and published as a `lifecycle.failed` event
/// (`Engine.metabolizeOnSchedule`); the next one runs on time.
struct LifecycleLoop: Service {
    struct Counts: Sendable {
        var cycles = 0
        var failed = 0
        var lastError: String?
    }

    let service: MemoryService
    let seconds: Double
    let logger: Logger

    func run() async throws {
        while true {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(Int64(seconds * 1000))) }
            } catch {
                return  // stopping
            }
            let engine = service.engine
            do {
                _ = try await service.queue.run { () throws(StrataError) -> Int in
                    try engine.metabolizeOnSchedule()
                    return 0
                }
                service.lifecycle.withLock { $0.cycles += 1 }
            } catch {
                let message = (error as? StrataError)?.description ?? (error as? APIError)?.message ?? "\(error)"
                let failed = service.lifecycle.withLock { c -> Int in
                    c.failed += 1
                    c.lastError = message
                    return c.failed
                }
                logger.error("scheduled lifecycle cycle failed", metadata: ["error": "\(message)", "failed": "\(failed)"])
            }
        }
    }
}
