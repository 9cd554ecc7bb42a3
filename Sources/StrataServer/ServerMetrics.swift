import Hummingbird
import Prometheus
import StrataCore
import StrataEngine
import Synchronization

/// What `GET /metrics` answers: one Prometheus registry per server (swift-prometheus), written in
/// the text exposition format.
///
/// - `strata_http_requests_total{route, method, status}` and
///   `strata_http_request_duration_seconds{route, method, status}` (a histogram), for every
///   request, errors included; `route` is the route's pattern (`/v1/memories/{id}`), or
///   `unmatched`, so an id never becomes a label.
/// - `strata_engine_call_duration_seconds{verb}` (a histogram): the engine's own time for
///   `store`, `recall` and `metabolize` (scheduled cycles included), not the wait in the queue.
/// - `strata_engine_calls_total{place}`: engine calls admitted, by where they ran: `inline`
///   (on the event loop that read the request, `EngineQueue`'s exception) or `handed_off` (on
///   the engine's Dispatch threads).
/// - `strata_memories{tier}`: unexpired memories per tier, counted by a scan of the store when a
///   scrape finds the last count older than `ServerOptions.tierCountSeconds` (so frequent
///   scrapes cost one scan per interval, and the gauge may lag by that much).
/// - `strata_scheduled_runs_total{work}` and `strata_scheduled_failures_total{work}` for the
///   lifecycle cycle (`lifecycle`) and the anomaly scan (`anomaly_scan`).
/// - For the WebSocket `/v1/events` streams: `strata_event_streams_open` (a gauge);
///   `strata_event_streams_overflowed_total`, clients that fell `--event-buffer` events behind,
///   counted when it happens; `strata_event_streams_ended_total{why}`: `client_closed`,
///   `too_slow` (closed with 4008, once what was already written drained), `server_stopping`,
///   `failed` (the connection broke).
///
/// The registry is the server's own, not swift-metrics' global `MetricsSystem` (which a process
/// bootstraps once): two servers in one process (tests) keep their counts apart.
///
/// Thread-safe.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let tierCountSeconds: Double
    private let tiers = Mutex(TierCounts())
    /// Each label set's series, looked up once: asking the registry builds the metric's name and
    /// checks its labels every time, a few percent of a recall's server CPU. Bounded as the
    /// registry is, by the label sets seen.
    private let requestSeries = Mutex<[String: RequestSeries]>([:])
    private let engineSeries = Mutex<[String: DurationHistogram]>([:])

    /// One route, method and status's request count and latency histogram.
    struct RequestSeries: Sendable {
        let count: Counter
        let duration: DurationHistogram
    }

    struct TierCounts {
        var countedAt: ContinuousClock.Instant?
        var counting = false
        /// Every tier ever counted, so a tier that empties reads 0 instead of its last count.
        var known: Set<String> = []
    }

    /// Latency buckets from half a millisecond to 10 s.
    static let buckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5),
        .seconds(5), .seconds(10),
    ]

    // Computed: swift-prometheus' descriptor is not Sendable, so it cannot be a static let.
    private static var requests: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "strata", subsystem: "http", metricName: "requests", unitName: "total",
            helpText: "HTTP requests answered, by route pattern, method and status.")
    }
    private static var requestDuration: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "strata", subsystem: "http", metricName: "request_duration", unitName: "seconds",
            helpText: "Time from the request's head to its answer, by route pattern, method and status.")
    }
    private static var engineDuration: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "strata", subsystem: "engine", metricName: "call_duration", unitName: "seconds",
            helpText: "The engine's time for store, recall and metabolize (scheduled cycles included), without the queue wait.")
    }
    private static var memories: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "strata", metricName: "memories", unitName: "",
            helpText: "Unexpired memories per tier, counted at most once per --metrics-tier-seconds.")
    }
    private static var scheduledRuns: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "strata", subsystem: "scheduled", metricName: "runs", unitName: "total",
            helpText: "Scheduled runs (lifecycle cycles, anomaly scans), failed ones included.")
    }
    private static var scheduledFailures: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "strata", subsystem: "scheduled", metricName: "failures", unitName: "total",
            helpText: "Scheduled runs that failed (each is logged with its error).")
    }

    private static var busyPolls: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "strata", subsystem: "busy_poll", metricName: "waits", unitName: "total",
            helpText: "Busy polls after a fast-lane answer (--busy-poll-us), by outcome: ready (the next request, or the peer's close, came in time) or slept.")
    }
    private static var busyPollTime: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "strata", subsystem: "busy_poll", metricName: "time", unitName: "seconds_total",
            helpText: "Time event loops spent busy polling (--busy-poll-us): the CPU it costs.")
    }

    private static var polledAnswers: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "strata", subsystem: "busy_poll", metricName: "answers", unitName: "total",
            helpText: "Recalls the fast lane read straight from the socket while busy polling and answered without SwiftNIO's HTTP codec (also counted in strata_http_requests_total).")
    }

    private static var frontAnswers: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "strata", subsystem: "fast_lane", metricName: "front_answers", unitName: "total",
            helpText: "Recalls whose read held exactly that one whole request, answered at the pipeline's front without SwiftNIO's HTTP codec (also counted in strata_http_requests_total).")
    }

    private static var handedOffAnswers: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "strata", subsystem: "fast_lane", metricName: "handed_off_answers", unitName: "total",
            helpText: "Recalls the fast lane handed to the engine's threads (another call in flight, or a long one beside other connections) and answered when they came back, without the router (also counted in strata_http_requests_total).")
    }

    private static var engineCalls: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "strata", subsystem: "engine", metricName: "calls", unitName: "total",
            helpText: "Engine calls admitted, by where they ran: inline (on the event loop that read the request: an otherwise idle server's short reads, and longer ones whose connection is alone on its loop) or handed_off (the engine's threads).")
    }

    private static var eventStreamsOpen: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "strata", subsystem: "event_streams", metricName: "open", unitName: "",
            helpText: "WebSocket /v1/events streams open now.")
    }

    private static var eventStreamsEnded: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "strata", subsystem: "event_streams", metricName: "ended", unitName: "total",
            helpText: "WebSocket /v1/events streams ended, by why: client_closed, too_slow (closed with 4008), server_stopping, failed (the connection broke).")
    }

    private static var eventStreamsOverflowed: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "strata", subsystem: "event_streams", metricName: "overflowed", unitName: "total",
            helpText: "WebSocket /v1/events clients that fell --event-buffer events behind, when they did; each is closed with 4008 once what was already written to it drains.")
    }

    private let callsInline: Counter
    private let streamsOpen: Gauge
    private let streamsOverflowed: Counter
    private let callsHandedOff: Counter
    private let pollReady: Counter
    private let pollSlept: Counter
    private let pollTime: Counter
    private let pollAnswers: Counter
    private let frontAnswerCount: Counter
    private let handedOffAnswerCount: Counter

    init(tierCountSeconds: Double) {
        self.tierCountSeconds = tierCountSeconds
        pollReady = registry.makeCounter(descriptor: Self.busyPolls, labels: [("outcome", "ready")])
        pollSlept = registry.makeCounter(descriptor: Self.busyPolls, labels: [("outcome", "slept")])
        pollTime = registry.makeCounter(descriptor: Self.busyPollTime)
        pollAnswers = registry.makeCounter(descriptor: Self.polledAnswers)
        frontAnswerCount = registry.makeCounter(descriptor: Self.frontAnswers)
        handedOffAnswerCount = registry.makeCounter(descriptor: Self.handedOffAnswers)
        callsInline = registry.makeCounter(descriptor: Self.engineCalls, labels: [("place", "inline")])
        callsHandedOff = registry.makeCounter(descriptor: Self.engineCalls, labels: [("place", "handed_off")])
        streamsOpen = registry.makeGauge(descriptor: Self.eventStreamsOpen)
        streamsOverflowed = registry.makeCounter(descriptor: Self.eventStreamsOverflowed)
        for why in ["client_closed", "too_slow", "server_stopping", "failed"] {
            _ = registry.makeCounter(descriptor: Self.eventStreamsEnded, labels: [("why", why)])
        }
    }

    /// Counts an events stream opened.
    func eventStreamOpened() { streamsOpen.increment() }

    /// Counts an events client dropped for falling behind (`EventFanout`).
    func eventStreamOverflowed() { streamsOverflowed.increment() }

    /// Counts an events stream ended, `why` one of the labels above.
    func eventStreamEnded(_ why: String) {
        streamsOpen.decrement()
        registry.makeCounter(descriptor: Self.eventStreamsEnded, labels: [("why", why)]).increment()
    }

    /// Counts one engine call admitted by `EngineQueue`, by where it runs.
    func engineCall(inline: Bool) { (inline ? callsInline : callsHandedOff).increment() }

    /// Counts one busy poll and its time.
    func busyPoll(ready: Bool, duration: Duration) {
        (ready ? pollReady : pollSlept).increment()
        pollTime.increment(by: Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18)
    }

    /// Counts one recall answered polled (`RecallFastLane`).
    func polledAnswer() { pollAnswers.increment() }

    /// Counts one recall answered at the front from a read SwiftNIO made (`RecallFastLane`).
    func frontAnswer() { frontAnswerCount.increment() }

    /// Counts one recall the lane handed off and answered when it came back (`RecallFastLane`).
    func handedOffAnswer() { handedOffAnswerCount.increment() }

    /// Counts one answered request.
    func request(route: String, method: String, status: Int, duration: Duration) {
        request(series(route: route, method: method, status: status), duration: duration)
    }

    /// Counts one answered request of `series` (kept by a caller that answers many of one kind).
    func request(_ series: RequestSeries, duration: Duration) {
        series.count.increment()
        series.duration.record(duration)
    }

    /// The series of a route, method and status's answers, made at its first answer.
    func series(route: String, method: String, status: Int) -> RequestSeries {
        let key = "\(route) \(method) \(status)"
        return requestSeries.withLock { known in
            if let series = known[key] { return series }
            let labels = [("route", route), ("method", method), ("status", String(status))]
            let series = RequestSeries(
                count: registry.makeCounter(descriptor: Self.requests, labels: labels),
                duration: registry.makeDurationHistogram(descriptor: Self.requestDuration, labels: labels, buckets: Self.buckets))
            known[key] = series
            return series
        }
    }

    /// Runs `body` (an engine call, on the engine queue) and records its duration under `verb`,
    /// whether it succeeds or throws.
    func timed<T>(_ verb: String, _ body: () throws(StrataError) -> T) throws(StrataError) -> T {
        let start = ContinuousClock.now
        defer {
            let histogram = engineSeries.withLock { known in
                if let histogram = known[verb] { return histogram }
                let histogram = registry.makeDurationHistogram(descriptor: Self.engineDuration, labels: [("verb", verb)], buckets: Self.buckets)
                known[verb] = histogram
                return histogram
            }
            histogram.record(ContinuousClock.now - start)
        }
        return try body()
    }

    /// Counts one scheduled run of `work` (`lifecycle`, `anomaly_scan`).
    func scheduled(_ work: String, failed: Bool) {
        registry.makeCounter(descriptor: Self.scheduledRuns, labels: [("work", work)]).increment()
        let failures = registry.makeCounter(descriptor: Self.scheduledFailures, labels: [("work", work)])
        if failed { failures.increment() }
    }

    /// Makes the scheduled counters exist at 0 from the start, so a scrape shows them before the first run.
    func declareScheduled(_ work: String) {
        _ = registry.makeCounter(descriptor: Self.scheduledRuns, labels: [("work", work)])
        _ = registry.makeCounter(descriptor: Self.scheduledFailures, labels: [("work", work)])
    }

    /// The exposition text, after counting the memories per tier again when the last count is
    /// older than `tierCountSeconds` (through `count`, an engine call; a failed or refused count
    /// leaves the last values and is logged by the caller's `onCountFailure`).
    func exposition(count: () async throws -> [String: Int], onCountFailure: (any Error) -> Void) async -> [UInt8] {
        let now = ContinuousClock.now
        let due = tiers.withLock { t -> Bool in
            guard !t.counting else { return false }
            if let at = t.countedAt, now - at < .seconds(tierCountSeconds) { return false }
            t.counting = true
            return true
        }
        if due {
            do {
                let byTier = try await count()
                tiers.withLock { t in
                    t.known.formUnion(byTier.keys)
                    for tier in t.known {
                        registry.makeGauge(descriptor: Self.memories, labels: [("tier", tier)]).set(Double(byTier[tier] ?? 0))
                    }
                    t.countedAt = now
                    t.counting = false
                }
            } catch {
                tiers.withLock { $0.counting = false }
                onCountFailure(error)
            }
        }
        return registry.emitToBuffer()
    }
}
