import HTTPTypes

/// What the recall fast lane reads of a request's head, taken from the head SwiftNIO decoded or
/// straight from the socket's bytes (a polled request, `PolledRequest`): one set of rules for
/// both ways in.
///
/// Why not the polled request as an `HTTPRequest`: building one (each field's name and value
/// checked again, an array of fields) cost about 3 µs of a polled answer's critical path, for
/// the five fields the lane reads.
struct RecallHead: Equatable {
    /// The request target.
    var path: String
    /// `Content-Length` as a number; nil without one or when it is not a number.
    var contentLength: Int?
    /// An `Upgrade`, `Expect` or `Transfer-Encoding` field, or a `Connection` naming `close`:
    /// such a request is the router's.
    var routerOnly: Bool
    /// The `Authorization` field's value.
    var authorization: String?
    /// The `X-Request-Id` field's value.
    var requestID: String?

    /// From the head SwiftNIO decoded (NIOHTTPTypes' `HTTPRequest`).
    init(_ head: HTTPRequest) {
        let fields = head.headerFields
        path = head.path ?? ""
        contentLength = fields[.contentLength].flatMap { Int($0) }
        routerOnly = fields[.upgrade] != nil || fields[.expect] != nil || fields[.transferEncoding] != nil
            || fields[.connection].map { $0.lowercased().contains("close") } == true
        authorization = fields[.authorization]
        requestID = fields[RequestLine.header]
    }

    /// From a polled request's bytes. A field named more than once reads as `HTTPFields` gives
    /// it: the values joined by ", ".
    ///
    /// The fields are read in one pass, each name compared only with the names of its length:
    /// this runs right after the wake-up at a request that comes after a pause, where each
    /// line of code and data touched is a cache miss (bench/README.md, "Where a text recall's
    /// overhead goes").
    init(_ request: PolledRequest, _ bytes: UnsafeRawBufferPointer) {
        path = request.target(bytes)
        // PolledRequest frames only a request with at most one Content-Length, of digits.
        contentLength = request.contentLength
        var routerOnly = false, connection: String?, authorization: String?, requestID: String?
        func joined(_ kept: String?, _ value: Range<Int>) -> String {
            let text = PolledRequest.text(bytes, value)
            return kept.map { $0 + ", " + text } ?? text
        }
        for (name, value) in request.fields {
            func named(_ text: StaticString) -> Bool { PolledRequest.equalsIgnoringCase(bytes, name, text) }
            switch name.count {
            case 6 where named("expect"), 7 where named("upgrade"), 17 where named("transfer-encoding"):
                routerOnly = true
            case 10 where named("connection"): connection = joined(connection, value)
            case 13 where named("authorization"): authorization = joined(authorization, value)
            case 12 where named("x-request-id"): requestID = joined(requestID, value)
            default: break
            }
        }
        self.routerOnly = routerOnly || connection.map { $0.lowercased().contains("close") } == true
        self.authorization = authorization
        self.requestID = requestID
    }
}
