import StrataCore

/// The size of the CPU's last-level cache, for choosing between kernels that win on data in cache
/// and kernels that win on data streamed from memory.
enum LastLevelCache {
    /// Bytes of the largest cache the kernel reports for CPU 0 (`/sys/devices/system/cpu/cpu0/cache`),
    /// or 8 MiB when it reports none. Read from sysfs rather than `sysconf(_SC_LEVEL3_CACHE_SIZE)`:
    /// on the EPYC guest here glibc's figure was 320 MiB, ten times the 32 MiB sysfs and lscpu give.
    static let bytes: Int = {
        var best = 0
        for index in 0..<8 {
            guard let text = read("/sys/devices/system/cpu/cpu0/cache/index\(index)/size") else { continue }
            best = max(best, parse(text) ?? 0)
        }
        return best > 0 ? best : 8 << 20
    }()

    /// "32768K" (sysfs's form), "2M" or a plain byte count, in bytes.
    static func parse(_ text: String) -> Int? {
        let t = text.filter { !$0.isWhitespace }
        guard let unit = t.last else { return nil }
        let scale: Int, digits: Substring
        switch unit {
        case "K", "k": (scale, digits) = (1 << 10, t.dropLast())
        case "M", "m": (scale, digits) = (1 << 20, t.dropLast())
        case "G", "g": (scale, digits) = (1 << 30, t.dropLast())
        default: (scale, digits) = (1, t[...])
        }
        guard let n = Int(digits), n > 0 else { return nil }
        return n * scale
    }

    private static func read(_ path: String) -> String? {
        guard let bytes = try? WholeFile.read(path, what: "cache size"), bytes.count < 64 else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}
