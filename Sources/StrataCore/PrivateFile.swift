#if canImport(Glibc)
import Glibc
#endif

/// Files and folders that hold memories are private to their owner: folders 0700, files 0600,
/// whatever the umask (which can only take bits away from a mode, so the mode is set again
/// with `fchmod`/`chmod` after creation rather than trusted to `open` and `mkdir`).
public enum PrivateFile {
    /// The mode of every file a store writes.
    public static let fileMode: mode_t = 0o600
    /// The mode of every folder a store creates.
    public static let folderMode: mode_t = 0o700

    /// Creates a new file (`O_CREAT | O_EXCL`: never an existing one) for writing, mode 0600.
    /// - Returns: the descriptor (close-on-exec), or -1 with `errno` set.
    public static func create(_ path: String) -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, fileMode)
        guard fd >= 0 else { return -1 }
        if fchmod(fd, fileMode) != 0 {
            let saved = errno
            close(fd)
            unlink(path)
            errno = saved
            return -1
        }
        return fd
    }

    /// Creates one folder, mode 0700; an existing folder is left as it is.
    /// - Returns: true when the folder exists afterwards; false with `errno` set otherwise.
    public static func makeFolder(_ path: String) -> Bool {
        if mkdir(path, folderMode) == 0 { return chmod(path, folderMode) == 0 }
        return errno == EEXIST
    }
}
