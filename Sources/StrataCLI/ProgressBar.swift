#if canImport(Glibc)
import Glibc
#endif

/// A one-line progress bar on standard error, drawn only when standard error is a terminal,
/// so pipes, logs and tests see nothing. Redraws only when what it shows changes.
struct ProgressBar {
    private let enabled = isatty(2) != 0
    private let total: Int64?
    private var shown = ""

    /// - Parameter total: the amount of work (bytes), or nil when unknown (a pipe).
    init(total: Int64?) { self.total = total }

    mutating func update(done: Int64, items: Int) {
        guard enabled else { return }
        var line = ""
        if let total, total > 0 {
            let fraction = min(1, Double(done) / Double(total))
            let width = 30, filled = Int(fraction * Double(width))
            line = "[" + String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled) + "] "
                + "\(Int(fraction * 100))%  "
        }
        line += "\(items) memories"
        guard line != shown else { return }
        shown = line
        // Written raw, not through printError: its escaping (for store text) would show the
        // carriage return and the erase-line sequence as text. The line holds only numbers.
        var raw = "\r\u{1B}[2K" + line
        raw.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }

    /// Ends the bar's line, if one was drawn.
    func finish() {
        if enabled, !shown.isEmpty { printError("") }
    }
}
