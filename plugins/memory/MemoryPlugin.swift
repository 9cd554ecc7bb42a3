import CStrata
import StrataBackends
import StrataCore
import StrataPlugins

/// The in-memory vector store as a run-time plugin (libstrata-memory.so): the same code as the
/// built-in `memory` backend, exported through `PluginExport`. It proves the Swift plugin path
/// end to end and lets tests run the loaded-plugin adapters against a known-good store.
@c public func strata_plugin_entry(_ host: UnsafePointer<strata_host_api>?) -> UnsafePointer<strata_plugin_descriptor>? {
    PluginExport.descriptor(
        host: host, name: "memory", version: "0.1.0",
        description: "exact in-memory vector store with BM25 keyword search (cosine, dot, l2)",
        vectorStore: .init(name: "memory") { options throws(StrataError) in
            try InMemoryVectorStore(options: options, path: "memory options")
        })
}
