#if canImport(Glibc)
import Glibc
#endif
import StrataCore
import StrataWire

/// The thread-local message behind `strata_error_last()`.
let lastError = ThreadLocalMessage()

/// Runs one C entry point: clears the last error, maps a thrown `StrataError` to its status code
/// and message. No Swift error ever crosses the boundary.
func cCall(_ body: () throws(StrataError) -> Void) -> Int32 {
    do {
        try body()
        lastError.clear()
        return 0
    } catch {
        lastError.set(error.message)
        return error.code.rawValue
    }
}

/// A Swift string as a malloc'ed C string the caller frees with `strata_string_free`.
func mallocString(_ s: String) -> UnsafeMutablePointer<CChar> {
    guard let p = strdup(s) else { fatalError("out of memory copying a \(s.utf8.count)-byte answer") }
    return p
}

/// UTF-8 bytes as a malloc'ed, NUL-terminated C string the caller frees with `strata_string_free`.
func mallocString(bytes: [UInt8]) -> UnsafeMutablePointer<CChar> {
    guard let raw = malloc(bytes.count + 1) else { fatalError("out of memory copying a \(bytes.count)-byte answer") }
    let p = raw.bindMemory(to: CChar.self, capacity: bytes.count + 1)
    bytes.withUnsafeBytes { b in if let base = b.baseAddress { raw.copyMemory(from: base, byteCount: b.count) } }
    p[bytes.count] = 0
    return p
}

/// A borrowed C string as a validated Swift string; NULL is nil.
func cString(_ p: UnsafePointer<CChar>?, what: String) throws(StrataError) -> String? {
    guard let p else { return nil }
    let length = strlen(p)
    return try p.withMemoryRebound(to: UInt8.self, capacity: length) { (bytes) throws(StrataError) -> String in
        try validatedString(UnsafeBufferPointer(start: bytes, count: length), what: what)
    }
}

/// Parses a borrowed C JSON document; NULL or empty is `{}`.
func cJSON(_ p: UnsafePointer<CChar>?, what: String) throws(StrataError) -> JSONValue {
    guard let p else { return .object([:]) }
    let length = strlen(p)
    return try p.withMemoryRebound(to: UInt8.self, capacity: length) { (bytes) throws(StrataError) -> JSONValue in
        try Wire.parse(bytes: UnsafeBufferPointer(start: bytes, count: length), what: what)
    }
}
