import StrataCore

/// Connections that only read rows by id, one per search running at a time: what searches of a
/// mapped store (SQLiteMappedIndex.swift) read their filters' and hits' memories through.
///
/// A broad filter is checked on every row a mapped walk visits, each read from the file by id:
/// about 3,000 reads a recall at 100k rows. Through the store's one connection, behind its
/// lock, two searches at a time spent a fifth of their CPU spinning on that lock (`perf`, a
/// server at 16 connections). Each search now borrows a connection of its own for its reads.
/// Reads outside a transaction see every commit, as the store's own connection does.
final class SQLiteReaderPool: @unchecked Sendable {
    private struct Idle: @unchecked Sendable { let connection: SQLiteConnection }
    /// A pthread lock (`Guarded`), which ThreadSanitizer sees, unlike Synchronization.Mutex
    /// (scripts/sanitize-tsan.supp).
    private let idle = Guarded<[Idle]>([])
    private let path: String
    private let mode: SQLiteConnection.OpenMode
    private let busyTimeoutMilliseconds: Int32
    /// Connections kept for the next search; more are closed when given back.
    static let keep = 4

    init(path: String, mode: SQLiteConnection.OpenMode, busyTimeoutMilliseconds: Int32) {
        self.path = path
        self.mode = mode
        self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
    }

    /// Runs `body` with a connection no other thread uses meanwhile (opened when none is idle).
    func with<T>(_ body: (SQLiteConnection) throws(StrataError) -> T) throws(StrataError) -> T {
        let connection: SQLiteConnection
        if let ready = idle.write({ $0.popLast() }) {
            connection = ready.connection
        } else {
            connection = try SQLiteConnection(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds, mode: mode)
        }
        defer {
            let back = Idle(connection: connection)
            idle.write { if $0.count < Self.keep { $0.append(back) } }
        }
        return try body(connection)
    }

    /// Closes the idle connections (the rows are loaded: no mapped search reads any more).
    func closeIdle() { idle.write { $0.removeAll() } }
}
