import ArgumentParser
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Logging
import StrataCore
import StrataEngine
import StrataServer
import Synchronization

/// `strata serve`: the store over HTTP and WebSocket (StrataServer).
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the store over HTTP (REST under /v1, MCP at /mcp) and WebSocket (/v1/events).",
        discussion: """
            Bodies and answers are the JSON of `strata ... --json` and of the C ABI. Errors are \
            {"error": {"status", "code", "message"}} with the HTTP status that fits. With a token file in \
            the store folder (`strata token create`), every request but /v1/health and /v1/version needs \
            `Authorization: Bearer <secret>` and sees only its token's scope. Without one the server \
            listens on loopback only, unless --insecure.

            POST /mcp is the MCP endpoint (Streamable HTTP, stateless): the tools of `strata mcp`, bounded by \
            the token's scope and role. A request whose Origin header is not loopback or an --allow-origin is \
            refused (403).

            Prints `strata serve: listening on http://HOST:PORT` once it listens (--port 0: a free port). \
            SIGTERM or SIGINT stops it: no new connections, the requests in flight finish, the store is \
            closed, exit 0.

            GET /v1/openapi.json is the API's OpenAPI 3.1 document (no token needed). GET /metrics is \
            Prometheus text (with a token file: a token of the root scope). Every answer carries an \
            X-Request-Id (the client's when short and printable); log lines go to stderr with it as \
            hb.request.id, and --log-level info adds one access line per request (method, route, status, \
            duration_ms).

            Example:
              strata serve --dir /tmp/notes --port 7700
            """)

    @Option(help: ArgumentHelp("The address to listen on.", valueName: "host"))
    var host = "127.0.0.1"

    @Option(help: ArgumentHelp("The port (0: one the system picks, printed when listening).", valueName: "port"))
    var port = 7700

    @Flag(help: "Listen beyond loopback without a token file (anyone who reaches the port may read and change every memory).")
    var insecure = false

    @Option(name: .customLong("max-body"), help: ArgumentHelp("The largest request body in bytes (413 beyond).", valueName: "bytes"))
    var maxBody = 16 << 20

    @Option(name: .customLong("max-pending"), help: ArgumentHelp("Engine calls in flight at once (503 beyond).", valueName: "n"))
    var maxPending = 256

    @Option(name: .customLong("inline-read-us"),
            help: ArgumentHelp("On an otherwise idle server, run a read whose recent calls took at most this many microseconds on the thread that read its request, and answer a short POST /v1/recall there too (0: never).",
                               valueName: "us"))
    var inlineReadMicroseconds = 1_000

    @Option(name: .customLong("inline-alone-read-us"),
            help: ArgumentHelp("The same for a read whose connection is the only one its event loop serves (no other client waits on it): run it inline when its recent calls took at most this many microseconds, such as a recall by text with a local model (0: no longer budget than --inline-read-us).",
                               valueName: "us"))
    var inlineAloneReadMicroseconds = 50_000

    @Option(name: .customLong("busy-poll-us"),
            help: ArgumentHelp("After answering a recall on an otherwise idle server, poll the connection this many microseconds for its next request before sleeping, and answer a recall that comes then straight from the socket (without the HTTP codec): lower latency for a client that sends back to back, for up to this much CPU per answer and 64 KiB per connection (0: never).",
                               valueName: "us"))
    var busyPollMicroseconds = 0

    @Option(name: .customLong("event-buffer"),
            help: ArgumentHelp("Events a WebSocket client may fall behind before it is closed as too slow.", valueName: "n"))
    var eventBuffer = 1_000

    @Option(name: .customLong("event-ring"), help: ArgumentHelp("Events kept for clients that resume (?since=N).", valueName: "n"))
    var eventRing = 10_000

    @Option(name: .customLong("drain-seconds"),
            help: ArgumentHelp("On SIGTERM, how long requests in flight may finish before they are cancelled.", valueName: "s"))
    var drainSeconds = 30

    @Option(name: .customLong("anomaly-scan-minutes"),
            help: ArgumentHelp("Scan for anomalies every this many minutes, publishing each as an anomaly.detected event.", valueName: "m"))
    var anomalyScanMinutes: Double?

    @Option(name: .customLong("allow-origin"),
            help: ArgumentHelp("A browser origin (scheme://host[:port]) /mcp accepts besides loopback ones; repeatable.", valueName: "origin"))
    var allowOrigin: [String] = []

    @Option(name: .customLong("log-level"),
            help: ArgumentHelp("The least severe log lines written to stderr: trace, debug, info (one line per request), notice, warning, error, critical.",
                               valueName: "level"))
    var logLevel = "warning"

    @Option(name: .customLong("metrics-tier-seconds"),
            help: ArgumentHelp("How long /metrics reuses its count of memories per tier (one scan of the store) before counting again.",
                               valueName: "s"))
    var metricsTierSeconds = 15.0

    @OptionGroup var store: StoreLocation

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
        guard maxBody >= 1 else { throw ValidationError("--max-body must be at least 1") }
        guard maxPending >= 1 else { throw ValidationError("--max-pending must be at least 1") }
        guard (0...1_000_000).contains(inlineReadMicroseconds) else { throw ValidationError("--inline-read-us must be in 0...1000000") }
        guard (0...10_000_000).contains(inlineAloneReadMicroseconds) else {
            throw ValidationError("--inline-alone-read-us must be in 0...10000000")
        }
        guard (0...10_000).contains(busyPollMicroseconds) else { throw ValidationError("--busy-poll-us must be in 0...10000") }
        if let m = anomalyScanMinutes, !(0.001...1e7).contains(m) { throw ValidationError("--anomaly-scan-minutes must be in 0.001...10000000") }
        guard drainSeconds >= 0 else { throw ValidationError("--drain-seconds must be at least 0") }
        guard eventBuffer >= 1, eventRing >= 1 else { throw ValidationError("--event-buffer and --event-ring must be at least 1") }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard metricsTierSeconds >= 0, metricsTierSeconds.isFinite else { throw ValidationError("--metrics-tier-seconds must be 0 or more") }
    }

    func run() throws {
        try withEngineErrors(json: false) {
            var options = ServerOptions()
            options.host = host
            options.port = port
            options.insecure = insecure
            options.maxBodyBytes = maxBody
            options.maxPending = maxPending
            options.inlineReadMicroseconds = inlineReadMicroseconds
            options.inlineAloneReadMicroseconds = inlineAloneReadMicroseconds
            options.busyPollMicroseconds = busyPollMicroseconds
            options.clientBuffer = eventBuffer
            options.eventRing = eventRing
            options.drainSeconds = drainSeconds
            options.anomalyScanSeconds = anomalyScanMinutes.map { $0 * 60 }
            options.allowedOrigins = allowOrigin
            options.version = StrataVersion.string
            options.tierCountSeconds = metricsTierSeconds
            try Self.serve(store: store, options: options, logLevel: Logger.Level(rawValue: logLevel) ?? .warning)
            printError("strata serve: stopped; the store is closed")
        }
    }

    /// Opens the engine, serves until a signal, and returns only once the server and the engine
    /// are released (the engine's last reference ends with this function, which closes the store).
    private static func serve(store: StoreLocation, options: ServerOptions, logLevel: Logger.Level) throws(StrataError) {
        // The server runs the lifecycle schedule itself (LifecycleLoop), on its engine queue.
        var configuration = try store.configuration()
        var options = options
        let host = options.host
        options.lifecycleSeconds = configuration.lifecycle.scheduleMinutes.map { $0 * 60 }
        configuration.lifecycle.scheduleMinutes = nil
        let engine = try StoreLocation.openEngine(configuration: configuration, file: store.configurationFile)
        let server = try StrataHTTPServer(engine: engine, options: options, tokenFile: TokenCommand.file(store))
        var logger = Logger(label: "strata.serve") { ServerLogHandler(label: $0) }
        logger.logLevel = logLevel
        let failure = Mutex<String?>(nil)
        let done = DispatchSemaphore(value: 0)
        // The command is synchronous (ArgumentParser's root is); the server runs on a task while
        // this thread waits, so none of the cooperative pool's threads is blocked.
        Task.detached {
            do {
                try await server.run(logger: logger) { port in
                    print("strata serve: listening on http://\(host):\(port)")
                    fflush(nil)
                }
            } catch {
                failure.withLock { $0 = "\(error)" }
            }
            done.signal()
        }
        done.wait()
        if let message = failure.withLock({ $0 }) { throw StrataError(.io, "the server stopped: \(message)") }
    }
}
