@testable import StrataServer
import StrataCore
import Testing

/// A request's `"vector"`: JSON numbers, or base64 little-endian float32s (the Python client's form).
@Suite struct VectorFieldTests {
    /// Standard base64 of `floats`' little-endian bytes, written here without the decoder's code.
    static func base64(_ floats: [Float]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var bytes: [UInt8] = []
        for f in floats { withUnsafeBytes(of: f.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        var out = ""
        var i = 0
        while i < bytes.count {
            let chunk = Array(bytes[i..<min(i + 3, bytes.count)])
            let n = (UInt32(chunk[0]) << 16) | (chunk.count > 1 ? UInt32(chunk[1]) << 8 : 0) | (chunk.count > 2 ? UInt32(chunk[2]) : 0)
            for j in 0..<4 { out.append(j <= chunk.count ? alphabet[Int((n >> (18 - 6 * UInt32(j))) & 63)] : "=") }
            i += 3
        }
        return out
    }

    @Test(arguments: [1, 2, 3, 5, 384])
    func base64AndNumbersGiveTheSameFloats(count: Int) throws {
        let floats = (0..<count).map { Float($0) * 0.37 - 11.5 } + [Float.leastNonzeroMagnitude, -0.0, 3.4e38][..<min(count, 3)]
        let text = Self.base64(floats)
        let decoded = try VectorField.floats(.string(text), "v")
        #expect(decoded.map(\.bitPattern) == floats.map(\.bitPattern), "exact, bit for bit")
        let unpadded = String(text.prefix { $0 != "=" })
        #expect(try VectorField.floats(.string(unpadded), "v").map(\.bitPattern) == floats.map(\.bitPattern), "padding optional")
        #expect(try VectorField.floats(.array(floats.map { .number(Double($0)) }), "v") == floats)
    }

    @Test(arguments: [
        (JSONValue.string("AAAA"), "not a whole number of float32s"),       // 3 bytes
        (.string("AAAAA"), "cannot be a whole number of bytes"),
        (.string("AAA*AAAAAAA="), "character 3 is not in the base64 alphabet"),
        (.string("AAAAA*=="), "character 5 is not in the base64 alphabet"),        // in the last, short group
        (.string("AAAA AAAAAA="), "character 4 is not in the base64 alphabet"),
        (.string("===="), "not a whole number of float32s"),                   // nothing after the padding
        (.array([1, "x"]), "v[1] is not a number"),
        (.number(1), "must be an array of numbers or a base64 string"),
        (.object([:]), "must be an array of numbers or a base64 string"),
    ] as [(JSONValue, String)])
    func badVectorsNameTheProblem(value: JSONValue, message: String) {
        #expect {
            try VectorField.floats(value, "v")
        } throws: { error in
            guard let e = error as? StrataError else { return false }
            return e.code == .invalidVector && e.message.contains(message) && e.message.hasPrefix("v")
        }
    }
}
