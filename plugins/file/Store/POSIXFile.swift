#if canImport(Glibc)
import Glibc
#endif
import StrataCore

/// An open file descriptor with the few POSIX calls the file store makes. Each method names the
/// C function it wraps and throws `.io` naming the file, the call and `strerror`. The
/// descriptor closes with the object, which also releases a `flock` taken on it.
///
/// Sendable: the only state is the immutable descriptor, and the calls used (`pread`, `pwrite`
/// at explicit offsets, `fdatasync`, `ftruncate`, `fstat`) are safe from any thread; callers
/// order their writes themselves.
final class POSIXFile: Sendable {
    let path: String
    private let fd: Int32

    /// `open(2)` with `O_RDWR | O_CLOEXEC`, plus `O_CREAT` when `create` (a file it creates is
    /// 0600 whatever the umask: `PrivateFile`), plus `O_TRUNC` when `truncate`.
    init(path: String, create: Bool, truncate: Bool = false) throws(StrataError) {
        self.path = path
        var flags = O_RDWR | O_CLOEXEC
        if create { flags |= O_CREAT }
        if truncate { flags |= O_TRUNC }
        let existed = access(path, F_OK) == 0
        let fd = open(path, flags, PrivateFile.fileMode)
        guard fd >= 0 else { throw Self.failure("open", path) }
        self.fd = fd
        if !existed || truncate, fchmod(fd, PrivateFile.fileMode) != 0 { throw Self.failure("set the mode of", path) }
    }

    /// `open(2)` with `O_RDONLY | O_CLOEXEC`: never creates the file, and every write on it
    /// fails in the kernel as well as in the store.
    init(readingOnly path: String) throws(StrataError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Self.failure("open", path) }
        self.fd = fd
    }

    /// `open(2)` with `O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC` and `mode`: a new file, or nil when
    /// `path` exists already (the caller picks another name rather than overwrite it).
    init?(creatingNew path: String, mode: mode_t) throws(StrataError) {
        self.path = path
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        if fd < 0, errno == EEXIST { return nil }
        guard fd >= 0 else { throw Self.failure("open", path) }
        self.fd = fd
        // The umask may have taken bits away but never adds any; set the mode exactly.
        guard fchmod(fd, mode) == 0 else { throw Self.failure("fchmod", path) }
    }

    deinit { close(fd) }

    static func failure(_ call: String, _ path: String, _ code: Int32 = errno) -> StrataError {
        StrataError(.io, "\(call) \"\(path)\": \(String(cString: strerror(code)))")
    }

    /// `flock(LOCK_EX | LOCK_NB)`: true when this descriptor now holds the exclusive lock, false
    /// when another open file description holds it (another process, or another open of the
    /// same file in this one).
    func tryLockExclusive() throws(StrataError) -> Bool { try tryLock(LOCK_EX) }

    /// `flock(LOCK_SH | LOCK_NB)`: true when this descriptor now holds a shared lock (other
    /// readers may hold one too), false when some descriptor holds the exclusive one (a writer).
    func tryLockShared() throws(StrataError) -> Bool { try tryLock(LOCK_SH) }

    private func tryLock(_ operation: Int32) throws(StrataError) -> Bool {
        while flock(fd, operation | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            if errno == EWOULDBLOCK { return false }
            throw Self.failure("flock", path)
        }
        return true
    }

    /// `fstat(2)`: the size in bytes.
    func size() throws(StrataError) -> Int {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw Self.failure("fstat", path) }
        return Int(st.st_size)
    }

    /// The whole file, read with `pread(2)`.
    func readAll() throws(StrataError) -> [UInt8] {
        let size = try size()
        var out = [UInt8](repeating: 0, count: size)
        var done = 0
        let failed: Int32 = out.withUnsafeMutableBytes { b in
            while done < size {
                let n = pread(fd, b.baseAddress! + done, size - done, off_t(done))
                if n < 0, errno == EINTR { continue }
                guard n >= 0 else { return errno }
                if n == 0 { break }  // the file shrank under us; return what is there
                done += n
            }
            return 0
        }
        guard failed == 0 else { throw Self.failure("pread", path, failed) }
        return done == size ? out : Array(out[0..<done])
    }

    /// Up to `count` bytes from `offset`, read with `pread(2)` (fewer at the end of the file).
    func read(_ count: Int, at offset: Int) throws(StrataError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        let failed: Int32 = out.withUnsafeMutableBytes { b in
            while done < count {
                let n = pread(fd, b.baseAddress! + done, count - done, off_t(offset + done))
                if n < 0, errno == EINTR { continue }
                guard n >= 0 else { return errno }
                if n == 0 { break }
                done += n
            }
            return 0
        }
        guard failed == 0 else { throw Self.failure("pread", path, failed) }
        return Array(out[0..<done])
    }

    /// Writes all of `bytes` at `offset` with `pwrite(2)`, retrying short writes.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(StrataError) {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw Self.failure("pwrite", path, n == 0 ? EIO : errno) }
            done += n
        }
    }

    func write(_ bytes: [UInt8], at offset: Int) throws(StrataError) {
        try bytes.withBytes { (b) throws(StrataError) in try write(b, at: offset) }
    }

    /// `fdatasync(2)`, or `fsync(2)` with `includingMetadata`. fdatasync suffices after an
    /// append: it flushes "all modified in-core data of the file" and the metadata "needed to
    /// allow a subsequent data retrieval", which includes the size. fsync is for the rare calls
    /// (a new header, a truncation) where every bit of metadata should follow.
    func sync(includingMetadata: Bool = false) throws(StrataError) {
        while (includingMetadata ? fsync(fd) : fdatasync(fd)) != 0 {
            if errno == EINTR { continue }
            throw Self.failure(includingMetadata ? "fsync" : "fdatasync", path)
        }
    }

    /// `ftruncate(2)`.
    func truncate(to size: Int) throws(StrataError) {
        while ftruncate(fd, off_t(size)) != 0 {
            if errno == EINTR { continue }
            throw Self.failure("ftruncate", path)
        }
    }

    // MARK: - Paths

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// `rename(2)`: atomic replacement of `to` on the same file system.
    static func rename(_ from: String, to: String) throws(StrataError) {
        guard Glibc.rename(from, to) == 0 else { throw failure("rename to \"\(to)\"", from) }
    }

    /// `unlink(2)`; a missing file is not an error.
    static func remove(_ path: String) throws(StrataError) {
        guard unlink(path) == 0 || errno == ENOENT else { throw failure("unlink", path) }
    }

    /// `fsync(2)` on the folder holding `path`, so a created or renamed name survives a power
    /// cut ("calling fsync() on a file does not necessarily ensure that the entry in the
    /// directory containing the file has also reached disk", fsync(2)).
    static func syncDirectory(of path: String) throws(StrataError) {
        let dir = directory(of: path)
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("open", dir) }
        defer { close(fd) }
        while fsync(fd) != 0 {
            if errno == EINTR { continue }
            throw failure("fsync", dir)
        }
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
