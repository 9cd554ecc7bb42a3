#if canImport(Glibc)
import Glibc
#endif
import StrataCore

/// Reads a file (or standard input for `-`) line by line, counting lines and bytes for
/// messages and progress. Lines may be of any length; a trailing `\r` is dropped with the `\n`.
final class LineReader {
    let path: String
    /// The file as messages name it: its path, or "stdin" for `-`.
    var name: String { path == "-" ? "stdin" : path }
    /// The 1-based number of the line `next()` returned last.
    private(set) var lineNumber = 0
    private(set) var bytesRead: Int64 = 0
    /// The size of a regular file, for progress; nil for a pipe or terminal.
    let totalBytes: Int64?

    private let file: UnsafeMutablePointer<FILE>
    private var buffer: UnsafeMutablePointer<CChar>?
    private var capacity = 0

    init(path: String) throws(StrataError) {
        self.path = path
        // Standard input is read through its own FILE on a duplicate descriptor, so closing
        // the reader never closes descriptor 0.
        guard let f = path == "-" ? fdopen(dup(0), "rb") : fopen(path, "rb") else {
            throw StrataError(.io, "cannot open \(path == "-" ? "stdin" : path): \(String(cString: strerror(errno)))")
        }
        file = f
        var info = stat()
        if fstat(fileno(file), &info) == 0, (info.st_mode & S_IFMT) == S_IFREG {
            totalBytes = Int64(info.st_size)
        } else {
            totalBytes = nil
        }
    }

    deinit {
        free(buffer)
        fclose(file)
    }

    /// The next line's bytes without its line break, or nil at the end of the file.
    func next() throws(StrataError) -> [UInt8]? {
        let n = getline(&buffer, &capacity, file)
        guard n >= 0, let buffer else {
            if ferror(file) != 0 { throw StrataError(.io, "cannot read \(name) after line \(lineNumber): \(String(cString: strerror(errno)))") }
            return nil
        }
        lineNumber += 1
        bytesRead += Int64(n)
        var count = n
        if count > 0, buffer[count - 1] == 0x0A { count -= 1 }
        if count > 0, buffer[count - 1] == 0x0D { count -= 1 }
        return buffer.withMemoryRebound(to: UInt8.self, capacity: count) { Array(UnsafeBufferPointer(start: $0, count: count)) }
    }
}
