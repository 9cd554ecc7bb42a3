import StrataCore

/// A memory as text: one `key  value` line per field, keys aligned, in the order people read them.
enum MemoryText {
    static func lines(_ m: Memory) -> [String] {
        let rows: [(String, String)] = [
            ("id", m.id),
            ("content", TerminalText.escaped(m.content, keepNewlines: false)),
            ("metadata", Format.json(.object(m.metadata))),
            ("scope", Format.scope(m.scope)),
            ("visibility", m.visibility.rawValue),
            ("tier", m.tier),
            ("category", m.category),
            ("importance", Format.number(m.importance)),
            ("pinned", m.pinned ? "yes" : "no"),
            ("created_at", m.createdAt.iso8601),
            ("updated_at", m.updatedAt.iso8601),
            ("accessed_at", "\(m.accessedAt.iso8601) (\(m.accessCount) recall\(m.accessCount == 1 ? "" : "s"))"),
            ("expires_at", m.expiresAt?.iso8601 ?? "never"),
            ("model", m.model.isEmpty ? "-" : m.model),
        ]
        let width = rows.map(\.0.count).max()!
        return rows.map { key, value in key + String(repeating: " ", count: width - key.count + 2) + value }
    }

    static func print(_ m: Memory) {
        for line in lines(m) { StrataCLI.print(line) }
    }
}
