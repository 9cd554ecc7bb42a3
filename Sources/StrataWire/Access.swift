import StrataCore

// What a token (or `strata mcp --scope --role`) may touch: one definition for every face that
// bounds a caller (REST, WebSocket, MCP over HTTP and stdio).

/// What a token may do, each role including the one before it: `read` recalls, gets and
/// follows events; `write` also stores, updates and forgets; `admin` also runs lifecycle
/// cycles, takes snapshots and rolls back.
public enum TokenRole: String, Sendable, CaseIterable, Comparable {
    case read, write, admin

    private var rank: Int {
        switch self {
        case .read: 0
        case .write: 1
        case .admin: 2
        }
    }

    public static func < (a: TokenRole, b: TokenRole) -> Bool { a.rank < b.rank }
}

/// What one request may touch: a scope subtree and a role. Without a token file the server
/// grants `unrestricted` (loopback only, or `--insecure`).
public struct Access: Sendable, Equatable {
    public var scope: ScopePath
    public var role: TokenRole
    /// The token's id, for logs (never its secret); nil without tokens.
    public var tokenID: String?

    public init(scope: ScopePath, role: TokenRole, tokenID: String? = nil) {
        self.scope = scope
        self.role = role
        self.tokenID = tokenID
    }

    public static let unrestricted = Access(scope: .root, role: .admin)

    /// Whether the token's subtree holds `node`: the token's node itself or one below it.
    public func sees(_ node: ScopePath) -> Bool {
        node.components.count >= scope.components.count && Array(node.components.prefix(scope.components.count)) == scope.components
    }

    /// Whether the token sees the whole store (its scope is the root).
    public var seesEverything: Bool { scope.components.isEmpty }

    /// The memories of the token's subtree, as a filter on a memory's `scope` field: the node
    /// itself, or a path that starts with `node/` (every such path sorts in ["node/", "node0"),
    /// `0` being the character after `/`). Nil for the root, which sees everything.
    public var subtreeFilter: Filter? {
        guard !seesEverything else { return nil }
        let node = scope.description
        return .any([
            .condition(path: ["scope"], .eq(.string(node))),
            .all([.condition(path: ["scope"], .gte(.string(node + "/"))), .condition(path: ["scope"], .lt(.string(node + "0")))]),
        ])
    }
}
