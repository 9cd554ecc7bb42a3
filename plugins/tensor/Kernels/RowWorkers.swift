import Glibc

/// A fixed pool of worker threads for the kernels' per-row work. Unlike `parallelFor`
/// (Dispatch), handing out a job allocates nothing: the job is a pointer to the caller's closure,
/// valid while the caller waits, and the threads sleep on one condition variable between jobs.
/// One job runs at a time; a caller that finds the pool busy (another kernel call on another
/// thread) runs its parts itself.
final class RowWorkers: @unchecked Sendable {
    /// One thread fewer than the cores: the caller works too.
    static let shared = RowWorkers(threads: max(0, ProcessInfoCores.count - 1))

    let threads: Int
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let finished = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    // Guarded by `mutex`.
    private var job: UnsafeRawPointer?
    private var parts = 0, next = 0, running = 0
    private var busy = false

    private init(threads: Int) {
        self.threads = threads
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        pthread_cond_init(finished, nil)
        for _ in 0..<threads {
            var id = pthread_t()
            let me = Unmanaged.passUnretained(self).toOpaque()  // the shared pool lives for the process
            pthread_create(&id, nil, { arg in
                Unmanaged<RowWorkers>.fromOpaque(arg!).takeUnretainedValue().work()
                return nil
            }, me)
            pthread_detach(id)
        }
    }

    /// Runs `body(0) ..< body(parts)`, on the caller and the pool's threads, and returns when all
    /// have finished. Parts must touch disjoint memory (or only read shared memory).
    func run(_ parts: Int, _ body: (Int) -> Void) {
        guard threads > 0, parts > 1 else {
            for p in 0..<parts { body(p) }
            return
        }
        pthread_mutex_lock(mutex)
        if busy {
            pthread_mutex_unlock(mutex)
            for p in 0..<parts { body(p) }
            return
        }
        busy = true
        withoutActuallyEscaping(body) { escapable in
            var function = escapable
            withUnsafePointer(to: &function) { pointer in
                job = UnsafeRawPointer(pointer)
                self.parts = parts
                next = 0
                running = 0
                pthread_cond_broadcast(wake)
                // The caller takes parts too, then waits for the ones still running elsewhere.
                while next < parts {
                    let p = next
                    next += 1
                    running += 1
                    pthread_mutex_unlock(mutex)
                    pointer.pointee(p)
                    pthread_mutex_lock(mutex)
                    running -= 1
                }
                while running > 0 { pthread_cond_wait(finished, mutex) }
                job = nil
                self.parts = 0
            }
        }
        busy = false
        pthread_mutex_unlock(mutex)
    }

    private func work() {
        pthread_mutex_lock(mutex)
        while true {
            while job == nil || next >= parts { pthread_cond_wait(wake, mutex) }
            let p = next
            next += 1
            running += 1
            let function = job!.assumingMemoryBound(to: ((Int) -> Void).self)
            pthread_mutex_unlock(mutex)
            function.pointee(p)
            pthread_mutex_lock(mutex)
            running -= 1
            if running == 0, next >= parts { pthread_cond_signal(finished) }
        }
    }
}
