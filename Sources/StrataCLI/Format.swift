import StrataCore

/// How text output writes values: fixed decimals so columns line up, names for empty things.
enum Format {
    /// Three decimals, or "-" for a missing part.
    static func number(_ x: Double?) -> String {
        guard let x else { return "-" }
        guard x.isFinite else { return String(x) }
        let scaled = (abs(x) * 1000).rounded()
        let whole = Int(scaled / 1000), frac = Int(scaled.truncatingRemainder(dividingBy: 1000))
        let digits = String(frac)
        return (x < 0 && scaled > 0 ? "-" : "") + "\(whole)." + String(repeating: "0", count: 3 - digits.count) + digits
    }

    /// The root scope has the empty path; text output calls it "(root)".
    static func scope(_ s: ScopePath) -> String { s.components.isEmpty ? "(root)" : s.description }

    /// Compact JSON, for metadata in text output.
    static func json(_ value: JSONValue) -> String { JSONWriter.string(value) }
}

extension String {
    /// The string padded with spaces to `width` characters (never cut).
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
