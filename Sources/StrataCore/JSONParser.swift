#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Parses JSON text (RFC 8259) into a `JSONValue`.
///
/// Errors say what was expected and the byte offset; invalid UTF-8 anywhere in
/// a string is `.invalidUTF8`, everything else `.invalidJSON`. Nesting deeper
/// than `maxDepth` is refused, so hostile input cannot exhaust the stack.
public struct JSONParser {
    public static let maxDepth = 512

    /// Parses a whole document; trailing non-space characters are an error.
    /// - Parameter what: names the document in error messages ("recall request", a file name).
    public static func parse(_ text: String, what: String = "JSON") throws(StrataError) -> JSONValue {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { (p) throws(StrataError) -> JSONValue in try parse(bytes: p, what: what) }
    }

    /// Parses a whole document given as UTF-8 bytes.
    public static func parse(bytes: UnsafeBufferPointer<UInt8>, what: String = "JSON") throws(StrataError) -> JSONValue {
        var parser = JSONParser(bytes: bytes, what: what)
        parser.skipSpace()
        let value = try parser.parseValue(depth: 0)
        parser.skipSpace()
        if parser.index != bytes.count {
            throw parser.failure("unexpected text after the document")
        }
        return value
    }

    let bytes: UnsafeBufferPointer<UInt8>
    private let what: String
    var index = 0

    init(bytes: UnsafeBufferPointer<UInt8>, what: String) {
        self.bytes = bytes
        self.what = what
    }

    private func failure(_ message: String, code: StrataError.Code = .invalidJSON) -> StrataError {
        StrataError(code, "\(what): \(message) at byte \(index)")
    }

    mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func parseValue(depth: Int) throws(StrataError) -> JSONValue {
        guard depth < Self.maxDepth else { throw failure("nesting deeper than \(Self.maxDepth)") }
        guard index < bytes.count else { throw failure("unexpected end, expected a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectWord("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw failure("unexpected character '\(Self.printable(bytes[index]))', expected a value")
        }
    }

    private static func printable(_ byte: UInt8) -> String {
        byte >= 0x20 && byte < 0x7F ? String(UnicodeScalar(byte)) : "\\x" + String(byte, radix: 16)
    }

    mutating func expectWord(_ word: StaticString) throws(StrataError) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count,
            memcmp(bytes.baseAddress! + index, word.utf8Start, count) == 0
        else { throw failure("invalid literal, expected '\(word)'") }
        index += count
    }

    private mutating func parseObject(depth: Int) throws(StrataError) -> JSONValue {
        index += 1
        var fields: [String: JSONValue] = [:]
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(fields)
        }
        while true {
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw failure("expected a string key in object")
            }
            let key = try parseString()
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw failure("expected ':' after key \"\(key)\"") }
            index += 1
            skipSpace()
            let value = try parseValue(depth: depth + 1)
            // A duplicate key is ambiguous (RFC 8259 leaves it open); refuse it rather than pick one.
            if fields.updateValue(value, forKey: key) != nil { throw failure("duplicate key \"\(key)\"") }
            skipSpace()
            guard index < bytes.count else { throw failure("unexpected end inside object") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(fields) }
            throw failure("expected ',' or '}' in object")
        }
    }

    private mutating func parseArray(depth: Int) throws(StrataError) -> JSONValue {
        index += 1
        var items: [JSONValue] = []
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(items)
        }
        while true {
            skipSpace()
            items.append(try parseValue(depth: depth + 1))
            skipSpace()
            guard index < bytes.count else { throw failure("unexpected end inside array") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
            throw failure("expected ',' or ']' in array")
        }
    }

    mutating func parseNumber() throws(StrataError) -> Double {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        func digits(_ p: inout JSONParser) -> Int {
            let s = p.index
            while p.index < p.bytes.count, p.bytes[p.index] >= 0x30, p.bytes[p.index] <= 0x39 { p.index += 1 }
            return p.index - s
        }
        let intDigits = digits(&self)
        guard intDigits > 0 else { throw failure("invalid number") }
        if intDigits > 1, bytes[start + (bytes[start] == UInt8(ascii: "-") ? 1 : 0)] == UInt8(ascii: "0") {
            throw failure("invalid number: leading zero")
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits(&self) > 0 else { throw failure("invalid number: no digits after '.'") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits(&self) > 0 else { throw failure("invalid number: no digits in exponent") }
        }
        // strtod needs a NUL-terminated copy; numbers are short, so it lives on the stack.
        let length = index - start
        let value = withUnsafeTemporaryAllocation(of: CChar.self, capacity: length + 1) { buffer in
            for i in 0..<length { buffer[i] = CChar(bitPattern: bytes[start + i]) }
            buffer[length] = 0
            return strtod(buffer.baseAddress!, nil)
        }
        guard value.isFinite else { throw failure("number out of range") }
        return value
    }

    mutating func parseString() throws(StrataError) -> String {
        index += 1  // opening quote
        var out: [UInt8] = []
        var escaped = false
        var runStart = index
        while true {
            skipPlainASCII()
            guard index < bytes.count else { throw failure("unterminated string") }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                // Most strings hold no escape: made straight from the (validated) bytes, with no
                // copy in between.
                guard escaped else {
                    let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[runStart..<index]), as: UTF8.self)
                    index += 1
                    return text
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                index += 1
                break
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                try parseEscape(into: &out)
                runStart = index
            } else if byte < 0x20 {
                throw failure("control character in string")
            } else if byte < 0x80 {
                index += 1
            } else {
                try skipMultibyte()
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Moves `index` past the bytes, eight at a time, that need no look in a string: ASCII
    /// other than a quote, a backslash or a control character. A string's long runs (a base64
    /// vector of 2 KB) then cost a fraction of a byte-by-byte scan.
    private mutating func skipPlainASCII() {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        guard let base = bytes.baseAddress else { return }
        while index + 8 <= bytes.count {
            let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
            // A byte is flagged (its high bit set in `special`) when it is >= 0x80, < 0x20,
            // a quote (0x22) or a backslash (0x5C); a flag is never missed, and one is raised
            // only for such a byte or for a byte above one (the subtractions' borrows), which
            // the byte-by-byte loop then reads.
            let quotes = word ^ (ones &* 0x22)
            let slashes = word ^ (ones &* 0x5C)
            let special = word | (word &- ones &* 0x20) | (quotes &- ones) | (slashes &- ones)
            guard special & highs == 0 else { return }
            index += 8
        }
    }

    /// Validates one multi-byte UTF-8 sequence (no overlongs, no surrogates, max U+10FFFF).
    private mutating func skipMultibyte() throws(StrataError) {
        let b0 = bytes[index]
        let length: Int
        var lower: UInt8 = 0x80
        var upper: UInt8 = 0xBF
        switch b0 {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; lower = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; upper = 0x9F
        case 0xF0: length = 4; lower = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; upper = 0x8F
        default: throw failure("invalid UTF-8 byte 0x\(String(b0, radix: 16))", code: .invalidUTF8)
        }
        guard index + length <= bytes.count else { throw failure("truncated UTF-8 sequence", code: .invalidUTF8) }
        let b1 = bytes[index + 1]
        guard b1 >= lower, b1 <= upper else { throw failure("invalid UTF-8 sequence", code: .invalidUTF8) }
        for offset in 2..<max(2, length) where bytes[index + offset] & 0xC0 != 0x80 {
            throw failure("invalid UTF-8 sequence", code: .invalidUTF8)
        }
        index += length
    }

    private mutating func parseEscape(into out: inout [UInt8]) throws(StrataError) {
        index += 1
        guard index < bytes.count else { throw failure("unterminated escape") }
        let c = bytes[index]
        index += 1
        switch c {
        case UInt8(ascii: "\""): out.append(0x22)
        case UInt8(ascii: "\\"): out.append(0x5C)
        case UInt8(ascii: "/"): out.append(0x2F)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try parseHex4()
            if (0xD800...0xDBFF).contains(scalar) {
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                else { throw failure("unpaired surrogate in \\u escape", code: .invalidUTF8) }
                index += 2
                let low = try parseHex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw failure("invalid low surrogate", code: .invalidUTF8) }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw failure("unpaired surrogate in \\u escape", code: .invalidUTF8)
            }
            out.append(contentsOf: utf8Bytes(Unicode.Scalar(scalar)!))
        default: throw failure("invalid escape '\\\(Self.printable(c))'")
        }
    }

    private mutating func parseHex4() throws(StrataError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw failure("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[index]
            let digit: UInt32
            switch c {
            case 0x30...0x39: digit = UInt32(c - 0x30)
            case 0x41...0x46: digit = UInt32(c - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(c - 0x61 + 10)
            default: throw failure("invalid hex digit in \\u escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }
}

private func utf8Bytes(_ scalar: Unicode.Scalar) -> [UInt8] {
    var out: [UInt8] = []
    UTF8.encode(scalar) { out.append($0) }
    return out
}

/// Validates that C-string bytes are UTF-8 and makes a `String`, naming `what` on failure.
public func validatedString(_ bytes: UnsafeBufferPointer<UInt8>, what: String) throws(StrataError) -> String {
    guard let s = String(validating: bytes, as: UTF8.self) else {
        var offset = 0
        // Find the first bad byte for the message by decoding prefix by prefix.
        var it = bytes.makeIterator()
        var decoder = UTF8()
        loop: while true {
            switch decoder.decode(&it) {
            case .scalarValue(let s): offset += UTF8.width(s)
            case .emptyInput: break loop
            case .error: break loop
            }
        }
        throw StrataError(.invalidUTF8, "\(what) is not valid UTF-8 (first bad byte at offset \(offset))")
    }
    return s
}
