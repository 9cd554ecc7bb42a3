import Hummingbird
import Logging
import Synchronization

/// The outermost middleware: gives every request an id, and answers, logs and counts it.
///
/// - The id is the client's `X-Request-Id` when it is 1 to 128 visible ASCII characters
///   (`!` to `~`), else 32 random hex digits. It is echoed in the answer's `X-Request-Id`, and it
///   is the request logger's `hb.request.id` (Hummingbird's key, which `context.id` reads), so
///   every line logged while serving the request carries it.
/// - One access line per request at `info`: `request` with `method`, `route` (the pattern,
///   `/v1/memories/{id}`), `path`, `status` and `duration_ms` as metadata.
/// - `ServerMetrics.request` counts it by route pattern, method and status.
///
/// Errors thrown inside become their answers here (an `HTTPResponseError` answers itself;
/// `ErrorAnswers` has already made every other error one), so the id header, the log line and the
/// count see the status the client gets.
struct RequestObservation<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let id = RequestLine.id(given: request.headers[RequestLine.header])
        var context = context
        context.logger[metadataKey: "hb.request.id"] = .string(id)
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)"])
            response = try APIError(.internalServerError, "INTERNAL", "the server failed to answer; see its log").response(from: request, context: context)
        }
        response.headers[RequestLine.header] = id
        let duration = ContinuousClock.now - start
        let route = context.endpointPath.flatMap { $0 == "NotFound" ? nil : $0 } ?? "unmatched"
        // A WebSocket route answers 200 to mean "upgrade": the client gets 101.
        let upgraded = response.status == .ok && request.headers[.upgrade]?.lowercased() == "websocket"
        let status = upgraded ? 101 : response.status.code
        metrics.request(route: route, method: request.method.rawValue, status: status, duration: duration)
        RequestLine.log(context.logger, method: request.method.rawValue, route: route, path: request.uri.path, status: status, duration: duration)
        return response
    }
}

/// A request's id and access line, the same from the router's middleware
/// (`RequestObservation`) and from the recall fast lane (`RecallFastLane`).
enum RequestLine {
    /// `X-Request-Id` (`HTTPFields.Element` is swift-http-types' `HTTPField`, which Hummingbird does not re-export).
    static let header = HTTPFields.Element.Name("X-Request-Id")!

    /// The access line at `info`: `request` with `method`, `route`, `path`, `status` and
    /// `duration_ms` as metadata.
    static func log(_ logger: Logger, method: String, route: String, path: String, status: Int, duration: Duration) {
        logger.info("request", metadata: [
            "method": .string(method), "route": .string(route), "path": .string(path),
            "status": .stringConvertible(status), "duration_ms": .string(milliseconds(duration)),
        ])
    }

    /// The client's id when it is short and printable, else a new one: 32 hex digits, a random
    /// half drawn once per process and a counter. Unique within a process and, by the random
    /// half, across restarts; drawing 16 random bytes per request cost two `getrandom` system
    /// calls each.
    static func id(given: String?) -> String {
        if let given, (1...128).contains(given.utf8.count), given.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) { return given }
        let count = counter.add(1, ordering: .relaxed).newValue
        let hex = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for var x in [processHalf, count] {
            for _ in 0..<16 {
                bytes.append(hex[Int(x & 0xF)])
                x >>= 4
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `1.234`: milliseconds with three decimals.
    static func milliseconds(_ d: Duration) -> String {
        let micros = d.components.seconds * 1_000_000 + d.components.attoseconds / 1_000_000_000_000
        let fraction = String(micros % 1000)
        return "\(micros / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }

    /// What new ids are made of: a random half drawn once per process, and a counter.
    private static let processHalf: UInt64 = {
        var rng = SystemRandomNumberGenerator()
        return rng.next()
    }()

    private static let counter = Atomic<UInt64>(0)
}
