import CStrata
import StrataCore
import StrataFileStore
import StrataPlugins

/// The file store as a run-time plugin (libstrata-file.so): an append-only, checksummed log
/// plus a snapshot, served from an exact in-memory index. See `FileVectorStore`.
@c public func strata_plugin_entry(_ host: UnsafePointer<strata_host_api>?) -> UnsafePointer<strata_plugin_descriptor>? {
    let log = HostLog(host, source: "file")
    return PluginExport.descriptor(
        host: host, name: "file", version: "0.1.0",
        description: "append-only log with CRC-32C frames plus a snapshot; exact vector search, BM25, history",
        vectorStore: .init(name: "file") { options throws(StrataError) in
            try FileVectorStore(options: options, report: log.warning)
        },
        salvage: FileStoreSalvage.run)
}
