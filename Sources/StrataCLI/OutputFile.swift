#if canImport(Glibc)
import Glibc
#endif
import StrataCore

/// A file opened for writing, or standard output for `-`. Errors are `.io` naming the file.
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
        guard let f = path == "-" ? fdopen(dup(1), "wb") : fopen(path, "wb") else {
            throw StrataError(.io, "cannot create \(name ?? path): \(String(cString: strerror(errno)))")
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
