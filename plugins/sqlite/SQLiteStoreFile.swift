#if canImport(Glibc)
import Glibc
#endif
import StrataBackends
import StrataCore

/// The store's database file before SQLite opens it: what is there, and how a new one appears.
///
/// SQLite opens an empty file as an empty database, so a store file truncated to 0 bytes would
/// open as an empty store and its loss would go unnoticed. The store therefore never lets
/// SQLite create the file under its name: a new store is built in a temporary file beside it
/// (schema, dimension, metric, WAL mode), synced, and linked into place whole. An empty or
/// too-short file under the store's name can then only be damage, and is `.corrupt`.
enum SQLiteStoreFile {
    /// What to do about damage, appended to every `.corrupt` the store raises about its file.
    static let damageAdvice = "`strata doctor` reports the damage and `strata salvage` copies out every record that can still be read"

    /// The smallest SQLite database: one page of the smallest page size.
    static let smallestDatabase = 512

    enum State {
        case missing
        case present
    }

    /// Whether `path` exists, after checking that an existing regular file can be a database.
    /// - Throws: `.corrupt` naming the file when it is shorter than the smallest database (empty
    ///   or truncated); `.io` when it cannot be looked at.
    static func state(_ path: String) throws(StrataError) -> State {
        var st = stat()
        guard stat(path, &st) == 0 else {
            if errno == ENOENT { return .missing }
            throw StrataError(.io, "sqlite store \"\(path)\": cannot look at the file: \(String(cString: strerror(errno)))")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG, Int(st.st_size) < smallestDatabase else { return .present }
        throw tooShort(path, size: Int(st.st_size))
    }

    /// `.corrupt` for a file of `size` bytes (fewer than a database has).
    static func tooShort(_ path: String, size: Int) -> StrataError {
        let what = size == 0 ? "is empty (0 bytes)" : "is \(size) bytes, shorter than the smallest SQLite database (\(smallestDatabase))"
        return StrataError(.corrupt, "sqlite store \"\(path)\" \(what): the database was truncated or never written, and was not opened "
            + "as an empty store; \(damageAdvice). To start a new store there, delete the file")
    }

    /// Creates the store's file at `path`, made ready by `prepare`, as one step: built at a
    /// temporary name beside it, synced, then hard-linked to `path` (which fails rather than
    /// replaces when another process created it first; then that file is kept).
    /// On a file system without hard links it is renamed into place instead.
    static func create(_ path: String, busyTimeoutMilliseconds: Int32,
                       prepare: (SQLiteConnection) throws(StrataError) -> Void) throws(StrataError) {
        let temporary = "\(path).new-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer {
            for suffix in ["", "-wal", "-shm", "-journal"] { unlink(temporary + suffix) }
        }
        do throws(StrataError) {
            let db = try SQLiteConnection(path: temporary, busyTimeoutMilliseconds: busyTimeoutMilliseconds, mode: .create)
            try prepare(db)
            db.close()  // the last connection: SQLite checkpoints the WAL into the file and removes it
            // Private whatever the umask; SQLite gives the -wal and -shm files the database's mode.
            guard chmod(temporary, PrivateFile.fileMode) == 0 else { throw failure("setting the mode of", temporary) }
            try SnapshotFolder.syncFile(temporary)
        } catch {
            throw error.prefixed("creating sqlite store \"\(path)\"")
        }
        if link(temporary, path) != 0 {
            let code = errno
            switch code {
            case EEXIST:
                return  // another process created it meanwhile: theirs is the store
            case EPERM, EOPNOTSUPP, ENOSYS, EMLINK:
                guard rename(temporary, path) == 0 else { throw failure("renaming a new database to", path) }
            default:
                throw failure("linking a new database to", path, code)
            }
        }
        try SnapshotFolder.syncDirectory(folder(of: path))
    }

    static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    private static func failure(_ what: String, _ path: String, _ code: Int32 = errno) -> StrataError {
        StrataError(.io, "sqlite store \"\(path)\": \(what) it: \(String(cString: strerror(code)))")
    }
}
