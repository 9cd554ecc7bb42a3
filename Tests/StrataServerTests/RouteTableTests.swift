import Hummingbird
@testable import StrataServer
import Testing

/// A known path asked with another method is 405 with the methods it takes.
@Suite struct RouteTableTests {
    let table = RouteTable([
        (method: .get, path: "/v1/memories/:id"), (method: .patch, path: "/v1/memories/:id"),
        (method: .get, path: "/v1/memories/:id/history"), (method: .post, path: "/v1/memories"),
        (method: .get, path: "/v1/stats"), (method: .get, path: "/v1/memories/:id"),
    ])

    @Test func aParameterMatchesAnyOneSegment() {
        #expect(table.methods(for: "/v1/memories/m-1") == [.get, .patch], "listed twice, answered once")
        #expect(table.methods(for: "/v1/memories/a%2Fb/history") == [.get])
        #expect(table.methods(for: "/v1/memories") == [.post])
    }

    @Test func anUnknownPathHasNoMethods() {
        #expect(table.methods(for: "/v1/memories/a/b").isEmpty)
        #expect(table.methods(for: "/v1/stat").isEmpty)
        #expect(table.methods(for: "/").isEmpty)
    }
}
