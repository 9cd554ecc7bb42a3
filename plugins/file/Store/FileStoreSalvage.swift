import StrataCore

/// Reads what a damaged file store still holds, for `strata doctor` and `strata salvage`,
/// without changing a byte: the log is opened `O_RDONLY` under a shared `flock` (so a running
/// writer makes it `.conflict` rather than a read of a log being rewritten), the snapshot is
/// only read.
///
/// - Snapshot: every frame it can read; a damaged frame is skipped with a finding. A damaged
///   header is a finding too, and its frames are still read, with the options' dimension
///   (each frame carries the sequence number the snapshot covers).
/// - Log: every frame it can read, applied in file order (which is sequence order) on top of
///   the snapshot, frames the snapshot already covers skipped. A complete frame whose payload
///   checksum fails is skipped (its length is trusted, since the length has a checksum of its
///   own); after a damaged length, the walk resyncs at the next offset where an intact frame
///   starts. Each skipped stretch is one finding, naming the sequence numbers it lost when the
///   frames around it say. Later frames still apply: a commit lost this way loses its own
///   changes only (a record it upserted keeps its earlier state, one it removed stays).
/// - An incomplete tail (`FrameScanner.isTornTail`) is a finding: an unfinished commit, never
///   acknowledged.
/// - Settings: a log whose intact header holds another dimension or metric than the options is
///   `.invalidConfig`, as an open is: the vectors would be misread (dimension) or served under
///   the wrong metric, and it means the options are not this store's, not that the file is
///   damaged. A damaged log header is a finding, and the options' settings are used.
/// - Then `record` gets every memory of the final state, once, removed ones not included.
///
/// - Throws: `.invalidConfig` for bad options or other settings than the file's; `.io` when the
///   log is missing or cannot be read; `.corrupt` when the log is not a Strata file-store log
///   at all; `.unsupported` for a newer format; `.conflict` while a writer has the store open;
///   whatever `record` throws.
public enum FileStoreSalvage {
    public static let run: StoreSalvage = { (options, record, finding) throws(StrataError) in
        try salvage(FileStoreOptions(json: options), record: record, finding: finding)
    }

    /// `run` with decoded options.
    public static func salvage(_ options: FileStoreOptions, record: ((StoredRecord) throws(StrataError) -> Void)?,
                               finding: (DamageFinding) -> Void) throws(StrataError) {
        let path = options.path
        let name = "file store \"\(path)\""
        guard POSIXFile.exists(path) else {
            throw StrataError(.io, "\(name): the log \"\(path)\" does not exist, so there is nothing to salvage")
        }
        let log = try POSIXFile(readingOnly: path)
        try LogRecovery.lock(log, shared: true, name: name)
        let bytes = try log.readAll()
        var state = try RecoveredState(dimension: options.dimension, metric: options.metric)
        try bytes.withBytes { (b) throws(StrataError) in
            let framesStart = try readLogHeader(b, options, finding: finding)
            if POSIXFile.exists(options.snapshotPath) {
                try readSnapshot(options, into: &state, finding: finding)
            }
            if let framesStart {
                replayLog(b, from: framesStart, file: path, into: &state, finding: finding)
            }
        }
        guard let record else { return }
        try state.index.scan(filter: nil) { (r) throws(StrataError) -> Bool in
            try record(r)
            return true
        }
    }

    // MARK: - Headers

    /// Checks the log's header; returns where its frames start, or nil when it has no header
    /// (an interrupted creation, which holds no commit). A damaged header is a finding.
    private static func readLogHeader(_ b: UnsafeRawBufferPointer, _ options: FileStoreOptions,
                                      finding: (DamageFinding) -> Void) throws(StrataError) -> Int? {
        let path = options.path
        let magic = FileHeader.Kind.log.magic
        let prefix = min(b.count, magic.count)
        guard Array(b[0..<prefix]) == Array(magic[0..<prefix]) else {
            throw StrataError(.corrupt, "file store \"\(path)\" is not a Strata file-store log: it does not start with \"STRATALG\"; nothing to salvage")
        }
        guard b.count >= LogRecovery.headerSize else {
            if b.count > 0 || POSIXFile.exists(options.snapshotPath) {
                finding(DamageFinding(file: path, location: "header",
                                      problem: "only \(b.count) of the \(LogRecovery.headerSize) header bytes: the log's creation was interrupted, or it was cut short",
                                      lost: POSIXFile.exists(options.snapshotPath) ? "any commits after the snapshot" : nil))
            }
            return nil
        }
        let header: FileHeader
        do throws(StrataError) {
            header = try FileHeader.decode(b, kind: .log, path: path)
        } catch where error.code == .corrupt {
            // The magic matched, so this is a damaged header, not a foreign file; frames carry
            // checksums of their own, and a wrong dimension shows as frames that do not decode.
            finding(DamageFinding(file: path, location: "header",
                                  problem: "\(error.message); read with the options' dimension \(options.dimension) and metric \(options.metric.rawValue)"))
            return LogRecovery.headerSize
        }
        guard header.dimension == options.dimension, header.metric == options.metric else {
            throw StrataError(.invalidConfig, "file store \"\(path)\" holds dimension \(header.dimension) and metric \(header.metric.rawValue), but the salvage was given dimension \(options.dimension) and metric \(options.metric.rawValue): pass the options the store was made with")
        }
        return LogRecovery.headerSize
    }

    // MARK: - Snapshot

    /// Applies every readable frame of the snapshot and sets `state.lastSequence` to the
    /// sequence number it covers.
    private static func readSnapshot(_ options: FileStoreOptions, into state: inout RecoveredState,
                                     finding: (DamageFinding) -> Void) throws(StrataError) {
        let path = options.snapshotPath
        let bytes = try POSIXFile(readingOnly: path).readAll()
        try bytes.withBytes { (b) throws(StrataError) in
            let kind = FileHeader.Kind.snapshot
            var header: FileHeader?
            do throws(StrataError) {
                header = try FileHeader.decode(b, kind: kind, path: path)
            } catch where error.code == .corrupt {
                guard b.count >= kind.size else {
                    finding(DamageFinding(file: path, location: "header", problem: error.message, lost: "everything the snapshot holds"))
                    return
                }
                finding(DamageFinding(file: path, location: "header", problem: "\(error.message); its frames are read with the options' dimension \(options.dimension)"))
            }
            if let header, header.dimension != options.dimension || header.metric != options.metric {
                finding(DamageFinding(file: path, location: "header",
                                      problem: "dimension \(header.dimension) and metric \(header.metric.rawValue), not the store's \(options.dimension) and \(options.metric.rawValue): the snapshot belongs to another store",
                                      lost: "everything the snapshot holds"))
                return
            }
            var sequence = header?.lastSequence ?? 0
            var frames: UInt64 = 0, damaged = false
            for piece in FramePieces(b, from: kind.size).pieces {
                switch piece {
                case .frame(let offset, let payload):
                    frames += 1
                    let what = "file store snapshot \"\(path)\", frame at offset \(offset)"
                    do throws(StrataError) {
                        let (s, change) = try ChangeCodec.decode(UnsafeRawBufferPointer(rebasing: b[payload]), dimension: options.dimension, what: what)
                        try state.apply(change, what: what)
                        if header == nil { sequence = max(sequence, s) }
                    } catch {
                        damaged = true
                        finding(DamageFinding(file: path, location: "frame at offset \(offset)", problem: error.message, lost: snapshotFrameLoss))
                    }
                case .skipped(let offset, let inspection, let next):
                    frames += 1
                    damaged = true
                    finding(DamageFinding(file: path, location: "frame at offset \(offset)",
                                          problem: skippedProblem(inspection, at: offset, next: next, end: b.count), lost: snapshotFrameLoss))
                case .torn(let offset):
                    damaged = true
                    finding(DamageFinding(file: path, location: "frame at offset \(offset)",
                                          problem: "incomplete last frame at offset \(offset): \(b.count - offset) bytes; a snapshot is written whole, so it was cut short",
                                          lost: snapshotFrameLoss))
                }
            }
            if let header, !damaged, frames != header.frameCount {
                finding(DamageFinding(file: path, location: "end of file",
                                      problem: "\(frames) frames, its header says \(header.frameCount): the snapshot was cut short at a frame boundary",
                                      lost: "the records and history rows of the missing frames"))
            }
            state.lastSequence = sequence
        }
    }

    private static let snapshotFrameLoss = "the records and history rows in this snapshot frame, unless a later commit in the log wrote them again"

    // MARK: - Log

    /// Applies every readable log frame after the snapshot, in file order.
    private static func replayLog(_ b: UnsafeRawBufferPointer, from start: Int, file: String, into state: inout RecoveredState,
                                  finding: (DamageFinding) -> Void) {
        // The last sequence number seen (the snapshot's to begin with), and whether a skipped
        // stretch since then explains a jump in the numbers.
        var previous = state.lastSequence
        var explained = false
        for piece in FramePieces(b, from: start).pieces {
            switch piece {
            case .frame(let offset, let payload):
                let what = "file store \"\(file)\", frame at offset \(offset)"
                let decoded: (sequence: UInt64, change: StoreChange)
                do throws(StrataError) {
                    decoded = try ChangeCodec.decode(UnsafeRawBufferPointer(rebasing: b[payload]), dimension: state.index.dimension, what: what)
                } catch {
                    finding(DamageFinding(file: file, location: "frame at offset \(offset)", problem: error.message,
                                          lost: sequenceOf(b, payloadAt: payload.lowerBound).map { "one commit (sequence \($0))" } ?? "one commit"))
                    explained = true
                    continue
                }
                let sequence = decoded.sequence
                if sequence > previous + 1, !explained {
                    finding(DamageFinding(file: file, location: "frame at offset \(offset)",
                                          problem: "sequence number \(sequence) follows \(previous): commits are missing without damage to show where",
                                          lost: "commits \(previous + 1)...\(sequence - 1)"))
                }
                explained = false
                previous = max(previous, sequence)
                // Frames a snapshot covers (a compaction not yet done cutting) or repeated ones.
                guard sequence > state.lastSequence else { continue }
                do throws(StrataError) {
                    try state.apply(decoded.change, what: what)
                    state.lastSequence = sequence
                } catch {
                    finding(DamageFinding(file: file, location: "frame at offset \(offset)", problem: error.message, lost: "one commit (sequence \(sequence))"))
                }
            case .skipped(let offset, let inspection, let next):
                explained = true
                finding(DamageFinding(file: file, location: "frame at offset \(offset)",
                                      problem: skippedProblem(inspection, at: offset, next: next, end: b.count),
                                      lost: logLoss(b, inspection, at: offset, next: next, previous: previous)))
            case .torn(let offset):
                let header = Frame.inspect(b, at: offset)
                var lost = "one commit, never acknowledged as durable"
                if case .short = header, let s = sequenceOf(b, payloadAt: offset + Frame.headerSize) {
                    lost = "the commit with sequence \(s), never acknowledged as durable"
                }
                finding(DamageFinding(file: file, location: "frame at offset \(offset)",
                                      problem: "incomplete last frame at offset \(offset): \(b.count - offset) bytes of an unfinished commit", lost: lost))
            }
        }
    }

    /// What a skipped stretch of the log cost, in sequence numbers when the frames around it
    /// say. A complete frame with a bad payload is one commit; its own sequence number is read
    /// from the damaged payload, so it is named as "probably".
    private static func logLoss(_ b: UnsafeRawBufferPointer, _ inspection: Frame.Inspection, at offset: Int, next: Int?,
                                previous: UInt64) -> String {
        if case .badPayloadChecksum = inspection {
            guard let s = sequenceOf(b, payloadAt: offset + Frame.headerSize), s > previous, s - previous <= 1 << 20 else { return "one commit" }
            var what = "one commit (by its damaged payload: sequence \(s)"
            if b.count >= offset + Frame.headerSize + 12 {
                let upserts = UInt32(littleEndian: b.loadUnaligned(fromByteOffset: offset + Frame.headerSize + 8, as: UInt32.self))
                what += ", \(upserts) upserts"
            }
            return what + ")"
        }
        guard let next, let following = sequenceOf(b, payloadAt: next + Frame.headerSize) else {
            return "every commit after sequence \(previous) in the rest of the log"
        }
        guard following > previous + 1 else { return "no commit, by the sequence numbers on either side" }
        return following == previous + 2 ? "one commit (sequence \(previous + 1))" : "commits \(previous + 1)...\(following - 1)"
    }

    /// The problem of a skipped stretch, with where the walk picked up again.
    private static func skippedProblem(_ inspection: Frame.Inspection, at offset: Int, next: Int?, end: Int) -> String {
        if case .badPayloadChecksum = inspection { return inspection.problem }
        guard let next else { return "\(inspection.problem); no intact frame follows (\(end - offset) bytes skipped)" }
        return "\(inspection.problem); the next intact frame starts at offset \(next) (\(next - offset) bytes skipped)"
    }

    /// The sequence number a payload at `offset` starts with, if 8 bytes are there.
    private static func sequenceOf(_ b: UnsafeRawBufferPointer, payloadAt offset: Int) -> UInt64? {
        guard offset >= 0, b.count - offset >= 8 else { return nil }
        return UInt64(littleEndian: b.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
}

/// Every frame of a log or snapshot that can be read, and the stretches between them that
/// cannot: the walk `FrameScanner` stops at the first damage, this one goes on past it.
struct FramePieces {
    enum Piece: Equatable {
        /// An intact frame starting at `offset`, its payload at `payload`.
        case frame(offset: Int, payload: Range<Int>)
        /// Damage at `offset`; the walk goes on at `next` (nil: nothing readable follows). A
        /// complete frame with a bad payload checksum is skipped by its trusted length; any
        /// other damage by searching forward for the next intact frame.
        case skipped(offset: Int, inspection: Frame.Inspection, next: Int?)
        /// An incomplete tail from `offset` (`FrameScanner.isTornTail`).
        case torn(offset: Int)
    }

    private(set) var pieces: [Piece] = []

    /// Complexity: O(n) (the resync after a damaged length tries every offset once).
    init(_ bytes: UnsafeRawBufferPointer, from start: Int) {
        var at = start
        while at < bytes.count {
            let inspection = Frame.inspect(bytes, at: at)
            switch inspection {
            case .intact(let n):
                pieces.append(.frame(offset: at, payload: at + Frame.headerSize..<at + Frame.headerSize + n))
                at += Frame.headerSize + n
            case .badPayloadChecksum(let n, _, _):
                let next = at + Frame.headerSize + n
                pieces.append(.skipped(offset: at, inspection: inspection, next: next < bytes.count ? next : nil))
                at = next
            default:
                let next = FrameScanner.nextIntact(bytes, after: at)
                if next == nil, FrameScanner.isTornTail(bytes, from: at) {
                    pieces.append(.torn(offset: at))
                    return
                }
                pieces.append(.skipped(offset: at, inspection: inspection, next: next))
                guard let next else { return }
                at = next
            }
        }
    }
}
