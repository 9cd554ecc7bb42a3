#if canImport(Glibc)
import Glibc
#endif
@testable import StrataServer
import Testing

/// BusyPoll.wait on a real socket pair: it reports input that is there, gives up when nothing
/// comes within the budget or when told the server is no longer idle, and reports a hang-up.
/// The descriptor lookup and the lane's polls run against the real server in
/// Tests/cli/test_serve.py (its busy-poll counters).
@Suite struct BusyPollTests {
    private static func pair() throws -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { throw POSIXFailure() }
        return (fds[0], fds[1])
    }

    private struct POSIXFailure: Error {}

    @Test func reportsInputAndGivesUpWithoutIt() throws {
        let (a, b) = try Self.pair()
        defer { close(a); close(b) }
        #expect(BusyPoll.wait(a, budget: .microseconds(200)) { true } == false)
        var byte: UInt8 = 7
        #expect(write(b, &byte, 1) == 1)
        #expect(BusyPoll.wait(a, budget: .microseconds(200)) { true })
        // The input stays unread: the event loop reads it.
        #expect(read(a, &byte, 1) == 1 && byte == 7)
    }

    @Test func stopsWhenTheServerIsNoLongerIdle() throws {
        let (a, b) = try Self.pair()
        defer { close(a); close(b) }
        var asked = 0
        // A budget of 10 s: only `idle` turning false ends this wait.
        #expect(BusyPoll.wait(a, budget: .seconds(10)) { asked += 1; return asked < 3 } == false)
        #expect(asked == 3)
    }

    @Test func reportsAHangUp() throws {
        let (a, b) = try Self.pair()
        defer { close(a) }
        close(b)
        #expect(BusyPoll.wait(a, budget: .seconds(10)) { true })
    }
}
