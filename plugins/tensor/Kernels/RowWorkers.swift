import CStrataSIMD
import Glibc
import Synchronization

/// A fixed pool of worker threads for the kernels' per-row work and split matrix products.
/// Unlike `parallelFor` (Dispatch), handing out a job allocates nothing: the job is a pointer to
/// the caller's closure, valid while the caller waits.
///
/// The jobs are short (a 32-row product takes ~20 µs) and come in bursts (a step is a handful of
/// them, and a training loop calls step after step), so a worker that finishes spins for a while
/// (`spinLimit` pauses, ~100 µs) watching for the next job before it sleeps on the condition
/// variable: waking a sleeping thread costs tens of microseconds on this VM, as much as the job.
/// One job runs at a time; a caller that finds the pool busy (another kernel call on another
/// thread) runs its parts itself.
final class RowWorkers: @unchecked Sendable {
    /// One thread fewer than the cores: the caller works too.
    static let shared = RowWorkers(threads: max(0, ProcessInfoCores.count - 1))

    /// Pauses a worker spins through before sleeping.
    static let spinLimit = 20_000

    let threads: Int
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Bumped (under `mutex`) for every job; spinning workers watch it without the mutex.
    private let generation = Atomic<Int>(0)
    /// Parts of the current job not finished yet; the caller spins on it.
    private let remaining = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    // Guarded by `mutex`.
    private var job: UnsafeRawPointer?
    private var parts = 0, next = 0, sleepers = 0

    private init(threads: Int) {
        self.threads = threads
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
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
        guard threads > 0, parts > 1, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for p in 0..<parts { body(p) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            var function = escapable
            withUnsafePointer(to: &function) { pointer in
                pthread_mutex_lock(mutex)
                job = UnsafeRawPointer(pointer)
                self.parts = parts
                next = 0
                remaining.store(parts, ordering: .relaxed)
                generation.add(1, ordering: .sequentiallyConsistent)
                if sleepers > 0 { pthread_cond_broadcast(wake) }
                // The caller takes parts too, then waits for the ones still running elsewhere.
                while next < parts {
                    let p = next
                    next += 1
                    pthread_mutex_unlock(mutex)
                    pointer.pointee(p)
                    remaining.subtract(1, ordering: .releasing)
                    pthread_mutex_lock(mutex)
                }
                pthread_mutex_unlock(mutex)
                while remaining.load(ordering: .acquiring) > 0 { strata_cpu_relax() }
                pthread_mutex_lock(mutex)
                job = nil
                self.parts = 0
                pthread_mutex_unlock(mutex)
            }
        }
        busy.store(false, ordering: .releasing)
    }

    private func work() {
        pthread_mutex_lock(mutex)
        while true {
            while job == nil || next >= parts {
                // Spin without the mutex for a while, then sleep until the next job.
                let seen = generation.load(ordering: .sequentiallyConsistent)
                pthread_mutex_unlock(mutex)
                var spins = 0
                while spins < Self.spinLimit, generation.load(ordering: .relaxed) == seen {
                    strata_cpu_relax()
                    spins += 1
                }
                pthread_mutex_lock(mutex)
                if generation.load(ordering: .sequentiallyConsistent) == seen {
                    sleepers += 1
                    while generation.load(ordering: .sequentiallyConsistent) == seen { pthread_cond_wait(wake, mutex) }
                    sleepers -= 1
                }
            }
            let p = next
            next += 1
            let function = job!.assumingMemoryBound(to: ((Int) -> Void).self)
            pthread_mutex_unlock(mutex)
            function.pointee(p)
            remaining.subtract(1, ordering: .releasing)
            pthread_mutex_lock(mutex)
        }
    }
}
