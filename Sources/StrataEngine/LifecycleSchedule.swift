import Synchronization

/// Runs `metabolize` every `lifecycle.schedule_minutes` on a background task for as long as the
/// engine lives. The task holds the engine weakly, so closing the engine (dropping its last
/// reference) ends the schedule; a cycle that throws is counted and published as a
/// `lifecycle.failed` event (`metabolizeOnSchedule`), and the next one runs on time.
final class LifecycleSchedule: Sendable {
    private let task = Mutex<Task<Void, Never>?>(nil)

    init() {}

    func start(everySeconds seconds: Double, engine: Engine) {
        let t = Task.detached { [weak engine] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
                guard !Task.isCancelled, let engine else { return }
                // The failure is already counted and published; the schedule carries on.
                do { try engine.metabolizeOnSchedule() } catch {}
            }
        }
        task.withLock { $0 = t }
    }

    deinit { task.withLock { $0?.cancel() } }
}
