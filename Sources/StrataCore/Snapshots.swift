/// One named snapshot a store keeps: a copy of every memory as it was when the snapshot was made.
public struct SnapshotInfo: Sendable, Equatable {
    public var name: String
    public var createdAt: Timestamp
    /// Memories the snapshot holds.
    public var memories: Int
    /// Bytes the snapshot takes on disk; nil for one kept in RAM.
    public var bytes: Int?

    public init(name: String, createdAt: Timestamp, memories: Int, bytes: Int? = nil) {
        self.name = name
        self.createdAt = createdAt
        self.memories = memories
        self.bytes = bytes
    }

    /// `{"name", "created_at", "memories", "bytes"}` (bytes null when kept in RAM): the shape the
    /// API answers and plugins hand to the host (include/strata/vector_store.h).
    public var json: JSONValue {
        .object([
            "name": .string(name), "created_at": .string(createdAt.iso8601), "memories": .number(Double(memories)),
            "bytes": bytes.map { .number(Double($0)) } ?? .null,
        ])
    }

    /// Decodes `json`'s shape; `what` names the source in errors.
    public init(json: JSONValue, what: String = "snapshot") throws(StrataError) {
        var r = try JSONObjectReader(json, path: what)
        name = try r.string("name")
        let at = try r.string("created_at")
        guard let t = Timestamp(iso8601: at) else { throw StrataError(.invalidJSON, "\(what).created_at is not an ISO-8601 time: \"\(at)\"") }
        createdAt = t
        memories = try r.optionalInt("memories", in: 0...Int.max / 2) ?? 0
        bytes = try r.optionalInt("bytes", in: 0...Int.max / 2)
        try r.finish()
    }
}

/// What a rollback did: one history row per memory it changed, in id order.
public struct RollbackReport: Sendable, Equatable {
    /// The snapshot rolled back to.
    public var snapshot: String
    /// ADD for a memory the snapshot brought back, DELETE for one it removed, UPDATE for one it
    /// changed; each with the reason `RollbackReport.reason(snapshot)`.
    public var history: [HistoryEntry]

    public init(snapshot: String, history: [HistoryEntry]) {
        self.snapshot = snapshot
        self.history = history
    }

    /// The reason every history row of a rollback carries: "rollback to snapshot NAME".
    public static func reason(_ snapshot: String) -> String { "rollback to snapshot \(snapshot)" }

    public var added: [String] { ids(.add) }
    public var removed: [String] { ids(.delete) }
    public var changed: [String] { ids(.update) }

    private func ids(_ event: HistoryEntry.Event) -> [String] { history.filter { $0.event == event }.map(\.memoryID) }

    /// `{"snapshot", "added": [ids], "removed": [ids], "changed": [ids]}`.
    public var json: JSONValue {
        func list(_ ids: [String]) -> JSONValue { .array(ids.map { .string($0) }) }
        return .object(["snapshot": .string(snapshot), "added": list(added), "removed": list(removed), "changed": list(changed)])
    }

    /// The rows that take a store holding `current` to holding exactly `target`: a record counts
    /// as changed when its memory differs or its vector differs in any bit. Vectors are compared
    /// as the store keeps them (normalised or not), so both sides must come from the same store.
    /// Complexity: O(n·d) for n records of dimension d.
    public static func rows(from current: [StoredRecord], to target: [StoredRecord], snapshot: String, at: Timestamp) -> [HistoryEntry] {
        let reason = reason(snapshot)
        var now: [String: StoredRecord] = [:]
        now.reserveCapacity(current.count)
        for r in current { now[r.memory.id] = r }
        var rows: [HistoryEntry] = []
        for r in target {
            let id = r.memory.id
            guard let old = now.removeValue(forKey: id) else {
                rows.append(HistoryEntry(event: .add, memoryID: id, at: at, old: nil, new: r.memory, reason: reason))
                continue
            }
            if old.memory != r.memory || !sameBits(old.vector, r.vector) {
                rows.append(HistoryEntry(event: .update, memoryID: id, at: at, old: old.memory, new: r.memory, reason: reason))
            }
        }
        for (id, old) in now {
            rows.append(HistoryEntry(event: .delete, memoryID: id, at: at, old: old.memory, new: nil, reason: reason))
        }
        return rows.sorted { $0.memoryID < $1.memoryID }
    }

    /// The change a store applies for `rows`: the target records of ADD and UPDATE rows, the ids
    /// of DELETE rows, and the rows themselves as history.
    public static func change(_ rows: [HistoryEntry], target: [StoredRecord]) -> StoreChange {
        var byID: [String: StoredRecord] = [:]
        byID.reserveCapacity(target.count)
        for r in target { byID[r.memory.id] = r }
        var change = StoreChange(history: rows)
        for row in rows {
            if row.event == .delete { change.removals.append(row.memoryID) } else { change.upserts.append(byID[row.memoryID]!) }
        }
        return change
    }

    static func sameBits(_ a: [Float], _ b: [Float]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern }
    }
}

/// The rule for snapshot names: 1 to 64 of `A-Z a-z 0-9 . _ -`, so a name is safe as a file name
/// in every store and needs no quoting anywhere.
public enum SnapshotName {
    public static let maximumLength = 64

    /// Throws `.invalidArgument` naming `name` and the rule it breaks.
    public static func validate(_ name: String) throws(StrataError) {
        guard !name.isEmpty else { throw StrataError(.invalidArgument, "a snapshot name cannot be empty") }
        let bytes = Array(name.utf8)
        guard bytes.count <= maximumLength else {
            throw StrataError(.invalidArgument, "snapshot name \"\(name)\" is \(bytes.count) bytes; at most \(maximumLength)")
        }
        for c in name where !(c.asciiValue.map(isAllowed) ?? false) {
            throw StrataError(.invalidArgument,
                              "snapshot name \"\(name)\" holds \"\(c)\": use only letters, digits, \".\", \"_\" and \"-\"")
        }
    }

    public static func isValid(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= maximumLength && name.utf8.allSatisfy(isAllowed)
    }

    private static func isAllowed(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2E || b == 0x5F || b == 0x2D
    }
}
