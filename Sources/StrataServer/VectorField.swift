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
        var text = text
        let decoded = text.withUTF8 { input in Result { () throws(StrataError) -> [Float] in try floats(base64: input, what) } }
        return try decoded.get()
    }

    /// Decodes the UTF-8 of a base64 string straight into the floats' bytes, four characters
    /// (three bytes) at a time: a recall's 384 floats are 2 KB of base64 on every request.
    private static func floats(base64 input: UnsafeBufferPointer<UInt8>, _ what: String) throws(StrataError) -> [Float] {
        var n = input.count
        while n > 0, input[n - 1] == UInt8(ascii: "=") { n -= 1 }
        guard n % 4 != 1 else {
            throw StrataError(.invalidVector, "\(what) is not base64: \(input.count) characters cannot be a whole number of bytes")
        }
        let byteCount = n / 4 * 3 + max(0, n % 4 - 1)
        guard byteCount > 0, byteCount % 4 == 0 else {
            throw StrataError(.invalidVector, "\(what) holds \(byteCount) bytes in base64, not a whole number of float32s (4 bytes each)")
        }
        var bad = -1
        let out = [Float](unsafeUninitializedCapacity: byteCount / 4) { floats, initialized in
            let bytes = UnsafeMutableRawPointer(floats.baseAddress!)
            sextet.withUnsafeBufferPointer { table in
                var at = 0, i = 0
                while i + 4 <= n {
                    let a = table[Int(input[i])], b = table[Int(input[i + 1])], c = table[Int(input[i + 2])], d = table[Int(input[i + 3])]
                    guard (a | b | c | d) < 64 else { bad = i; return }
                    let group = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                    bytes.storeBytes(of: UInt8(truncatingIfNeeded: group >> 16), toByteOffset: at, as: UInt8.self)
                    bytes.storeBytes(of: UInt8(truncatingIfNeeded: group >> 8), toByteOffset: at + 1, as: UInt8.self)
                    bytes.storeBytes(of: UInt8(truncatingIfNeeded: group), toByteOffset: at + 2, as: UInt8.self)
                    at += 3
                    i += 4
                }
                // The last two or three characters: one or two bytes.
                var group: UInt32 = 0
                for j in i..<n {
                    let v = table[Int(input[j])]
                    guard v < 64 else { bad = j; return }
                    group = group << 6 | UInt32(v)
                }
                let tail = n - i
                if tail > 0 {
                    group <<= UInt32(6 * (4 - tail))
                    for k in 0..<(tail - 1) {
                        bytes.storeBytes(of: UInt8(truncatingIfNeeded: group >> UInt32(16 - 8 * k)), toByteOffset: at + k, as: UInt8.self)
                    }
                }
            }
            initialized = floats.count
        }
        if bad >= 0 {
            // The character's index, as the caller sent it: a bad group is named by its first bad character.
            let index = (bad..<min(bad + 4, n)).first { sextet[Int(input[$0])] >= 64 } ?? bad
            throw StrataError(.invalidVector, "\(what) is not base64: character \(index) is not in the base64 alphabet")
        }
        #if _endian(big)
        return out.map { Float(bitPattern: $0.bitPattern.byteSwapped) }
        #else
        return out
        #endif
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
