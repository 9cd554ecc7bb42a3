import Hummingbird
import StrataCore
import StrataWire

/// An error answer: `{"error": {"status", "code", "message"}}` with its HTTP status.
///
/// Engine errors keep the shape every face writes (`Answer.error`: the C status name, its
/// negative code, the message), with the status of `StrataError.Code.httpStatus`. Errors only
/// HTTP has (no token, a body too large, a busy server, an unknown route) use the HTTP status
/// as a positive `code` and a name of their own, so a client tells them apart by the sign.
public struct APIError: Error, HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let body: JSONValue
    /// The `Allow` header of a 405: the methods the path takes.
    public var allow: String?

    public init(_ error: StrataError) {
        status = .init(code: error.code.httpStatus)
        body = Answer.error(error)
    }

    public init(_ status: HTTPResponse.Status, _ name: String, _ message: String) {
        self.status = status
        body = .object(["error": .object(["status": .string(name), "code": .number(Double(status.code)), "message": .string(message)])])
    }

    /// The message of the answer.
    public var message: String {
        guard case .object(let o) = body, case .object(let e)? = o["error"], case .string(let m)? = e["message"] else { return "" }
        return m
    }

    public static func unauthorized(_ message: String) -> APIError { APIError(.unauthorized, "UNAUTHORIZED", message) }
    public static func forbidden(_ message: String) -> APIError { APIError(.forbidden, "FORBIDDEN", message) }
    public static func busy(_ message: String) -> APIError { APIError(.serviceUnavailable, "UNAVAILABLE", message) }
    public static func tooLarge(_ message: String) -> APIError { APIError(.contentTooLarge, "CONTENT_TOO_LARGE", message) }
    public static func noRoute(_ message: String) -> APIError { APIError(.notFound, "NO_ROUTE", message) }

    init(_ denial: AccessDenial) {
        switch denial {
        case .unauthenticated(let m): self = .unauthorized(m)
        case .forbidden(let m): self = .forbidden(m)
        case .tokenFileUnreadable(let m): self = .busy(m)
        }
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        if let allow { headers[.allow] = allow }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: Wire.text(body))))
    }
}

/// Turns every error a handler or Hummingbird throws into a JSON error answer, so a client
/// never sees an empty body or a 500 for a request it got wrong. A path the router does not
/// know is 404 `NO_ROUTE`; a known path with a method it does not take is 405
/// `METHOD_NOT_ALLOWED` with `Allow`.
struct ErrorAnswers<Context: RequestContext>: RouterMiddleware {
    let routes: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as StrataError {
            throw APIError(error)
        } catch let error as any HTTPResponseError {
            switch error.status {
            case .notFound:
                let allowed = routes.methods(for: request.uri.path)
                guard !allowed.isEmpty else { throw APIError.noRoute("no route \(request.method) \(request.uri.path)") }
                let list = allowed.map(\.rawValue).joined(separator: ", ")
                var error = APIError(.methodNotAllowed, "METHOD_NOT_ALLOWED", "\(request.method) is not allowed on \(request.uri.path); it takes \(list)")
                error.allow = list
                throw error
            case .contentTooLarge: throw APIError.tooLarge("the request body is larger than this server takes")
            case .methodNotAllowed: throw APIError(.methodNotAllowed, "METHOD_NOT_ALLOWED", "\(request.method) is not allowed on \(request.uri.path)")
            default: throw APIError(error.status, "HTTP_\(error.status.code)", error.status.reasonPhrase)
            }
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            throw APIError(.internalServerError, "INTERNAL", "the server failed to answer; see its log")
        }
    }
}
