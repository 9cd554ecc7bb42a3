#if canImport(Glibc)
import Glibc
#endif
import CStrata
import StrataCore

/// A filter as plugins see it: `const strata_filter *` points to one of these, alive for the
/// duration of one call. It carries the parsed filter (for `filter_matches`) and its canonical
/// JSON (for `filter_json`), made once per call, not per record.
final class HostFilter {
    let filter: Filter
    let json: UnsafeMutablePointer<CChar>

    init(_ filter: Filter) {
        self.filter = filter
        json = strdup(JSONWriter.string(filter.json))!
    }

    deinit { free(json) }

    /// Runs `body` with an opaque pointer to a host filter for `filter` (NULL when nil or trivial).
    static func with<T>(_ filter: Filter?, _ body: (OpaquePointer?) throws(StrataError) -> T) throws(StrataError) -> T {
        guard let filter, !filter.isAlways else { return try body(nil) }
        let box = HostFilter(filter)
        return try withExtendedLifetime(box) { () throws(StrataError) -> T in
            try body(OpaquePointer(Unmanaged.passUnretained(box).toOpaque()))
        }
    }

    static func from(_ pointer: OpaquePointer) -> HostFilter {
        Unmanaged<HostFilter>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }
}

/// The message a plugin leaves with `host->fail()`, read by the adapter after the call fails.
let pluginFailure = ThreadLocalMessage()

/// The host table every plugin receives (include/strata/plugin.h). One static instance for the
/// life of the process, since plugins keep the pointer and are never unloaded.
enum HostAPI {
    nonisolated(unsafe) static let table: UnsafeMutablePointer<strata_host_api> = {
        let p = UnsafeMutablePointer<strata_host_api>.allocate(capacity: 1)
        p.initialize(to: strata_host_api(
            struct_size: UInt32(MemoryLayout<strata_host_api>.size),
            abi_version: PluginABI.hostVersion,
            log: { level, plugin, message in
                let name = plugin.map { String(cString: $0) } ?? "plugin"
                let text = message.map { String(cString: $0) } ?? ""
                // Debug and info stay quiet unless STRATA_LOG asks for them.
                let threshold = getenv("STRATA_LOG").map { Int32(atoi($0)) } ?? Int32(STRATA_LOG_WARNING)
                guard level >= threshold else { return }
                let tag = ["debug", "info", "warning", "error"][Int(max(0, min(3, level)))]
                writeStandardError("strata [\(tag)] \(name): \(text)\n")
            },
            fail: { status, message in
                // Kept as given, empty for NULL: the checker's `failure.message` rule reads it.
                pluginFailure.set(message.map { String(cString: $0) } ?? "")
                return status
            },
            filter_matches: { filter, recordJSON in
                guard let filter else { return 1 }
                guard let recordJSON else { return Int32(STRATA_ERR_INVALID_ARGUMENT) }
                do {
                    let length = strlen(recordJSON)
                    let value = try recordJSON.withMemoryRebound(to: UInt8.self, capacity: length) { (b) throws(StrataError) -> JSONValue in
                        try JSONParser.parse(bytes: UnsafeBufferPointer(start: b, count: length), what: "record")
                    }
                    return HostFilter.from(filter).filter.matches(value) ? 1 : 0
                } catch let error as StrataError {
                    return error.code.rawValue
                } catch {
                    return Int32(STRATA_ERR_INTERNAL)
                }
            },
            filter_json: { filter in
                guard let filter else { return nil }
                return UnsafePointer(HostFilter.from(filter).json)
            },
            options_check: { options, allowed in PluginOptions.check(options, allowed) },
            option_number: { options, key, out in PluginOptions.number(options, key, out) },
            option_string: { options, key, out, capacity in PluginOptions.string(options, key, out, capacity) }))
        return p
    }()
}

/// ABI versions and the compatibility rule of include/strata/version.h.
public enum PluginABI {
    public static let hostVersion = UInt32(STRATA_ABI_VERSION_MAJOR) << 16 | UInt32(STRATA_ABI_VERSION_MINOR)

    /// "1.0"
    public static func describe(_ v: UInt32) -> String { "\(v >> 16).\(v & 0xFFFF)" }

    /// Same major, and a minor no newer than the host's.
    public static func isCompatible(_ plugin: UInt32) -> Bool {
        plugin >> 16 == hostVersion >> 16 && plugin & 0xFFFF <= hostVersion & 0xFFFF
    }
}

/// Turns a plugin's failing status into a `StrataError` carrying its `host->fail()` message.
func pluginCheck(_ status: Int32, _ plugin: String, _ operation: String) throws(StrataError) {
    guard status != 0 else { return }
    let given = pluginFailure.message ?? ""
    let message = given.isEmpty ? "failed with \(StrataError.Code(rawValue: status)?.cName ?? "status \(status)") and no message" : given
    pluginFailure.clear()
    let code = StrataError.Code(rawValue: status) ?? .backend
    throw StrataError(code, "plugin \(plugin): \(operation): \(message)")
}

/// Writes to file descriptor 2 directly (the C `stderr` global is not concurrency-safe in Swift 6).
func writeStandardError(_ text: String) {
    var text = text
    text.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
}
