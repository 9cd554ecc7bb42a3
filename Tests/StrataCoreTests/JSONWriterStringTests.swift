import StrataCore
import Testing

/// `JSONWriter.writeString` copies the runs between escapes whole; these hold its bytes equal to
/// escaping one byte at a time, the way RFC 8259 section 7 states it.
@Suite struct JSONWriterStringTests {
    static func escapedByteByByte(_ s: String) -> [UInt8] {
        var out = Array("\"".utf8)
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += Array(#"\""#.utf8)
            case UInt8(ascii: "\\"): out += Array(#"\\"#.utf8)
            case UInt8(ascii: "\n"): out += Array(#"\n"#.utf8)
            case UInt8(ascii: "\r"): out += Array(#"\r"#.utf8)
            case UInt8(ascii: "\t"): out += Array(#"\t"#.utf8)
            case 0..<0x20:
                let hex = String(byte, radix: 16)
                out += Array(("\\u00" + (hex.count == 1 ? "0" : "") + hex).utf8)
            default: out.append(byte)
            }
        }
        return out + Array("\"".utf8)
    }

    static let pool: [String] = (0..<0x20).map { String(UnicodeScalar(UInt8($0))) }
        + ["\"", "\\", "/", "\u{7F}", "a", "Z", " ", "é", "東", "🙂", "\u{2028}", "plain text, "]

    @Test func equalsEscapingOneByteAtATime() throws {
        var rng = SystemRandomNumberGenerator()
        var texts = ["", "a", "\"", "\\", "\u{1}", "\u{1F}end", "start\n", "no escapes at all: é 東 🙂"]
        for _ in 0..<2_000 {
            texts.append((0..<Int.random(in: 1...30, using: &rng)).map { _ in Self.pool.randomElement(using: &rng)! }.joined())
        }
        for text in texts {
            var out: [UInt8] = Array("[1,".utf8)
            JSONWriter.writeString(text, into: &out)
            #expect(out == Array("[1,".utf8) + Self.escapedByteByByte(text), "\(text.debugDescription)")
            #expect(try JSONParser.parse(String(decoding: out, as: UTF8.self) + "]") == [1, .string(text)])
        }
    }

    @Test func writesControlBytesAsLowerCaseHex() {
        var out: [UInt8] = []
        JSONWriter.writeString("a\u{1F}b\u{0B}\u{0}", into: &out)
        #expect(String(decoding: out, as: UTF8.self) == #""a\u001fb\u000b\u0000""#)
    }
}
