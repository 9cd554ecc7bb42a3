import Logging
import MCP
import StrataCore
import StrataWire

/// An MCP server offering `MemoryTools`: `tools/list` answers the tools the access may call,
/// `tools/call` calls one. It holds no state of its own beyond the SDK's handshake, so over
/// HTTP one is made per request (`StatelessHTTPServerTransport`) and a restart loses nothing a
/// client needs.
///
///     let server = await MemoryMCPServer.make(tools, version: "0.9.0")
///     try await server.start(transport: StdioTransport())
public enum MemoryMCPServer {
    /// The name the server gives in its `initialize` answer.
    public static let name = "strata"

    /// What the server tells the model about itself in `initialize`.
    public static func instructions(_ access: Access) -> String {
        let scope = access.seesEverything ? "every scope" : "scope \"\(access.scope)\" and the scopes below it"
        return "Strata is a long-term memory. Use recall before answering from what you were told earlier, and remember "
            + "what is worth keeping (facts, preferences, decisions). This server works in \(scope), with the role "
            + "\(access.role.rawValue)."
    }

    /// A server whose handlers call `tools`; not started.
    public static func make(_ tools: MemoryTools, version: String) async -> Server {
        let server = Server(
            name: name, version: version, instructions: instructions(tools.access),
            capabilities: .init(tools: .init(listChanged: false)))
        await server.withMethodHandler(ListTools.self) { _ in ListTools.Result(tools: tools.tools) }
        await server.withMethodHandler(CallTool.self) { params in try await tools.call(params.name, arguments: params.arguments) }
        return server
    }

    /// Serves `tools` over standard input and output until the client closes standard input or
    /// `stop` yields (a signal), then answers the calls already read and returns. Standard
    /// output carries the protocol only; `logger` should write to standard error.
    public static func serveStdio(_ tools: MemoryTools, version: String, logger: Logger, stop: AsyncStream<Void>) async throws {
        let server = await make(tools, version: version)
        let transport = DrainingTransport(StdioTransport(logger: logger), logger: logger)
        try await server.start(transport: transport)
        await withTaskGroup(of: Bool.self) { group in
            // The client closed standard input: the server's loop has ended.
            group.addTask {
                await server.waitUntilCompleted()
                return true
            }
            // A stop request; false when the stream ends (or the task is cancelled) without one.
            group.addTask {
                for await _ in stop {
                    await transport.drained()
                    await server.stop()
                    return true
                }
                return false
            }
            for await done in group where done {
                group.cancelAll()
                break
            }
        }
        await transport.drained()
        await server.stop()
    }
}
