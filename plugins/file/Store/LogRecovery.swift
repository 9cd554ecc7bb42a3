#if canImport(Glibc)
import Glibc
#endif
import StrataCore

/// Opening a file store: take the log's lock, read the snapshot, replay the log after it, and
/// cut off a torn tail. Nothing on disk changes unless the whole log was read and judged
/// (a new log's header, a torn tail, a temporary snapshot left by an interrupted compaction).
enum LogRecovery {
    /// The locked log, where its next frame goes, and the state it holds.
    struct Opened {
        let log: POSIXFile
        let end: Int
        let state: RecoveredState
    }

    static let headerSize = FileHeader.Kind.log.size
    /// How long an open waits for the log's lock before answering `.conflict`.
    static let lockWaitMilliseconds = 1_000

    /// - Parameter report: receives one line per repair made (a tail cut off, a header rewritten).
    /// - Throws: `.conflict` when another opener holds the lock; `.invalidConfig` for another
    ///   dimension or metric; `.corrupt` (file and offset named, nothing changed) for damage
    ///   followed by intact frames, a damaged snapshot or a gap in the sequence; `.unsupported`
    ///   for a newer format; `.io` for failing system calls.
    static func open(_ options: FileStoreOptions, report: (String) -> Void) throws(StrataError) -> Opened {
        let path = options.path
        let name = "file store \"\(path)\""
        // Checked before the open creates an empty log, so a refused open changes nothing.
        if !POSIXFile.exists(path), POSIXFile.exists(options.snapshotPath) {
            throw StrataError(.corrupt, "\(name) is missing, but its snapshot \"\(options.snapshotPath)\" exists: the log was moved or deleted by something other than this store, and commits after the snapshot may be in it; refusing to start a new one")
        }
        let log = try POSIXFile(path: path, create: true)
        var waited = 0
        while try !log.tryLockExclusive() {
            // A child forked anywhere in this program holds copies of our descriptors until its
            // exec closes them (O_CLOEXEC acts at exec, not at fork), and with them the lock of
            // a store closed a moment ago. A short wait rides that out; a real second writer
            // still holds the lock when it ends.
            guard waited < lockWaitMilliseconds else {
                throw StrataError(.conflict, "\(name) is in use: another process (or another open store in this process) holds its lock; a file store has one writer at a time")
            }
            usleep(5_000)
            waited += 5
        }
        var bytes = try log.readAll()
        if bytes.count < headerSize { bytes = try startLog(log, found: bytes, options, report: report) }
        return try bytes.withBytes { (b) throws(StrataError) -> Opened in
            let header = try FileHeader.decode(b, kind: .log, path: path)
            guard header.dimension == options.dimension else {
                throw StrataError(.invalidConfig, "\(name) holds vectors of dimension \(header.dimension), but it was opened with dimension \(options.dimension): open it with the embedder it was made with, or use another path")
            }
            guard header.metric == options.metric else {
                throw StrataError(.invalidConfig, "\(name) was made with metric \"\(header.metric.rawValue)\", but it was opened with metric \"\(options.metric.rawValue)\"")
            }
            var state = try RecoveredState(dimension: header.dimension, metric: header.metric)
            if POSIXFile.exists(options.snapshotPath) {
                try SnapshotFile.load(path: options.snapshotPath, logHeader: header, into: &state)
            }
            let scan = FrameScanner(b, from: headerSize)
            if case .inner(let offset, let next) = scan.damage {
                throw StrataError(.corrupt, "\(name) is damaged at offset \(offset), and an intact frame follows at offset \(next): this is damage inside the log, not a torn last write, so nothing was cut off and the file is unchanged")
            }
            try replay(scan.payloads, in: b, into: &state, name: name)
            if case .tail(let offset) = scan.damage {
                // "A torn tail": the last append did not finish (or the file system left bytes past
                // it). No commit there was acknowledged as durable, so the log ends before it.
                try log.truncate(to: offset)
                try log.sync(includingMetadata: true)
                report("\(name): cut off a torn or damaged tail at offset \(offset): dropped \(b.count - offset) bytes; the store holds every commit up to sequence \(state.lastSequence)")
            }
            // A temporary snapshot is what an interrupted compaction leaves; the real one (or the
            // log) still holds everything, and we hold the lock, so no compaction is running.
            try POSIXFile.remove(options.snapshotTemporaryPath)
            return Opened(log: log, end: scan.intactEnd, state: state)
        }
    }

    /// Applies the log's changes that the snapshot does not already hold. Sequence numbers must
    /// run on without a gap: frames up to the snapshot's number are the ones a compaction
    /// included but did not get to truncate, and the first one after must be the next number.
    private static func replay(_ payloads: [Range<Int>], in b: UnsafeRawBufferPointer, into state: inout RecoveredState, name: String)
        throws(StrataError)
    {
        var previous: UInt64?
        for payload in payloads {
            let what = "\(name), frame at offset \(payload.lowerBound - Frame.headerSize)"
            let (sequence, change) = try ChangeCodec.decode(UnsafeRawBufferPointer(rebasing: b[payload]), dimension: state.index.dimension, what: what)
            if let previous, sequence != previous + 1 {
                throw StrataError(.corrupt, "\(what) has sequence number \(sequence) after \(previous): commits are missing or repeated")
            }
            previous = sequence
            guard sequence > state.lastSequence else { continue }
            guard sequence == state.lastSequence + 1 else {
                throw StrataError(.corrupt, "\(what) has sequence number \(sequence), but the snapshot ends at \(state.lastSequence): commits in between are missing")
            }
            try state.apply(change, what: what)
            state.lastSequence = sequence
        }
    }

    /// Writes the header of a new log. A log shorter than its header is one whose creation was
    /// interrupted (a header is synced before the first commit can be acknowledged), so it holds
    /// no commit; anything else that short is refused.
    private static func startLog(_ log: POSIXFile, found: [UInt8], _ options: FileStoreOptions, report: (String) -> Void)
        throws(StrataError) -> [UInt8]
    {
        let name = "file store \"\(options.path)\""
        let magic = FileHeader.Kind.log.magic
        guard Array(found.prefix(magic.count)) == Array(magic.prefix(min(found.count, magic.count))) else {
            _ = try found.withBytes { (b) throws(StrataError) in try FileHeader.decode(b, kind: .log, path: options.path) }
            throw StrataError(.corrupt, "\(name) is not a file-store log")
        }
        guard !POSIXFile.exists(options.snapshotPath) else {
            throw StrataError(.corrupt, "\(name) has no complete header, but its snapshot \"\(options.snapshotPath)\" exists: the log was replaced or cut short by something other than this store; refusing to guess what it held")
        }
        let header = FileHeader(kind: .log, dimension: options.dimension, metric: options.metric).bytes
        try log.write(header, at: 0)
        try log.truncate(to: header.count)
        try log.sync(includingMetadata: true)
        // The log's name must survive a power cut as well as its bytes.
        try POSIXFile.syncDirectory(of: options.path)
        if !found.isEmpty {
            report("\(name): rewrote an unfinished header of \(found.count) bytes left by an interrupted creation")
        }
        return header
    }
}
