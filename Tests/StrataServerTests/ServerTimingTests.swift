@testable import StrataServer
import StrataCore
import Testing

/// `Server-Timing: engine;dur=<ms>`: milliseconds to the microsecond, rounded to the nearest.
@Suite struct ServerTimingTests {
    @Test func writesMillisecondsToTheMicrosecond() {
        #expect(ServerTiming.engine(.microseconds(263)) == "engine;dur=0.263")
        #expect(ServerTiming.engine(.zero) == "engine;dur=0.000")
        #expect(ServerTiming.engine(.microseconds(5)) == "engine;dur=0.005")
        #expect(ServerTiming.engine(.milliseconds(1500)) == "engine;dur=1500.000")
        #expect(ServerTiming.engine(.nanoseconds(1_234_567)) == "engine;dur=1.235", "rounded to the nearest microsecond")
        #expect(ServerTiming.engine(.nanoseconds(499)) == "engine;dur=0.000")
        #expect(ServerTiming.engine(.seconds(2) + .nanoseconds(999_600)) == "engine;dur=2001.000", "a carry into the milliseconds")
        #expect(ServerTiming.engine(.microseconds(-3)) == "engine;dur=0.000", "never negative")
    }

    @Test func timesTheCallItRuns() throws {
        let (value, took) = try ServerTiming.timing { () throws(StrataError) -> Int in
            var x = 0
            for i in 0..<1000 { x &+= i }
            return x
        }
        #expect(value == 499_500)
        #expect(took >= .zero)
        #expect(throws: StrataError.self) {
            try ServerTiming.timing { () throws(StrataError) -> Int in throw StrataError(.invalidArgument, "no") }
        }
    }
}
