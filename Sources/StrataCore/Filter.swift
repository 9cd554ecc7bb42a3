/// A metadata filter: a tree of conditions on the fields of a memory.
///
/// The JSON form (what requests and configurations carry):
///
///     {"user": "alice"}                              equality
///     {"stats.score": {"$gte": 0.5, "$lt": 0.9}}     dotted paths, several operators (all must hold)
///     {"tag": {"$in": ["a", "b"]}}                   $in / $nin
///     {"note": {"$exists": false}}
///     {"tags": {"$contains": "urgent"}}              an array element, or a substring of a string
///     {"$or": [{...}, {...}]}, {"$and": [...]}, {"$not": {...}}
///
/// Several keys in one object must all hold. Ordering operators compare numbers
/// with numbers and strings with strings (so ISO-8601 times order correctly);
/// any other pairing does not match.
public indirect enum Filter: Sendable, Hashable {
    case all([Filter])
    case any([Filter])
    case not(Filter)
    case condition(path: [String], Condition)

    /// Matches everything.
    public static let always = Filter.all([])

    public enum Condition: Sendable, Hashable {
        case eq(JSONValue), ne(JSONValue)
        case gt(JSONValue), gte(JSONValue), lt(JSONValue), lte(JSONValue)
        case `in`([JSONValue]), nin([JSONValue])
        case exists(Bool)
        case contains(JSONValue)

        var operatorName: String {
            switch self {
            case .eq: "$eq"
            case .ne: "$ne"
            case .gt: "$gt"
            case .gte: "$gte"
            case .lt: "$lt"
            case .lte: "$lte"
            case .in: "$in"
            case .nin: "$nin"
            case .exists: "$exists"
            case .contains: "$contains"
            }
        }
    }

    /// Parses the JSON form.
    /// - Parameters:
    ///   - prefix: path components put in front of every field path; the engine passes
    ///     `["metadata"]` so user filters address metadata keys.
    ///   - what: names the filter in error messages.
    public static func parse(_ json: JSONValue, prefix: [String] = [], what: String = "filter") throws(StrataError) -> Filter {
        try parseNode(json, prefix: prefix, where: what)
    }

    private static func fail(_ location: String, _ message: String) -> StrataError {
        StrataError(.invalidFilter, "\(location): \(message)")
    }

    private static func parseNode(_ json: JSONValue, prefix: [String], where location: String) throws(StrataError) -> Filter {
        guard case .object(let fields) = json else {
            throw fail(location, "must be an object, got \(json.typeName)")
        }
        var parts: [Filter] = []
        for key in fields.keys.sorted() {
            let value = fields[key]!
            let here = "\(location).\(key)"
            switch key {
            case "$and", "$or":
                guard case .array(let items) = value, !items.isEmpty else {
                    throw fail(here, "must be a non-empty array of filters")
                }
                var children: [Filter] = []
                for (i, item) in items.enumerated() {
                    children.append(try parseNode(item, prefix: prefix, where: "\(here)[\(i)]"))
                }
                parts.append(key == "$and" ? .all(children) : .any(children))
            case "$not":
                parts.append(.not(try parseNode(value, prefix: prefix, where: here)))
            case _ where key.hasPrefix("$"):
                throw fail(here, "unknown operator \(key) (logical operators: $and, $or, $not)")
            default:
                let components = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
                guard !components.contains(where: \.isEmpty) else { throw fail(here, "empty component in path \"\(key)\"") }
                parts.append(contentsOf: try parseConditions(value, path: prefix + components, where: here))
            }
        }
        return parts.count == 1 ? parts[0] : .all(parts)
    }

    private static func parseConditions(_ value: JSONValue, path: [String], where location: String) throws(StrataError) -> [Filter] {
        // An object whose keys all start with "$" is a set of operators; anything else is equality.
        guard case .object(let ops) = value, !ops.isEmpty, ops.keys.allSatisfy({ $0.hasPrefix("$") }) else {
            if case .object(let o) = value, o.keys.contains(where: { $0.hasPrefix("$") }) {
                throw fail(location, "mixes operators and plain keys")
            }
            return [.condition(path: path, .eq(value))]
        }
        var out: [Filter] = []
        for op in ops.keys.sorted() {
            let operand = ops[op]!
            let here = "\(location).\(op)"
            let condition: Condition
            switch op {
            case "$eq": condition = .eq(operand)
            case "$ne": condition = .ne(operand)
            case "$gt", "$gte", "$lt", "$lte":
                switch operand {
                case .number, .string: break
                default: throw fail(here, "must compare with a number or a string, got \(operand.typeName)")
                }
                condition = op == "$gt" ? .gt(operand) : op == "$gte" ? .gte(operand) : op == "$lt" ? .lt(operand) : .lte(operand)
            case "$in", "$nin":
                guard case .array(let items) = operand else { throw fail(here, "must be an array, got \(operand.typeName)") }
                condition = op == "$in" ? .in(items) : .nin(items)
            case "$exists":
                guard case .bool(let b) = operand else { throw fail(here, "must be true or false, got \(operand.typeName)") }
                condition = .exists(b)
            case "$contains": condition = .contains(operand)
            default:
                throw fail(here, "unknown operator \(op) (field operators: $eq $ne $gt $gte $lt $lte $in $nin $exists $contains)")
            }
            out.append(.condition(path: path, condition))
        }
        return out
    }

    /// The canonical JSON form, with full paths (as `strata_host_api.filter_json` hands to
    /// plugins). `parse` reads it back to an equivalent filter: an empty conjunction is `{}`
    /// (no condition) and an empty disjunction `{"$not": {}}`, since `parse` refuses an empty
    /// `$and` or `$or` array.
    public var json: JSONValue {
        switch self {
        case .all(let parts): return parts.isEmpty ? .object([:]) : .object(["$and": .array(parts.map(\.json))])
        case .any(let parts): return parts.isEmpty ? .object(["$not": .object([:])]) : .object(["$or": .array(parts.map(\.json))])
        case .not(let inner): return .object(["$not": inner.json])
        case .condition(let path, let condition):
            let operand: JSONValue
            switch condition {
            case .eq(let v), .ne(let v), .gt(let v), .gte(let v), .lt(let v), .lte(let v), .contains(let v): operand = v
            case .in(let vs), .nin(let vs): operand = .array(vs)
            case .exists(let b): operand = .bool(b)
            }
            return .object([path.joined(separator: "."): .object([condition.operatorName: operand])])
        }
    }

    /// True when the filter matches everything whatever the memory: an empty conjunction, a
    /// disjunction with such a part (`{"$or": [{}]}`), the negation of one that never matches.
    public var isAlways: Bool {
        switch self {
        case .all(let parts): parts.allSatisfy(\.isAlways)
        case .any(let parts): parts.contains(where: \.isAlways)
        case .not(let inner): inner.isNever
        case .condition: false
        }
    }

    /// True when the filter matches nothing whatever the memory (`{"$or": []}`, `{"$not": {}}`).
    public var isNever: Bool {
        switch self {
        case .all(let parts): parts.contains(where: \.isNever)
        case .any(let parts): parts.allSatisfy(\.isNever)
        case .not(let inner): inner.isAlways
        case .condition: false
        }
    }

    /// Joins filters with AND, dropping trivial ones.
    public static func and(_ filters: [Filter]) -> Filter {
        let parts = filters.filter { !$0.isAlways }
        return parts.count == 1 ? parts[0] : .all(parts)
    }
}

/// Something a filter can be evaluated against: a field value by path.
public protocol FilterSubject {
    func filterValue(at path: [String]) -> JSONValue?
}

extension JSONValue: FilterSubject {
    public func filterValue(at path: [String]) -> JSONValue? { value(at: path) }
}

extension Memory: FilterSubject {
    /// Resolves record fields without building the record JSON.
    public func filterValue(at path: [String]) -> JSONValue? {
        withUnsafePointer(to: self) { Memory.filterValue(of: $0, at: path) }
    }

    /// The hot path of filtered search: reads only the field the path names, through a pointer,
    /// so evaluating a filter on a stored row never copies the whole memory.
    public static func filterValue(of m: UnsafePointer<Memory>, at path: [String]) -> JSONValue? {
        guard let head = path.first, let field = RecordField(head) else { return nil }
        return filterValue(of: m, field: field, path: path)
    }

    /// `filterValue(of:at:)` with the path's first component already resolved to `field`
    /// (CompiledFilter resolves it once per filter instead of once per row).
    static func filterValue(of m: UnsafePointer<Memory>, field: RecordField, path: [String]) -> JSONValue? {
        let top: JSONValue?
        switch field {
        case .metadata:
            guard path.count > 1 else { return .object(m.pointee.metadata) }
            guard var current = m.pointee.metadata[path[1]] else { return nil }
            var i = 2
            while i < path.count {
                guard case .object(let fields) = current, let next = fields[path[i]] else { return nil }
                current = next
                i += 1
            }
            return current
        case .expiresAt: top = m.pointee.expiresAt.map { .string($0.iso8601) }
        case .scope: top = .string(m.pointee.scope.description)
        case .visibility: top = .string(m.pointee.visibility.rawValue)
        case .parentScope: top = m.pointee.scope.parent.map { .string($0.description) }
        case .model: top = .string(m.pointee.model)
        case .tier: top = .string(m.pointee.tier)
        case .category: top = .string(m.pointee.category)
        case .id: top = .string(m.pointee.id)
        case .content: top = .string(m.pointee.content)
        case .importance: top = .number(m.pointee.importance)
        case .pinned: top = .bool(m.pointee.pinned)
        case .createdAt: top = .string(m.pointee.createdAt.iso8601)
        case .updatedAt: top = .string(m.pointee.updatedAt.iso8601)
        case .accessedAt: top = .string(m.pointee.accessedAt.iso8601)
        case .accessCount: top = .number(Double(m.pointee.accessCount))
        }
        return path.count == 1 ? top : nil
    }
}

/// A top-level key of the record JSON (`Memory.json`): what a filter path starts with, and what
/// `Memory.decodeRecord` reads. The raw value is a bit position (the record reader's seen-keys mask).
enum RecordField: Int {
    case metadata, expiresAt, scope, visibility, parentScope, model, tier, category, id, content
    case importance, pinned, createdAt, updatedAt, accessedAt, accessCount

    init?(_ name: String) {
        switch name {
        case "metadata": self = .metadata
        case "expires_at": self = .expiresAt
        case "scope": self = .scope
        case "visibility": self = .visibility
        case "parent_scope": self = .parentScope
        case "model": self = .model
        case "tier": self = .tier
        case "category": self = .category
        case "id": self = .id
        case "content": self = .content
        case "importance": self = .importance
        case "pinned": self = .pinned
        case "created_at": self = .createdAt
        case "updated_at": self = .updatedAt
        case "accessed_at": self = .accessedAt
        case "access_count": self = .accessCount
        default: return nil
        }
    }

    /// The field a key's UTF-8 names (the record reader matches keys without making Strings).
    init?(bytes: UnsafeBufferPointer<UInt8>) {
        for (name, field) in Self.names where name.count == bytes.count && name.elementsEqual(bytes) {
            self = field
            return
        }
        return nil
    }

    private static let names: [([UInt8], RecordField)] = [
        "id", "content", "metadata", "scope", "visibility", "tier", "category", "importance", "pinned", "created_at",
        "updated_at", "accessed_at", "access_count", "model", "expires_at", "parent_scope",
    ].map { (Array($0.utf8), RecordField($0)!) }
}

extension Filter {
    /// Evaluates the filter. O(size of the filter) per call.
    public func matches(_ subject: some FilterSubject) -> Bool {
        switch self {
        case .all(let parts): return parts.allSatisfy { $0.matches(subject) }
        case .any(let parts): return parts.contains { $0.matches(subject) }
        case .not(let inner): return !inner.matches(subject)
        case .condition(let path, let condition): return Self.test(condition, subject.filterValue(at: path))
        }
    }

    /// Evaluates the filter on a memory: the same as the generic form, without going through
    /// the protocol (the hot path of filtered search, called for many rows per query).
    public func matches(_ memory: Memory) -> Bool {
        withUnsafePointer(to: memory) { matches(stored: $0) }
    }

    /// Evaluates the filter on a memory in place (a row of a store), without copying it.
    public func matches(stored memory: UnsafePointer<Memory>) -> Bool {
        // Plain loops, not allSatisfy / contains, to keep the hot path free of closures.
        switch self {
        case .all(let parts):
            for part in parts where !part.matches(stored: memory) { return false }
            return true
        case .any(let parts):
            for part in parts where part.matches(stored: memory) { return true }
            return false
        case .not(let inner): return !inner.matches(stored: memory)
        case .condition(let path, let condition): return Self.test(condition, Memory.filterValue(of: memory, at: path))
        }
    }

    static func test(_ condition: Condition, _ value: JSONValue?) -> Bool {
        switch condition {
        case .exists(let wanted): return (value != nil && value != .null) == wanted
        case .eq(let v): return value.map { same($0, v) } ?? false
        case .ne(let v): return !(value.map { same($0, v) } ?? false)
        case .in(let vs): return value.map { x in vs.contains { same(x, $0) } } ?? false
        case .nin(let vs): return !(value.map { x in vs.contains { same(x, $0) } } ?? false)
        case .gt(let v): return compare(value, v).map { $0 > 0 } ?? false
        case .gte(let v): return compare(value, v).map { $0 >= 0 } ?? false
        case .lt(let v): return compare(value, v).map { $0 < 0 } ?? false
        case .lte(let v): return compare(value, v).map { $0 <= 0 } ?? false
        case .contains(let v):
            switch value {
            case .array(let items)?: return items.contains { same($0, v) }
            case .string(let s)?:
                guard case .string(let needle) = v else { return false }
                return s.contains(needle)
            default: return false
            }
        }
    }

    private static func same(_ a: JSONValue, _ b: JSONValue) -> Bool { a == b }

    private static func compare(_ a: JSONValue?, _ b: JSONValue) -> Int? {
        switch (a, b) {
        case (.number(let x)?, .number(let y)): return x < y ? -1 : x > y ? 1 : 0
        case (.string(let x)?, .string(let y)): return x < y ? -1 : x > y ? 1 : 0
        default: return nil
        }
    }
}
