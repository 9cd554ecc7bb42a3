import StrataCore
import StrataEngine

/// The JSON text every face sends and receives: compact, keys sorted, numbers as `JSONWriter`
/// writes them. The C ABI answers with these bytes, the CLI's `--json` prints them (plus a
/// newline), the server will send them; so the same answer on the same store is the same bytes
/// on every face (`Tests/cli/test_wire.py` holds them equal).
public enum Wire {
    /// The canonical text of a JSON value.
    public static func text(_ value: JSONValue) -> String { JSONWriter.string(value) }

    /// Parses a request from UTF-8 bytes (a C string); `what` names it in errors (`"recall
    /// request"`). Empty is `{}`, as a NULL request is.
    /// - Throws: `.invalidUTF8` or `.invalidJSON` naming `what`.
    public static func parse(bytes: UnsafeBufferPointer<UInt8>, what: String) throws(StrataError) -> JSONValue {
        bytes.isEmpty ? .object([:]) : try JSONParser.parse(bytes: bytes, what: what)
    }

    /// A recall answer, `{"hits": [...]}`: the bytes of `text(Answer.recall(hits))`, written
    /// without the value tree (RecallAnswerWriter).
    public static func recallAnswer(_ hits: [Hit]) -> [UInt8] { RecallAnswerWriter.write(hits) }
}
