/// A non-negative integer's decimal digits, written without making a `String`: for the parts
/// of an answer's head the recall fast lane writes after an engine call (`Content-Length`,
/// `Server-Timing`), where a `String` costs an allocation's cache misses.
enum DecimalDigits {
    /// Gives `write` the digits of `n` (0 and up; a negative `n` writes as 0).
    static func write(_ n: Int, _ write: (UnsafeRawBufferPointer) -> Void) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: Int.max has 19 digits
        withUnsafeMutableBytes(of: &digits) { raw in
            var at = raw.count, rest = max(0, n)
            repeat {
                at -= 1
                raw[at] = UInt8(48 + rest % 10)
                rest /= 10
            } while rest > 0
            write(UnsafeRawBufferPointer(rebasing: raw[at...]))
        }
    }
}
