import CStrata
import StrataCore
import StrataFileStore
import StrataPlugins

/// The file store as a run-time plugin (libstrata-file.so): an append-only, checksummed log
/// plus a snapshot, served from an exact in-memory index. See `FileVectorStore`.
@c public func strata_plugin_entry(_ host: UnsafePointer<strata_host_api>?) -> UnsafePointer<strata_plugin_descriptor>? {
    let log = HostLog(host)
    return PluginExport.descriptor(
        host: host, name: "file", version: "0.1.0",
        description: "append-only log with CRC-32C frames plus a snapshot; exact vector search, BM25, history",
        vectorStore: .init(name: "file") { options throws(StrataError) in
            try FileVectorStore(options: options, report: log.warning)
        },
        salvage: FileStoreSalvage.run)
}

/// The host's log function, for the store's reports (a torn tail cut off, a failed background
/// sync). `@unchecked Sendable`: it holds a C function pointer from the host table, which
/// plugin.h promises is valid until the process exits and safe from any thread.
struct HostLog: @unchecked Sendable {
    private let log: (@convention(c) (Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void)?

    init(_ host: UnsafePointer<strata_host_api>?) { log = host?.pointee.log }

    /// Logs `line` at warning level, or writes it to stderr when the host gave no log.
    var warning: @Sendable (String) -> Void {
        let log = self
        return { line in
            guard let fn = log.log else { return FileVectorStore.standardError(line) }
            fn(Int32(STRATA_LOG_WARNING), "file", line)
        }
    }
}
