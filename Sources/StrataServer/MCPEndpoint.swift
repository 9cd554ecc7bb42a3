import Foundation
import Hummingbird
import MCP
import StrataCore
import StrataMCP
import StrataWire

/// `POST /mcp`: the MCP tools of `strata mcp` over the Streamable HTTP transport, bounded by
/// the bearer token as the REST routes are (the token's scope and role bound every tool).
///
/// Stateless: each request gets its own MCP server and `StatelessHTTPServerTransport`, answers
/// with one JSON body and keeps nothing, so no `Mcp-Session-Id` is issued, any server (or the
/// same one after a restart) answers a client's next request, and two clients' JSON-RPC ids
/// never meet in one transport. Server-initiated messages are not offered (`GET /mcp` is 405,
/// as the transport allows), which the memory tools do not need.
///
/// Checked before the token: the `Origin` header (`OriginPolicy`; a foreign one is 403).
extension MemoryService {
    func mcp(_ request: Request) async throws -> Response {
        try checkOrigin(request)
        let access = try authorize(request, .read)
        let buffer = try await rawBody(request)
        let queue = queue
        let tools = MemoryTools(engine: engine, access: access) { body in
            do {
                return try await queue.run(.other, body)
            } catch let refusal as APIError {
                throw ToolFailure(body: refusal.body)
            }
        }
        let transport = StatelessHTTPServerTransport(validationPipeline: StandardValidationPipeline(validators: [
            AcceptHeaderValidator(mode: .jsonOnly), ContentTypeValidator(), ProtocolVersionValidator(),
        ]))
        let server = await MemoryMCPServer.make(tools, version: options.version)
        try await server.start(transport: transport)
        let answer = await transport.handleRequest(MCP.HTTPRequest(
            method: "POST", headers: Self.headers(request), body: Data(buffer.readableBytesView), path: request.uri.path))
        await server.stop()
        return Self.response(answer)
    }

    /// `GET` and `DELETE /mcp`: no stream of server-initiated messages and no session to end
    /// (405 with `Allow: POST`, as the Streamable HTTP transport says a stateless server answers).
    func mcpMethodNotAllowed(_ request: Request) throws -> Response {
        try checkOrigin(request)
        _ = try authorize(request, .read)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.allow] = "POST"
        let body = APIError(.methodNotAllowed, "METHOD_NOT_ALLOWED", "\(request.method) is not offered on /mcp: it is stateless, POST only").body
        return Response(status: .methodNotAllowed, headers: headers, body: .init(byteBuffer: ByteBuffer(string: Wire.text(body))))
    }

    private func checkOrigin(_ request: Request) throws {
        let origin = request.headers[.origin]
        guard OriginPolicy(allowed: options.allowedOrigins).allows(origin) else {
            throw APIError.forbidden("the Origin \(origin ?? "") may not call /mcp (a page of another site); allow it with --allow-origin")
        }
    }

    /// The request's header fields for the SDK's transport (repeated fields joined by commas).
    private static func headers(_ request: Request) -> [String: String] {
        var out: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            out[name] = out[name].map { "\($0), \(field.value)" } ?? field.value
        }
        return out
    }

    private static func response(_ answer: MCP.HTTPResponse) -> Response {
        var headers = HTTPFields()
        for (name, value) in answer.headers {
            if let field = HTTPFields.Element.Name(name) { headers[field] = value }
        }
        let body = answer.bodyData.map { ByteBuffer(bytes: $0) } ?? ByteBuffer()
        return Response(status: .init(code: answer.statusCode), headers: headers, body: .init(byteBuffer: body))
    }
}
