/// Who may see a memory, relative to the node of the agent tree that stored it (seed 001).
public enum Visibility: String, Sendable, CaseIterable {
    /// Only the node itself.
    case local
    /// The node, its parent and its children.
    case shared
    /// Every node.
    case global
}

/// A node of the agent tree, written as a slash-separated path: `org/planner/researcher`.
/// The empty path is the root.
public struct ScopePath: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let components: [String]

    public static let root = ScopePath(validated: [])

    private init(validated components: [String]) { self.components = components }

    /// Parses a path; empty components (`a//b`), leading or trailing slashes are errors.
    public init(_ text: String) throws(StrataError) {
        if text.isEmpty { self.components = []; return }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard !parts.contains(where: \.isEmpty) else {
            throw StrataError(.invalidArgument, "scope \"\(text)\" has an empty component (write nodes as a/b/c)")
        }
        self.components = parts
    }

    public var description: String { components.joined(separator: "/") }

    /// The parent node, or nil for the root.
    public var parent: ScopePath? { components.isEmpty ? nil : ScopePath(validated: Array(components.dropLast())) }

    public static func < (a: ScopePath, b: ScopePath) -> Bool { a.description < b.description }

    /// Whether a memory stored at `owner` with `visibility` may be seen from `self`: GLOBAL
    /// everywhere, LOCAL only at the owner, SHARED at the owner, its parent and its children.
    /// This evaluates `visibleFilter`, the filter recall and every other read by scope use, so
    /// the rule is written once.
    public func canSee(owner: ScopePath, visibility: Visibility) -> Bool {
        var fields: [String: JSONValue] = ["scope": .string(owner.description), "visibility": .string(visibility.rawValue)]
        if let p = owner.parent { fields["parent_scope"] = .string(p.description) }
        return visibleFilter.matches(JSONValue.object(fields))
    }

    /// The memories this node may see, as a filter on a memory's `scope`, `visibility` and
    /// `parent_scope` fields (see `canSee`).
    public var visibleFilter: Filter {
        var sees: [Filter] = [
            .condition(path: ["visibility"], .eq("global")),
            .condition(path: ["scope"], .eq(.string(description))),
            .all([.condition(path: ["visibility"], .eq("shared")),
                  .condition(path: ["parent_scope"], .eq(.string(description)))]),
        ]
        if let parent {
            sees.append(.all([.condition(path: ["visibility"], .eq("shared")),
                              .condition(path: ["scope"], .eq(.string(parent.description)))]))
        }
        return .any(sees)
    }

    /// The memories this node owns (stored at this node, whatever their visibility): what a
    /// node may change or forget. Seeing a GLOBAL or SHARED memory gives no right to remove it.
    public var ownedFilter: Filter { .condition(path: ["scope"], .eq(.string(description))) }
}
