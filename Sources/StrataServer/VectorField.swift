import StrataCore

/// The `"vector"` of a store or recall request: an array of numbers, or a base64 string of
/// little-endian float32s (4 bytes a number, as OpenAI's embeddings API sends them with
/// `encoding_format: "base64"`).
///
/// Why both: 384 numbers as JSON text are about 7.5 KB that the server parses digit by digit
/// (strtod was a tenth of a recall's CPU over HTTP); the same floats in base64 are 2 KB, decoded
/// in a few microseconds, and exact. Clients that have the floats as an array (numpy) send
/// base64; people typing requests send numbers.
enum VectorField {
    /// The floats of a `"vector"` value; `what` names it in errors.
    /// - Throws: `.invalidVector` for anything but an array of numbers or a base64 string whose
    ///   length is a whole number of floats.
    static func floats(_ value: JSONValue, _ what: String) throws(StrataError) -> [Float] {
        switch value {
        case .array(let items):
            var out: [Float] = []
            out.reserveCapacity(items.count)
            for (i, item) in items.enumerated() {
                guard case .number(let x) = item else { throw StrataError(.invalidVector, "\(what)[\(i)] is not a number") }
                out.append(Float(x))
            }
            return out
        case .string(let text):
            return try floats(base64: text, what)
        default:
            throw StrataError(.invalidVector, "\(what) must be an array of numbers or a base64 string of float32s")
        }
    }

    /// Decodes standard base64 (RFC 4648, `=` padding optional) into little-endian float32s.
    static func floats(base64 text: String, _ what: String) throws(StrataError) -> [Float] {
        var input = Array(text.utf8)
        while input.last == UInt8(ascii: "=") { input.removeLast() }
        guard input.count % 4 != 1 else {
            throw StrataError(.invalidVector, "\(what) is not base64: \(text.utf8.count) characters cannot be a whole number of bytes")
        }
        let byteCount = input.count / 4 * 3 + max(0, input.count % 4 - 1)
        guard byteCount > 0, byteCount % 4 == 0 else {
            throw StrataError(.invalidVector, "\(what) holds \(byteCount) bytes in base64, not a whole number of float32s (4 bytes each)")
        }
        var bytes = [UInt8](repeating: 0, count: byteCount)
        var at = 0
        var accumulator: UInt32 = 0
        var bits = 0
        let sextet = Self.sextet
        for (i, c) in input.enumerated() {
            let v = sextet[Int(c)]
            guard v < 64 else {
                throw StrataError(.invalidVector, "\(what) is not base64: character \(i) is not in the base64 alphabet")
            }
            accumulator = accumulator << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                bytes[at] = UInt8(truncatingIfNeeded: accumulator >> UInt32(bits))
                at += 1
            }
        }
        let count = byteCount / 4
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            for i in 0..<count {
                let b = UInt32(bytes[4 * i]) | UInt32(bytes[4 * i + 1]) << 8 | UInt32(bytes[4 * i + 2]) << 16 | UInt32(bytes[4 * i + 3]) << 24
                out[i] = Float(bitPattern: b)
            }
            initialized = count
        }
    }

    /// Each byte's value in the base64 alphabet, 64 for bytes outside it.
    private static let sextet: [UInt8] = {
        var table = [UInt8](repeating: 64, count: 256)
        for (i, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(c)] = UInt8(i)
        }
        return table
    }()
}
