import StrataCore
import StrataWire

/// Why a tool call failed, as the JSON every face reports it: `{"error": {"status", "code",
/// "message"}}`. An engine error is `Answer.error` (the C name, its negative code, the
/// message: the bytes of the C ABI, `strata ... --json` and the REST answer); a refusal only a
/// bounded caller meets (a role too small, a scope outside the token's) carries the REST
/// API's HTTP status as a positive code and its name (`FORBIDDEN`, 403), as `strata serve`
/// answers it.
///
/// A tool call answers a failure as an MCP tool error (`isError: true`), never as a protocol
/// error: the model reads the message and can correct its call.
public struct ToolFailure: Error, Sendable, Equatable {
    /// `{"error": {"status", "code", "message"}}`.
    public let body: JSONValue

    /// A failure with the given error answer (a server passes its own HTTP-only errors through).
    public init(body: JSONValue) { self.body = body }

    /// An engine error, as `Answer.error` writes it.
    public init(_ error: StrataError) { body = Answer.error(error) }

    /// A refusal with an HTTP status of the REST API: `forbidden` is 403 `FORBIDDEN`.
    public init(status: String, code: Int, message: String) {
        body = .object(["error": .object(["status": .string(status), "code": .number(Double(code)), "message": .string(message)])])
    }

    /// The bounds of the caller do not allow this (403, as `strata serve` answers it).
    public static func forbidden(_ message: String) -> ToolFailure { ToolFailure(status: "FORBIDDEN", code: 403, message: message) }

    /// The status name (`STRATA_ERR_NOT_FOUND`, `FORBIDDEN`).
    public var status: String { field("status")?.stringValue ?? "" }

    /// The code: negative for an engine error (`strata_status`), an HTTP status otherwise.
    public var code: Int { Int(field("code")?.numberValue ?? 0) }

    /// The message, the same text every face gives.
    public var message: String { field("message")?.stringValue ?? "" }

    /// The line a model reads: `STRATA_ERR_NOT_FOUND (-2): no memory with id "m1"`.
    public var text: String { "\(status) (\(code)): \(message)" }

    private func field(_ key: String) -> JSONValue? { body.value(at: ["error", key]) }
}
