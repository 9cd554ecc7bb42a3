/// A point in time, in whole milliseconds since 1970-01-01T00:00:00Z (UTC).
///
/// Written and parsed as ISO-8601 `YYYY-MM-DDTHH:MM:SS.sssZ`; parsing also
/// takes no fraction, any fraction digits, and `+HH:MM` / `-HH:MM` offsets.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }
    public init(seconds: Double) { self.milliseconds = Int64((seconds * 1000).rounded()) }

    public var seconds: Double { Double(milliseconds) / 1000 }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.milliseconds < b.milliseconds }

    public func adding(seconds: Double) -> Timestamp {
        Timestamp(milliseconds: milliseconds + Int64((seconds * 1000).rounded()))
    }

    /// Seconds from `other` to `self` (positive when `self` is later).
    public func seconds(since other: Timestamp) -> Double { Double(milliseconds - other.milliseconds) / 1000 }

    public var description: String { iso8601 }

    /// `2026-11-22T03:59:00.000Z`
    public var iso8601: String {
        let ms = milliseconds
        var days = ms / 86_400_000
        var rem = ms % 86_400_000
        if rem < 0 { rem += 86_400_000; days -= 1 }
        let (y, m, d) = Self.civil(fromDays: days)
        let h = rem / 3_600_000, mi = (rem / 60_000) % 60, s = (rem / 1000) % 60, f = rem % 1000
        func pad(_ v: Int64, _ width: Int) -> String {
            let s = String(v)
            return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(h, 2)):\(pad(mi, 2)):\(pad(s, 2)).\(pad(f, 3))Z"
    }

    /// Appends `iso8601`'s UTF-8 to `out` without building the String (years 0 to 9999; others
    /// take `iso8601` itself, so the bytes are the same for every time).
    public func writeISO8601(into out: inout [UInt8]) {
        let ms = milliseconds
        var days = ms / 86_400_000
        var rem = ms % 86_400_000
        if rem < 0 { rem += 86_400_000; days -= 1 }
        let (y, m, d) = Self.civil(fromDays: days)
        guard (0...9999).contains(y) else { out.append(contentsOf: iso8601.utf8); return }
        func digits(_ v: Int64, _ width: Int) {
            var divisor: Int64 = 1
            for _ in 1..<width { divisor *= 10 }
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8((v / divisor) % 10))
                divisor /= 10
            }
        }
        digits(y, 4); out.append(UInt8(ascii: "-")); digits(m, 2); out.append(UInt8(ascii: "-")); digits(d, 2)
        out.append(UInt8(ascii: "T")); digits(rem / 3_600_000, 2); out.append(UInt8(ascii: ":"))
        digits((rem / 60_000) % 60, 2); out.append(UInt8(ascii: ":")); digits((rem / 1000) % 60, 2)
        out.append(UInt8(ascii: ".")); digits(rem % 1000, 3); out.append(UInt8(ascii: "Z"))
    }

    /// Parses ISO-8601 date-times; nil if `text` is not one.
    public init?(iso8601 text: String) {
        var text = text
        guard let parsed = text.withUTF8({ Self.parse(iso8601: $0) }) else { return nil }
        self = parsed
    }

    /// `init?(iso8601:)` on UTF-8 bytes (a String's own, so no copy is made).
    static func parse(iso8601 b: UnsafeBufferPointer<UInt8>) -> Timestamp? {
        var i = 0
        func num(_ n: Int) -> Int64? {
            guard i + n <= b.count else { return nil }
            var v: Int64 = 0
            for _ in 0..<n {
                guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }
                v = v * 10 + Int64(b[i] - 0x30)
                i += 1
            }
            return v
        }
        // A byte, not a Character: Character.asciiValue cost more than the rest of the parse.
        func expect(_ c: UInt8) -> Bool {
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }
        guard let y = num(4), expect(UInt8(ascii: "-")), let mo = num(2), expect(UInt8(ascii: "-")), let d = num(2),
            (1...12).contains(mo), (1...Self.daysIn(month: mo, year: y)).contains(d)
        else { return nil }  // February 30 is refused, not read as March 1
        var h: Int64 = 0, mi: Int64 = 0, s: Int64 = 0, frac: Int64 = 0
        if i < b.count {
            guard expect(UInt8(ascii: "T")) || expect(UInt8(ascii: " ")), let hh = num(2), expect(UInt8(ascii: ":")), let mm = num(2) else { return nil }
            h = hh
            mi = mm
            if expect(UInt8(ascii: ":")) { guard let ss = num(2) else { return nil }; s = ss }
            if expect(UInt8(ascii: ".")) {
                var digits = 0
                while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                    if digits < 3 { frac = frac * 10 + Int64(b[i] - 0x30) }
                    digits += 1
                    i += 1
                }
                guard digits > 0 else { return nil }
                // Milliseconds: fewer digits are scaled up, more are cut (a range digits..<3
                // with digits > 3 would trap).
                for _ in 0..<max(0, 3 - digits) { frac *= 10 }
            }
            guard h < 24, mi < 60, s < 61 else { return nil }
            var offset: Int64 = 0
            if expect(UInt8(ascii: "Z")) || expect(UInt8(ascii: "z")) {
            } else if i < b.count, b[i] == 0x2B || b[i] == 0x2D {
                let sign: Int64 = b[i] == 0x2D ? -1 : 1
                i += 1
                guard let oh = num(2) else { return nil }
                _ = expect(UInt8(ascii: ":"))
                guard let om = num(2), oh < 24, om < 60 else { return nil }  // +25:00 is no zone
                offset = sign * (oh * 60 + om) * 60_000
            } else {
                return nil  // a time without a zone is ambiguous
            }
            guard i == b.count else { return nil }
            return Timestamp(milliseconds: Self.days(fromCivil: y, mo, d) * 86_400_000 + ((h * 60 + mi) * 60 + s) * 1000 + frac - offset)
        } else {
            return Timestamp(milliseconds: Self.days(fromCivil: y, mo, d) * 86_400_000)
        }
    }

    /// Days in a month of the proleptic Gregorian calendar.
    static func daysIn(month m: Int64, year y: Int64) -> Int64 {
        switch m {
        case 2: return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // Howard Hinnant's days-from-civil algorithms (public domain), proleptic Gregorian.
    static func days(fromCivil y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp + (mp < 10 ? 3 : -9)
        return (m <= 2 ? y + 1 : y, m, d)
    }
}

/// Where the engine gets "now". Injectable, so tests and imports of old memories can set time.
public protocol Clock: Sendable {
    func now() -> Timestamp
}

/// The real time of day.
public struct SystemClock: Clock {
    public init() {}
    public func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(milliseconds: Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000)
    }
}

#if canImport(Glibc)
import Glibc
#endif
