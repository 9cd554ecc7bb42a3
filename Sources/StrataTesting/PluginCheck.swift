import CStrata
import StrataCore
import StrataPlugins

/// Runs the conformance suite of each backend a plugin file offers (`strata plugin check`).
public enum PluginCheck {
    /// - Parameters:
    ///   - path: the plugin file, or a plugin name to search for.
    ///   - options: options passed to every backend's create (a vector store also gets
    ///     "dimension" and "metric" from the suite). Each case needs a new, empty backend:
    ///     `{n}` in a string option becomes a fresh number for each one, so a file-backed store
    ///     gets a file per case (`{"path": "/tmp/check/{n}.db"}`).
    /// - Throws: when the file cannot be loaded (the reason names the file and versions).
    public static func run(_ path: String, options: JSONValue = .object([:]), loader: PluginLoader = PluginLoader()) throws(StrataError)
        -> (plugin: LoadedPlugin, results: [ConformanceResult])
    {
        let plugin = try loader.load(path)
        var results: [ConformanceResult] = []
        var counter = 0
        func fresh() -> JSONValue {
            counter += 1
            return numbered(options, counter)
        }
        for factory in plugin.factories {
            switch factory.kind {
            case STRATA_SEAM_VECTOR_STORE:
                results += VectorStoreConformance.run {
                    try PluginVectorStore(plugin: plugin, factory: factory, dimension: VectorStoreConformance.dimension,
                                          options: fresh().setting("metric", "cosine"))
                }
            case STRATA_SEAM_EMBEDDER:
                results += EmbedderConformance.run { try PluginEmbedder(plugin: plugin, factory: factory, options: fresh()) }
            case STRATA_SEAM_SUMMARIZER:
                results += SummarizerConformance.run { try PluginSummarizer(plugin: plugin, factory: factory, options: fresh()) }
            case STRATA_SEAM_MEMORY_KERNEL:
                results += MemoryKernelConformance.run { try PluginMemoryKernel(plugin: plugin, factory: factory, options: fresh()) }
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

    /// `value` with every "{n}" in its strings replaced by `n`.
    static func numbered(_ value: JSONValue, _ n: Int) -> JSONValue {
        switch value {
        case .string(let s): return .string(s.split(separator: "{n}", omittingEmptySubsequences: false).joined(separator: String(n)))
        case .array(let items): return .array(items.map { numbered($0, n) })
        case .object(let fields): return .object(fields.mapValues { numbered($0, n) })
        default: return value
        }
    }
}
