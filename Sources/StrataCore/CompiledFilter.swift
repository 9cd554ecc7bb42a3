/// A filter prepared for evaluation on many rows: each condition's field resolved once.
///
/// `Filter.matches` finds the field a path names by comparing its first component with the
/// record's field names, for every row. A graph walk evaluates the recall's filter (scope,
/// expiry) on every node it visits, where those string comparisons were a tenth of a recall;
/// this form does them once. It answers exactly as the filter it was made from.
public struct CompiledFilter: Sendable {
    private indirect enum Node: Sendable {
        case all([Node])
        case any([Node])
        case not(Node)
        /// A path whose first component names a field.
        case test(RecordField, path: [String], Filter.Condition)
        /// A path no record has (an unknown field, or an empty path): its value is absent.
        case absent(Filter.Condition)
        /// `$eq` / `$in` on a string field every memory has (`tier`, `category`, `id`,
        /// `visibility`, `model`) with string values only: the memory's own string compared,
        /// with no `JSONValue` made per row. `negated` for `$ne` / `$nin`.
        case strings(StringField, [String], negated: Bool)
        /// `$exists` on an optional field (`expires_at`, `parent_scope`): a nil test.
        case present(OptionalField, wanted: Bool)
    }

    /// The fields `Node.strings` reads in place.
    private enum StringField: Sendable {
        case tier, category, id, visibility, model

        init?(_ field: RecordField) {
            switch field {
            case .tier: self = .tier
            case .category: self = .category
            case .id: self = .id
            case .visibility: self = .visibility
            case .model: self = .model
            default: return nil
            }
        }
    }

    /// The fields `Node.present` tests for nil.
    private enum OptionalField: Sendable {
        case expiresAt, parentScope
    }

    private let root: Node

    public init(_ filter: Filter) {
        func node(_ f: Filter) -> Node {
            switch f {
            case .all(let parts): return .all(parts.map(node))
            case .any(let parts): return .any(parts.map(node))
            case .not(let inner): return .not(node(inner))
            case .condition(let path, let condition):
                guard let head = path.first, let field = RecordField(head) else { return .absent(condition) }
                return Self.fast(field, path: path, condition) ?? .test(field, path: path, condition)
            }
        }
        root = node(filter)
    }

    /// The in-place form of the conditions a recall's own filter is made of (its tiers, its
    /// expiry), nil for the rest. Each answers as `Filter.test` on the field's value: a string
    /// field is `.string(s)`, equal to a value exactly when that is `.string` of an equal
    /// String; an optional field is absent exactly when nil (it is never `.null`).
    private static func fast(_ field: RecordField, path: [String], _ condition: Filter.Condition) -> Node? {
        guard path.count == 1 else { return nil }
        if case .exists(let wanted) = condition {
            switch field {
            case .expiresAt: return .present(.expiresAt, wanted: wanted)
            case .parentScope: return .present(.parentScope, wanted: wanted)
            default: return nil
            }
        }
        guard let stringField = StringField(field) else { return nil }
        func strings(_ values: [JSONValue]) -> [String]? {
            var out: [String] = []
            for v in values {
                guard case .string(let s) = v else { return nil }
                out.append(s)
            }
            return out
        }
        switch condition {
        case .eq(let v): return strings([v]).map { .strings(stringField, $0, negated: false) }
        case .ne(let v): return strings([v]).map { .strings(stringField, $0, negated: true) }
        case .in(let vs): return strings(vs).map { .strings(stringField, $0, negated: false) }
        case .nin(let vs): return strings(vs).map { .strings(stringField, $0, negated: true) }
        default: return nil
        }
    }

    /// Whether the memory at `memory` matches, read in place (`Filter.matches(stored:)`).
    public func matches(stored memory: UnsafePointer<Memory>) -> Bool {
        Self.matches(root, memory)
    }

    private static func matches(_ node: Node, _ memory: UnsafePointer<Memory>) -> Bool {
        // Plain loops, not allSatisfy / contains, to keep the hot path free of closures.
        switch node {
        case .all(let parts):
            for part in parts where !matches(part, memory) { return false }
            return true
        case .any(let parts):
            for part in parts where matches(part, memory) { return true }
            return false
        case .not(let inner): return !matches(inner, memory)
        case .test(let field, let path, let condition):
            return Filter.test(condition, Memory.filterValue(of: memory, field: field, path: path))
        case .absent(let condition): return Filter.test(condition, nil)
        case .strings(let field, let values, let negated):
            let found: Bool
            switch field {
            case .tier: found = contains(values, memory.pointee.tier)
            case .category: found = contains(values, memory.pointee.category)
            case .id: found = contains(values, memory.pointee.id)
            case .model: found = contains(values, memory.pointee.model)
            case .visibility: found = contains(values, memory.pointee.visibility.rawValue)
            }
            return found != negated
        case .present(let field, let wanted):
            switch field {
            case .expiresAt: return (memory.pointee.expiresAt != nil) == wanted
            case .parentScope: return (memory.pointee.scope.parent != nil) == wanted
            }
        }
    }

    /// A loop rather than `contains`: a filter lists a few values, and no closure is made.
    @inline(__always)
    private static func contains(_ values: [String], _ s: String) -> Bool {
        for v in values where v == s { return true }
        return false
    }
}
