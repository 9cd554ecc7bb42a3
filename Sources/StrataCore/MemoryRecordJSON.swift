/// The record JSON of a memory, written and read directly.
///
/// Every record that crosses the plugin ABI, is stored in a SQLite row or loaded from one goes
/// through this text. Building it as a `JSONValue` dictionary and writing that (or parsing into a
/// dictionary and reading it with `JSONObjectReader`) cost about 17 µs a record, a third of a
/// 10-hit recall through the SQLite plugin; these paths write and read the fields in place.
/// They are the same format, not a second one: `jsonText` is byte for byte
/// `JSONWriter.string(json)`, and `decodeRecord` returns what `Memory(json:)` would, falling back
/// to it for anything unusual (an unknown or duplicate key, a missing field, a value of the wrong
/// type, a syntax error) so errors read exactly as before. Tests hold both equalities.
extension Memory {
    /// The record JSON text: `JSONWriter.string(json)`, without the dictionary.
    public var jsonText: String {
        var out: [UInt8] = []
        out.reserveCapacity(320 + content.utf8.count + id.utf8.count)
        writeJSON(into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the record JSON (compact, keys sorted, as `JSONWriter` writes `json`) to `out`.
    public func writeJSON(into out: inout [UInt8]) {
        func raw(_ s: StaticString) { s.withUTF8Buffer { out.append(contentsOf: $0) } }
        func time(_ t: Timestamp) {
            out.append(UInt8(ascii: "\""))
            t.writeISO8601(into: &out)
            out.append(UInt8(ascii: "\""))
        }
        // Keys in JSONWriter's order: sorted by their UTF-8 bytes.
        raw("{\"access_count\":")
        JSONWriter.writeNumber(Double(accessCount), into: &out)
        raw(",\"accessed_at\":")
        time(accessedAt)
        raw(",\"category\":")
        JSONWriter.writeString(category, into: &out)
        raw(",\"content\":")
        JSONWriter.writeString(content, into: &out)
        raw(",\"created_at\":")
        time(createdAt)
        raw(",\"expires_at\":")
        if let expiresAt { time(expiresAt) } else { raw("null") }
        raw(",\"id\":")
        JSONWriter.writeString(id, into: &out)
        raw(",\"importance\":")
        JSONWriter.writeNumber(importance, into: &out)
        raw(",\"metadata\":")
        JSONWriter.write(.object(metadata), into: &out)
        raw(",\"model\":")
        JSONWriter.writeString(model, into: &out)
        raw(",\"parent_scope\":")
        if scope.components.isEmpty { raw("null") } else { JSONWriter.writeString(scope.parent!.description, into: &out) }
        raw(",\"pinned\":")
        if pinned { raw("true") } else { raw("false") }
        raw(",\"scope\":")
        JSONWriter.writeString(scope.description, into: &out)
        raw(",\"tier\":")
        JSONWriter.writeString(tier, into: &out)
        raw(",\"updated_at\":")
        time(updatedAt)
        raw(",\"visibility\":")
        JSONWriter.writeString(visibility.rawValue, into: &out)
        raw("}")
    }

    /// Decodes record JSON given as UTF-8 bytes: what `Memory(json: JSONParser.parse(bytes:))`
    /// returns or throws, read in one pass when the record is well formed.
    /// - Parameter what: names the source in errors, as for `Memory(json:what:)`.
    public static func decodeRecord(_ bytes: UnsafeBufferPointer<UInt8>, what: String = "memory record") throws(StrataError) -> Memory {
        if let memory = RecordScan.memory(bytes, what: what) { return memory }
        return try Memory(json: try JSONParser.parse(bytes: bytes, what: what), what: what)
    }

    /// `decodeRecord` of a String's UTF-8.
    public static func decodeRecord(_ text: String, what: String = "memory record") throws(StrataError) -> Memory {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { (b) throws(StrataError) -> Memory in try decodeRecord(b, what: what) }
    }
}

/// The one-pass reader behind `Memory.decodeRecord`. Returns nil, never an error, for whatever it
/// does not take: the caller then runs the full parser and `Memory(json:)`, which say what is
/// wrong in their own words.
private enum RecordScan {
    static func memory(_ bytes: UnsafeBufferPointer<UInt8>, what: String) -> Memory? {
        guard bytes.count > 1 else { return nil }
        var p = JSONParser(bytes: bytes, what: what)
        var seen = 0
        var id: String?, content: String?, scope = ScopePath.root, visibility = Visibility.local
        var metadata: [String: JSONValue] = [:], tier = "working", category = "general", model = ""
        var importance = 0.5, pinned = false, accessCount = 0
        var createdAt: Timestamp?, updatedAt: Timestamp?, accessedAt: Timestamp?, expiresAt: Timestamp?
        do {
            p.skipSpace()
            guard p.index < bytes.count, bytes[p.index] == UInt8(ascii: "{") else { return nil }
            p.index += 1
            p.skipSpace()
            var more = p.index < bytes.count && bytes[p.index] != UInt8(ascii: "}")
            if !more { p.index += 1 }
            while more {
                p.skipSpace()
                guard p.index < bytes.count, bytes[p.index] == UInt8(ascii: "\"") else { return nil }
                // A key the record has no field for is left to the full path's error. Keys are
                // matched on their bytes (no String made) unless they hold an escape.
                let named: RecordField?
                if let raw = rawString(&p) { named = RecordField(bytes: raw) } else { named = RecordField(try p.parseString()) }
                guard let field = named else { return nil }
                guard seen & (1 << field.rawValue) == 0 else { return nil }
                seen |= 1 << field.rawValue
                p.skipSpace()
                guard p.index < bytes.count, bytes[p.index] == UInt8(ascii: ":") else { return nil }
                p.index += 1
                p.skipSpace()
                guard p.index < bytes.count else { return nil }
                // null is "absent" to Memory(json:): the default stays, a required field fails below.
                if bytes[p.index] == UInt8(ascii: "n") {
                    try p.expectWord("null")
                } else {
                    switch field {
                    case .id: id = try string(&p)
                    case .content: content = try string(&p)
                    case .metadata:
                        guard bytes[p.index] == UInt8(ascii: "{") else { return nil }
                        guard case .object(let o) = try p.parseValue(depth: 1) else { return nil }
                        metadata = o
                    case .scope:
                        guard let s = try string(&p), let path = try? ScopePath(s) else { return nil }
                        scope = path
                    case .parentScope: _ = try p.parseValue(depth: 1)
                    case .visibility:
                        guard let s = try string(&p), let v = Visibility(rawValue: s) else { return nil }
                        visibility = v
                    case .tier: guard let s = try string(&p) else { return nil }; tier = s
                    case .category: guard let s = try string(&p) else { return nil }; category = s
                    case .model: guard let s = try string(&p) else { return nil }; model = s
                    case .importance: guard let n = try number(&p) else { return nil }; importance = n
                    case .accessCount:
                        guard let n = try number(&p), n == n.rounded(), n >= 0, n <= Double(Memory.maxAccessCount) else { return nil }
                        accessCount = Int(n)
                    case .pinned:
                        if bytes[p.index] == UInt8(ascii: "t") { try p.expectWord("true"); pinned = true }
                        else if bytes[p.index] == UInt8(ascii: "f") { try p.expectWord("false"); pinned = false }
                        else { return nil }
                    case .createdAt: guard let t = try time(&p) else { return nil }; createdAt = t
                    case .updatedAt: guard let t = try time(&p) else { return nil }; updatedAt = t
                    case .accessedAt: guard let t = try time(&p) else { return nil }; accessedAt = t
                    case .expiresAt: guard let t = try time(&p) else { return nil }; expiresAt = t
                    }
                }
                p.skipSpace()
                guard p.index < bytes.count else { return nil }
                if bytes[p.index] == UInt8(ascii: ",") {
                    p.index += 1
                } else if bytes[p.index] == UInt8(ascii: "}") {
                    p.index += 1
                    more = false
                } else {
                    return nil
                }
            }
            p.skipSpace()
        } catch {
            return nil
        }
        guard p.index == bytes.count, let id, let content, let createdAt, let updatedAt, let accessedAt else { return nil }
        return Memory(id: id, content: content, metadata: metadata, scope: scope, visibility: visibility, tier: tier,
                      category: category, importance: importance, pinned: pinned, createdAt: createdAt,
                      updatedAt: updatedAt, accessedAt: accessedAt, accessCount: accessCount, model: model,
                      expiresAt: expiresAt)
    }

    private static func string(_ p: inout JSONParser) throws(StrataError) -> String? {
        guard p.bytes[p.index] == UInt8(ascii: "\"") else { return nil }
        return try p.parseString()
    }

    private static func number(_ p: inout JSONParser) throws(StrataError) -> Double? {
        let c = p.bytes[p.index]
        guard c == UInt8(ascii: "-") || (c >= 0x30 && c <= 0x39) else { return nil }
        return try p.parseNumber()
    }

    private static func time(_ p: inout JSONParser) throws(StrataError) -> Timestamp? {
        // Read from the bytes between the quotes, without making a String, unless they hold an
        // escape (then as before).
        let start = p.index
        if let raw = rawString(&p) { return Timestamp.parse(iso8601: raw) }
        p.index = start
        guard let s = try string(&p) else { return nil }
        return Timestamp(iso8601: s)
    }

    /// The bytes of the string at `p` (an opening quote) when it holds no escape and no control
    /// character, with `p` moved past its closing quote; otherwise nil, `p` left where it was.
    private static func rawString(_ p: inout JSONParser) -> UnsafeBufferPointer<UInt8>? {
        let bytes = p.bytes
        guard p.index < bytes.count, bytes[p.index] == UInt8(ascii: "\"") else { return nil }
        var i = p.index + 1
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                let raw = UnsafeBufferPointer(rebasing: bytes[(p.index + 1)..<i])
                p.index = i + 1
                return raw
            }
            if c == UInt8(ascii: "\\") || c < 0x20 { return nil }
            i += 1
        }
        return nil
    }
}
