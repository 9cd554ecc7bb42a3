import ArgumentParser
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Logging
import StrataCore
import StrataEngine
import StrataMCP
import StrataWire
import Synchronization

/// `strata mcp`: the store as an MCP server over standard input and output (StrataMCP).
struct MCPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve the store to an MCP client (Model Context Protocol) over standard input and output.",
        discussion: """
            Offers the tools remember, recall, get, update, forget, history, stats and metabolize, each bounded by \
            --scope (the model cannot reach outside it) and --role (read: recall, get, history, stats; write: also \
            remember, update, forget; admin: also metabolize, a dry run unless asked). stats and metabolize span \
            every scope, so they are offered only without --scope. Standard output carries the protocol only; logs \
            go to standard error. The server stops when the client closes standard input, or on SIGTERM or \
            SIGINT, once the calls it has read are answered; the store is then closed and the exit code is 0.

            Client configuration (e.g. an MCP client's mcpServers block):
              {"command": "strata", "args": ["mcp", "--dir", "/home/me/.strata", "--scope", "me/assistant"]}
            """)

    @Option(help: ArgumentHelp("The scope every tool works in: that node and the ones below it (default: every scope).", valueName: "scope"))
    var scope = ""

    @Option(help: ArgumentHelp("What the tools may do: read, write or admin.", valueName: "role"))
    var role = "write"

    @Flag(name: .customLong("read-only"), help: "Offer the read tools only (--role read); the store is opened for reading.")
    var readOnly = false

    @OptionGroup var store: StoreLocation

    func validate() throws {
        guard TokenRole(rawValue: role) != nil else { throw ValidationError("--role must be read, write or admin, got \"\(role)\"") }
        if readOnly, role != "write", role != "read" { throw ValidationError("--read-only contradicts --role \(role)") }
    }

    func run() throws {
        try withEngineErrors(json: false) {
            let access = Access(scope: try ScopePath(scope), role: readOnly ? .read : TokenRole(rawValue: role)!)
            try Self.serve(store: store, access: access)
        }
    }

    private static func serve(store: StoreLocation, access: Access) throws(StrataError) {
        let engine = access.role == .read ? try store.openEngineForReading() : try store.openEngine()
        let tools = MemoryTools(engine: engine, access: access)
        var logger = Logger(label: "strata.mcp") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .warning
        let failure = Mutex<String?>(nil)
        let done = DispatchSemaphore(value: 0)
        // As in `strata serve`: the command is synchronous, so the server runs on a task while
        // this thread waits, blocking none of the cooperative pool's threads.
        let version = StrataVersion.string
        // SIGTERM and SIGINT stop the server after the calls in flight are answered, so the
        // engine is released here and closes the store (as at the end of standard input).
        let (stops, stop) = AsyncStream<Void>.makeStream()
        let signals = [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { stop.yield() }
            source.resume()
            return source
        }
        Task.detached {
            do {
                try await MemoryMCPServer.serveStdio(tools, version: version, logger: logger, stop: stops)
            } catch {
                failure.withLock { $0 = "\(error)" }
            }
            done.signal()
        }
        done.wait()
        for source in signals { source.cancel() }
        if let message = failure.withLock({ $0 }) { throw StrataError(.io, "the MCP server stopped: \(message)") }
    }
}
