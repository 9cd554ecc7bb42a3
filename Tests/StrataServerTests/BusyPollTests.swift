#if canImport(Glibc)
import Glibc
#endif
@testable import StrataServer
import Testing

/// BusyPoll.wait on a real socket pair: it peeks at input that is there (leaving it unread),
/// gives up when nothing comes within the budget or when told the server is no longer idle,
/// and reports a hang-up. The descriptor lookup and the lane's polls run against the real
/// server in Tests/cli/test_serve.py (its busy-poll counters).
@Suite struct BusyPollTests {
    private static func pair() throws -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { throw POSIXFailure() }
        return (fds[0], fds[1])
    }

    private struct POSIXFailure: Error {}

    private static func wait(_ fd: Int32, budget: Duration, idle: () -> Bool = { true }) -> (BusyPoll.Found, [UInt8]) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 8)
        defer { buffer.deallocate() }
        let found = BusyPoll.wait(fd, into: buffer, budget: budget, idle: idle)
        guard case .input(let count) = found else { return (found, []) }
        return (found, Array(buffer[0..<count]))
    }

    @Test func peeksAtInputAndGivesUpWithoutIt() throws {
        let (a, b) = try Self.pair()
        defer { close(a); close(b) }
        #expect(Self.wait(a, budget: .microseconds(200)).0 == .nothing)
        var bytes: [UInt8] = [7, 8, 9]
        #expect(write(b, &bytes, 3) == 3)
        let (found, peeked) = Self.wait(a, budget: .microseconds(200))
        #expect(found == .input(count: 3) && peeked == [7, 8, 9])
        // The input stays unread: the lane or the event loop reads it.
        var byte: UInt8 = 0
        #expect(read(a, &byte, 1) == 1 && byte == 7)
    }

    @Test func stopsWhenTheServerIsNoLongerIdle() throws {
        let (a, b) = try Self.pair()
        defer { close(a); close(b) }
        var asked = 0
        // A budget of 10 s: only `idle` turning false ends this wait.
        #expect(Self.wait(a, budget: .seconds(10)) { asked += 1; return asked < 3 }.0 == .nothing)
        #expect(asked == 3)
    }

    @Test func reportsAHangUp() throws {
        let (a, b) = try Self.pair()
        defer { close(a) }
        close(b)
        #expect(Self.wait(a, budget: .seconds(10)).0 == .closedOrFailed)
    }

    @Test func reportsAFailedSocket() {
        // Not a socket, with input: poll says it is ready, recv fails with ENOTSOCK, which is
        // the event loop's to meet.
        var fds: [Int32] = [-1, -1]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        var byte: UInt8 = 1
        #expect(write(fds[1], &byte, 1) == 1)
        #expect(Self.wait(fds[0], budget: .seconds(10)).0 == .closedOrFailed)
    }
}
