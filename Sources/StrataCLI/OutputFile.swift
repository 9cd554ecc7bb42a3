#if canImport(Glibc)
import Glibc
#endif
import StrataCore

/// A file opened for writing, or standard output for `-`. Errors are `.io` naming the path.
final class OutputFile {
    let path: String
    private var handle: UnsafeMutablePointer<FILE>?

    init(path: String) throws(StrataError) {
        self.path = path
        // Standard output is written through its own FILE on a duplicate descriptor: closing
        // it flushes the data and leaves descriptor 1 open for anything printed afterwards.
        guard let f = path == "-" ? fdopen(dup(1), "wb") : fopen(path, "wb") else {
            throw StrataError(.io, "cannot create \(path): \(String(cString: strerror(errno)))")
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
