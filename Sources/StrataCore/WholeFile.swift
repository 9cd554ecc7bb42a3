#if canImport(Glibc)
import Glibc
#endif

/// Reads a whole file into memory; errors are `.io` naming the file (as `what` calls it) and
/// the system's reason.
public enum WholeFile {
    public static func read(_ path: String, what: String = "file") throws(StrataError) -> [UInt8] {
        guard let file = fopen(path, "rb") else {
            throw StrataError(.io, "cannot open \(what) \(path): \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buffer, 1, buffer.count, file)
            if n > 0 { bytes.append(contentsOf: buffer[0..<n]) }
            if n < buffer.count {
                // A folder opens with fopen on Linux and fails here with EISDIR.
                if ferror(file) != 0 {
                    throw StrataError(.io, "cannot read \(what) \(path): \(String(cString: strerror(errno)))")
                }
                return bytes
            }
        }
    }
}
