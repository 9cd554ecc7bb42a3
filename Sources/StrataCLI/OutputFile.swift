#if canImport(Glibc)
import Glibc
#endif
import StrataCore

/// A new file opened for writing, or standard output for `-`. Errors are `.io` naming the file.
///
/// The file is created, never opened over an existing one (`O_EXCL`: a file staged under a
/// temporary name cannot be someone else's), and is readable by its owner alone (0600 whatever
/// the umask): memories are private data.
final class OutputFile {
    /// The file as messages name it.
    let path: String
    private var handle: UnsafeMutablePointer<FILE>?

    /// - Parameter name: how messages name the file (default: `path`), e.g. the final name of a
    ///   file written under a temporary one.
    init(path: String, name: String? = nil) throws(StrataError) {
        self.path = name ?? path
        // Standard output is written through its own FILE on a duplicate descriptor: closing
        // it flushes the data and leaves descriptor 1 open for anything printed afterwards.
        let fd = path == "-" ? dup(1) : PrivateFile.create(path)
        guard fd >= 0, let f = fdopen(fd, "wb") else {
            let reason = String(cString: strerror(errno))
            if fd >= 0 { Glibc.close(fd) }
            throw StrataError(.io, "cannot create \(name ?? path): \(reason)")
        }
        handle = f
    }

    func write(_ text: String) throws(StrataError) {
        var text = text
        let ok = text.withUTF8 { bytes in fwrite(bytes.baseAddress, 1, bytes.count, handle) == bytes.count }
        guard ok else { throw StrataError(.io, "cannot write \(path): \(String(cString: strerror(errno)))") }
    }

    /// Flushes and closes; a full disk often shows only here, so the result is checked.
    func close() throws(StrataError) {
        guard let h = handle else { return }
        handle = nil
        if fclose(h) != 0 { throw StrataError(.io, "cannot write \(path): \(String(cString: strerror(errno)))") }
    }

    deinit {
        if let handle { fclose(handle) }
    }
}
