import CStrata
import StrataCore

/// The host's log function, for a plugin store's reports (a torn tail cut off, a graph file
/// rebuilt, a failed background sync). `@unchecked Sendable`: it holds a C function pointer from
/// the host table, which plugin.h promises is valid until the process exits and safe from any
/// thread.
public struct HostLog: @unchecked Sendable {
    private let log: (@convention(c) (Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void)?
    private let source: String

    /// - Parameter source: the plugin's name, as the log shows it ("file", "sqlite").
    public init(_ host: UnsafePointer<strata_host_api>?, source: String) {
        log = host?.pointee.log
        self.source = source
    }

    /// Logs `line` at warning level, or writes it to stderr as "strata [warning] SOURCE: line"
    /// when the host gave no log.
    public var warning: @Sendable (String) -> Void {
        let fn = log
        let source = source
        return { line in
            guard let fn else { return HostLog.standardError(source: source)(line) }
            fn(Int32(STRATA_LOG_WARNING), source, line)
        }
    }

    /// Writes report lines to stderr, for a store used without a host.
    public static func standardError(source: String) -> @Sendable (String) -> Void {
        { line in
            var text = "strata [warning] \(source): \(line)\n"
            text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
