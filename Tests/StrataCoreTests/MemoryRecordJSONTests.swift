import StrataCore
import Testing

/// `Memory.jsonText` / `decodeRecord` are the one-pass forms of `JSONWriter.string(json)` and
/// `Memory(json:)`: these tests hold them byte for byte and error for error equal.
@Suite struct MemoryRecordJSONTests {
    /// Strings that need every escape JSONWriter knows, multi-byte UTF-8 and plain text.
    static let texts = ["", "plain", "quote \" and \\ backslash", "line\nbreak\ttab\r", "\u{01}\u{1F} control",
                        "é 日本語 🎉", "/slash/", String(repeating: "long ", count: 200)]

    static func memory(_ rng: inout SeededRandom) -> Memory {
        func pick<T>(_ items: [T]) -> T { items[Int(rng.next() % UInt64(items.count))] }
        func time() -> Timestamp {
            // Ordinary times, times before 1970, and the first and last millisecond of the years
            // ISO-8601 writes in four digits.
            pick([Timestamp(milliseconds: 1_764_000_000_000 + Int64(rng.next() % 1_000_000_000)),
                  Timestamp(milliseconds: -Int64(rng.next() % 100_000_000_000)),
                  Timestamp(milliseconds: 253_402_300_799_999), Timestamp(milliseconds: -62_135_596_800_000)])
        }
        let metadata: [String: JSONValue] = pick([
            [:], ["user": "alice"], ["n": .number(3.25), "tags": ["a", "b\"c"], "deep": ["x": ["y": .null]]],
            ["é": .bool(true), "big": .number(1e300), "neg": .number(-0.0)],
        ])
        let scope = pick([ScopePath.root, try! ScopePath("org"), try! ScopePath("org/a/b")])
        return Memory(
            id: pick(["m1", "id with space", "ünï/cødé?#", String(repeating: "x", count: 40)]),
            content: pick(texts), metadata: metadata, scope: scope,
            visibility: pick(Visibility.allCases), tier: pick(["working", "episodic", "t\"ier"]),
            category: pick(["general", "", "日本"]), importance: pick([0, 0.5, 1, 0.123456789012345, 1e-7]),
            pinned: rng.next() % 2 == 0, createdAt: time(), updatedAt: time(), accessedAt: time(),
            accessCount: pick([0, 1, 123_456_789, 1 << 53]), model: pick(["", "hashing-384", "m\\odel"]),
            expiresAt: rng.next() % 2 == 0 ? nil : time())
    }

    @Test func textIsTheWritersBytes() throws {
        var rng = SeededRandom(seed: 11)
        for _ in 0..<500 {
            let m = Self.memory(&rng)
            let expected = JSONWriter.string(m.json)
            #expect(m.jsonText == expected)
            let back = try Memory.decodeRecord(m.jsonText)
            #expect(back == m, "\(expected) vs \(back.jsonText)")
            #expect(try Memory(json: JSONParser.parse(expected)) == m)
        }
    }

    @Test func timestampsWriteAsIso8601() {
        for ms: Int64 in [0, -1, 1, 86_399_999, 1_764_979_200_123, -62_135_596_800_000, 253_402_300_799_999, 253_402_300_800_000, -62_167_219_200_001] {
            var out: [UInt8] = []
            Timestamp(milliseconds: ms).writeISO8601(into: &out)
            #expect(String(decoding: out, as: UTF8.self) == Timestamp(milliseconds: ms).iso8601, "\(ms)")
        }
    }

    /// Records as other writers may produce them: spaces, any key order, nulls for optional
    /// fields, escapes in keys, numbers in exponent form. Each decodes as Memory(json:) does.
    @Test(arguments: [
        #"{"id":"a","content":"c","created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z","accessed_at":"2026-01-01T00:00:00.5Z"}"#,
        #"  { "content" : "c" , "id" : "a" , "importance" : 5e-1 , "access_count" : 2.0e1 , "created_at" : "2026-01-01T00:00:00+02:00" , "updated_at":"2026-01-01T00:00:00Z","accessed_at":"2026-01-01T00:00:00Z", "metadata" : null , "scope" : null, "tier": null, "expires_at": null, "pinned": null, "parent_scope": {"any": [1]} }  "#,
        #"{"i\u0064":"a","content":"\u00e9\n","created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z","accessed_at":"2026-01-01T00:00:00Z","visibility":"shared","scope":"x/y","pinned":true}"#,
        #"{}"#,
        // Escapes in a timestamp and a key, read through the String path; a raw tab is refused.
        #"{"id":"a","content":"c","created_at":"2026-01-01T00:00:00\u005a","updated_at":"2026-01-01T00:00:00Z","accessed_at":"2026-01-01T00:00:00Z","acc\u0065ss_count":3}"#,
        "{\"id\":\"a\",\"content\":\"c\",\"created_at\":\"2026-01-01T00:00:00Z\t\",\"updated_at\":\"2026-01-01T00:00:00Z\",\"accessed_at\":\"2026-01-01T00:00:00Z\"}",
    ])
    func decodesAsTheFullParser(text: String) {
        let fast = Result { () throws(StrataError) -> Memory in try Memory.decodeRecord(text, what: "rec") }
        let full = Result { () throws(StrataError) -> Memory in try Memory(json: try JSONParser.parse(text, what: "rec"), what: "rec") }
        #expect(describe(fast) == describe(full))
    }

    /// Every way a record can be wrong gives the full parser's error, word for word.
    @Test func damagedRecordsFailAsBefore() throws {
        var rng = SeededRandom(seed: 5)
        let good = Self.memory(&rng).jsonText
        var cases: [String] = [
            good.replacing("\"tier\":", with: "\"tyer\":"),            // unknown key
            good.replacing("{\"access_count\"", with: "{\"id\":\"dup\",\"access_count\""),  // duplicate
            good.replacing("\"pinned\":", with: "\"pinned\":1,\"x\":"), // wrong type, then unknown
            good.replacing("\"visibility\":\"", with: "\"visibility\":\"nope"),
            good.replacing("\"created_at\":\"", with: "\"created_at\":\"x"),
            good.replacing("\"access_count\":", with: "\"access_count\":-"),
            good.replacing("\"access_count\":", with: "\"access_count\":1.5,\"q\":"),
            good.replacing("\"importance\":", with: "\"importance\":\"high\",\"z\":"),
            good.replacing("\"metadata\":", with: "\"metadata\":[1],\"y\":"),
            good.replacing("\"scope\":\"", with: "\"scope\":\"a//"),
            good + "x", "[" + good + "]", "", "{", "{\"id\"", "null",
        ]
        // Every prefix of a record: truncation anywhere.
        for end in stride(from: 0, to: good.utf8.count, by: 7) { cases.append(String(decoding: Array(good.utf8)[..<end], as: UTF8.self)) }
        for text in cases {
            let fast = Result { () throws(StrataError) -> Memory in try Memory.decodeRecord(text, what: "rec") }
            let full = Result { () throws(StrataError) -> Memory in try Memory(json: try JSONParser.parse(text, what: "rec"), what: "rec") }
            #expect(describe(fast) == describe(full), "\(text)")
        }
        // Invalid UTF-8 inside a string is .invalidUTF8 naming the byte, as before.
        var bytes = Array(good.utf8)
        let at = bytes.firstIndex(of: UInt8(ascii: "c"))!
        bytes[at] = 0xFF
        let fast = bytes.withUnsafeBufferPointer { b in Result { () throws(StrataError) -> Memory in try Memory.decodeRecord(b, what: "rec") } }
        let full = bytes.withUnsafeBufferPointer { b in Result { () throws(StrataError) -> Memory in try Memory(json: try JSONParser.parse(bytes: b, what: "rec"), what: "rec") } }
        #expect(describe(fast) == describe(full))
        if case .failure(let e) = fast { #expect(e.code == .invalidUTF8) } else { Issue.record("invalid UTF-8 decoded") }
    }

    /// An access count reads back as written up to 2^53; past it a record is refused by both
    /// readers alike (before, 2^62 - 1 was written as 2^62 and then refused: written, never read).
    @Test func accessCountsReadBackExactlyUpToTheLimit() throws {
        let top = Memory(id: "a", content: "c", createdAt: Timestamp(milliseconds: 0), accessCount: Memory.maxAccessCount)
        #expect(try Memory.decodeRecord(top.jsonText).accessCount == Memory.maxAccessCount)
        #expect(try Memory(json: JSONParser.parse(top.jsonText)).accessCount == Memory.maxAccessCount)
        for over in ["9007199254740994", "4611686018427387903", "1e300"] {
            let text = top.jsonText.replacing(/"access_count":[0-9.e+]+/, with: "\"access_count\":\(over)")
            #expect(text != top.jsonText)
            let fast = Result { () throws(StrataError) -> Memory in try Memory.decodeRecord(text, what: "rec") }
            let full = Result { () throws(StrataError) -> Memory in try Memory(json: try JSONParser.parse(text, what: "rec"), what: "rec") }
            #expect(describe(fast) == describe(full))
            guard case .failure(let e) = fast else { Issue.record("\(over) was read"); continue }
            #expect(e.message.contains("access_count") && e.message.contains("9007199254740992"), "\(over): \(e.message) in \(text)")
        }
        // Adding saturates at the limit and never goes below zero.
        #expect(top.accessCount(adding: 5) == Memory.maxAccessCount)
        var low = top
        low.accessCount = 3
        #expect(low.accessCount(adding: -7) == 0 && low.accessCount(adding: 4) == 7)
        // A store refuses to write what it could not read back, naming the record.
        var change = StoreChange(upserts: [StoredRecord(memory: top, vector: [1, 0])])
        change.upserts[0].memory.accessCount = Memory.maxAccessCount + 1
        #expect(throws: StrataError.self) { try change.validate(dimension: 2) }
        do { try change.validate(dimension: 2) } catch { #expect(error.code == .invalidArgument && error.message.contains("record 0 (a)")) }
    }

    private func describe(_ r: Result<Memory, StrataError>) -> String {
        switch r {
        case .success(let m): "ok \(m.jsonText)"
        case .failure(let e): "\(e.code) \(e.message)"
        }
    }
}

/// CompiledFilter answers as the Filter it was made from, on every kind of condition.
@Suite struct CompiledFilterTests {
    @Test func matchesAsTheFilter() throws {
        var rng = SeededRandom(seed: 3)
        let memories = (0..<60).map { _ in MemoryRecordJSONTests.memory(&rng) }
        let now = Timestamp(milliseconds: 1_764_500_000_000).iso8601
        let filters: [Filter] = try [
            .always, .any([]), Filter.parse(["user": "alice"], prefix: ["metadata"]),
            Filter.parse(["n": ["$gte": 3]], prefix: ["metadata"]),
            Filter.parse(["deep.x.y": ["$exists": true]], prefix: ["metadata"]),
            Filter.parse(["tags": ["$contains": "a"]], prefix: ["metadata"]),
            .any([.condition(path: ["expires_at"], .exists(false)), .condition(path: ["expires_at"], .gt(.string(now)))]),
            .condition(path: ["scope"], .in(["org", "org/a/b"])), .condition(path: ["parent_scope"], .eq("org/a")),
            .condition(path: ["visibility"], .ne("local")), .condition(path: ["tier"], .nin(["working"])),
            .condition(path: ["importance"], .lt(0.5)), .condition(path: ["pinned"], .eq(true)),
            .condition(path: ["access_count"], .gt(1)), .condition(path: ["created_at"], .lte(.string(now))),
            .condition(path: ["content"], .contains("break")), .condition(path: ["id"], .eq("m1")),
            .condition(path: ["category"], .eq("")), .condition(path: ["model"], .exists(true)),
            .condition(path: ["updated_at"], .gte(.string(now))), .condition(path: ["accessed_at"], .exists(true)),
            .condition(path: ["no_such_field"], .exists(false)), .condition(path: [], .exists(true)),
            .condition(path: ["scope", "deeper"], .exists(true)), .condition(path: ["metadata"], .exists(true)),
            .not(.all([.condition(path: ["pinned"], .eq(true)), .condition(path: ["tier"], .eq("working"))])),
            // The in-place forms (strings and nil tests) and the values that keep the general one.
            .condition(path: ["expires_at"], .exists(true)), .condition(path: ["parent_scope"], .exists(false)),
            .condition(path: ["tier"], .in(["working", "episodic"])), .condition(path: ["tier"], .in([.number(1), "working"])),
            .condition(path: ["visibility"], .in(["local", "global"])), .condition(path: ["model"], .nin([])),
            .condition(path: ["id"], .ne(.number(3))), .condition(path: ["category"], .ne("")),
            .condition(path: ["tier", "x"], .eq("working")), .condition(path: ["category"], .in([])),
        ]
        var both = 0
        for f in filters {
            let compiled = CompiledFilter(f)
            for m in memories {
                let expected = f.matches(m)
                let got = withUnsafePointer(to: m) { compiled.matches(stored: $0) }
                #expect(got == expected, "\(JSONWriter.string(f.json)) on \(m.id)")
                if expected { both += 1 }
            }
        }
        #expect(both > 0 && both < filters.count * memories.count)  // the cases are not all one answer
    }
}
