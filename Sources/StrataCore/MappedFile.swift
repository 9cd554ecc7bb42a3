#if canImport(Glibc)
import Glibc
#endif

/// A whole file mapped read-only into memory, unmapped when the last reference goes.
///
/// Why map rather than read: a read copies the file into anonymous memory the process keeps
/// (and a growing array copies it again on the way), while a mapped page is the kernel's page
/// cache, shared with every process that maps the file, and a page never touched is never
/// resident. A model whose embedding table is half its size touches a few rows of it per text.
///
/// Pages a caller has finished with can be handed back (`release`): they leave this process's
/// resident set (and its peak) at once and stay in the page cache for the next reader.
///
/// Immutable after `init`: any number of threads may read it.
public final class MappedFile: @unchecked Sendable {
    /// The file, as given.
    public let path: String
    /// The bytes of the file (empty for an empty file).
    public let bytes: UnsafeRawBufferPointer
    private let base: UnsafeMutableRawPointer?
    private static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Maps the file at `path` (as `what` calls it in errors).
    /// - Throws: `.io` naming the file and the system's reason when it cannot be opened, is a
    ///   folder, or cannot be mapped.
    public init(_ path: String, what: String = "file") throws(StrataError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StrataError(.io, "cannot open \(what) \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw StrataError(.io, "cannot read \(what) \(path): \(String(cString: strerror(errno)))") }
        guard (info.st_mode & S_IFMT) != S_IFDIR else { throw StrataError(.io, "cannot read \(what) \(path): \(String(cString: strerror(EISDIR)))") }
        let size = Int(info.st_size)
        guard size > 0 else {
            base = nil
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw StrataError(.io, "cannot map \(what) \(path): \(String(cString: strerror(errno)))")
        }
        base = p
        bytes = UnsafeRawBufferPointer(start: p, count: size)
    }

    deinit {
        if let base { munmap(base, bytes.count) }
    }

    /// Hands back the whole pages inside `range` (byte offsets): they stop counting in this
    /// process's memory; reading them again faults them back in from the page cache (the file
    /// is unchanged, so they read the same).
    public func release(_ range: Range<Int>) {
        guard let base else { return }
        let from = (range.lowerBound + Self.pageSize - 1) / Self.pageSize * Self.pageSize
        let to = range.upperBound / Self.pageSize * Self.pageSize
        guard to > from else { return }
        _ = madvise(base + from, to - from, MADV_DONTNEED)
    }

    /// Asks the kernel to read `range` ahead of use (one call instead of a fault per few pages).
    public func willNeed(_ range: Range<Int>) {
        guard let base, !range.isEmpty else { return }
        let from = range.lowerBound / Self.pageSize * Self.pageSize
        _ = madvise(base + from, range.upperBound - from, MADV_WILLNEED)
    }
}
