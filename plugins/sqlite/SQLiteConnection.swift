import CSQLite
#if canImport(Glibc)
import Glibc
#endif
import StrataCore

/// SQLite's transient destructor: SQLite copies a bound value before the bind call returns.
let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// One SQLite connection, through the C API. Not thread-safe: its owner serialises every use.
///
/// Errors become `StrataError`s naming the database file, the statement's purpose and SQLite's
/// own message; "busy" (another process holds the write lock past the busy timeout) is `.io`.
final class SQLiteConnection {
    let path: String
    let busyTimeoutMilliseconds: Int32
    private(set) var handle: OpaquePointer?
    private var statements: [String: SQLiteStatement] = [:]

    /// How a connection opens its file.
    enum OpenMode {
        /// Read and write; creates the file if missing (the store creates files only through
        /// `SQLiteStoreFile.create`, so a file never appears empty under its name).
        case create
        /// Read and write an existing file; a missing one is an error.
        case readWrite
        /// Read an existing file (SQLITE_OPEN_READONLY): it sees other connections' WAL, and
        /// SQLite may create the `-shm` and an empty `-wal` beside it, but never writes the file.
        case readOnly
        /// Read an existing file as a file that nothing else writes (`immutable=1`): no locks, no
        /// `-wal` read, no `-shm` created, nothing at all written beside it (salvage).
        case immutable
    }

    /// Opens the database at `path` as `mode` says; "" opens a private temporary database.
    /// - Parameter busyTimeoutMilliseconds: how long a write waits for another writer.
    init(path: String, busyTimeoutMilliseconds: Int32, mode: OpenMode) throws(StrataError) {
        self.path = path
        self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
        var db: OpaquePointer?
        let flags: Int32
        var name = path
        switch mode {
        case .create: flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        case .readWrite: flags = path.isEmpty ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READWRITE
        case .readOnly: flags = SQLITE_OPEN_READONLY
        case .immutable:
            flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_URI
            name = "file:" + Self.uriEscaped(path) + "?immutable=1"
        }
        let rc = sqlite3_open_v2(name, &db, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_close_v2(db)
            throw StrataError(.io, "sqlite store: cannot open \"\(path)\": \(message)")
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, busyTimeoutMilliseconds)
    }

    /// Opens (creating if needed) the database at `path`; "" opens a private temporary database.
    /// - Parameter readOnly: open an existing file for reading only (a snapshot); nothing is created.
    convenience init(path: String, busyTimeoutMilliseconds: Int32, readOnly: Bool = false) throws(StrataError) {
        try self.init(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds, mode: readOnly ? .readOnly : .create)
    }

    /// `path` as the path of a `file:` URI: every byte but unreserved ones and "/" percent-encoded.
    static func uriEscaped(_ path: String) -> String {
        var out = ""
        for byte in path.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "/"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF")
                out += "%" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 15)])
            }
        }
        return out
    }

    deinit { close() }

    func close() {
        statements.removeAll()  // finalises every prepared statement before the close
        if let handle { sqlite3_close_v2(handle) }
        handle = nil
    }

    /// The error for a failed call: names the file, what was being done and SQLite's message.
    func error(_ rc: Int32, _ what: String) -> StrataError {
        let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
        return Self.failure(rc, path: path, what, message)
    }

    /// SQLITE_CORRUPT and SQLITE_NOTADB ("database disk image is malformed", "file is not a
    /// database") are `.corrupt` with what to do about it; everything else is `.io`.
    static func failure(_ rc: Int32, path: String, _ what: String, _ message: String) -> StrataError {
        let primary = rc & 0xFF
        guard primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB else {
            return StrataError(.io, "sqlite store \"\(path)\": \(what): \(message) (SQLite code \(rc))")
        }
        return StrataError(.corrupt, "sqlite store \"\(path)\" is damaged: \(what): \(message) (SQLite code \(rc)); \(SQLiteStoreFile.damageAdvice)")
    }

    /// Runs SQL that returns no rows (several statements allowed).
    /// - Parameter retryingBusy: retry for up to the busy timeout while another connection holds
    ///   a lock. Needed where SQLite answers "busy" at once instead of calling the busy handler,
    ///   e.g. switching a new file to WAL while another process is creating it.
    func execute(_ sql: String, _ what: String, retryingBusy: Bool = false) throws(StrataError) {
        var message: UnsafeMutablePointer<CChar>?
        var rc = sqlite3_exec(handle, sql, nil, nil, &message)
        var waited: Int32 = 0
        var pause: Int32 = 1
        while retryingBusy, rc & 0xFF == SQLITE_BUSY || rc & 0xFF == SQLITE_LOCKED, waited < busyTimeoutMilliseconds {
            sqlite3_free(message)
            message = nil
            usleep(UInt32(pause) * 1000)
            waited += pause
            pause = min(pause * 2, 50)
            rc = sqlite3_exec(handle, sql, nil, nil, &message)
        }
        defer { sqlite3_free(message) }
        guard rc == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
            throw Self.failure(rc, path: path, what, text)
        }
    }

    /// A prepared statement, reset and ready to bind. Callers that stop before the last row
    /// reset it (or drop it, when uncached): an unfinished statement pins its read snapshot.
    /// - Parameter cached: keep it for the next call with the same SQL (false for SQL built per
    ///   call, such as pushed-down filters, so the cache stays small).
    func statement(_ sql: String, cached: Bool = true) throws(StrataError) -> SQLiteStatement {
        if cached, let s = statements[sql] {
            s.reset()
            return s
        }
        var raw: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, cached ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0, &raw, nil)
        guard rc == SQLITE_OK, let raw else { throw error(rc, "preparing \(sql.prefix(60))") }
        let s = SQLiteStatement(raw, connection: self)
        if cached { statements[sql] = s }
        return s
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    var changes: Int { Int(sqlite3_changes(handle)) }

    /// A single integer from a query (PRAGMA user_version, a count); nil when no row.
    func integer(_ sql: String) throws(StrataError) -> Int64? {
        let s = try statement(sql)
        // Reset at once: a statement left on a row keeps its read snapshot open, and later
        // reads on this connection would not see other connections' commits.
        defer { s.reset() }
        return try s.step() ? s.int64(0) : nil
    }

    /// Runs `body` in a transaction and commits; rolls back if `body` throws.
    /// - Parameter immediate: take the write lock at BEGIN (every write transaction does, so
    ///   two writers queue on the busy timeout instead of failing on lock upgrade).
    func transaction<T>(immediate: Bool, _ body: () throws(StrataError) -> T) throws(StrataError) -> T {
        try execute(immediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED", "starting a transaction")
        do {
            let result = try body()
            try execute("COMMIT", "committing")
            return result
        } catch {
            _ = sqlite3_exec(handle, "ROLLBACK", nil, nil, nil)
            throw error
        }
    }
}

/// A prepared statement owned by a `SQLiteConnection`.
final class SQLiteStatement {
    private let raw: OpaquePointer
    private unowned let connection: SQLiteConnection

    init(_ raw: OpaquePointer, connection: SQLiteConnection) {
        self.raw = raw
        self.connection = connection
    }

    deinit { sqlite3_finalize(raw) }

    func reset() {
        sqlite3_reset(raw)
        sqlite3_clear_bindings(raw)
    }

    private func check(_ rc: Int32, _ what: String) throws(StrataError) {
        guard rc == SQLITE_OK else { throw connection.error(rc, what) }
    }

    func bind(_ index: Int32, _ text: String) throws(StrataError) {
        try check(sqlite3_bind_text(raw, index, text, -1, sqliteTransient), "binding text")
    }

    func bind(_ index: Int32, _ value: Int64) throws(StrataError) {
        try check(sqlite3_bind_int64(raw, index, value), "binding an integer")
    }

    func bind(_ index: Int32, _ value: Double) throws(StrataError) {
        try check(sqlite3_bind_double(raw, index, value), "binding a number")
    }

    func bindNull(_ index: Int32) throws(StrataError) {
        try check(sqlite3_bind_null(raw, index), "binding NULL")
    }

    func bind(_ index: Int32, floats: [Float]) throws(StrataError) {
        let rc = floats.withUnsafeBytes { b in
            sqlite3_bind_blob(raw, index, b.baseAddress, Int32(b.count), sqliteTransient)
        }
        try check(rc, "binding a vector")
    }

    /// Binds a JSON scalar as the SQL value json_extract would give for it.
    func bind(_ index: Int32, json: JSONValue) throws(StrataError) {
        switch json {
        case .string(let s): try bind(index, s)
        case .number(let n): try bind(index, n)
        case .bool(let b): try bind(index, Int64(b ? 1 : 0))
        default: try bindNull(index)
        }
    }

    /// Advances; true when a row is ready, false when done.
    func step() throws(StrataError) -> Bool {
        let rc = sqlite3_step(raw)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        throw connection.error(rc, "running a statement")
    }

    /// Runs a statement that returns no rows.
    func run() throws(StrataError) {
        while try step() {}
    }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(raw, column) }
    func double(_ column: Int32) -> Double { sqlite3_column_double(raw, column) }
    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(raw, column) == SQLITE_NULL }

    func text(_ column: Int32) -> String {
        guard let p = sqlite3_column_text(raw, column) else { return "" }
        let count = Int(sqlite3_column_bytes(raw, column))
        return String(decoding: UnsafeBufferPointer(start: p, count: count), as: UTF8.self)
    }

    /// The column's bytes, for the JSON parser without a String in between.
    func withBytes<T>(_ column: Int32, _ body: (UnsafeBufferPointer<UInt8>) throws(StrataError) -> T) throws(StrataError) -> T {
        let p = sqlite3_column_blob(raw, column)
        let count = Int(sqlite3_column_bytes(raw, column))
        return try body(UnsafeBufferPointer(start: p?.assumingMemoryBound(to: UInt8.self), count: count))
    }

    /// The column's size in bytes.
    func byteCount(_ column: Int32) -> Int { Int(sqlite3_column_bytes(raw, column)) }

    /// The column's bytes as stored (a TEXT column's UTF-8), for checksums.
    func withRawBytes<T>(_ column: Int32, _ body: (UnsafeRawBufferPointer) -> T) -> T {
        let p = sqlite3_column_blob(raw, column)  // before sqlite3_column_bytes, as SQLite asks
        return body(UnsafeRawBufferPointer(start: p, count: Int(sqlite3_column_bytes(raw, column))))
    }

    /// A BLOB column as floats; nil when its length is not `dimension` floats.
    func floats(_ column: Int32, dimension: Int) -> [Float]? {
        let count = Int(sqlite3_column_bytes(raw, column))
        guard count == dimension * 4, let p = sqlite3_column_blob(raw, column) else { return nil }
        return [Float](unsafeUninitializedCapacity: dimension) { buffer, initialized in
            UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(from: p, byteCount: count)
            initialized = dimension
        }
    }
}
