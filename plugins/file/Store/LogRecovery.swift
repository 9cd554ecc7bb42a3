#if canImport(Glibc)
import Glibc
#endif
import StrataCore

/// Opening a file store: take the log's lock, read the snapshot, replay the log after it, and
/// cut off an incomplete tail. Nothing on disk changes unless the whole log was read and judged
/// (a new log's header, an incomplete tail, a temporary snapshot left by an interrupted
/// compaction), and nothing at all in a read-only open.
///
/// What the first frame that is not intact means (`FrameScanner.isTornTail` defines it):
/// - an incomplete tail (fewer than 12 bytes of a header, a short final frame whose length
///   checksum matches, zeros): the last append did not finish, and no commit in it was
///   acknowledged as durable. A writing open copies those bytes to `PATH.torn-OFFSET` (0600,
///   synced, the folder synced) and only then cuts the log there; a read-only open ignores them.
/// - anything else (a complete frame with a bad payload checksum, a damaged length followed by
///   a frame's worth of bytes, an intact frame after a bad one), last frame included: damage
///   to acknowledged commits, `.corrupt`, and the files stay as they are.
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

    /// - Parameter report: receives one line per repair made (a tail cut off, a header rewritten)
    ///   and, read-only, per incomplete tail left in place.
    /// - Throws: `.conflict` when another opener holds the lock (a writer, or any opener for a
    ///   writing open); `.invalidConfig` for another dimension or metric; `.corrupt` (file and
    ///   offset named, nothing changed) for damage as the type describes, a damaged snapshot or
    ///   a gap in the sequence; `.unsupported` for a newer format; `.io` for failing system calls
    ///   and, read-only, for a missing log.
    static func open(_ options: FileStoreOptions, report: (String) -> Void) throws(StrataError) -> Opened {
        let path = options.path
        let name = "file store \"\(path)\""
        let log: POSIXFile
        if options.readOnly {
            guard POSIXFile.exists(path) else {
                throw StrataError(.io, "\(name) was opened read-only, and its log \"\(path)\" does not exist; a read-only open never creates it")
            }
            log = try POSIXFile(readingOnly: path)
        } else {
            // Checked before the open creates an empty log, so a refused open changes nothing.
            if !POSIXFile.exists(path), POSIXFile.exists(options.snapshotPath) {
                throw StrataError(.corrupt, "\(name) is missing, but its snapshot \"\(options.snapshotPath)\" exists: the log was moved or deleted by something other than this store, and commits after the snapshot may be in it; refusing to start a new one")
            }
            log = try POSIXFile(path: path, create: true)
        }
        try lock(log, shared: options.readOnly, name: name)
        var bytes = try log.readAll()
        if bytes.count < headerSize {
            try checkUnfinishedHeader(bytes, options)
            // An unfinished header holds no commit: read-only, that is an empty store as it is.
            guard !options.readOnly else {
                return Opened(log: log, end: bytes.count, state: try RecoveredState(dimension: options.dimension, metric: options.metric, index: options.index, graphFile: options.graphPath))
            }
            bytes = try startLog(log, found: bytes, options, report: report)
        }
        return try bytes.withBytes { (b) throws(StrataError) -> Opened in
            let header = try FileHeader.decode(b, kind: .log, path: path)
            guard header.dimension == options.dimension || options.dimensionAsStored else {
                throw StrataError(.invalidConfig, "\(name) holds vectors of dimension \(header.dimension), but it was opened with dimension \(options.dimension): open it with the embedder it was made with, or use another path")
            }
            guard header.metric == options.metric else {
                throw StrataError(.invalidConfig, "\(name) was made with metric \"\(header.metric.rawValue)\", but it was opened with metric \"\(options.metric.rawValue)\"")
            }
            var state = try RecoveredState(dimension: header.dimension, metric: header.metric, index: options.index, graphFile: options.graphPath)
            if POSIXFile.exists(options.snapshotPath) {
                try SnapshotFile.load(path: options.snapshotPath, logHeader: header, into: &state)
            }
            let scan = FrameScanner(b, from: headerSize)
            if case .damaged(let offset, let inspection, let next) = scan.damage {
                let after = next.map { "an intact frame follows at offset \($0)" }
                    ?? "no intact frame follows, but an unfinished append cannot leave this"
                throw StrataError(.corrupt, "\(name) is damaged at offset \(offset): \(inspection.problem); \(after). This is damage to acknowledged commits, not a torn last write, so nothing was cut off and the file is unchanged; `strata doctor` describes the damage and `strata salvage OUT` copies every readable memory into a new store")
            }
            try replay(scan.payloads, in: b, into: &state, name: name)
            if case .torn(let offset) = scan.damage {
                let dropped = b.count - offset
                if options.readOnly {
                    report("\(name): ignored an incomplete last frame at offset \(offset) (\(dropped) bytes of an unfinished commit, never acknowledged as durable): opened read-only, so nothing was cut; the store holds every commit up to sequence \(state.lastSequence)")
                } else {
                    let kept = try keepTail(UnsafeRawBufferPointer(rebasing: b[offset...]), at: offset, of: path)
                    try log.truncate(to: offset)
                    try log.sync(includingMetadata: true)
                    report("\(name): cut off an incomplete last frame at offset \(offset): dropped \(dropped) bytes of an unfinished commit, never acknowledged as durable, and kept them in \"\(kept)\"; the store holds every commit up to sequence \(state.lastSequence)")
                }
            }
            if !options.readOnly {
                // A temporary snapshot is what an interrupted compaction leaves; the real one (or
                // the log) still holds everything, and we hold the lock, so no compaction runs.
                try POSIXFile.remove(options.snapshotTemporaryPath)
            }
            return Opened(log: log, end: scan.intactEnd, state: state)
        }
    }

    /// Takes the log's `flock`: exclusive for a writer, shared for a read-only open or a salvage.
    static func lock(_ log: POSIXFile, shared: Bool, name: String) throws(StrataError) {
        var waited = 0
        while try !(shared ? log.tryLockShared() : log.tryLockExclusive()) {
            // A child forked anywhere in this program holds copies of our descriptors until its
            // exec closes them (O_CLOEXEC acts at exec, not at fork), and with them the lock of
            // a store closed a moment ago. A short wait rides that out; a real second writer
            // still holds the lock when it ends.
            guard waited < lockWaitMilliseconds else {
                if shared {
                    throw StrataError(.conflict, "\(name) is in use by a writer (another process, or an open store in this process, holds its exclusive lock); a read-only open or a salvage shares the file with other readers only")
                }
                throw StrataError(.conflict, "\(name) is in use: another process (or another open store in this process) holds its lock; a file store has one writer at a time, and no readers beside it")
            }
            usleep(5_000)
            waited += 5
        }
    }

    /// Copies `tail`, the incomplete end of the log at `path` from `offset`, to a new file beside
    /// it before the log is cut, so that cutting loses no byte for good: `PATH.torn-OFFSET`
    /// (`.1`, `.2`, ... after it when that name is taken), mode 0600 as it may hold memories,
    /// synced, and the folder synced so the name survives a power cut. Returns its path.
    private static func keepTail(_ tail: UnsafeRawBufferPointer, at offset: Int, of path: String) throws(StrataError) -> String {
        let base = "\(path).torn-\(offset)"
        var attempt = 0
        while true {
            let candidate = attempt == 0 ? base : "\(base).\(attempt)"
            if let file = try POSIXFile(creatingNew: candidate, mode: 0o600) {
                try file.write(tail, at: 0)
                try file.sync(includingMetadata: true)
                try POSIXFile.syncDirectory(of: candidate)
                return candidate
            }
            attempt += 1
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

    /// Checks a log shorter than its header: one whose creation was interrupted (a header is
    /// synced before the first commit can be acknowledged) holds no commit and is a prefix of a
    /// header; anything else that short, or one with a snapshot beside it, is refused.
    private static func checkUnfinishedHeader(_ found: [UInt8], _ options: FileStoreOptions) throws(StrataError) {
        let name = "file store \"\(options.path)\""
        let magic = FileHeader.Kind.log.magic
        guard Array(found.prefix(magic.count)) == Array(magic.prefix(min(found.count, magic.count))) else {
            _ = try found.withBytes { (b) throws(StrataError) in try FileHeader.decode(b, kind: .log, path: options.path) }
            throw StrataError(.corrupt, "\(name) is not a file-store log")
        }
        guard !POSIXFile.exists(options.snapshotPath) else {
            throw StrataError(.corrupt, "\(name) has no complete header, but its snapshot \"\(options.snapshotPath)\" exists: the log was replaced or cut short by something other than this store; refusing to guess what it held")
        }
    }

    /// Writes the header of a new log over the unfinished one `checkUnfinishedHeader` accepted.
    private static func startLog(_ log: POSIXFile, found: [UInt8], _ options: FileStoreOptions, report: (String) -> Void)
        throws(StrataError) -> [UInt8]
    {
        let name = "file store \"\(options.path)\""
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
