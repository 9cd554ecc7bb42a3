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
    init(_ request: PolledRequest, _ bytes: UnsafeRawBufferPointer) {
        path = request.target(bytes)
        contentLength = request.value(of: "content-length", bytes).flatMap { Int($0) }
        routerOnly = request.value(of: "upgrade", bytes) != nil || request.value(of: "expect", bytes) != nil
            || request.value(of: "transfer-encoding", bytes) != nil
            || request.value(of: "connection", bytes).map { $0.lowercased().contains("close") } == true
        authorization = request.value(of: "authorization", bytes)
        requestID = request.value(of: "x-request-id", bytes)
    }
}
