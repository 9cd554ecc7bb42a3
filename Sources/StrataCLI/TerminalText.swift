/// Text from the store (content, metadata, ids, scopes, names) made safe for a terminal.
///
/// A memory's content is anyone's text: an escape sequence in it, printed raw, could move the
/// cursor, rewrite earlier lines, set the window title or hide the rest of a line (terminal
/// injection), and bidirectional overrides could show text in an order other than stored.
/// Human output shows each such character as a visible escape (`\x1b`, `\u202e`); `--json`
/// output is exact.
enum TerminalText {
    /// `text` with control characters (C0 but newline, DEL, C1) and bidirectional
    /// embedding, override and isolate characters written as escapes.
    /// - Parameter keepNewlines: false for text that must stay on one line (a memory's content
    ///   in a list), so a newline in it cannot forge another line of the listing.
    static func escaped(_ text: String, keepNewlines: Bool = true) -> String {
        guard text.unicodeScalars.contains(where: { needsEscape($0, keepNewlines: keepNewlines) }) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            guard needsEscape(scalar, keepNewlines: keepNewlines) else { out.append(scalar); continue }
            let hex = String(scalar.value, radix: 16)
            let escape: String
            switch scalar {
            case "\n": escape = "\\n"
            case "\t": escape = "\\t"
            case "\r": escape = "\\r"
            default: escape = scalar.value < 0x100 ? "\\x" + String(repeating: "0", count: 2 - hex.count) + hex : "\\u" + hex
            }
            out.append(contentsOf: escape.unicodeScalars)
        }
        return String(out)
    }

    static func needsEscape(_ s: Unicode.Scalar, keepNewlines: Bool) -> Bool {
        switch s.value {
        case 0x0A: return !keepNewlines
        case 0x09: return !keepNewlines
        case 0x00...0x1F, 0x7F...0x9F: return true
        case 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }
}

/// Every human line the CLI prints goes through here (this shadows the standard library's
/// `print` in this module), so no command can print store text raw. JSON goes through
/// `printJSON`, which writes exact bytes.
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    Swift.print(TerminalText.escaped(items.map { "\($0)" }.joined(separator: separator)), terminator: terminator)
}
