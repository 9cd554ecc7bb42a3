import CStrata
import StrataCore
import StrataPlugins

/// The SQLite store as a run-time plugin (libstrata-sqlite.so): memories, vectors and history in
/// one SQLite file, shared by the processes that open it. See `SQLiteVectorStore`.
@c public func strata_plugin_entry(_ host: UnsafePointer<strata_host_api>?) -> UnsafePointer<strata_plugin_descriptor>? {
    let log = HostLog(host, source: "sqlite")
    return PluginExport.descriptor(
        host: host, name: "sqlite", version: "0.1.0",
        description: "memories, vectors and history in one SQLite file (WAL, BM25 keyword search and exact vector search in process)",
        vectorStore: .init(name: "sqlite") { options throws(StrataError) in
            try SQLiteVectorStore(options: options, report: log.warning)
        },
        salvage: SQLiteSalvage.run)
}
