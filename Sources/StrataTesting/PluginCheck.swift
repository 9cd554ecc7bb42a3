import CStrata
import StrataCore
import StrataPlugins

/// Runs the conformance suite of each backend a plugin file offers (`strata plugin check`).
public enum PluginCheck {
    /// - Parameters:
    ///   - path: the plugin file, or a plugin name to search for.
    ///   - options: options passed to every backend's create (a vector store also gets
    ///     "dimension" and "metric" from the suite).
    /// - Throws: when the file cannot be loaded (the reason names the file and versions).
    public static func run(_ path: String, options: JSONValue = .object([:]), loader: PluginLoader = PluginLoader()) throws(StrataError)
        -> (plugin: LoadedPlugin, results: [ConformanceResult])
    {
        let plugin = try loader.load(path)
        var results: [ConformanceResult] = []
        for factory in plugin.factories {
            switch factory.kind {
            case STRATA_SEAM_VECTOR_STORE:
                results += VectorStoreConformance.run {
                    try PluginVectorStore(plugin: plugin, factory: factory, dimension: VectorStoreConformance.dimension,
                                          options: options.setting("metric", "cosine"))
                }
            case STRATA_SEAM_EMBEDDER:
                results += EmbedderConformance.run { try PluginEmbedder(plugin: plugin, factory: factory, options: options) }
            case STRATA_SEAM_SUMMARIZER:
                results += SummarizerConformance.run { try PluginSummarizer(plugin: plugin, factory: factory, options: options) }
            case STRATA_SEAM_MEMORY_KERNEL:
                results += MemoryKernelConformance.run { try PluginMemoryKernel(plugin: plugin, factory: factory, options: options) }
            default:
                results.append(ConformanceResult(suite: factory.kindName, name: "factory \"\(factory.name)\" has a known kind",
                                                 failure: "unknown seam kind \(factory.kind.rawValue)"))
            }
        }
        if plugin.factories.isEmpty {
            results.append(ConformanceResult(suite: "plugin", name: "offers at least one backend", failure: "the descriptor lists no factories"))
        }
        return (plugin, results)
    }
}
