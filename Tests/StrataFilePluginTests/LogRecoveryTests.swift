#if canImport(Glibc)
import Glibc
#endif
import StrataCore
@testable import StrataFileStore
import Testing

/// A log of three commits, with the state after two and after three, for damaging it.
struct ThreeCommits {
    let path: String
    let ids = ["a", "b", "c"]
    /// The log after each commit: header only, then one, two and three frames.
    var sizes: [Int] = []
    var bytes: [UInt8] = []
    var afterTwo: Observed!
    var afterThree: Observed!

    init(_ name: String) throws {
        path = scratchFolder(name) + "/s.log"
        let s = try open(path)
        sizes.append(try contents(path).count)
        try s.commit(addition("a", "alpha", seed: 1))
        sizes.append(try contents(path).count)
        try s.commit(addition("b", "bravo", seed: 2))
        sizes.append(try contents(path).count)
        afterTwo = try Observed(s, historyOf: ids)
        // The last frame holds an upsert, a removal and two history rows.
        let c = memory("c", "charlie")
        try s.commit(StoreChange(upserts: [StoredRecord(memory: c, vector: vector(3))], removals: ["a"], history: [
            HistoryEntry(event: .add, memoryID: "c", at: c.createdAt, old: nil, new: c, reason: "stored"),
            HistoryEntry(event: .delete, memoryID: "a", at: c.createdAt, old: memory("a", "alpha"), new: nil, reason: "superseded"),
        ]))
        sizes.append(try contents(path).count)
        afterThree = try Observed(s, historyOf: ids)
        bytes = try contents(path)
    }

    /// The last frame occupies sizes[2]..<sizes[3].
    var lastFrame: Range<Int> { sizes[2]..<sizes[3] }
    var firstFrame: Range<Int> { sizes[0]..<sizes[1] }
}

@Suite struct LogRecoveryTests {
    @Test func cuttingTheLogAtEveryOffsetInsideTheLastFrameOpensWithTheEarlierCommits() throws {
        let log = try ThreeCommits("torn")
        #expect(log.afterThree != log.afterTwo)
        for cut in log.lastFrame {
            try overwrite(log.path, with: Array(log.bytes[..<cut]))
            let reports = Reports()
            let s = try open(log.path, reports: reports)
            #expect(try Observed(s, historyOf: log.ids) == log.afterTwo, "cut at \(cut)")
            #expect(try contents(log.path).count == log.sizes[2], "the torn tail was not cut off (cut at \(cut))")
            if cut > log.sizes[2] {
                let line = reports.all.first ?? ""
                #expect(reports.all.count == 1 && line.contains(log.path) && line.contains("offset \(log.sizes[2])")
                            && line.contains("dropped \(cut - log.sizes[2]) bytes"), "cut at \(cut): \(reports.all)")
            } else {
                #expect(reports.all.isEmpty)
            }
        }
        // After a cut the log takes new commits where the cut left it.
        let expected: Observed
        do {
            let s = try open(log.path)
            try s.commit(addition("d", "delta", seed: 4))
            expected = try Observed(s, historyOf: log.ids + ["d"])
        }
        #expect(expected.contents.keys.sorted() == ["a", "b", "d"])
        #expect(try Observed(try open(log.path), historyOf: log.ids + ["d"]) == expected)
    }

    @Test func aFlippedByteAnywhereInTheLastFrameIsCorruptAndChangesNothing() throws {
        let log = try ThreeCommits("flip-last")
        for at in log.lastFrame {
            var damaged = log.bytes
            damaged[at] ^= 0x40
            try overwrite(log.path, with: damaged)
            let error = strataError { _ = try open(log.path) }
            #expect(error?.code == .corrupt && error?.message.contains("offset \(log.sizes[2])") == true, "byte \(at) flipped: \(error?.message ?? "")")
            #expect(try contents(log.path) == damaged, "byte \(at) flipped: the file changed")
        }
    }

    @Test func zerosOrPartOfAHeaderAfterTheLastFrameAreCutOffAndKept() throws {
        let log = try ThreeCommits("garbage")
        for garbage in [[UInt8](repeating: 0, count: 4096), Array("torn".utf8), [0xFF]] {
            try overwrite(log.path, with: log.bytes + garbage)
            let reports = Reports()
            let s = try open(log.path, reports: reports)
            #expect(try Observed(s, historyOf: log.ids) == log.afterThree)
            #expect(try contents(log.path) == log.bytes)
            #expect(reports.all.first?.contains("dropped \(garbage.count) bytes") == true, "\(reports.all)")
            let kept = siblings(of: log.path, startingWith: ".torn-\(log.sizes[3])").last ?? ""
            #expect(try contents(kept) == garbage)
        }
    }

    @Test func garbageLongerThanAHeaderAfterTheLastFrameIsCorrupt() throws {
        let log = try ThreeCommits("garbage-long")
        let damaged = log.bytes + Array("not a frame at all".utf8)
        try overwrite(log.path, with: damaged)
        let error = strataError { _ = try open(log.path) }
        #expect(error?.code == .corrupt && error?.message.contains("offset \(log.sizes[3])") == true, "\(error?.message ?? "")")
        #expect(try contents(log.path) == damaged)
    }

    @Test func aFlippedByteInAnEarlierFrameIsCorruptAndChangesNothing() throws {
        let log = try ThreeCommits("flip-early")
        let earlier = Array(log.firstFrame) + Array(log.sizes[1]..<log.sizes[2])
        for at in earlier {
            var damaged = log.bytes
            damaged[at] ^= 0x01
            try overwrite(log.path, with: damaged)
            let frameStart = at < log.sizes[1] ? log.sizes[0] : log.sizes[1]
            let error = strataError { _ = try open(log.path) }
            #expect(error?.code == .corrupt, "byte \(at) flipped")
            #expect(error.map { $0.message.contains(log.path) && $0.message.contains("offset \(frameStart)") } == true,
                    "byte \(at): \(error?.message ?? "")")
            #expect(try contents(log.path) == damaged, "byte \(at): the file changed")
        }
    }

    @Test func aForeignFileOrANewerFormatIsRefusedByName() throws {
        let dir = scratchFolder("header")
        let foreign = dir + "/notes.txt"
        let text = Array("These are my notes, not a Strata log. Please keep them.\n".utf8)
        try overwrite(foreign, with: text)
        let error = strataError { _ = try open(foreign) }
        #expect(error?.code == .corrupt && error?.message.contains(foreign) == true, "\(error?.message ?? "")")
        #expect(try contents(foreign) == text)

        let short = dir + "/short.log"
        try overwrite(short, with: Array("hi".utf8))
        #expect(strataError { _ = try open(short) }?.code == .corrupt)
        #expect(try contents(short) == Array("hi".utf8))

        let newer = dir + "/newer.log"
        var header = FileHeader(kind: .log, dimension: dimension, metric: .cosine).bytes
        header[8] = 2  // format version 2
        try overwrite(newer, with: header)
        let version = strataError { _ = try open(newer) }
        #expect(version?.code == .unsupported)
        #expect(version.map { $0.message.contains(newer) && $0.message.contains("version 2") } == true, "\(version?.message ?? "")")

        let checksum = dir + "/checksum.log"
        var bad = FileHeader(kind: .log, dimension: dimension, metric: .cosine).bytes
        bad[12] ^= 0x01  // the dimension, under the header's checksum
        try overwrite(checksum, with: bad)
        #expect(strataError { _ = try open(checksum) }?.code == .corrupt)
    }

    @Test func anUnfinishedHeaderFromAnInterruptedCreationIsRewritten() throws {
        let path = scratchFolder("creation") + "/s.log"
        let header = FileHeader(kind: .log, dimension: dimension, metric: .cosine).bytes
        for length in 0..<header.count {
            try overwrite(path, with: Array(header[..<length]))
            let reports = Reports()
            let s = try open(path, reports: reports)
            #expect(try s.count() == 0)
            #expect(try contents(path) == header)
            #expect(reports.all.count == (length == 0 ? 0 : 1), "\(reports.all)")
        }
    }

    @Test func aDamagedSnapshotOrAMissingLogIsCorrupt() throws {
        let path = scratchFolder("snapshot") + "/s.log"
        do {
            let s = try open(path)
            try s.commit(addition("a", "alpha", seed: 1))
            try s.compact()
        }
        let snapshot = try contents(path + ".snapshot")
        var damaged = snapshot
        damaged[damaged.count - 3] ^= 0x10
        try overwrite(path + ".snapshot", with: damaged)
        let error = strataError { _ = try open(path) }
        #expect(error?.code == .corrupt && error?.message.contains(path + ".snapshot") == true, "\(error?.message ?? "")")

        try overwrite(path + ".snapshot", with: snapshot)
        #expect(try open(path).count() == 1)
        #expect(unlink(path) == 0)
        let missing = strataError { _ = try open(path) }
        #expect(missing?.code == .corrupt && missing?.message.contains("snapshot") == true, "\(missing?.message ?? "")")
        #expect(!POSIXFile.exists(path), "a refused open created the log")
    }
}
