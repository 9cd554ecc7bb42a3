import Hummingbird
import StrataCore

/// A path parameter as the client meant it: `/v1/memories/{id}` carries the id percent-encoded
/// (an id of the caller's may hold `/`, `?`, `#`, spaces or any UTF-8), and the router hands over
/// the raw segment.
enum PathParameter {
    /// The decoded parameter `name` of `context`.
    /// - Throws: `.invalidArgument` (422) naming the parameter when its encoding is malformed (`%` not followed by
    ///   two hex digits) or the bytes are not UTF-8.
    static func decoded(_ name: String, _ context: BasicRequestContext) throws -> String {
        let raw = try context.parameters.require(name)
        guard let value = decode(raw) else {
            throw APIError(StrataError(.invalidArgument, "path parameter \(name) is not valid percent-encoded UTF-8"))
        }
        return value
    }

    /// `text` with each `%XX` replaced by its byte; nil when an escape is malformed or the
    /// result is not UTF-8.
    static func decode(_ text: String) -> String? {
        guard text.utf8.contains(UInt8(ascii: "%")) else { return text }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var it = text.utf8.makeIterator()
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        while let c = it.next() {
            guard c == UInt8(ascii: "%") else {
                bytes.append(c)
                continue
            }
            guard let h = it.next().flatMap(hex), let l = it.next().flatMap(hex) else { return nil }
            bytes.append(h << 4 | l)
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
