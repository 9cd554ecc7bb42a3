import StrataCore
import StrataEngine
@testable import StrataServer
import Testing

/// Tests Sources/StrataServer/CycleHistory.swift: each cycle's own counts from the ledger's
/// running totals. The route (`GET /v1/lifecycle/cycles`) is tested against the real binary
/// (Tests/cli/test_dashboard.py).
@Suite struct CycleHistoryTests {
    static func row(_ at: String, _ totals: LifecycleLedger) -> HistoryEntry {
        HistoryEntry(event: .update, memoryID: LifecycleLedger.id, at: Timestamp(iso8601: at)!, old: nil, new: nil,
                     reason: JSONWriter.string(totals.json))
    }

    @Test func cycles__are_the_differences_between_consecutive_totals() throws {
        var first = LifecycleLedger()
        first.cycles = 1
        first.migrated = ["working->session": 3]
        first.pruned.age = 2
        first.patternsWritten = 1
        var second = first
        second.cycles = 2
        second.migrated = ["working->session": 4, "session->episodic": 5]
        second.pruned.redundancy = 6
        second.consolidated = 2
        second.consolidatedSources = 7
        second.errors = 1
        let history = try CycleHistory(ledgerRows: [Self.row("2026-12-01T10:00:00Z", first), Self.row("2026-12-01T11:00:00Z", second)])
        #expect(history.cycles.count == 2)
        let a = history.cycles[0], b = history.cycles[1]
        #expect(a.migrated == ["working->session": 3] && a.pruned["age"] == 2 && a.patterns == 1 && a.consolidated == 0)
        #expect(b.migrated == ["working->session": 1, "session->episodic": 5])
        #expect(b.pruned == ["age": 0, "relevance": 0, "redundancy": 6, "capacity": 0])
        #expect(b.consolidated == 2 && b.consolidatedSources == 7 && b.patterns == 0 && b.errors == 1)
        #expect(b.at == Timestamp(iso8601: "2026-12-01T11:00:00Z"))

        guard case .object(let o) = history.json(limit: 1), case .array(let listed)? = o["cycles"] else {
            Issue.record("not an object with cycles")
            return
        }
        #expect(o["total"] == .number(2))
        #expect(listed.count == 1)
        guard case .object(let newest)? = listed.first else { return }
        #expect(newest["at"] == .string("2026-12-01T11:00:00.000Z"))
        #expect(newest["migrated_total"] == .number(6) && newest["pruned_total"] == .number(6))
    }

    @Test func the_newest_cycles_are_the_same_decoded_alone() throws {
        var totals = LifecycleLedger()
        var rows: [HistoryEntry] = []
        for i in 0..<30 {
            totals.cycles += 1
            totals.migrated["working->session", default: 0] += i
            totals.pruned.age += i % 3
            rows.append(Self.row("2026-12-01T10:\(String(format: "%02d", i)):00Z", totals))
        }
        let all = try CycleHistory(ledgerRows: rows)
        for newest in [1, 5, 29, 30, 31] {
            let some = try CycleHistory(ledgerRows: rows, newest: newest)
            #expect(some.cycles == Array(all.cycles.suffix(newest)) && some.total == 30, "newest \(newest)")
            #expect(some.json(limit: newest) == all.json(limit: newest))
            // Only the newest rows and the one before them, as `Engine.historyTail` reads them.
            let tail = try CycleHistory(ledgerRows: Array(rows.suffix(newest + 1)), total: rows.count, newest: newest)
            #expect(tail.cycles == some.cycles && tail.json(limit: newest) == all.json(limit: newest), "tail of \(newest)")
        }
        // Rows older than the one before the newest are not read: damage there does not matter.
        var damaged = rows
        damaged[0] = HistoryEntry(event: .update, memoryID: LifecycleLedger.id, at: rows[0].at, old: nil, new: nil, reason: "{")
        #expect(try CycleHistory(ledgerRows: damaged, newest: 10).cycles == Array(all.cycles.suffix(10)))
    }

    @Test func cycles__of_no_rows_are_none() throws {
        let history = try CycleHistory(ledgerRows: [])
        #expect(history.cycles.isEmpty)
        #expect(history.json(limit: 10) == .object(["cycles": .array([]), "total": .number(0)]))
    }

    @Test func a_row_that_does_not_decode_is_corrupt_and_named() {
        let bad = HistoryEntry(event: .update, memoryID: LifecycleLedger.id, at: Timestamp(iso8601: "2026-12-01T10:00:00Z")!,
                               old: nil, new: nil, reason: "{\"cycles\": \"many\"}")
        do {
            _ = try CycleHistory(ledgerRows: [bad])
            Issue.record("a bad ledger row was read")
        } catch {
            #expect(error.code == .corrupt)
            #expect(error.message == "lifecycle ledger row of 2026-12-01T10:00:00.000Z.cycles must be a number, got a string")
        }
    }
}
