import StrataCore
import Testing

@Suite struct JSONParserTests {
    @Test func parsesEveryKindOfValue() throws {
        let v = try JSONParser.parse(#"{"a": [1, -2.5e3, true, false, null], "b": {"c": "d\n\u00e9\ud83d\ude00"}}"#)
        #expect(v == .object(["a": [1, -2500, true, false, nil], "b": .object(["c": "d\né😀"])]))
    }

    @Test(arguments: [
        (#"{"a": }"#, "expected a value"),
        (#"{"a": 1,}"#, "expected a string key"),
        (#"[1 2]"#, "expected ',' or ']'"),
        (#"{"a": 01}"#, "leading zero"),
        (#"{"a": 1} x"#, "unexpected text after"),
        (#""abc"#, "unterminated string"),
        (#"{"a": 1, "a": 2}"#, "duplicate key \"a\""),
        (#"tru"#, "invalid literal"),
        (#""\q""#, "invalid escape"),
    ])
    func rejectsMalformedJSONWithAMessageNamingTheProblem(text: String, expected: String) {
        #expect {
            try JSONParser.parse(text, what: "doc")
        } throws: { error in
            let e = error as! StrataError
            return e.code == .invalidJSON && e.message.contains(expected) && e.message.contains("doc") && e.message.contains("at byte")
        }
    }

    /// Strings' plain runs are skipped eight bytes at a time: a quote, an escape, a control
    /// character, a multi-byte character or an invalid byte at any place in a word (and after
    /// any other byte, including the 0x20 and 0x7F edges) is still read as one.
    @Test func readsEveryByteOfAStringWhereverItFallsInAWord() throws {
        for length in 0..<20 {
            let pad = String(repeating: "a", count: length)
            for edge in [" ", "\u{7f}", "!", "[", "]"] {
                let plain = pad + edge + pad
                #expect(try JSONParser.parse("\"\(plain)\"") == .string(plain))
            }
            #expect(try JSONParser.parse("\"\(pad)\\n\(pad)\"") == .string(pad + "\n" + pad))
            #expect(try JSONParser.parse("\"\(pad)\\\"\(pad)\"") == .string(pad + "\"" + pad))
            #expect(try JSONParser.parse("\"\(pad)é\(pad)😀\"") == .string(pad + "é" + pad + "😀"))
            #expect(try JSONParser.parse("[\"\(pad)\", \"\(pad)\"]") == .array([.string(pad), .string(pad)]))
            #expect(throws: StrataError.self) { try JSONParser.parse("\"\(pad)\u{1}\(pad)\"") }
            #expect(throws: StrataError.self) { try JSONParser.parse("\"\(pad)\(pad)") }
            let invalid = Array("\"\(pad)".utf8) + [0xFF] + Array("\(pad)\"".utf8)
            let failure = invalid.withUnsafeBufferPointer { bytes -> StrataError? in
                do throws(StrataError) {
                    _ = try JSONParser.parse(bytes: bytes)
                    return nil
                } catch {
                    return error
                }
            }
            #expect(failure?.code == .invalidUTF8, "0xFF after \(length) bytes")
        }
    }

    @Test func rejectsInvalidUTF8InsideStrings() {
        let bytes: [UInt8] = Array(#"{"a": ""#.utf8) + [0xFF, 0xFE] + Array(#""}"#.utf8)
        #expect {
            try bytes.withUnsafeBufferPointer { try JSONParser.parse(bytes: $0, what: "request") }
        } throws: { ($0 as! StrataError).code == .invalidUTF8 }
    }

    @Test(arguments: [[0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82]] as [[UInt8]])
    func rejectsOverlongSurrogateAndTruncatedSequences(seq: [UInt8]) {
        let bytes: [UInt8] = [0x22] + seq + [0x22]
        #expect(throws: StrataError.self) { try bytes.withUnsafeBufferPointer { try JSONParser.parse(bytes: $0) } }
    }

    @Test func rejectsUnpairedSurrogateEscapes() {
        #expect { try JSONParser.parse(#""\ud800""#) } throws: { ($0 as! StrataError).code == .invalidUTF8 }
    }

    @Test func refusesNestingDeeperThanTheLimit() {
        let deep = String(repeating: "[", count: JSONParser.maxDepth + 1) + String(repeating: "]", count: JSONParser.maxDepth + 1)
        #expect { try JSONParser.parse(deep) } throws: { ($0 as! StrataError).message.contains("nesting") }
    }

    @Test func writerRoundTripsThroughParser() throws {
        let v: JSONValue = ["s": "quote \" backslash \\ tab \t ctl \u{01} é", "n": 0.125, "i": 42, "a": [nil, false], "o": [:]]
        let text = JSONWriter.string(v)
        #expect(try JSONParser.parse(text) == v)
        #expect(text.contains(#"\u0001"#))
        #expect(JSONWriter.string(["b": 1, "a": 2]) == #"{"a":2,"b":1}"#, "keys are sorted")
    }
}
