#if canImport(Glibc)
import Glibc
#endif

/// Runs `body(0) ..< body(count)` each on its own OS thread, all released at once by a
/// barrier, and returns when all have finished: as much real overlap as the machine allows,
/// which is what a check of a plugin's thread-safety claim needs (a pool of workers may run
/// the iterations one after another).
func stressThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    final class Context: @unchecked Sendable {
        let body: @Sendable (Int) -> Void
        let index: Int
        let barrier: UnsafeMutablePointer<pthread_barrier_t>
        init(_ body: @escaping @Sendable (Int) -> Void, _ index: Int, _ barrier: UnsafeMutablePointer<pthread_barrier_t>) {
            self.body = body
            self.index = index
            self.barrier = barrier
        }
    }
    let barrier = UnsafeMutablePointer<pthread_barrier_t>.allocate(capacity: 1)
    pthread_barrier_init(barrier, nil, UInt32(count))
    defer {
        pthread_barrier_destroy(barrier)
        barrier.deallocate()
    }
    var threads: [pthread_t] = []
    for i in 0..<count {
        let context = Unmanaged.passRetained(Context(body, i, barrier)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            let c = Unmanaged<Context>.fromOpaque(raw!).takeRetainedValue()
            pthread_barrier_wait(c.barrier)
            c.body(c.index)
            return nil
        }, context)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        threads.append(thread)
    }
    for t in threads { pthread_join(t, nil) }
}
