/// One HTTP/1.1 request framed from a connection's raw bytes: for the recall fast lane's polled
/// path (`RecallFastLane` with `--busy-poll-us`, which reads a recall straight from the socket)
/// and for `SocketFront`, which follows the connection's request boundaries so that the lane
/// knows SwiftNIO's decoder holds no part of a request.
///
/// It frames a strict subset of RFC 9112: a request line `METHOD SP TARGET SP HTTP/1.1`, header
/// lines `name: value` (a token name; a value of visible ASCII, spaces and tabs), CRLF line ends,
/// at most one `Content-Length` of digits and no `Transfer-Encoding`. Anything else (HTTP/1.0,
/// chunked bodies, folded lines, bare LFs, other bytes) is `.other`: the request is left to
/// SwiftNIO's decoder, which reads the same bytes as it would have. Where both accept a request
/// they frame it alike: its head ends at the first empty line and its body is `Content-Length`
/// bytes.
struct PolledRequest {
    /// The method, target and header lines, as ranges of the bytes framed.
    private let method: Range<Int>
    private let target: Range<Int>
    let fields: [(name: Range<Int>, value: Range<Int>)]
    /// The `Content-Length` field's number; nil without one.
    let contentLength: Int?
    /// Where the body starts in the bytes framed.
    let bodyStart: Int
    /// The body's length (`Content-Length`, 0 without one).
    let bodyLength: Int

    /// The request's bytes: head and body.
    var length: Int { bodyStart + bodyLength }

    enum Framing {
        /// A whole request at the start of the bytes.
        case whole(PolledRequest)
        /// The start of one: `length` is its whole length once its head is in (nil before).
        case partial(length: Int?)
        /// Not a request this framer reads: the decoder's to read (and answer or refuse).
        case other
    }

    /// The longest head framed; a longer one is `.other`.
    static let maxHead = 16 << 10

    /// Frames the request at the start of `bytes`.
    static func frame(_ bytes: UnsafeRawBufferPointer) -> Framing {
        guard let end = headEnd(bytes) else { return bytes.count >= maxHead ? .other : .partial(length: nil) }
        guard end <= maxHead else { return .other }
        // The request line.
        guard let requestLineEnd = lineEnd(bytes, from: 0, to: end),
              let space = firstIndex(of: 0x20, in: bytes, 0..<requestLineEnd),
              let space2 = firstIndex(of: 0x20, in: bytes, (space + 1)..<requestLineEnd),
              space > 0, space2 > space + 1, isToken(bytes, 0..<space),
              (space + 1..<space2).allSatisfy({ bytes[$0] > 0x20 && bytes[$0] < 0x7F }),
              equals(bytes, (space2 + 1)..<requestLineEnd, "HTTP/1.1")
        else { return .other }
        var fields: [(name: Range<Int>, value: Range<Int>)] = []
        fields.reserveCapacity(8)  // one allocation for a client's usual few fields
        var contentLength: Int?
        var at = requestLineEnd + 2
        while at < end {
            guard let next = lineEnd(bytes, from: at, to: end), let colon = firstIndex(of: 0x3A, in: bytes, at..<next),
                  colon > at, isToken(bytes, at..<colon)
            else { return .other }
            var first = colon + 1, last = next
            while first < last, bytes[first] == 0x20 || bytes[first] == 0x09 { first += 1 }
            while last > first, bytes[last - 1] == 0x20 || bytes[last - 1] == 0x09 { last -= 1 }
            let value = first..<last
            guard value.allSatisfy({ bytes[$0] == 0x09 || (bytes[$0] >= 0x20 && bytes[$0] < 0x7F) }) else { return .other }
            if equalsIgnoringCase(bytes, at..<colon, "transfer-encoding") { return .other }
            if equalsIgnoringCase(bytes, at..<colon, "content-length") {
                // SwiftNIO's decoder (llhttp) refuses a tab after the number: so does this.
                guard contentLength == nil, !value.isEmpty, !(last..<next).contains(where: { bytes[$0] == 0x09 }), value.count <= 18, value.allSatisfy({ bytes[$0] >= 0x30 && bytes[$0] <= 0x39 })
                else { return .other }
                contentLength = value.reduce(0) { $0 * 10 + Int(bytes[$1] - 0x30) }
            }
            fields.append((at..<colon, value))
            at = next + 2
        }
        let request = PolledRequest(method: 0..<space, target: (space + 1)..<space2, fields: fields, contentLength: contentLength,
                                    bodyStart: end + 4, bodyLength: contentLength ?? 0)
        return request.length <= bytes.count ? .whole(request) : .partial(length: request.length)
    }

    /// The request target.
    func target(_ bytes: UnsafeRawBufferPointer) -> String { Self.text(bytes, target) }

    /// The method, target and body length, as `SocketFront` compares them with the decoder's.
    func shape(_ bytes: UnsafeRawBufferPointer) -> SocketFront.Shape {
        SocketFront.Shape(method: Self.text(bytes, method), target: Self.text(bytes, target), bodyLength: bodyLength)
    }

    /// Whether the request line is `POST` to one of `paths` (compared before the head is built).
    func isPost(to paths: Set<String>, in bytes: UnsafeRawBufferPointer) -> Bool {
        Self.equals(bytes, method, "POST") && paths.contains(Self.text(bytes, target))
    }

    /// The bytes of `range` as text.
    static func text(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    /// The index of the first CRLF CRLF, nil when there is none.
    private static func headEnd(_ bytes: UnsafeRawBufferPointer) -> Int? {
        var at = 0
        let n = bytes.count
        while at + 3 < n {
            if bytes[at + 3] != 0x0A { at += bytes[at + 3] == 0x0D ? 1 : 4; continue }
            if bytes[at] == 0x0D, bytes[at + 1] == 0x0A, bytes[at + 2] == 0x0D { return at }
            at += 1
        }
        return nil
    }

    /// The index of the CR of the CRLF that ends the line starting at `from`; nil when the
    /// line holds a CR or LF of its own (a bare one).
    private static func lineEnd(_ bytes: UnsafeRawBufferPointer, from: Int, to end: Int) -> Int? {
        var at = from
        while at < end, bytes[at] != 0x0D, bytes[at] != 0x0A { at += 1 }
        guard at + 1 < bytes.count, bytes[at] == 0x0D, bytes[at + 1] == 0x0A else { return nil }
        return at
    }

    private static func firstIndex(of byte: UInt8, in bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Int? {
        range.first { bytes[$0] == byte }
    }

    /// RFC 9110's token characters.
    private static let tokenBytes: [Bool] = (0..<256).map { b in
        let c = UInt8(b)
        return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || Array("!#$%&'*+-.^_`|~".utf8).contains(c)
    }

    private static func isToken(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        !range.isEmpty && range.allSatisfy { tokenBytes[Int(bytes[$0])] }
    }

    private static func equals(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ text: String) -> Bool {
        range.count == text.utf8.count && zip(range, text.utf8).allSatisfy { bytes[$0] == $1 }
    }

    /// Compares with a lowercase ASCII `text`.
    private static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ text: String) -> Bool {
        range.count == text.utf8.count && zip(range, text.utf8).allSatisfy { bytes[$0] | 0x20 == $1 }
    }

    /// Compares with a lowercase ASCII `text` (a field's name: letters, digits and `-`, which
    /// `| 0x20` leaves as they are).
    static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ text: StaticString) -> Bool {
        guard range.count == text.utf8CodeUnitCount else { return false }
        let name = text.utf8Start
        var i = 0
        for at in range {
            guard bytes[at] | 0x20 == name[i] else { return false }
            i += 1
        }
        return true
    }
}
