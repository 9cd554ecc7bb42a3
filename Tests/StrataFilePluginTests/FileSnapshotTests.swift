#if canImport(Glibc)
import Glibc
#endif
import StrataCore
@testable import StrataFileStore
import Testing

/// Named snapshots of the file store (plugins/file/Store/FileSnapshots.swift). The cases every
/// store passes run in `passesTheConformanceSuiteOnRealFiles`; these are the file-specific ones.
@Suite struct FileSnapshotTests {
    static let ids = ["a", "b", "c", "d"]

    /// A store holding a and b with history, snapshot "v1" of it, then a changed, b removed and
    /// c added. Returns what a reader saw at the snapshot and after the changes.
    func prepare(_ s: FileVectorStore) throws -> (atSnapshot: Observed, changed: Observed) {
        try s.commit(addition("a", "alpha", seed: 1))
        try s.commit(addition("b", "bravo", seed: 2))
        let atSnapshot = try Observed(s, historyOf: Self.ids)
        _ = try s.snapshot(name: "v1", at: Timestamp(milliseconds: 1_700_000_000_000))
        let a2 = memory("a", "alpha two")
        try s.commit(StoreChange(upserts: [StoredRecord(memory: a2, vector: vector(5))], removals: ["b"], history: [
            HistoryEntry(event: .update, memoryID: "a", at: a2.createdAt, old: memory("a", "alpha"), new: a2, reason: "edited"),
            HistoryEntry(event: .delete, memoryID: "b", at: a2.createdAt, old: memory("b", "bravo"), new: nil, reason: "forgotten"),
        ]))
        try s.commit(addition("c", "charlie", seed: 3))
        return (atSnapshot, try Observed(s, historyOf: Self.ids))
    }

    @Test func aRollbackSurvivesReopeningWithEveryHistoryRow() throws {
        let path = scratchFolder("snapshot-reopen") + "/s.log"
        let atSnapshot: Observed
        let rolledBack: Observed
        do {
            let s = try open(path)
            atSnapshot = try prepare(s).atSnapshot
            let report = try s.rollback(name: "v1", at: Timestamp(milliseconds: 1_700_000_100_000))
            #expect(report.added == ["b"] && report.removed == ["c"] && report.changed == ["a"])
            rolledBack = try Observed(s, historyOf: Self.ids)
            #expect(try contents(path).count == FileHeader.Kind.log.size, "the rollback rewrote the snapshot and cut the log")
            try s.commit(addition("d", "delta", seed: 4))
        }
        #expect(rolledBack.contents == atSnapshot.contents)
        #expect(rolledBack.history["a"]?.map(\.event) == [.add, .update, .update])
        #expect(rolledBack.history["b"]?.map(\.reason) == ["stored", "forgotten", "rollback to snapshot v1"])
        #expect(rolledBack.history["c"]?.map(\.event) == [.add, .delete])
        let s = try open(path)
        var expected = rolledBack
        expected.contents["d"] = "delta"
        expected.history["d"] = try s.history(id: "d")
        #expect(try Observed(s, historyOf: Self.ids) == expected)
        #expect(try s.snapshots().map(\.name) == ["v1"])
        #expect(try s.snapshots().first?.memories == 2)
    }

    /// A crash after each step of the rewrite opens to the state before the rollback (until the
    /// rename) or after it (from the rename on), never to a mixture.
    @Test(arguments: CompactionStep.allCases)
    func aCrashDuringARollbackOpensToBeforeOrAfterIt(step: CompactionStep) throws {
        let path = scratchFolder("snapshot-crash-\(step)") + "/s.log"
        let changed: Observed
        let atSnapshot: Observed
        do {
            let s = try open(path)
            (atSnapshot, changed) = try prepare(s)
            s.writer.withLock {
                $0.compactionFault = { (reached) throws(StrataError) in if reached == step { throw simulatedCrash } }
            }
            #expect(strataError { _ = try s.rollback(name: "v1", at: Timestamp(milliseconds: 0)) } == simulatedCrash)
        }
        let s = try open(path)
        let reopened = try Observed(s, historyOf: Self.ids)
        if step == .snapshotWritten || step == .snapshotSynced {
            #expect(reopened == changed, "crash after \(step): the rollback had not happened")
        } else {
            #expect(reopened.contents == atSnapshot.contents, "crash after \(step): the rollback had happened")
            #expect(reopened.history["c"]?.last?.reason == "rollback to snapshot v1")
        }
        try s.commit(addition("d", "delta", seed: 4))
        _ = consume s
        #expect(try open(path).get(id: "d")?.memory.content == "delta", "the store goes on after the crash")
    }

    @Test(arguments: ["flipped byte", "cut short", "a log in its place", "another dimension"])
    func aBadNamedSnapshotIsCorruptNamingItAndChangesNothing(damage: String) throws {
        let dir = scratchFolder("snapshot-bad")
        let path = dir + "/s.log"
        let s = try open(path)
        let changed = try prepare(s).changed
        let file = path + ".snapshots/v1.snapshot"
        var bytes = try contents(file)
        switch damage {
        case "flipped byte": bytes[bytes.count - 20] ^= 0x40
        case "cut short": bytes.removeLast(30)
        case "a log in its place": bytes = try contents(path)
        default:
            let other = try FileVectorStore(options: FileStoreOptions(path: dir + "/other.log", dimension: 8), report: Reports().sink)
            try other.upsert([StoredRecord(memory: memory("x", "x"), vector: [Float](repeating: 1, count: 8))])
            _ = try other.snapshot(name: "v1", at: Timestamp(milliseconds: 0))
            bytes = try contents(dir + "/other.log.snapshots/v1.snapshot")
        }
        try overwrite(file, with: bytes)
        let logBefore = try contents(path)
        let error = try #require(strataError { _ = try s.rollback(name: "v1", at: Timestamp(milliseconds: 0)) })
        #expect(error.code == .corrupt, "\(error)")
        #expect(error.message.contains(file), "\(error)")
        #expect(try Observed(s, historyOf: Self.ids) == changed, "a refused rollback changes nothing")
        #expect(try contents(path) == logBefore)
        #expect(!POSIXFile.exists(path + ".snapshot"))
        try s.commit(addition("d", "delta", seed: 4))
    }
}
