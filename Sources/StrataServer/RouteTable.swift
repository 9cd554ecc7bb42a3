import Hummingbird

/// The methods each route pattern of the server takes, so a request for a known path with
/// another method is answered 405 with `Allow` (RFC 9110, section 15.5.6) instead of the
/// router's 404: Hummingbird's trie answers "not found" for both and keeps no list of its routes.
struct RouteTable: Sendable {
    private var routes: [(segments: [Substring], method: HTTPRequest.Method)] = []

    init(_ routes: [(method: HTTPRequest.Method, path: String)]) {
        self.routes = routes.map { (segments: $0.path.split(separator: "/"), method: $0.method) }
    }

    /// The methods of every pattern `path` matches (a `:name` segment matches any one segment),
    /// in the order they were listed; empty for a path no route has.
    /// Complexity: O(routes × segments).
    func methods(for path: String) -> [HTTPRequest.Method] {
        let given = path.split(separator: "/")
        var found: [HTTPRequest.Method] = []
        for route in routes where route.segments.count == given.count && !found.contains(route.method) {
            if zip(route.segments, given).allSatisfy({ pattern, segment in pattern.first == ":" || pattern == segment }) {
                found.append(route.method)
            }
        }
        return found
    }
}
