import StrataCore
@testable import StrataEngine
@testable import StrataServer
import StrataWire
import Synchronization
import Testing

/// Tests Sources/StrataServer/EventFanout.swift: numbering, scopes, resuming, slow clients.
@Suite struct EventFanoutTests {
    static func event(_ scope: String, _ n: Int) throws -> MemoryEvent {
        let m = Memory(id: "m\(n)", content: "c\(n)", scope: try ScopePath(scope), createdAt: Timestamp(milliseconds: 0))
        return MemoryEvent(kind: .stored, memoryID: m.id, at: Timestamp(milliseconds: 0), memory: m)
    }

    static func drain(_ stream: AsyncStream<EventFanout.Sequenced>, _ count: Int) async -> [UInt64] {
        var out: [UInt64] = []
        for await e in stream {
            out.append(e.seq)
            if out.count == count { break }
        }
        return out
    }

    @Test func clients__get_numbered_events_of_their_scope_only() async throws {
        let fanout = EventFanout(ringSize: 100, clientBuffer: 100)
        let a = try fanout.subscribe(Access(scope: try ScopePath("org/a"), role: .read), since: nil).get()
        let all = try fanout.subscribe(.unrestricted, since: nil).get()
        for (i, scope) in ["org/a", "org/b", "org/a/x", ""].enumerated() { fanout.publish(try Self.event(scope, i)) }
        fanout.publish(MemoryEvent(kind: .metabolized, memoryID: "strata:lifecycle", at: Timestamp(milliseconds: 0), memory: nil))
        #expect(await Self.drain(a.events, 2) == [1, 3])
        #expect(await Self.drain(all.events, 5) == [1, 2, 3, 4, 5])
        fanout.close()
        #expect(await Self.drain(a.events, 1) == [])
    }

    @Test func resume__replays_what_is_kept_and_refuses_what_is_gone() async throws {
        let fanout = EventFanout(ringSize: 3, clientBuffer: 10)
        for i in 0..<5 { fanout.publish(try Self.event("", i)) }
        let resumed = try fanout.subscribe(.unrestricted, since: 3).get()
        fanout.publish(try Self.event("", 5))
        #expect(await Self.drain(resumed.events, 3) == [4, 5, 6])
        // Kept: 4, 5, 6 (3 fell out when 6 came). After 3 resumes; after 2 would need 3.
        #expect(throws: EventFanout.Refusal.gone(after: 2, oldest: 4)) { try fanout.subscribe(.unrestricted, since: 2).get() }
        _ = try fanout.subscribe(.unrestricted, since: 3).get()
        _ = try fanout.subscribe(.unrestricted, since: 99).get()  // ahead of the server: live events only
    }

    @Test func slowClient__is_dropped_with_the_first_event_it_missed_and_never_blocks_publish() async throws {
        let drops = Mutex(0)
        let fanout = EventFanout(ringSize: 100, clientBuffer: 2, overflowed: { drops.withLock { $0 += 1 } })
        let slow = try fanout.subscribe(.unrestricted, since: nil).get()
        let fast = try fanout.subscribe(.unrestricted, since: nil).get()
        var seen: [UInt64] = []
        for i in 0..<2 { fanout.publish(try Self.event("", i)) }
        seen += await Self.drain(fast.events, 2)
        #expect(drops.withLock { $0 } == 0)
        for i in 2..<4 { fanout.publish(try Self.event("", i)) }
        seen += await Self.drain(fast.events, 2)
        #expect(seen == [1, 2, 3, 4])
        #expect(drops.withLock { $0 } == 1, "the slow client, once, at the event it missed")
        #expect(await Self.drain(slow.events, 10) == [1, 2])
        #expect(fanout.unsubscribe(slow.id) == 3)
        #expect(fanout.unsubscribe(fast.id) == nil)
    }
}
