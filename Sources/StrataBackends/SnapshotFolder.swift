#if canImport(Glibc)
import Glibc
#endif
import StrataCore

/// The folder beside a store's file that holds its named snapshots, one file each:
/// `FILE.snapshots/NAME` + `suffix`. Shared by the stores that keep snapshots on disk (SQLite,
/// file), so naming, listing and publishing work the same way in both.
///
/// A snapshot file is built under a temporary name, synced, then published with `link(2)`,
/// which never replaces an existing file: a snapshot is never seen half-written, and two
/// writers choosing one name get one snapshot and one `.conflict`. Each call throws `.io`
/// naming the path, the system call and `strerror`.
public struct SnapshotFolder: Sendable {
    /// The folder, `FILE.snapshots`.
    public let path: String
    /// What every snapshot file name ends with, e.g. ".sqlite".
    public let suffix: String
    /// The store in messages, e.g. `sqlite store "/data/s.db"`.
    public let owner: String

    public init(beside file: String, suffix: String, owner: String) {
        path = file + ".snapshots"
        self.suffix = suffix
        self.owner = owner
    }

    /// The file of snapshot `name` (a valid `SnapshotName`, so it cannot leave the folder).
    public func file(_ name: String) -> String { path + "/" + name + suffix }

    /// Where snapshot `name` is built before `publish`: unique to this process, never listed.
    public func temporaryFile(_ name: String) -> String { file(name) + ".tmp-\(getpid())" }

    /// The names of the snapshots in the folder, sorted; none when there is no folder.
    /// Files that are not `NAME` + `suffix` with a valid name (temporary files) are skipped.
    public func names() throws(StrataError) -> [String] {
        guard let dir = opendir(path) else {
            if errno == ENOENT { return [] }
            throw Self.failure("opendir", path)
        }
        defer { closedir(dir) }
        var out: [String] = []
        while let entry = readdir(dir) {
            let file = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard file != ".", file != "..", file.hasSuffix(suffix) else { continue }
            let name = String(file.dropLast(suffix.count))
            if SnapshotName.isValid(name) { out.append(name) }
        }
        return out.sorted()
    }

    public func contains(_ name: String) -> Bool { access(file(name), F_OK) == 0 }

    /// The size of snapshot `name`'s file in bytes (`stat(2)`), nil when it cannot be read.
    public func size(_ name: String) -> Int? {
        var st = stat()
        return stat(file(name), &st) == 0 ? Int(st.st_size) : nil
    }

    /// Creates the folder unless it exists, and syncs its parent so the new name survives a
    /// power cut.
    public func create() throws(StrataError) {
        guard mkdir(path, PrivateFile.folderMode) == 0 else {
            if errno == EEXIST { return }
            throw Self.failure("mkdir", path)
        }
        // 0700 whatever the umask: snapshots are copies of every memory.
        guard chmod(path, PrivateFile.folderMode) == 0 else { throw Self.failure("chmod", path) }
        try Self.syncDirectory(Self.parent(of: path))
    }

    /// Publishes a finished temporary file as snapshot `name`: `link(2)` gives it its name
    /// unless that name exists (`.conflict`), then the temporary name is removed and the folder
    /// synced. On any failure the temporary file is removed.
    public func publish(_ temporary: String, as name: String) throws(StrataError) {
        defer { unlink(temporary) }
        if link(temporary, file(name)) != 0 {
            if errno == EEXIST { throw taken(name) }
            // A file system without hard links: rename, which would replace, after a check.
            guard errno == EPERM || errno == EOPNOTSUPP || errno == ENOSYS else { throw Self.failure("link to \"\(file(name))\"", temporary) }
            guard !contains(name) else { throw taken(name) }
            guard rename(temporary, file(name)) == 0 else { throw Self.failure("rename to \"\(file(name))\"", temporary) }
        }
        try Self.syncDirectory(path)
    }

    /// Deletes snapshot `name`'s file; `.notFound` when there is none.
    public func remove(_ name: String) throws(StrataError) {
        guard unlink(file(name)) == 0 else {
            if errno == ENOENT { throw unknown(name) }
            throw Self.failure("unlink", file(name))
        }
        try Self.syncDirectory(path)
    }

    /// `.notFound` for snapshot `name`, listing the snapshots there are.
    public func unknown(_ name: String) -> StrataError {
        var known: [String] = []
        // A folder that cannot be listed only shortens this message; the not-found stands.
        do { known = try names() } catch {}
        return StrataError(.notFound, "\(owner): no snapshot \"\(name)\" in \(path) ("
            + (known.isEmpty ? "there are none" : "there are: " + known.joined(separator: ", ")) + ")")
    }

    /// `.conflict` for a name in use.
    public func taken(_ name: String) -> StrataError {
        StrataError(.conflict, "\(owner): snapshot \"\(name)\" exists (\(file(name))); delete it first or choose another name")
    }

    /// `fsync(2)` on a file by path: for files another library wrote (SQLite's VACUUM INTO
    /// "does not invoke fsync() ... on the generated database").
    public static func syncFile(_ path: String) throws(StrataError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("open", path) }
        defer { close(fd) }
        while fsync(fd) != 0 {
            if errno == EINTR { continue }
            throw failure("fsync", path)
        }
    }

    /// `fsync(2)` on a folder, so names created, linked or removed in it survive a power cut.
    public static func syncDirectory(_ path: String) throws(StrataError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("open", path) }
        defer { close(fd) }
        while fsync(fd) != 0 {
            if errno == EINTR { continue }
            throw failure("fsync", path)
        }
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func failure(_ call: String, _ path: String, _ code: Int32 = errno) -> StrataError {
        StrataError(.io, "\(call) \"\(path)\": \(String(cString: strerror(code)))")
    }
}
