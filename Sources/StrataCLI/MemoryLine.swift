import StrataCore
import StrataEngine
import StrataWire

/// One line of a JSONL file for `strata import` and `strata export`: a memory record as JSON.
///
/// Export writes every field of the record, the bytes `get --json` prints (`Answer.memory` as
/// `Wire.text` writes it: compact, keys sorted):
///
///     {"access_count":0,"accessed_at":"2024-03-01T09:30:00.000Z","category":"general",
///      "content":"Alice prefers green tea","created_at":"2024-03-01T09:30:00.000Z",
///      "expires_at":null,"id":"m-018df9...","importance":0.5,"metadata":{"user":"alice"},
///      "model":"hashing-v1-256","pinned":false,"scope":"org/assistant","tier":"working",
///      "updated_at":"2024-03-01T09:30:00.000Z","visibility":"local"}
///
/// Import needs only `content`; it takes `metadata`, `scope`, `visibility`, `tier`, `category`,
/// `importance`, `pinned`, `created_at` (the memory keeps its age) and `expires_at` (kept as
/// the same lifetime after `created_at`). It ignores what the engine owns and assigns again:
/// `id` (imported memories get new ids), `updated_at`, `accessed_at`, `access_count`, `model`
/// (the text is embedded again by this store's embedder). Any other key is an error.
enum MemoryLine {
    /// Keys an exported record has that import accepts and drops.
    static let ignoredKeys = ["id", "updated_at", "accessed_at", "access_count", "model"]

    static func encode(_ memory: Memory) -> String { Wire.text(Answer.memory(memory)) }

    /// Decodes one line; errors name it as `line N` and the key.
    /// - Parameter now: the creation time of a line without `created_at`, for its `expires_at`.
    static func decode(_ bytes: [UInt8], line: Int, now: Timestamp) throws(StrataError) -> NewMemory {
        let what = "line \(line)"
        let text = try bytes.withUnsafeBufferPointer { (b) throws(StrataError) -> String in try validatedString(b, what: what) }
        var r = try JSONObjectReader(try JSONParser.parse(text, what: what), path: what)
        var memory = NewMemory(try r.string("content"))
        guard !memory.content.isEmpty else { throw StrataError(.invalidJSON, "\(what).content must not be empty") }
        memory.metadata = try r.optionalObject("metadata") ?? [:]
        let scope = try r.optionalString("scope") ?? ""
        do { memory.scope = try ScopePath(scope) } catch { throw error.prefixed("\(what).scope") }
        memory.visibility = try r.optionalChoice("visibility", Visibility.allCases.map(\.rawValue)).flatMap(Visibility.init)
        memory.tier = try r.optionalString("tier")
        memory.category = try r.optionalString("category")
        memory.importance = try r.optionalDouble("importance", in: 0...1)
        memory.pinned = try r.optionalBool("pinned") ?? false
        memory.at = try time(&r, "created_at")
        if let expires = try time(&r, "expires_at") {
            // The lifetime counts from the creation time; pinning a missing one to `now` keeps
            // the expiry exact however long the import takes before this line's batch is stored.
            let created = memory.at ?? now
            memory.at = created
            let lifetime = expires.seconds(since: created)
            guard lifetime > 0 else {
                throw StrataError(.invalidArgument, "\(what).expires_at \(expires.iso8601) is not after created_at \(created.iso8601)")
            }
            memory.ttlSeconds = lifetime
        }
        for key in ignoredKeys { _ = r.optionalValue(key) }
        try r.finish()
        // The engine's own rules (no NUL in content, not dated ahead), so `--check` passes
        // exactly the lines a store takes and a refused line is named by its number.
        try Engine.check(memory, what: what, atName: "created_at", now: now)
        return memory
    }

    private static func time(_ r: inout JSONObjectReader, _ key: String) throws(StrataError) -> Timestamp? {
        guard let text = try r.optionalString(key) else { return nil }
        guard let t = Timestamp(iso8601: text) else {
            throw StrataError(.invalidArgument, "\(r.keyPath(key)) is not an ISO-8601 time with a zone: \"\(text)\"")
        }
        return t
    }
}
