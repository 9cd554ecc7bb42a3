/// What text a memory may hold, one rule for every face (C, Python, CLI, import).
///
/// Text crosses the C ABI as NUL-terminated UTF-8, and keyword indexes (FTS5, BM25) stop or
/// split at a NUL, so a NUL inside content would be stored but not found by what follows it.
/// Strata rejects it rather than store text it cannot index exactly. Invalid UTF-8 is rejected
/// wherever bytes arrive (`validatedString`, the CLI's arguments): nothing is ever replaced
/// with U+FFFD.
public enum TextRules {
    /// Throws `.invalidArgument` naming `what` and the byte offset of the first NUL in `text`.
    public static func rejectNUL(_ text: String, what: String) throws(StrataError) {
        // Over the String's contiguous bytes: its UTF8View, a byte at a time, is about three
        // times slower (as in JSONWriter.writeString), and every stored text passes here.
        var text = text
        let found = text.withUTF8 { $0.firstIndex(of: 0) }
        if let offset = found {
            throw StrataError(.invalidArgument, "\(what) holds a NUL character (U+0000) at byte offset \(offset); Strata stores text without NUL, which C strings and keyword search cannot carry")
        }
    }
}
