import CStrataSIMD
import Glibc
import Synchronization

/// A fixed pool of worker threads for the kernels' per-row work and split matrix products (and
/// the minilm embedder's, plugins/minilm, whose plugin image has its own copy of this module).
/// Unlike `parallelFor` (Dispatch), handing out a job allocates nothing (see `run`).
///
/// The jobs are short (a 32-row product takes ~20 µs) and come in bursts (a step is a handful of
/// them, and a training loop calls step after step), so a worker that finishes spins for a while
/// (`spinLimit` pauses, ~110 µs) watching for the next job before it sleeps on the condition
/// variable: waking a sleeping thread costs tens of microseconds on this VM, as much as the job.
/// One job runs at a time; a caller that finds the pool busy (another kernel call on another
/// thread) runs its parts itself.
public final class RowWorkers: @unchecked Sendable {
    /// One thread fewer than the cores: the caller works too.
    public static let shared = RowWorkers(threads: max(0, ProcessInfoCores.count - 1))

    /// Pauses a worker spins through before sleeping: about 110 µs here (a `pause` and an atomic
    /// load take ~27 ns on this machine's CPU).
    static let spinLimit = 4_000

    public let threads: Int
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Bumped (under `mutex`) for every job; spinning workers watch it without the mutex.
    private let generation = Atomic<Int>(0)
    /// Parts of the current job not finished yet; the caller spins on it.
    private let remaining = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    // Guarded by `mutex`: the running job and its type.
    private var job: UnsafeRawPointer?
    private var jobType: (any PartJob.Type)?
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

    /// Runs `job.runPart(0) ..< job.runPart(parts)`, on the caller and the pool's threads, and
    /// returns when all have finished. Parts must touch disjoint memory (or only read shared
    /// memory).
    ///
    /// The job is a value the workers reach through a pointer to the caller's copy, and its type
    /// through an existential metatype: no closure crosses threads, because making a closure
    /// escape (`withoutActuallyEscaping`) allocates on every call.
    public func run<Job: PartJob>(_ parts: Int, _ job: Job) {
        guard threads > 0, parts > 1, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for p in 0..<parts { job.runPart(p) }
            return
        }
        withUnsafePointer(to: job) { pointer in
            dispatch(parts, job: UnsafeRawPointer(pointer), type: Job.self)
        }
        busy.store(false, ordering: .releasing)
    }

    /// Hands out the job and takes parts of it until all are done.
    private func dispatch(_ parts: Int, job: UnsafeRawPointer, type: any PartJob.Type) {
        pthread_mutex_lock(mutex)
        self.job = job
        jobType = type
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
            type.runPart(p, of: job)
            remaining.subtract(1, ordering: .releasing)
            pthread_mutex_lock(mutex)
        }
        pthread_mutex_unlock(mutex)
        while remaining.load(ordering: .acquiring) > 0 { strata_cpu_relax() }
        pthread_mutex_lock(mutex)
        self.job = nil
        jobType = nil
        self.parts = 0
        pthread_mutex_unlock(mutex)
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
            let (pointer, type) = (job!, jobType!)
            pthread_mutex_unlock(mutex)
            type.runPart(p, of: pointer)
            remaining.subtract(1, ordering: .releasing)
            pthread_mutex_lock(mutex)
        }
    }
}

/// Work split into numbered parts for `RowWorkers`.
public protocol PartJob {
    func runPart(_ part: Int)
}

extension PartJob {
    /// Runs part `part` of the job of this type at `job`.
    static func runPart(_ part: Int, of job: UnsafeRawPointer) {
        job.assumingMemoryBound(to: Self.self).pointee.runPart(part)
    }
}

/// Work done row by row (`TensorKernel.forEachRow`).
protocol RowJob {
    func run(_ row: Int)
}

/// A `RowJob`'s rows cut into `parts` contiguous chunks.
struct RowChunks<Job: RowJob>: PartJob {
    let job: Job, rows: Int, parts: Int

    func runPart(_ part: Int) {
        for r in (rows * part / parts)..<(rows * (part + 1) / parts) { job.run(r) }
    }
}
