import Dispatch
import NIOCore
import NIOPosix
import StrataCore
import Synchronization

/// What an engine call is, for where `EngineQueue` runs it.
enum EngineCall: Sendable {
    /// A read that is usually short: it may run on the event loop that read the request when
    /// the server is otherwise idle (`EngineQueue`).
    case read(ReadVerb)
    /// Anything else (a write, a cycle, a snapshot, a scan): always on the engine's threads.
    case other
}

/// The reads that may run inline, each with its own record of how long it takes.
enum ReadVerb: Int, CaseIterable, Sendable {
    case get, recall, list, count, history
}

/// Runs the engine's blocking calls on Dispatch threads, never on Swift's cooperative pool, so
/// a recall that takes a while leaves the pool free for `/v1/health`, WebSocket traffic and the
/// event loop's own work. At most `limit` calls wait or run at once; the next is refused at
/// once with 503 rather than queued without bound.
///
/// One exception, for latency: a read (`EngineCall.read`) that arrives when no other engine
/// call is in flight, and whose verb has lately taken at most `inlineBudget`, runs on the
/// event loop that read its request. Handing a call to another thread and back costs two
/// thread wake-ups: 40 µs at p50 of a 100k-memory recall at one connection on this VM, and up
/// to 270 µs when the machine is colder (bench/README.md, "One loop, no hop"); for a recall by
/// text (5 to 7 ms, most of it the query's embedding) about 0.45 ms ("Text recall inline when
/// its connection is alone"). Nothing else is in flight, so no request waits on the engine
/// behind it; a request that arrives on the same loop meanwhile waits at most that one call.
///
/// A longer read, whose verb has lately taken at most `aloneBudget`, runs inline too when its
/// connection is the only one its event loop serves (`connectionOpened(on:)`): no other client
/// of that loop, a WebSocket or a dashboard included, can be kept waiting by it; only a client
/// that connects meanwhile and is given that loop waits, for at most that one call. This is an
/// agent's loop of recalls by text on its own connection.
///
/// A verb's first call, a verb whose recent calls averaged over the budget that applies (a
/// text recall while the loop serves other connections, an exact scan of a big store), every
/// write, and every call made while another is in flight keep the hop: through `run` from the
/// router's handlers, or through `handOff` from the recall fast lane, which answers in the
/// channel pipeline when the call comes back. An `inlineBudget` of
/// zero turns both exceptions off; an `aloneBudget` of zero (or under `inlineBudget`) the second.
///
/// Thread-safe.
final class EngineQueue: Sendable {
    private let queue = DispatchQueue(label: "strata.engine", attributes: .concurrent)
    private let state: Mutex<State>
    let limit: Int
    let inlineBudget: Duration
    let aloneBudget: Duration
    /// Told where each admitted call runs: true inline, false handed off (`ServerMetrics`).
    private let placed: @Sendable (_ inline: Bool) -> Void

    private struct State {
        var pending = 0
        /// Each read verb's recent duration in nanoseconds (an exponential average, 1/4 weight
        /// to the newest); nil until its first call. Integers, not `Duration`s: this runs after
        /// every inline call, on caches the call has just emptied, and `Duration`'s 128-bit
        /// arithmetic is more code to fetch.
        var recent = [Int64?](repeating: nil, count: ReadVerb.allCases.count)
        /// Open connections per event loop (absent: none).
        var connections: [ObjectIdentifier: Int] = [:]

        mutating func record(_ verb: ReadVerb, _ took: Duration) {
            let nanoseconds = EngineQueue.nanoseconds(took)
            recent[verb.rawValue] = recent[verb.rawValue].map { $0 / 4 * 3 + nanoseconds / 4 } ?? nanoseconds
        }
    }

    /// The budgets in nanoseconds, as `State.recent` keeps durations.
    private let inlineNanoseconds: Int64
    private let aloneNanoseconds: Int64

    /// - Parameters:
    ///   - inlineBudget: zero turns every inline read off, `aloneBudget` too.
    ///   - aloneBudget: the budget of a read whose connection is alone on its loop (when it is
    ///     less than `inlineBudget`, `inlineBudget` applies).
    ///   - placed: told, for each call admitted, whether it runs inline (true) or handed off.
    init(limit: Int, inlineBudget: Duration = .milliseconds(1), aloneBudget: Duration = .zero,
         placed: @escaping @Sendable (_ inline: Bool) -> Void = { _ in }) {
        self.limit = limit
        self.inlineBudget = inlineBudget
        self.aloneBudget = aloneBudget
        inlineNanoseconds = Self.nanoseconds(inlineBudget)
        aloneNanoseconds = Self.nanoseconds(aloneBudget)
        self.placed = placed
        state = Mutex(State())
    }

    /// A connection is open on `loop` (called on that loop when its pipeline is made).
    func connectionOpened(on loop: any EventLoop) {
        state.withLock { $0.connections[ObjectIdentifier(loop), default: 0] += 1 }
    }

    /// A connection counted by `connectionOpened(on:)` is closed.
    func connectionClosed(on loop: any EventLoop) {
        state.withLock { s in
            let key = ObjectIdentifier(loop)
            guard let open = s.connections[key] else { return }
            s.connections[key] = open > 1 ? open - 1 : nil
        }
    }

    /// Open connections on `loop`.
    func connections(on loop: any EventLoop) -> Int {
        state.withLock { $0.connections[ObjectIdentifier(loop)] ?? 0 }
    }

    /// Calls in flight (waiting or running, inline ones too).
    var inFlight: Int { state.withLock { $0.pending } }

    /// Runs `body` as an engine call of the given kind (see the type's comment for where).
    func run<T: Sendable>(_ call: EngineCall = .other, _ body: @escaping @Sendable () throws(StrataError) -> T) async throws -> T {
        let home = MultiThreadedEventLoopGroup.currentEventLoop
        let admission = state.withLock { s -> Admission in
            guard s.pending < limit else { return .refused }
            defer { s.pending += 1 }
            guard let home, case .read(let verb) = call, inlineAllowed(s, verb, on: home) else { return .hop }
            return .inline
        }
        switch admission {
        case .refused:
            throw APIError.busy("the server has \(limit) engine calls in flight (--max-pending); try again")
        case .inline:
            defer { state.withLock { $0.pending -= 1 } }
            placed(true)
            return try timed(call, body)
        case .hop:
            // A caller on an event loop (`EventLoopExecutor`) is resumed on that loop: resuming
            // from the Dispatch thread would wake another loop, and the answer would then cross
            // to the connection's loop once more.
            let result: Result<T, StrataError> = await withCheckedContinuation { continuation in
                dispatch(call, body) { result in
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

    /// Runs `body` on the engine's threads as a call of the given kind, unless `limit` calls
    /// are in flight already, and hands its result to `then` on the thread that ran it. Returns
    /// false, with nothing run, when the call is refused (`run` throws `APIError.busy` then).
    /// For a caller on an event loop that answers outside Swift concurrency (`RecallFastLane`),
    /// when `runInlineIfIdle` would not run the call there.
    func handOff<T: Sendable>(_ call: EngineCall, _ body: @escaping @Sendable () throws(StrataError) -> T,
                              then: @escaping @Sendable (Result<T, StrataError>) -> Void) -> Bool {
        let admitted = state.withLock { s -> Bool in
            guard s.pending < limit else { return false }
            s.pending += 1
            return true
        }
        guard admitted else { return false }
        dispatch(call, body, then: then)
        return true
    }

    /// The hand-off itself, for an admitted call (counted in `pending`, which it gives back
    /// before `then` runs: whoever `then` wakes finds the call no longer in flight).
    private func dispatch<T: Sendable>(_ call: EngineCall, _ body: @escaping @Sendable () throws(StrataError) -> T,
                                       then: @escaping @Sendable (Result<T, StrataError>) -> Void) {
        placed(false)
        queue.async {
            let result: Result<T, StrataError>
            do throws(StrataError) {
                result = .success(try self.timed(call, body))
            } catch {
                result = .failure(error)
            }
            self.state.withLock { $0.pending -= 1 }
            then(result)
        }
    }

    private enum Admission { case refused, hop, inline }

    /// The inline rule, on the state under the lock: a budget, nothing else in flight, and the
    /// verb's recent calls within the budget (a verb not yet timed is not): `inlineBudget`, or
    /// `aloneBudget` when `loop` serves at most one connection.
    private func inlineAllowed(_ s: State, _ verb: ReadVerb, on loop: any EventLoop) -> Bool {
        guard inlineNanoseconds > 0, s.pending == 0, limit > 0, let recent = s.recent[verb.rawValue] else { return false }
        if recent <= inlineNanoseconds { return true }
        return recent <= aloneNanoseconds && s.connections[ObjectIdentifier(loop), default: 0] <= 1
    }

    /// Whether a read of `verb` on `loop` would run inline now: a hint, taken before the work
    /// of preparing the call (another call may start meanwhile; `runInlineIfIdle` decides).
    func wouldRunInline(_ verb: ReadVerb, on loop: any EventLoop) -> Bool {
        state.withLock { inlineAllowed($0, verb, on: loop) }
    }

    /// Runs `body` as an inline read of `verb` (timed as one, counted in `inFlight`) when `run`
    /// would run it inline now; nil, with nothing run, when it would not. For a caller already
    /// on an event loop that answers outside Swift concurrency (`RecallFastLane`); it must be
    /// on `loop`, the loop that read the request, as `run`'s inline calls are.
    func runInlineIfIdle<T>(_ verb: ReadVerb, on loop: any EventLoop, _ body: () throws(StrataError) -> T) -> Result<T, StrataError>? {
        let admitted = state.withLock { s -> Bool in
            guard inlineAllowed(s, verb, on: loop) else { return false }
            s.pending += 1
            return true
        }
        guard admitted else { return nil }
        placed(true)
        let start = ContinuousClock.now
        let result: Result<T, StrataError>
        do throws(StrataError) {
            result = .success(try body())
        } catch {
            result = .failure(error)
        }
        let took = ContinuousClock.now - start
        // One lock for both: a failed call counts too (it held the thread as long).
        state.withLock { s in
            s.record(verb, took)
            s.pending -= 1
        }
        return result
    }

    /// Runs `body`, keeping a read's duration for the next call's choice. A failed call counts
    /// too: it held the thread as long.
    private func timed<T>(_ call: EngineCall, _ body: () throws(StrataError) -> T) throws(StrataError) -> T {
        guard case .read(let verb) = call else { return try body() }
        let start = ContinuousClock.now
        defer {
            let took = ContinuousClock.now - start
            state.withLock { $0.record(verb, took) }
        }
        return try body()
    }

    /// `d` in whole nanoseconds (`Int64.max` past about 292 years).
    static func nanoseconds(_ d: Duration) -> Int64 {
        let (seconds, attoseconds) = d.components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : product + attoseconds / 1_000_000_000
    }
}
