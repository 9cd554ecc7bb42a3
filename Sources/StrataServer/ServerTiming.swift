import HTTPTypes
import StrataCore

/// The `Server-Timing` field (W3C Server Timing) a recall's answer carries: how long the engine
/// call took, as `engine;dur=0.263` (milliseconds, to the microsecond). A client can then tell the
/// server's own time from the network's and its own, per request, and a benchmark can subtract
/// the engine call measured in the same process rather than in another one (two processes' walks
/// over the same graph differ by 5 to 10% on this machine: bench/README.md, session 19). Browsers
/// show it in their developer tools.
enum ServerTiming {
    static let name = HTTPField.Name("Server-Timing")!

    /// `engine;dur=<milliseconds>` for an engine call that took `took`.
    static func engine(_ took: Duration) -> String {
        var out: [UInt8] = []
        engine(took) { out.append(contentsOf: $0) }
        return String(decoding: out, as: UTF8.self)
    }

    /// The same text, given to `write` in pieces, without making a `String`: the recall fast
    /// lane writes it straight into an answer's head (`RecallFastLane.writeHead`), after an
    /// engine call that has emptied the caches.
    static func engine(_ took: Duration, _ write: (UnsafeRawBufferPointer) -> Void) {
        let (seconds, attoseconds) = took.components
        let micros = max(0, seconds * 1_000_000 + (attoseconds + 500_000_000_000) / 1_000_000_000_000)
        let prefix: StaticString = "engine;dur="
        write(UnsafeRawBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount))
        DecimalDigits.write(Int(micros / 1000), write)
        let fraction = Int(micros % 1000)
        withUnsafeBytes(of: (UInt8(ascii: "."), UInt8(48 + fraction / 100), UInt8(48 + fraction / 10 % 10), UInt8(48 + fraction % 10))) {
            write($0)
        }
    }

    /// Runs `body` (an engine call) and returns what it returned with how long it took.
    @inline(__always)
    static func timing<T>(_ body: () throws(StrataError) -> T) throws(StrataError) -> (T, Duration) {
        let start = ContinuousClock.now
        let value = try body()
        return (value, ContinuousClock.now - start)
    }
}
