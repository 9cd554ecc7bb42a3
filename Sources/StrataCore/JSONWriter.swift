/// Writes `JSONValue` as compact JSON with sorted object keys (stable output for tests and diffs).
public enum JSONWriter {
    /// The compact JSON text of `value`. Non-finite numbers (which JSON cannot hold) are written as null.
    public static func string(_ value: JSONValue, pretty: Bool = false) -> String {
        var out = ""
        out.reserveCapacity(64)
        write(value, into: &out, indent: pretty ? 0 : nil)
        return out
    }

    public static func write(_ value: JSONValue, into out: inout String, indent: Int? = nil) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): writeNumber(n, into: &out)
        case .string(let s): writeString(s, into: &out)
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                newline(indent.map { $0 + 1 }, into: &out)
                write(item, into: &out, indent: indent.map { $0 + 1 })
            }
            newline(indent, into: &out)
            out += "]"
        case .object(let fields):
            if fields.isEmpty { out += "{}"; return }
            out += "{"
            for (i, key) in fields.keys.sorted().enumerated() {
                if i > 0 { out += "," }
                newline(indent.map { $0 + 1 }, into: &out)
                writeString(key, into: &out)
                out += indent == nil ? ":" : ": "
                write(fields[key]!, into: &out, indent: indent.map { $0 + 1 })
            }
            newline(indent, into: &out)
            out += "}"
        }
    }

    private static func newline(_ indent: Int?, into out: inout String) {
        guard let indent else { return }
        out += "\n"
        out += String(repeating: "  ", count: indent)
    }

    public static func writeNumber(_ n: Double, into out: inout String) {
        guard n.isFinite else { out += "null"; return }
        if n == n.rounded(), abs(n) < 1e15 {
            out += String(Int64(n))
        } else {
            out += "\(n)"
        }
    }

    public static func writeString(_ s: String, into out: inout String) {
        out += "\""
        // Most strings (ids, times, plain text) need no escape: append them whole.
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out += s
            out += "\""
            return
        }
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
