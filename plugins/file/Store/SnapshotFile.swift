import StrataCore

/// The snapshot beside the log (`PATH.snapshot`): a `FileHeader` of kind snapshot, then frames
/// holding every record and every history row as of one sequence number. A compaction writes
/// it whole to a temporary file and renames it into place, so a snapshot on disk is always
/// complete; any damage in it is `.corrupt`, never cut off.
enum SnapshotFile {
    /// A frame's payload is closed once it passes this estimate (4 MiB), far below the 1 GiB
    /// frame limit, so one snapshot frame never holds an unbounded share of the store.
    static let framePayloadTarget = 4 << 20
    /// Bytes gathered before a `pwrite`.
    static let writeChunk = 8 << 20

    /// Writes `records` and `history` as the snapshot `header` describes, into `file` (empty,
    /// not yet synced: the caller syncs and renames). Complexity: O(size of the state).
    static func write(records: [StoredRecord], history: [String: [HistoryEntry]], header: FileHeader, to file: POSIXFile)
        throws(StrataError)
    {
        var out = Output(file: file, offset: header.kind.size, sequence: header.lastSequence)
        for r in records {
            out.pending.upserts.append(r)
            out.pendingBytes += 4 * r.vector.count + r.memory.content.utf8.count + 512
            try out.closeFrameIfFull()
        }
        // Sorted by id so two compactions of one state write the same bytes.
        for id in history.keys.sorted() {
            for row in history[id]! {
                out.pending.history.append(row)
                out.pendingBytes += (row.old?.content.utf8.count ?? 0) + (row.new?.content.utf8.count ?? 0) + 1024
                try out.closeFrameIfFull()
            }
        }
        try out.closeFrame()
        try out.flush()
        var header = header
        header.frameCount = out.frames
        // The header goes last: only now is the frame count known.
        try file.write(header.bytes, at: 0)
    }

    /// Frames gathered and written in chunks.
    private struct Output {
        let file: POSIXFile
        var offset: Int
        let sequence: UInt64
        var buffer = ByteWriter(reservingCapacity: SnapshotFile.writeChunk + SnapshotFile.framePayloadTarget)
        var pending = StoreChange()
        var pendingBytes = 0
        var frames: UInt64 = 0

        mutating func closeFrameIfFull() throws(StrataError) {
            if pendingBytes >= SnapshotFile.framePayloadTarget { try closeFrame() }
        }

        mutating func closeFrame() throws(StrataError) {
            guard !pending.isEmpty else { return }
            let start = Frame.begin(&buffer)
            ChangeCodec.encode(pending, sequence: sequence, into: &buffer)
            Frame.seal(&buffer, from: start)
            frames += 1
            pending = StoreChange()
            pendingBytes = 0
            if buffer.count >= SnapshotFile.writeChunk { try flush() }
        }

        mutating func flush() throws(StrataError) {
            try file.write(buffer.bytes, at: offset)
            offset += buffer.count
            buffer.removeAll(keepingCapacity: true)
        }
    }

    /// Reads the snapshot at `path` into `state` and sets `state.lastSequence` to the sequence
    /// number it holds everything up to.
    /// - Throws: `.corrupt` naming the file and offset for any damage, a count of frames other
    ///   than the header's, or settings other than the log's (`logHeader`).
    static func load(path: String, logHeader: FileHeader, into state: inout RecoveredState) throws(StrataError) {
        let header = try read(path: path, kind: .snapshot, dimension: logHeader.dimension, metric: logHeader.metric) {
            (change, what) throws(StrataError) in try state.apply(change, what: what)
        }
        state.lastSequence = header.lastSequence
    }

    /// Reads a named snapshot whole: its header and every record, vectors as stored.
    /// - Throws: as `read`; also `.corrupt` when the records are not the header's count or an
    ///   id appears twice.
    static func loadNamed(path: String, dimension: Int, metric: Metric) throws(StrataError) -> (header: FileHeader, records: [StoredRecord]) {
        var records: [StoredRecord] = []
        var seen = Set<String>()
        let header = try read(path: path, kind: .named, dimension: dimension, metric: metric) { (change, what) throws(StrataError) in
            for r in change.upserts {
                do throws(StrataError) { try Vectors.validate(r.vector, dimension: dimension, what: "record \(r.memory.id)") } catch {
                    throw StrataError(.corrupt, "\(what): \(error.message)")
                }
                guard seen.insert(r.memory.id).inserted else { throw StrataError(.corrupt, "\(what): record \(r.memory.id) appears twice") }
                records.append(r)
            }
        }
        guard UInt64(records.count) == header.records else {
            throw StrataError(.corrupt, "file store named snapshot \"\(path)\" holds \(records.count) records, its header says \(header.records)")
        }
        return (header, records)
    }

    /// Reads the header of the snapshot file at `path` (only its first bytes).
    static func header(path: String, kind: FileHeader.Kind) throws(StrataError) -> FileHeader {
        let bytes = try POSIXFile(path: path, create: false).read(kind.size, at: 0)
        return try bytes.withBytes { (b) throws(StrataError) -> FileHeader in try FileHeader.decode(b, kind: kind, path: path) }
    }

    /// Reads the snapshot file of `kind` at `path` and hands each frame's change to `body` with
    /// a name for the frame in errors. Returns the header.
    /// - Throws: `.corrupt` naming the file and offset for any damage, a count of frames other
    ///   than the header's, or another dimension or metric than the store's.
    private static func read(path: String, kind: FileHeader.Kind, dimension: Int, metric: Metric,
                             _ body: (StoreChange, String) throws(StrataError) -> Void) throws(StrataError) -> FileHeader {
        let bytes = try POSIXFile(path: path, create: false).readAll()
        return try bytes.withBytes { (b) throws(StrataError) -> FileHeader in
            let header = try FileHeader.decode(b, kind: kind, path: path)
            let name = "file store \(kind.noun) \"\(path)\""
            guard header.dimension == dimension, header.metric == metric else {
                throw StrataError(.corrupt, "\(name) holds dimension \(header.dimension) and metric \(header.metric.rawValue), its store dimension \(dimension) and metric \(metric.rawValue)")
            }
            let scan = FrameScanner(b, from: header.kind.size)
            if let damage = scan.damage {
                // A snapshot is written whole before it is renamed into place, so even a
                // short last frame is damage to the file, not a torn write.
                let problem = if case .damaged(_, let inspection, _) = damage { inspection.problem } else { "an incomplete frame" }
                throw StrataError(.corrupt, "\(name) is damaged at offset \(damage.offset) (of \(b.count) bytes): \(problem); a snapshot is written whole before it is renamed into place, so this is damage to the file, not a torn write")
            }
            guard scan.payloads.count == header.frameCount else {
                throw StrataError(.corrupt, "\(name) holds \(scan.payloads.count) frames, its header says \(header.frameCount)")
            }
            for payload in scan.payloads {
                let what = "\(name), frame at offset \(payload.lowerBound - Frame.headerSize)"
                let (_, change) = try ChangeCodec.decode(UnsafeRawBufferPointer(rebasing: b[payload]), dimension: header.dimension, what: what)
                try body(change, what)
            }
            return header
        }
    }
}
