#if canImport(Glibc)
import Glibc
#endif
import StrataCore

/// The few file operations the CLI needs, over libc; every error is `.io` naming the path and
/// the system's reason.
enum FileSystem {
    private static func failure(_ what: String, _ path: String) -> StrataError {
        StrataError(.io, "cannot \(what) \(path): \(String(cString: strerror(errno)))")
    }

    /// `mkdir -p`: creates `path` and any missing parent folders, each 0700 (`PrivateFile`).
    static func makeDirectories(_ path: String) throws(StrataError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += part
            if !PrivateFile.makeFolder(prefix) { throw failure("create folder", prefix) }
            prefix += "/"
        }
    }

    /// Writes `text` to a new file (0600; an existing one is refused).
    static func writeFile(_ path: String, _ text: String) throws(StrataError) {
        let file = try OutputFile(path: path)
        try file.write(text)
        try file.close()
    }

    /// Moves a finished file into place atomically. Without `replacing`, an existing `path` is
    /// kept and the call fails with `.conflict`: link(2) refuses an existing name, so two
    /// processes racing cannot both succeed.
    static func publish(_ staged: String, as path: String, replacing: Bool) throws(StrataError) {
        if replacing {
            guard rename(staged, path) == 0 else { throw failure("replace", path) }
            return
        }
        guard link(staged, path) == 0 else {
            if errno == EEXIST { throw StrataError(.conflict, "\(path) already exists") }
            throw failure("create", path)
        }
        unlink(staged)
    }
}
