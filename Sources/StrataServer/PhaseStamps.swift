#if canImport(Glibc)
import Glibc
#endif

/// Timestamps at the steps of a recall answered at the pipeline's front, for
/// `bench/server_text.py --phases`, which matches them with the client's send and receipt (the
/// same `CLOCK_MONOTONIC` in both processes) and with the engine floor's own steps.
///
/// Compiled in only by `swift build -c release --product strata-cli --scratch-path .build/phases
/// -Xswiftc -DSTRATA_PHASE_STAMPS`; every call is otherwise empty and inlined away, so the
/// server everyone runs pays nothing for it. In such a build the stamps go to the file named by
/// the `STRATA_PHASE_STAMPS` environment variable (flushed every 100 requests), eight
/// little-endian 64-bit nanosecond counts a request, in `Step` order (0: a step not taken).
///
/// Why: a recall by text after a pause pays each step several times its warm cost (the engine
/// call before it has emptied the caches), so only stamps inside the real path, on the real
/// machine, tell where the server's overhead goes (bench/README.md, "Where a text recall's
/// overhead goes"). Not thread-safe: for a server measured over one connection.
enum PhaseStamps {
    enum Step: Int {
        /// `SocketFront` is handed a read (none for a request caught by the busy poll).
        case read
        /// The request is framed and is a `POST` to a recall route.
        case framed
        /// Its head is read, the token checked, the body parsed into a query.
        case prepared
        /// The engine call starts, and ends.
        case callStart, callEnd
        /// The answer's JSON is made.
        case answered
        /// The status line and header fields are written after it.
        case headWritten
        /// The answer is sent (its `send` returned).
        case sent
    }

    #if STRATA_PHASE_STAMPS
    private static let slots = 8
    nonisolated(unsafe) private static var row = [Int64](repeating: 0, count: slots)
    nonisolated(unsafe) private static var written = 0
    nonisolated(unsafe) private static let file: UnsafeMutablePointer<FILE>? = getenv("STRATA_PHASE_STAMPS").flatMap { fopen($0, "wb") }

    static func at(_ step: Step) {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        row[step.rawValue] = Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }

    /// The request's steps are all stamped: its row is written (to the file every 100 rows).
    static func requestDone() {
        guard let file else { return }
        row.withUnsafeBytes { _ = fwrite($0.baseAddress, $0.count, 1, file) }
        for i in row.indices { row[i] = 0 }
        written += 1
        if written % 100 == 0 { fflush(file) }
    }
    #else
    @inline(__always) static func at(_ step: Step) {}
    @inline(__always) static func requestDone() {}
    #endif
}
