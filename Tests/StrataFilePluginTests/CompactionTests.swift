#if canImport(Glibc)
import Glibc
#endif
import StrataCore
@testable import StrataFileStore
import Testing

/// Thrown by the test hook where a compaction "crashes".
let simulatedCrash = StrataError(.io, "simulated crash")

@Suite struct CompactionTests {
    /// A crash after each step of a compaction (and one that leaves the temporary snapshot torn)
    /// opens to exactly the last acknowledged commit, and the store goes on from there without
    /// applying anything twice.
    @Test(arguments: CompactionStep.allCases.map { ($0, false) } + [(.snapshotWritten, true)])
    func aCrashAtAnyStepOpensToTheLastAcknowledgedCommit(step: CompactionStep, tornTemporary: Bool) throws {
        let path = scratchFolder("crash-\(step)") + "/s.log"
        let ids = ["a", "b", "c", "d"]
        let acknowledged: Observed
        do {
            let s = try open(path)
            try s.commit(addition("a", "alpha", seed: 1))
            try s.compact()  // an older snapshot is there when the crash comes
            try s.commit(addition("b", "bravo", seed: 2))
            let a2 = memory("a", "alpha two")
            try s.commit(StoreChange(upserts: [StoredRecord(memory: a2, vector: vector(5))], removals: ["b"], history: [
                HistoryEntry(event: .update, memoryID: "a", at: a2.createdAt, old: memory("a", "alpha"), new: a2, reason: "edited"),
                HistoryEntry(event: .delete, memoryID: "b", at: a2.createdAt, old: memory("b", "bravo"), new: nil, reason: "forgotten"),
            ]))
            try s.commit(addition("c", "charlie", seed: 3))
            acknowledged = try Observed(s, historyOf: ids)
            let temporary = path + ".snapshot.tmp"
            s.writer.withLock {
                $0.compactionFault = { (reached) throws(StrataError) in
                    guard reached == step else { return }
                    if tornTemporary {
                        let half = (try POSIXFile(path: temporary, create: false).size()) / 2
                        try POSIXFile(path: temporary, create: false).truncate(to: half)
                    }
                    throw simulatedCrash
                }
            }
            let error = strataError { try s.compact() }
            #expect(error == simulatedCrash)
        }
        #expect(acknowledged.contents == ["a": "alpha two", "c": "charlie"])

        let reopened: Observed
        do {
            let s = try open(path)
            #expect(try Observed(s, historyOf: ids) == acknowledged, "crash after \(step)")
            #expect(!POSIXFile.exists(path + ".snapshot.tmp"), "the temporary snapshot was left behind")
            try s.commit(addition("d", "delta", seed: 4))
            reopened = try Observed(s, historyOf: ids)
        }
        // Twice more: once as left, once after a compaction that now succeeds.
        let s = try open(path)
        #expect(try Observed(s, historyOf: ids) == reopened)
        #expect(reopened.history["a"]?.map(\.event) == [.add, .update], "history rows applied twice or lost")
        try s.compact()
        #expect(try contents(path).count == FileHeader.Kind.log.size)
        _ = consume s
        #expect(try Observed(try open(path), historyOf: ids) == reopened)
    }

    @Test func theLogIsCompactedOnceItGrowsPastTheThreshold() throws {
        let path = scratchFolder("auto") + "/s.log"
        let ids = (0..<40).map { "m\($0)" }
        let before: Observed
        do {
            let s = try open(path, compactAfterBytes: 4096)
            for (i, id) in ids.enumerated() { try s.commit(addition(id, "memory \(i)", seed: i)) }
            #expect(try s.remove(ids: ["m0", "m1"]) == 2)
            #expect(try contents(path).count < 4096 + FileHeader.Kind.log.size + 2048, "the log was never compacted")
            #expect(POSIXFile.exists(path + ".snapshot"))
            before = try Observed(s, historyOf: ids)
        }
        #expect(before.contents.count == 38)
        #expect(try Observed(try open(path), historyOf: ids) == before)
    }

    @Test func aCompactionOfALargeStateSpansManyFrames() throws {
        let path = scratchFolder("large") + "/s.log"
        let big = String(repeating: "x", count: 300_000)
        let before: Observed
        do {
            let s = try open(path)
            // 40 records of ~300 KB: more than one 4 MiB snapshot frame.
            try s.commit(StoreChange(upserts: (0..<40).map { record("r\($0)", big + "\($0)", seed: $0) }))
            try s.compact()
            before = try Observed(s, historyOf: [])
        }
        let snapshot = try contents(path + ".snapshot")
        let header = try snapshot.withBytes { (b) throws(StrataError) in try FileHeader.decode(b, kind: .snapshot, path: path) }
        #expect(header.frameCount > 1 && header.lastSequence == 1)
        #expect(try Observed(try open(path), historyOf: []) == before)
    }
}
