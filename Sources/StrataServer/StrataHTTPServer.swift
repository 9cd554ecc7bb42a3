import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOPosix
import ServiceLifecycle
import StrataCore
import StrataEngine
import StrataWire

/// `strata serve`: the REST routes of `/v1` (and the first API's `/memory/...` paths as aliases
/// of the same handlers), the WebSocket `/v1/events`, the MCP endpoint `/mcp` and the dashboard
/// page (`Dashboard`, a client of the REST routes and the events), over one engine.
///
///     let server = try StrataHTTPServer(engine: engine, options: options, tokenFile: "/data/store/tokens.json")
///     try await server.run(logger: Logger(label: "strata.serve")) { port in print("listening on \(port)") }
public final class StrataHTTPServer: Sendable {
    let service: MemoryService

    /// - Throws: `.invalidArgument` when asked to listen beyond loopback without a token file
    ///   and without `insecure`.
    public init(engine: Engine, options: ServerOptions, tokenFile: String) throws(StrataError) {
        let tokens = TokenAuthority(path: tokenFile)
        if !options.hostIsLoopback, !options.insecure, !tokens.required {
            throw StrataError(.invalidArgument, "refusing to listen on \(options.host) without tokens: anyone who can reach it could read "
                + "and change every memory. Create one with `strata token create --scope SCOPE --role ROLE`, listen on 127.0.0.1, "
                + "or pass --insecure")
        }
        service = MemoryService(engine: engine, options: options, tokens: tokens)
    }

    /// Serves until SIGTERM or SIGINT, then stops accepting connections, ends the event streams,
    /// lets the requests in flight finish (for at most `options.drainSeconds`, after which they are
    /// cancelled) and returns; the caller then drops the engine, which closes the store.
    /// - Parameter onListening: called once with the port the server listens on (the one given,
    ///   or the one the system chose for port 0).
    public func run(logger: Logger, onListening: @escaping @Sendable (Int) -> Void) async throws {
        let service = service
        let events = service.events
        let subscription = service.engine.subscribe { events.publish($0) }
        defer {
            service.engine.unsubscribe(subscription)
            events.close()
        }
        let app = Application(
            router: Self.router(service),
            // Each connection's pipeline answers an idle server's short recalls in place
            // (RecallFastLane) and hands every other request to the router.
            server: .http1WebSocketUpgrade(
                webSocketRouter: Self.webSocketRouter(service),
                configuration: .init(http1: .init(additionalChannelHandlers: [RecallFastLane(service: service, logger: logger)]))),
            configuration: .init(address: .hostname(service.options.host, port: service.options.port), serverName: nil),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? service.options.port) },
            logger: logger)
        var services: [any Service] = [app]
        if let counts = service.lifecycle {
            let metrics = service.metrics
            services.append(ScheduledWork(name: "lifecycle cycle", label: "lifecycle", service: service, counts: counts, logger: logger) {
                (engine: Engine) throws(StrataError) in _ = try metrics.timed("metabolize") { () throws(StrataError) in try engine.metabolizeOnSchedule() }
            })
        }
        if let counts = service.anomalyScan {
            services.append(ScheduledWork(name: "anomaly scan", label: "anomaly_scan", service: service, counts: counts, logger: logger) {
                (engine: Engine) throws(StrataError) in _ = try engine.anomalies(AnomalyQuery())
            })
        }
        var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = .seconds(service.options.drainSeconds)
        do {
            // Every task the services start inherits the preference (`EventLoopExecutor`). The
            // group is the one the Application serves on (its default, the NIO singleton), so a
            // connection's task runs on the loop that reads it.
            try await withTaskExecutorPreference(EventLoopExecutor(group: .singleton)) {
                try await ServiceGroup(configuration: configuration).run()
            }
        } catch is CancellationError {
            logger.warning("requests still running after \(service.options.drainSeconds) s were cancelled")
        }
    }

    typealias Handler = @Sendable (Request, BasicRequestContext) async throws -> Response

    /// Every HTTP route: docs/openapi.json describes each of the `/v1` ones and `/metrics`
    /// (Tests/cli/test_openapi.py holds the two lists equal).
    typealias Route = (method: HTTPRequest.Method, path: String, handler: Handler)

    static func routes(_ s: MemoryService) -> [Route] {
        @Sendable func id(_ c: BasicRequestContext) throws -> String { try PathParameter.decoded("id", c) }
        @Sendable func name(_ c: BasicRequestContext) throws -> String { try PathParameter.decoded("name", c) }
        // The page's assets (Dashboard.swift): the same headers for each, whatever the path.
        let dashboard: [Route] = Dashboard.assets.map { asset in
            (method: .get, path: asset.path, handler: { _, _ in Dashboard.response(asset) })
        }
        let api: [Route] = [
            (.get, "/v1/health", { _, _ in s.health() }),
            (.get, "/v1/version", { _, _ in s.version() }),
            (.get, "/v1/openapi.json", { _, _ in s.openAPI() }),
            (.get, "/metrics", { request, context in try await s.scrape(request, logger: context.logger) }),
            (.get, "/v1/whoami", { request, _ in try s.whoami(request) }),
            (.get, "/v1/lifecycle/cycles", { request, _ in try await s.lifecycleCycles(request) }),

            (.post, "/v1/memories", { request, _ in try await s.store(request) }),
            (.get, "/v1/memories/:id", { request, context in try await s.get(request, id: try id(context)) }),
            (.patch, "/v1/memories/:id", { request, context in try await s.update(request, id: try id(context)) }),
            (.delete, "/v1/memories/:id", { request, context in try await s.forget(request, id: try id(context)) }),
            (.get, "/v1/memories/:id/history", { request, context in try await s.history(request, id: try id(context)) }),
            (.post, "/v1/recall", { request, _ in try await s.recall(request) }),
            // Listing, counting and embedding are verbs with a JSON body, as recall and forget
            // are: a filter is a JSON object that a query string carries badly, and a path
            // beside /v1/memories/{id} (say /v1/memories/list) would be the path of the memory
            // whose id is "list" as well.
            (.post, "/v1/list", { request, _ in try await s.list(request) }),
            (.post, "/v1/count", { request, _ in try await s.count(request) }),
            (.post, "/v1/embed", { request, _ in try await s.embed(request) }),
            (.post, "/v1/forget", { request, _ in try await s.forget(request) }),
            (.get, "/v1/stats", { request, _ in try await s.stats(request) }),
            (.post, "/v1/metabolize", { request, _ in try await s.metabolize(request) }),
            (.get, "/v1/anomalies", { request, _ in try await s.anomalies(request, hasBody: false) }),
            (.post, "/v1/anomalies", { request, _ in try await s.anomalies(request, hasBody: true) }),
            (.get, "/v1/events", { request, _ in
                _ = try s.authorize(request, .read, query: true)
                throw APIError(.upgradeRequired, "UPGRADE_REQUIRED", "/v1/events is a WebSocket: connect with Upgrade: websocket")
            }),
            (.get, "/v1/snapshots", { request, _ in try await s.snapshots(request) }),
            (.post, "/v1/snapshots", { request, _ in try await s.snapshot(request) }),
            (.delete, "/v1/snapshots/:name", { request, context in try await s.deleteSnapshot(request, name: try name(context)) }),
            (.post, "/v1/snapshots/:name/rollback", { request, context in try await s.rollback(request, name: try name(context)) }),

            // The first API's paths, kept as aliases of the same handlers.
            (.post, "/memory/store", { request, _ in try await s.store(request) }),
            (.get, "/memory/recall", { request, _ in try await s.recall(request, fromQuery: true) }),
            (.post, "/memory/recall", { request, _ in try await s.recall(request) }),
            (.patch, "/memory/update", { request, _ in try await s.update(request, id: nil) }),
            (.delete, "/memory/forget", { request, _ in try await s.forget(request) }),

            // MCP's Streamable HTTP transport, stateless (MCPEndpoint.swift).
            (.post, "/mcp", { request, _ in try await s.mcp(request) }),
            (.get, "/mcp", { request, _ in try s.mcpMethodNotAllowed(request) }),
            (.delete, "/mcp", { request, _ in try s.mcpMethodNotAllowed(request) }),
        ]
        return api + dashboard
    }

    static func router(_ s: MemoryService) -> Router<BasicRequestContext> {
        let routes = routes(s)
        let router = Router()
        // Outermost first: the request id, log line and count see the answer ErrorAnswers makes.
        router.middlewares.add(RequestObservation(metrics: s.metrics))
        router.middlewares.add(ErrorAnswers(routes: RouteTable(routes.map { (method: $0.method, path: $0.path) })))
        for route in routes { router.on(RouterPath(route.path), method: route.method, use: route.handler) }
        return router
    }

    static func webSocketRouter(_ s: MemoryService) -> Router<BasicWebSocketRequestContext> {
        let router = Router(context: BasicWebSocketRequestContext.self)
        // The upgrade request is a request like any other: an id (echoed in the 101), an access
        // line and a count; the stream's own lines below carry the same id.
        router.middlewares.add(RequestObservation(metrics: s.metrics))
        router.middlewares.add(ErrorAnswers(routes: RouteTable([(method: .get, path: "/v1/events")])))
        // A refused upgrade can only be an empty 400 (HTTP1WebSocketUpgradeChannel), so every
        // upgrade is taken and a refusal is a close frame: 4000 + the HTTP status, the message as
        // the reason (WebSocketClose.refused).
        router.ws("/v1/events") { inbound, outbound, context in
            let access: Access
            let resume: UInt64?
            do {
                access = try s.authorize(context.request, .read, query: true)
                resume = try since(context.request)
            } catch {
                let refusal = (error as? APIError) ?? APIError(error as? StrataError ?? StrataError(.internal, "\(error)"))
                let code = WebSocketClose.refused(refusal.status.code)
                context.logger.info("events stream refused", metadata: ["close_code": "\(code)", "reason": "\(refusal.message)"])
                try await outbound.close(.unknown(code), reason: WebSocketClose.reason(refusal.message))
                return
            }
            let client: (id: UInt64, events: AsyncStream<EventFanout.Sequenced>)
            switch s.events.subscribe(access, since: resume) {
            case .success(let c): client = c
            case .failure(.gone(let after, let oldest)):
                let reason = "cannot resume after \(after): the oldest event kept is \(oldest)"
                context.logger.info("events stream refused", metadata: ["close_code": "\(WebSocketClose.gone)", "reason": "\(reason)"])
                try await outbound.close(.unknown(WebSocketClose.gone), reason: reason)
                return
            case .failure(.closed):
                try await outbound.close(.goingAway, reason: "the server is stopping")
                return
            }
            defer { s.events.unsubscribe(client.id) }
            s.metrics.eventStreamOpened()
            context.logger.info("events stream opened", metadata: [
                "scope": "\(access.seesEverything ? "(root)" : access.scope.description)", "role": "\(access.role.rawValue)", "since": "\(resume.map(String.init) ?? "-")",
            ])
            // On SIGTERM the stream ends, so the handler returns and the connection closes
            // (1000) instead of holding the server open.
            do {
                let ending = try await withGracefulShutdownHandler {
                    try await pump(s, client, inbound, outbound)
                } onGracefulShutdown: {
                    s.events.unsubscribe(client.id)
                }
                s.metrics.eventStreamEnded(ending.metricLabel)
                context.logger.info("events stream closed", metadata: ["why": "\(ending.rawValue)"])
            } catch {
                s.metrics.eventStreamEnded("failed")
                context.logger.info("events stream closed", metadata: ["why": "the connection failed: \(error)"])
                throw error
            }
        }
        return router
    }

    /// Why an events stream ended, for its log line.
    enum StreamEnd: String, Sendable {
        case clientClosed = "the client closed"
        case tooSlow = "too slow: closed with 4008"
        case serverStopping = "the server is stopping"

        /// Its `why` label in `strata_event_streams_ended_total`.
        var metricLabel: String {
            switch self {
            case .clientClosed: "client_closed"
            case .tooSlow: "too_slow"
            case .serverStopping: "server_stopping"
            }
        }
    }

    /// Writes the client's events until its stream ends (the server stops, or the client fell
    /// too far behind: then closes with `WebSocketClose.tooSlow`) or the client closes.
    static func pump(
        _ s: MemoryService, _ client: (id: UInt64, events: AsyncStream<EventFanout.Sequenced>),
        _ inbound: WebSocketInboundStream, _ outbound: WebSocketOutboundWriter
    ) async throws -> StreamEnd {
        try await withThrowingTaskGroup(of: StreamEnd.self) { group in
            // Inbound messages are not part of this API; reading them notices the client's close.
            group.addTask {
                for try await _ in inbound {}
                return .clientClosed
            }
            group.addTask {
                for await event in client.events { try await outbound.write(.text(event.text)) }
                if let missed = s.events.unsubscribe(client.id) {
                    try await outbound.close(.unknown(WebSocketClose.tooSlow), reason: "too slow: reconnect with since=\(missed - 1)")
                    return .tooSlow
                }
                return .serverStopping
            }
            let first = try await group.next() ?? .clientClosed
            group.cancelAll()
            return first
        }
    }

    /// `?since=N`: resume after event N.
    static func since(_ request: Request) throws -> UInt64? {
        guard let text = request.uri.queryParameters.get("since") else { return nil }
        guard let n = UInt64(text) else { throw StrataError(.invalidArgument, "since must be an event sequence number, got \"\(text)\"") }
        return n
    }
}
