/// Which browser origins may call `/mcp`: a defence against DNS rebinding, where a page of
/// another site, its name re-pointed at 127.0.0.1, would reach a server on loopback that has
/// no tokens (the MCP specification's Streamable HTTP transport asks servers to check Origin).
///
/// A request without an `Origin` header comes from a program, not a page, and is let through
/// (tokens still apply). With one, the origin must be loopback (`http://localhost:*`,
/// `http://127.0.0.1:*`, `http://[::1]:*`, or https) or one of `--allow-origin`, exactly. The
/// Host header is not trusted for this: under rebinding it names the attacker's site too.
public struct OriginPolicy: Sendable {
    /// Origins allowed besides loopback ones, compared exactly (after lower-casing).
    public let allowed: Set<String>

    public init(allowed: [String]) { self.allowed = Set(allowed.map { $0.lowercased() }) }

    /// Whether a request with this Origin header (nil: none) may go on.
    public func allows(_ origin: String?) -> Bool {
        guard let origin else { return true }
        let o = origin.lowercased()
        if allowed.contains(o) { return true }
        return Self.isLoopback(o)
    }

    /// `http(s)://` then a loopback host, then an optional port and nothing else.
    static func isLoopback(_ origin: String) -> Bool {
        var rest = Substring(origin)
        if rest.hasPrefix("http://") { rest = rest.dropFirst(7) } else if rest.hasPrefix("https://") { rest = rest.dropFirst(8) } else { return false }
        for host in ["localhost", "127.0.0.1", "[::1]"] where rest.hasPrefix(host) {
            let after = rest.dropFirst(host.count)
            if after.isEmpty { return true }
            guard after.first == ":" else { continue }
            let port = after.dropFirst()
            return !port.isEmpty && port.count <= 5 && port.allSatisfy { $0.isASCII && $0.isNumber }
        }
        return false
    }
}
