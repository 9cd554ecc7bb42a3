/// How `strata serve` listens and what it takes.
public struct ServerOptions: Sendable {
    public var host = "127.0.0.1"
    public var port = 7700
    /// Listen beyond loopback without a token file.
    public var insecure = false
    /// The largest request body, in bytes (413 beyond).
    public var maxBodyBytes = 16 << 20
    /// Engine calls waiting or running at once (503 beyond).
    public var maxPending = 256
    /// A short read (get, recall, list, count, history) whose recent calls took at most this
    /// many microseconds runs on the event loop that read it when no other engine call is in
    /// flight, saving two thread hand-offs (`EngineQueue`), and such a `POST /v1/recall` is
    /// answered in the connection's pipeline (`RecallFastLane`); 0: every call goes to the
    /// engine's threads, every request to the router.
    public var inlineReadMicroseconds = 1_000
    /// Such a read whose connection is the only one its event loop serves runs inline (and is
    /// answered in the pipeline) when its recent calls took at most this many microseconds:
    /// no other client of the loop waits on it (`EngineQueue`). A recall by text through the
    /// default embedder (5 to 7 ms here) then saves the 0.5 to 0.7 ms of the hand-off. 0, or
    /// less than `inlineReadMicroseconds`: no longer budget for it.
    public var inlineAloneReadMicroseconds = 50_000
    /// After the recall fast lane answers a connection and no other engine call is in flight,
    /// poll the connection's socket this many microseconds for its next request before the
    /// event loop sleeps (`BusyPoll`), and answer a recall that comes then straight from the
    /// socket (`RecallFastLane`'s polled answers, `SocketFront`); 0: never. Trades up to this
    /// much CPU per answer, and a 64 KiB read buffer per connection, for the wake-up a
    /// sleeping loop pays on a VM and SwiftNIO's HTTP codec.
    public var busyPollMicroseconds = 0
    /// Events kept for clients that resume (`/v1/events?since=N`).
    public var eventRing = 10_000
    /// Events one WebSocket client may fall behind before it is closed as too slow.
    public var clientBuffer = 1_000
    /// Seconds SIGTERM waits for requests in flight before cancelling them.
    public var drainSeconds = 30
    /// Seconds between scheduled lifecycle cycles (`lifecycle.schedule_minutes`), run by the
    /// server; nil: none. Open the engine without its own schedule when this is set.
    public var lifecycleSeconds: Double?
    /// Seconds between background anomaly scans (`Engine.anomalies` with the configured
    /// settings; each memory found is published as an `anomaly.detected` event); nil: none.
    public var anomalyScanSeconds: Double?
    /// Browser origins (`scheme://host[:port]`, exactly) whose requests `/mcp` takes besides
    /// loopback ones (`OriginPolicy`); a request without an Origin header is not a browser's.
    public var allowedOrigins: [String] = []
    /// Seconds a count of memories per tier (`strata_memories` on `/metrics`, one scan of the
    /// store) is reused before a scrape counts again.
    public var tierCountSeconds: Double = 15
    /// The most memories one `POST /v1/list` answers (422 beyond; the default page when the
    /// request names no `limit`): a listing is one scan of the store, but its answer grows with
    /// every memory, so a large store is read a page at a time (`offset`, `total`).
    public var maxListPage = 10_000
    /// The most texts one `POST /v1/embed` takes (422 beyond): the batch is one embedder call
    /// that holds the embedder while it runs, and the answer holds `dimension` numbers per text
    /// (512 x 384 floats is about 4 MB of JSON).
    public var maxEmbedTexts = 512
    /// What `/v1/version` answers.
    public var version = "0.0.0"

    public init() {}

    /// Whether `host` names only this machine.
    public var hostIsLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}

/// The close codes of `/v1/events` (4000-4999 are the application's, RFC 6455 section 7.4.2).
public enum WebSocketClose {
    /// The client fell `clientBuffer` events behind; the reason names the sequence to resume after.
    public static let tooSlow: UInt16 = 4008
    /// The client asked to resume from a sequence number the server no longer keeps.
    public static let gone: UInt16 = 4010

    /// A refused connection: 4000 + the HTTP status a request would get (4401 no token, 4403
    /// another scope, 4422 a bad `since`, 4503 an unreadable token file).
    public static func refused(_ httpStatus: Int) -> UInt16 { UInt16(4000 + httpStatus) }

    /// A close reason fits in 123 bytes (a control frame's payload is at most 125, 2 of them the code).
    public static func reason(_ text: String) -> String {
        var out = ""
        for c in text {
            guard out.utf8.count + String(c).utf8.count <= 123 else { break }
            out.append(c)
        }
        return out
    }
}
