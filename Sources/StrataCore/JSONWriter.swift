/// Writes `JSONValue` as compact JSON with sorted object keys (stable output for tests and diffs).
///
/// The text is built as UTF-8 bytes and turned into a String once: appending many short pieces to
/// a String checks its storage on every append, and that showed up as a tenth of a C ABI recall.
public enum JSONWriter {
    /// The compact JSON text of `value`. Non-finite numbers (which JSON cannot hold) are written as null.
    public static func string(_ value: JSONValue, pretty: Bool = false) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(value, into: &out, indent: pretty ? 0 : nil)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the JSON text of `value` to `out`.
    public static func write(_ value: JSONValue, into out: inout String, indent: Int? = nil) {
        out += string(value, pretty: indent != nil)
    }

    /// Appends the JSON text of `value` to `out` as UTF-8.
    public static func write(_ value: JSONValue, into out: inout [UInt8], indent: Int? = nil) {
        switch value {
        case .null: append("null", to: &out)
        case .bool(let b): append(b ? "true" : "false", to: &out)
        case .number(let n): writeNumber(n, into: &out)
        case .string(let s): writeString(s, into: &out)
        case .array(let items):
            if items.isEmpty { append("[]", to: &out); return }
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(indent.map { $0 + 1 }, into: &out)
                write(item, into: &out, indent: indent.map { $0 + 1 })
            }
            newline(indent, into: &out)
            out.append(UInt8(ascii: "]"))
        case .object(let fields):
            if fields.isEmpty { append("{}", to: &out); return }
            out.append(UInt8(ascii: "{"))
            for (i, key) in fields.keys.sorted().enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(indent.map { $0 + 1 }, into: &out)
                writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                if indent != nil { out.append(UInt8(ascii: " ")) }
                write(fields[key]!, into: &out, indent: indent.map { $0 + 1 })
            }
            newline(indent, into: &out)
            out.append(UInt8(ascii: "}"))
        }
    }

    @inline(__always)
    private static func append(_ s: StaticString, to out: inout [UInt8]) {
        s.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    private static func newline(_ indent: Int?, into out: inout [UInt8]) {
        guard let indent else { return }
        out.append(UInt8(ascii: "\n"))
        out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 2 * indent))
    }

    public static func writeNumber(_ n: Double, into out: inout String) {
        var bytes: [UInt8] = []
        writeNumber(n, into: &bytes)
        out += String(decoding: bytes, as: UTF8.self)
    }

    /// Integral values in the exactly representable range as integers, others in Swift's shortest
    /// round-tripping form.
    public static func writeNumber(_ n: Double, into out: inout [UInt8]) {
        guard n.isFinite else { append("null", to: &out); return }
        if n == n.rounded(), abs(n) < 1e15 {
            var v = Int64(n)
            if v == 0 { out.append(UInt8(ascii: "0")); return }
            if v < 0 {
                out.append(UInt8(ascii: "-"))
                v = -v
            }
            var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            var count = 0
            withUnsafeMutableBytes(of: &digits) { d in
                while v > 0 {
                    d[count] = UInt8(ascii: "0") + UInt8(v % 10)
                    v /= 10
                    count += 1
                }
                for i in stride(from: count - 1, through: 0, by: -1) { out.append(d[i]) }
            }
        } else {
            // `description`'s digits, handed over as bytes: `description` makes a `String`, and
            // one of more than 15 characters (most scores: 0.9274457478315307) is an allocation.
            // Ten hits' answer has about fifty (bench/README.md, "Where a text recall's overhead
            // goes").
            var sink = DigitSink()
            swap(&sink.bytes, &out)
            n.write(to: &sink)
            swap(&sink.bytes, &out)
        }
    }

    /// Appends to a byte array what a number writes to it (`Double.write(to:)`).
    private struct DigitSink: TextOutputStream {
        var bytes: [UInt8] = []

        mutating func write(_ string: String) { bytes.append(contentsOf: string.utf8) }

        /// Where the standard library hands a number's ASCII digits: this requirement's default
        /// makes a `String` of them and calls `write(_:)`.
        mutating func _writeASCII(_ buffer: UnsafeBufferPointer<UInt8>) { bytes.append(contentsOf: buffer) }
    }

    public static func writeString(_ s: String, into out: inout String) {
        var bytes: [UInt8] = []
        writeString(s, into: &bytes)
        out += String(decoding: bytes, as: UTF8.self)
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped; everything
    /// else (all of Unicode) written as its UTF-8.
    public static func writeString(_ s: String, into out: inout [UInt8]) {
        var s = s
        s.withUTF8 { bytes in
            out.reserveCapacity(out.count + bytes.count + 2)
            out.append(UInt8(ascii: "\""))
            // The runs between escapes are copied whole, from the String's contiguous bytes: a
            // byte at a time through its UTF8View cost 2.1 ns a byte (5.3 with escapes), against
            // 0.7 (1.7) this way, -O, Intel Xeon.
            var run = 0
            for i in bytes.indices {
                let byte = bytes[i]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<i]))
                run = i + 1
                switch byte {
                case UInt8(ascii: "\""): append("\\\"", to: &out)
                case UInt8(ascii: "\\"): append("\\\\", to: &out)
                case UInt8(ascii: "\n"): append("\\n", to: &out)
                case UInt8(ascii: "\r"): append("\\r", to: &out)
                case UInt8(ascii: "\t"): append("\\t", to: &out)
                default:
                    append("\\u00", to: &out)
                    out.append(hexDigit(byte >> 4))
                    out.append(hexDigit(byte & 0xF))
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run...]))
            out.append(UInt8(ascii: "\""))
        }
    }

    /// The lower-case hex digit of `nibble` (0...15).
    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}
