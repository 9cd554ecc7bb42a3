#if canImport(Glibc)
import Glibc
#endif
import StrataCore
@testable import StrataFileStore
import Testing

/// 2,000 memories committed in 20 batches of 100 (one frame each), optionally compacted after
/// some of them, for damaging the log frame by frame.
struct TwentyBatches {
    let path: String
    /// Where each frame of the log starts, then where the log ends.
    var starts: [Int] = []
    /// The batch each frame of the log holds (after a compaction, the later ones only).
    var logBatches: [Int] = []
    var bytes: [UInt8] = []

    static let batches = 20
    static let perBatch = 100

    static func ids(batch: Int) -> [String] { (0..<perBatch).map { "m-\(batch)-\($0)" } }
    static var allIDs: Set<String> { Set((0..<batches).flatMap { ids(batch: $0) }) }

    /// - Parameter compactAfter: compact once this many batches are in (the snapshot then holds them).
    init(_ name: String, compactAfter: Int? = nil) throws {
        path = scratchFolder(name) + "/s.log"
        let s = try open(path)
        starts = [try contents(path).count]
        for batch in 0..<Self.batches {
            var change = StoreChange()
            for (i, id) in Self.ids(batch: batch).enumerated() {
                let r = record(id, "memory \(i) of batch \(batch)", seed: batch * Self.perBatch + i)
                change.upserts.append(r)
                change.history.append(HistoryEntry(event: .add, memoryID: id, at: r.memory.createdAt, old: nil, new: r.memory, reason: "imported"))
            }
            try s.commit(change)
            logBatches.append(batch)
            starts.append(try contents(path).count)
            if batch + 1 == compactAfter {
                try s.compact()
                starts = [try contents(path).count]
                logBatches = []
            }
        }
        bytes = try contents(path)
    }

    /// The offset of the log's `i`-th frame, and the middle of its payload.
    func frame(_ i: Int) -> Int { starts[i] }
    func payloadMiddle(_ i: Int) -> Int { (starts[i] + Frame.headerSize + starts[i + 1]) / 2 }
    var last: Int { starts.count - 2 }

    func damaged(flippingBit bit: Int = 3, at offset: Int) -> [UInt8] {
        var d = bytes
        d[offset] ^= UInt8(1 << bit)
        return d
    }

    var jsonOptions: JSONValue { .object(["path": .string(path), "dimension": .number(Double(dimension))]) }
}

@Suite struct DamageTests {
    // MARK: - Open: damage is corrupt, wherever it sits

    @Test func aFlippedBitInTheLastCompleteFrameIsCorruptForEveryOpenAndChangesNothing() throws {
        let log = try TwentyBatches("damage-last-payload")
        let damaged = log.damaged(at: log.payloadMiddle(log.last))
        try overwrite(log.path, with: damaged)
        for readOnly in [false, true] {
            var o = options(log.path)
            o.readOnly = readOnly
            let error = strataError { _ = try FileVectorStore(options: o, report: Reports().sink) }
            #expect(error?.code == .corrupt, "read_only \(readOnly)")
            #expect(error.map { $0.message.contains(log.path) && $0.message.contains("offset \(log.frame(log.last))") && $0.message.contains("payload checksum") } == true,
                    "\(error?.message ?? "")")
            #expect(try contents(log.path) == damaged, "read_only \(readOnly): the file changed")
            #expect(siblings(of: log.path, startingWith: ".torn").isEmpty)
        }
    }

    @Test func aDamagedLengthHeaderOfACompleteLastFrameIsCorruptAndChangesNothing() throws {
        let log = try TwentyBatches("damage-last-length")
        // The length itself, then its checksum: either way the whole frame is still there.
        for offset in [log.frame(log.last) + 1, log.frame(log.last) + 6] {
            let damaged = log.damaged(at: offset)
            try overwrite(log.path, with: damaged)
            for readOnly in [false, true] {
                var o = options(log.path)
                o.readOnly = readOnly
                let error = strataError { _ = try FileVectorStore(options: o, report: Reports().sink) }
                #expect(error?.code == .corrupt, "byte \(offset), read_only \(readOnly)")
                #expect(error.map { $0.message.contains(log.path) && $0.message.contains("offset \(log.frame(log.last))") } == true,
                        "\(error?.message ?? "")")
                #expect(try contents(log.path) == damaged, "byte \(offset), read_only \(readOnly): the file changed")
            }
        }
    }

    @Test func aTornTailIsIgnoredReadOnlyAndKeptAsideBeforeAWritingOpenCutsIt() throws {
        let log = try TwentyBatches("damage-torn")
        let start = log.frame(log.last)
        let cut = log.starts[log.last + 1] - 5
        let torn = Array(log.bytes[..<cut])
        try overwrite(log.path, with: torn)

        let readReports = Reports()
        do {
            let s = try readOnly(log.path, reports: readReports)
            #expect(try s.count() == 1_900)
        }
        #expect(try contents(log.path) == torn, "a read-only open changed the log")
        #expect(siblings(of: log.path, startingWith: ".torn").isEmpty)
        #expect(readReports.all.count == 1 && readReports.all[0].contains("offset \(start)"), "\(readReports.all)")

        let reports = Reports()
        #expect(try open(log.path, reports: reports).count() == 1_900)
        #expect(try contents(log.path) == Array(log.bytes[..<start]))
        let kept = log.path + ".torn-\(start)"
        #expect(siblings(of: log.path, startingWith: ".torn") == [kept])
        #expect(try contents(kept) == Array(log.bytes[start..<cut]), "the cut bytes were not kept byte for byte")
        var st = stat()
        #expect(stat(kept, &st) == 0 && st.st_mode & 0o777 == 0o600)
        #expect(reports.all.count == 1 && reports.all[0].contains(kept) && reports.all[0].contains("offset \(start)"), "\(reports.all)")
    }

    @Test func whatCountsAsAnIncompleteTail() throws {
        let log = try TwentyBatches("damage-kinds")
        let start = log.frame(log.last)
        let end = log.starts[log.last + 1]
        let intact = Array(log.bytes[..<start])
        // Torn: part of a header; a header and part of its payload; either followed by the
        // zeros a file system may leave; zeros alone.
        let torn: [[UInt8]] = [
            Array(log.bytes[..<(start + 7)]),
            Array(log.bytes[..<(start + 100)]),
            Array(log.bytes[..<(start + 7)]) + [UInt8](repeating: 0, count: 4096),
            Array(log.bytes[..<(end - 200)]) + [UInt8](repeating: 0, count: 150),
            intact + [UInt8](repeating: 0, count: 4096),
        ]
        for (i, bytes) in torn.enumerated() {
            try overwrite(log.path, with: bytes)
            #expect(try readOnly(log.path).count() == 1_900, "torn case \(i)")
            #expect(try contents(log.path) == bytes, "torn case \(i): a read-only open changed the log")
            #expect(try open(log.path).count() == 1_900, "torn case \(i)")
            #expect(try contents(log.path) == intact, "torn case \(i)")
        }
        // Damage: a frame's worth of bytes after a bad length, a complete frame with a bad
        // payload whose end is zeros, garbage longer than a header.
        var zeroed = log.bytes
        for i in (end - 64)..<end { zeroed[i] = 0 }
        let damaged: [[UInt8]] = [
            log.damaged(at: start + 2),
            zeroed,
            intact + Array("not a frame at all".utf8),
        ]
        for (i, bytes) in damaged.enumerated() {
            try overwrite(log.path, with: bytes)
            for readOnly in [false, true] {
                var o = options(log.path)
                o.readOnly = readOnly
                let error = strataError { _ = try FileVectorStore(options: o, report: Reports().sink) }
                #expect(error?.code == .corrupt && error?.message.contains("offset \(start)") == true, "damage case \(i): \(error?.message ?? "")")
                #expect(try contents(log.path) == bytes, "damage case \(i): the file changed")
            }
        }
    }

    // MARK: - read_only

    @Test func aReadOnlyStoreRefusesEveryWriteAndChangesNothing() throws {
        let path = scratchFolder("read-only") + "/s.log"
        do {
            let s = try open(path)
            try s.commit(addition("a", "alpha", seed: 1))
            _ = try s.snapshot(name: "one", at: Timestamp(milliseconds: 1))
            try s.commit(addition("b", "bravo", seed: 2))
        }
        // What an interrupted compaction leaves: a writing open deletes it, a read-only one not.
        try overwrite(path + ".snapshot.tmp", with: [1, 2, 3])
        let before = try contents(path)

        let o = try FileStoreOptions(json: .object(["path": .string(path), "dimension": .number(Double(dimension)), "read_only": .bool(true)]))
        #expect(o.readOnly)
        let s = try FileVectorStore(options: o, report: Reports().sink)
        #expect(try s.count() == 2)
        #expect(try s.snapshots().map(\.name) == ["one"])
        // Readers share the lock.
        #expect(try readOnly(path).count() == 2)
        let writes: [(String, () throws -> Void)] = [
            ("upsert", { try s.upsert([record("c", "charlie", seed: 3)]) }),
            ("remove", { _ = try s.remove(ids: ["a"]) }),
            ("commit", { try s.commit(addition("c", "charlie", seed: 3)) }),
            ("compact", { try s.compact() }),
            ("snapshot", { _ = try s.snapshot(name: "two", at: Timestamp(milliseconds: 2)) }),
            ("rollback", { _ = try s.rollback(name: "one", at: Timestamp(milliseconds: 3)) }),
            ("deleteSnapshot", { try s.deleteSnapshot(name: "one") }),
        ]
        for (name, write) in writes {
            let error = strataError(write)
            #expect(error?.code == .unsupported, "\(name)")
            #expect(error?.message.contains("file store \"\(path)\" was opened read-only") == true, "\(name): \(error?.message ?? "")")
        }
        #expect(try s.count() == 2)
        #expect(try contents(path) == before)
        #expect(POSIXFile.exists(path + ".snapshot.tmp"), "a read-only open removed the temporary snapshot")
        #expect(try s.snapshots().map(\.name) == ["one"])
    }

    @Test func aReadOnlyOpenOfAMissingLogIsAnIOErrorAndCreatesNothing() throws {
        let path = scratchFolder("read-only-missing") + "/s.log"
        let error = strataError { _ = try readOnly(path) }
        #expect(error?.code == .io && error?.message.contains(path) == true, "\(error?.message ?? "")")
        #expect(!POSIXFile.exists(path), "a read-only open created the log")
    }

    @Test func aReadOnlyOpenBesideAWriterIsAConflict() throws {
        let path = scratchFolder("read-only-writer") + "/s.log"
        let writer = try open(path)
        try writer.commit(addition("a", "alpha", seed: 1))
        #expect(strataError { _ = try readOnly(path) }?.code == .conflict)
    }
}
