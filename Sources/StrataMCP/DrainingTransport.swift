import Foundation
import Logging
import MCP
import StrataCore

/// A transport that remembers which requests it has received and not yet answered, so a server
/// can finish them after its input ends: `echo '{"jsonrpc": ...}' | strata mcp` closes standard
/// input at once, and the SDK's server stops reading then, while the call it read is still
/// running. `strata mcp` waits for `drained()` before it stops the server.
actor DrainingTransport: Transport {
    nonisolated let logger: Logger
    private let inner: any Transport
    private var open = Set<String>()
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(_ inner: any Transport, logger: Logger) {
        self.inner = inner
        self.logger = logger
    }

    func connect() async throws { try await inner.connect() }

    func disconnect() async { await inner.disconnect() }

    func send(_ data: Data) async throws {
        defer { settle(Self.messages(data).compactMap { Self.id($0, request: false) }) }
        try await inner.send(data)
    }

    func receive() -> AsyncThrowingStream<Data, Swift.Error> {
        let (stream, continuation) = AsyncThrowingStream<Data, Swift.Error>.makeStream()
        let inner = inner
        Task {
            do {
                for try await data in await inner.receive() {
                    self.received(Self.messages(data))
                    continuation.yield(data)
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        return stream
    }

    /// Returns once every request received so far has been answered.
    func drained() async {
        if open.isEmpty { return }
        await withCheckedContinuation { waiters.append($0) }
    }

    /// Requests open; a cancellation (`notifications/cancelled`) closes the one it names, which
    /// the server then leaves unanswered.
    private func received(_ messages: [JSONValue]) {
        open.formUnion(messages.compactMap { Self.id($0, request: true) })
        settle(messages.compactMap { m in
            guard m.value(at: ["method"]) == .string("notifications/cancelled"), let id = m.value(at: ["params", "requestId"]) else { return nil }
            return JSONWriter.string(id)
        })
    }

    private func settle(_ ids: [String]) {
        open.subtract(ids)
        guard open.isEmpty else { return }
        let ready = waiters
        waiters = []
        for w in ready { w.resume() }
    }

    /// The messages of one message or batch.
    static func messages(_ data: Data) -> [JSONValue] {
        let bytes = [UInt8](data)
        let value: JSONValue
        do {
            value = try bytes.withUnsafeBufferPointer { (b) throws(StrataError) in try JSONParser.parse(bytes: b, what: "message") }
        } catch {
            // Not JSON: the SDK answers it with a parse error that no request waits for.
            return []
        }
        if case .array(let items) = value { return items }
        return [value]
    }

    /// The id of a request (`method` and `id`) or a response (`id`, no `method`) as its JSON
    /// text (so `1` and `"1"` differ); nil for anything else.
    static func id(_ message: JSONValue, request: Bool) -> String? {
        guard case .object(let o) = message, let id = o["id"], id != .null else { return nil }
        return (o["method"] != nil) == request ? JSONWriter.string(id) : nil
    }
}
