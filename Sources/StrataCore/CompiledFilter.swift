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
                return .test(field, path: path, condition)
            }
        }
        root = node(filter)
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
        }
    }
}
