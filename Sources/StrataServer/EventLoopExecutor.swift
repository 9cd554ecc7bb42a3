import NIOCore
import NIOPosix

/// Runs the server's tasks on SwiftNIO's event loops instead of Swift's cooperative pool.
///
/// Hummingbird reads each connection on an event loop and handles its requests in a Swift task.
/// On the cooperative pool that task ran on another thread, so a request crossed threads four
/// times: the loop woke the task, the task handed the engine call to the engine queue, the queue
/// woke the task again, and the task handed the answer back to the loop. On a 2-core VM each
/// crossing costs tens of microseconds of wake-up and switching (about a quarter of a server
/// recall's CPU in the profile). With the task on the loop that read the request, the request
/// crosses threads twice, to the engine queue and back (`EngineQueue` resumes its caller on the
/// loop it came from), and a route that makes no engine call (`/v1/health`) crosses none.
///
/// What keeps the loops free: the engine's blocking calls still run on `EngineQueue`'s threads,
/// as before; the handlers do only parsing and writing, which NIO's own handlers do on the loop
/// too.
///
/// A job is run on the loop it was enqueued from, or on the next loop of the group when it was
/// enqueued from elsewhere (a Dispatch thread, a timer).
final class EventLoopExecutor: TaskExecutor {
    private let group: MultiThreadedEventLoopGroup

    init(group: MultiThreadedEventLoopGroup) { self.group = group }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let loop = MultiThreadedEventLoopGroup.currentEventLoop ?? group.next()
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
