#if canImport(Glibc)
import Glibc
#endif

/// Whether a file may have changed since it was last looked at, told without looking it up by
/// its path: on Linux an inotify watch of the file's folder, read without blocking. A change's
/// event is queued by the system call that makes it (the `rename` of `strata token revoke`,
/// say) before that call returns, so a request that comes after the change sees it.
///
/// Why: `TokenAuthority` checked the token file with `stat` on every request, a path lookup of
/// about 2 µs on a polled recall's critical path (bench/README.md, "Session 19"); reading an
/// empty inotify queue costs a fraction of that.
///
/// Where the watch cannot tell (no inotify, the folder gone or moved, events lost, a file
/// system whose other clients' changes inotify never sees, such as NFS), it answers "may have
/// changed": always without a watch, and at least once a `backstop` with one. Not thread-safe:
/// the caller serializes `mayHaveChanged` (TokenAuthority calls it under its lock).
final class FileChangeWatch {
    private var descriptor: Int32 = -1
    private let name: [UInt8]
    private let backstop: Duration
    private var lastAnswer: ContinuousClock.Instant?
    private var buffer = [UInt8](repeating: 0, count: 4096)

    /// Watches `path`'s folder for changes to `path`. Without inotify every ask answers true.
    init(path: String, backstop: Duration = .seconds(1)) {
        let cut = path.lastIndex(of: "/")
        let folder = cut.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        name = Array((cut.map { String(path[path.index(after: $0)...]) } ?? path).utf8)
        self.backstop = backstop
        #if os(Linux)
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { return }
        let events = UInt32(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)
        guard inotify_add_watch(fd, folder, events | UInt32(IN_ONLYDIR)) >= 0 else {
            close(fd)
            return
        }
        descriptor = fd
        #endif
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    /// Whether the file may have changed since the last time this answered (true the first time).
    func mayHaveChanged() -> Bool {
        let now = ContinuousClock.now
        defer { lastAnswer = now }
        guard descriptor >= 0, let last = lastAnswer, now - last < backstop else {
            drain()
            return true
        }
        return drain()
    }

    /// Reads every queued event; whether one may concern the file. A watch that ended (its
    /// folder deleted or moved) is closed: from then on every ask answers true.
    @discardableResult
    private func drain() -> Bool {
        #if os(Linux)
        var changed = false
        while descriptor >= 0 {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            buffer.withUnsafeBytes { raw in
                var at = 0
                while at + MemoryLayout<inotify_event>.size <= count {
                    let mask = raw.loadUnaligned(fromByteOffset: at + MemoryLayout<inotify_event>.offset(of: \.mask)!, as: UInt32.self)
                    let length = Int(raw.loadUnaligned(fromByteOffset: at + MemoryLayout<inotify_event>.offset(of: \.len)!, as: UInt32.self))
                    let nameStart = at + MemoryLayout<inotify_event>.size
                    let named = raw[nameStart..<min(nameStart + length, count)].prefix { $0 != 0 }
                    if mask & UInt32(IN_Q_OVERFLOW | IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED) != 0 || named.elementsEqual(name) {
                        changed = true
                    }
                    if mask & UInt32(IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED) != 0 {
                        close(descriptor)
                        descriptor = -1
                    }
                    at = nameStart + length
                }
            }
        }
        return changed || descriptor < 0
        #else
        return true
        #endif
    }
}
