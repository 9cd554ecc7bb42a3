#if canImport(Glibc)
import Glibc
#endif
import StrataCore
@testable import StrataFileStore
import Testing

/// The records and findings of one salvage.
struct Salvaged {
    var ids: [String] = []
    var findings: [DamageFinding] = []

    init(_ options: JSONValue) throws {
        var ids: [String] = []
        var findings: [DamageFinding] = []
        try FileStoreSalvage.run(options, { (r) throws(StrataError) in ids.append(r.memory.id) }, { findings.append($0) })
        self.ids = ids
        self.findings = findings
    }
}

@Suite struct SalvageTests {
    @Test func salvageOfAnIntactStoreHandsOverEveryRecordAndNoFinding() throws {
        let log = try TwentyBatches("salvage-intact")
        let out = try Salvaged(log.jsonOptions)
        #expect(out.findings.isEmpty, "\(out.findings)")
        #expect(out.ids.count == 2_000 && Set(out.ids) == TwentyBatches.allIDs)
        #expect(try contents(log.path) == log.bytes)
    }

    @Test func salvageSkipsAFrameWhosePayloadChecksumFails() throws {
        let log = try TwentyBatches("salvage-payload")
        let damaged = log.damaged(at: log.payloadMiddle(9))
        try overwrite(log.path, with: damaged)
        let out = try Salvaged(log.jsonOptions)
        #expect(out.ids.count == 1_900)
        #expect(Set(out.ids) == TwentyBatches.allIDs.subtracting(TwentyBatches.ids(batch: 9)))
        #expect(out.findings.count == 1, "\(out.findings)")
        let f = out.findings.first
        #expect(f?.file == log.path && f?.location == "frame at offset \(log.frame(9))", "\(String(describing: f))")
        #expect(f?.problem.contains("payload checksum") == true && f?.problem.contains("expected") == true, "\(String(describing: f))")
        #expect(f?.lost?.contains("sequence 10") == true, "\(String(describing: f))")
        #expect(try contents(log.path) == damaged, "the salvage changed the log")
    }

    @Test func salvageResyncsAfterADamagedLengthHeader() throws {
        let log = try TwentyBatches("salvage-length")
        for offset in [log.frame(9) + 2, log.frame(9) + 5] {
            let damaged = log.damaged(at: offset)
            try overwrite(log.path, with: damaged)
            let out = try Salvaged(log.jsonOptions)
            #expect(Set(out.ids) == TwentyBatches.allIDs.subtracting(TwentyBatches.ids(batch: 9)) && out.ids.count == 1_900, "byte \(offset)")
            #expect(out.findings.count == 1, "\(out.findings)")
            let f = out.findings.first
            #expect(f?.location == "frame at offset \(log.frame(9))" && f?.problem.contains("offset \(log.frame(10))") == true, "\(String(describing: f))")
            #expect(f?.lost == "one commit (sequence 10)", "\(String(describing: f))")
            #expect(try contents(log.path) == damaged, "the salvage changed the log")
        }
        // A stretch of garbage over a frame's header and part of its payload.
        var garbage = log.bytes
        for i in log.frame(5)..<(log.frame(5) + 300) { garbage[i] = UInt8(truncatingIfNeeded: i &* 131) }
        try overwrite(log.path, with: garbage)
        let out = try Salvaged(log.jsonOptions)
        #expect(Set(out.ids) == TwentyBatches.allIDs.subtracting(TwentyBatches.ids(batch: 5)), "\(out.findings)")
        #expect(out.findings.count == 1)
    }

    @Test func salvageReportsATornTailAndTheFramesBeforeIt() throws {
        let log = try TwentyBatches("salvage-torn")
        let torn = Array(log.bytes[..<(log.starts[log.last + 1] - 5)])
        try overwrite(log.path, with: torn)
        let out = try Salvaged(log.jsonOptions)
        #expect(Set(out.ids) == TwentyBatches.allIDs.subtracting(TwentyBatches.ids(batch: 19)) && out.ids.count == 1_900)
        #expect(out.findings.count == 1, "\(out.findings)")
        #expect(out.findings.first?.problem.contains("incomplete last frame at offset \(log.frame(log.last))") == true, "\(out.findings)")
        #expect(try contents(log.path) == torn)
        #expect(siblings(of: log.path, startingWith: ".torn").isEmpty)
    }

    @Test func salvageReadsTheSnapshotAndTheReadableLogFramesAfterIt() throws {
        let log = try TwentyBatches("salvage-snapshot", compactAfter: 10)
        #expect(log.logBatches == Array(10..<20))
        let snapshot = try contents(log.path + ".snapshot")
        // Log frame 4 holds batch 14.
        let damaged = log.damaged(at: log.payloadMiddle(4))
        try overwrite(log.path, with: damaged)
        var out = try Salvaged(log.jsonOptions)
        #expect(Set(out.ids) == TwentyBatches.allIDs.subtracting(TwentyBatches.ids(batch: 14)) && out.ids.count == 1_900)
        #expect(out.findings.count == 1 && out.findings.first?.lost?.contains("sequence 15") == true, "\(out.findings)")

        // A damaged snapshot frame loses what that frame held; the log's frames still apply.
        var badSnapshot = snapshot
        badSnapshot[snapshot.count / 2] ^= 0x20
        try overwrite(log.path + ".snapshot", with: badSnapshot)
        try overwrite(log.path, with: log.bytes)
        out = try Salvaged(log.jsonOptions)
        #expect(out.findings.count == 1 && out.findings.first?.file == log.path + ".snapshot", "\(out.findings)")
        #expect(Set(out.ids) == Set((10..<20).flatMap { TwentyBatches.ids(batch: $0) }), "\(out.ids.count) records")
        #expect(try contents(log.path + ".snapshot") == badSnapshot)
        #expect(try contents(log.path) == log.bytes)
    }

    @Test func salvageRefusesAMissingLogAForeignFileAndOtherSettings() throws {
        let dir = scratchFolder("salvage-refusals")
        let missing = dir + "/missing.log"
        let io = strataError { _ = try Salvaged(.object(["path": .string(missing), "dimension": .number(16)])) }
        #expect(io?.code == .io && io?.message.contains(missing) == true, "\(io?.message ?? "")")
        #expect(!POSIXFile.exists(missing))

        let foreign = dir + "/notes.txt"
        try overwrite(foreign, with: Array("These are my notes, not a Strata log.\n".utf8))
        let corrupt = strataError { _ = try Salvaged(.object(["path": .string(foreign), "dimension": .number(16)])) }
        #expect(corrupt?.code == .corrupt && corrupt?.message.contains(foreign) == true, "\(corrupt?.message ?? "")")

        let path = dir + "/s.log"
        do { try open(path).commit(addition("a", "alpha", seed: 1)) }
        let other = strataError { _ = try Salvaged(.object(["path": .string(path), "dimension": .number(8)])) }
        #expect(other?.code == .invalidConfig, "\(other?.message ?? "")")
        // The store's own options, read_only and all, are accepted.
        let same = try Salvaged(.object(["path": .string(path), "dimension": .number(16), "fsync": .string("group"),
                                         "group_commit_ms": .number(5), "compact_after_bytes": .number(1000), "read_only": .bool(true)]))
        #expect(same.ids == ["a"] && same.findings.isEmpty)
    }
}
