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

    /// Whether a memory stored at `owner` with `visibility` may be seen from `self` (seed 001):
    /// GLOBAL everywhere, LOCAL only at the owner, SHARED at the owner, its parent and its children.
    public func canSee(owner: ScopePath, visibility: Visibility) -> Bool {
        switch visibility {
        case .global: return true
        case .local: return owner == self
        case .shared: return owner == self || owner.parent == self || parent == owner
        }
    }
}
