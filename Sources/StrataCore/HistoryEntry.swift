/// One change in a memory's history: what happened, when, why, and the memory before and after.
public struct HistoryEntry: Sendable, Equatable {
    public enum Event: String, Sendable, CaseIterable { case add = "ADD", update = "UPDATE", delete = "DELETE" }
    public var event: Event
    public var memoryID: String
    public var at: Timestamp
    /// The memory before the change (nil for ADD).
    public var old: Memory?
    /// The memory after the change (nil for DELETE).
    public var new: Memory?
    public var reason: String

    public init(event: Event, memoryID: String, at: Timestamp, old: Memory?, new: Memory?, reason: String) {
        self.event = event
        self.memoryID = memoryID
        self.at = at
        self.old = old
        self.new = new
        self.reason = reason
    }

    /// `{"event", "memory_id", "at", "old", "new", "reason"}`: the shape the API answers and
    /// stores keep.
    public var json: JSONValue {
        .object([
            "event": .string(event.rawValue), "memory_id": .string(memoryID), "at": .string(at.iso8601),
            "old": old?.publicJSON ?? .null, "new": new?.publicJSON ?? .null, "reason": .string(reason),
        ])
    }

    /// Decodes `json`'s shape; `what` names the source in errors.
    public init(json: JSONValue, what: String = "history entry") throws(StrataError) {
        var r = try JSONObjectReader(json, path: what)
        let name = try r.optionalChoice("event", Event.allCases.map(\.rawValue))
        guard let name, let event = Event(rawValue: name) else { throw StrataError(.invalidJSON, "\(what).event is required") }
        self.event = event
        memoryID = try r.string("memory_id")
        let at = try r.string("at")
        guard let t = Timestamp(iso8601: at) else { throw StrataError(.invalidJSON, "\(what).at is not an ISO-8601 time: \"\(at)\"") }
        self.at = t
        func memory(_ key: String) throws(StrataError) -> Memory? {
            guard let v = r.optionalValue(key), v != .null else { return nil }
            return try Memory(json: v, what: "\(what).\(key)")
        }
        old = try memory("old")
        new = try memory("new")
        reason = try r.optionalString("reason") ?? ""
        try r.finish()
    }
}

extension Memory {
    /// The memory as the API answers it (the record JSON without store-internal fields).
    public var publicJSON: JSONValue {
        guard case .object(var o) = json else { return json }
        o["parent_scope"] = nil
        return .object(o)
    }
}
