import CStrata
import StrataBackends
import StrataCore

/// Makes backends from configuration: a choice that names a `plugin` is loaded at run time
/// through `PluginLoader`; every other choice is built in.
public struct PluginBackends: BackendProvider {
    public let loader: PluginLoader
    private let builtin = BuiltinBackends()

    public init(loader: PluginLoader = PluginLoader()) { self.loader = loader }

    /// Searches the configuration's `plugin_dirs` first; when they were read from a
    /// `configurationFile`, only where they are trusted folders (`PluginTrust`).
    public init(pluginDirectories: [String], configurationFile: String? = nil) {
        self.init(loader: PluginLoader(configuredDirectories: pluginDirectories, configurationFile: configurationFile))
    }

    private func resolve(_ choice: BackendChoice, _ kind: strata_seam_kind, path: String) throws(StrataError) -> (LoadedPlugin, PluginFactory)? {
        guard let name = choice.plugin else { return nil }
        do {
            let plugin = try loader.load(name)
            return (plugin, try plugin.factory(kind, named: choice.backend))
        } catch {
            throw error.prefixed("\(path).plugin")
        }
    }

    public func makeVectorStore(_ choice: BackendChoice, dimension: Int, path: String) throws(StrataError) -> any VectorStore {
        guard let (plugin, factory) = try resolve(choice, STRATA_SEAM_VECTOR_STORE, path: path) else {
            return try builtin.makeVectorStore(choice, dimension: dimension, path: path)
        }
        return try PluginVectorStore(plugin: plugin, factory: factory, dimension: dimension, options: choice.options)
    }

    public func makeEmbedder(_ choice: BackendChoice, path: String) throws(StrataError) -> any Embedder {
        guard let (plugin, factory) = try resolve(choice, STRATA_SEAM_EMBEDDER, path: path) else {
            return try builtin.makeEmbedder(choice, path: path)
        }
        return try PluginEmbedder(plugin: plugin, factory: factory, options: choice.options)
    }

    public func makeSummarizer(_ choice: BackendChoice, path: String) throws(StrataError) -> any Summarizer {
        guard let (plugin, factory) = try resolve(choice, STRATA_SEAM_SUMMARIZER, path: path) else {
            return try builtin.makeSummarizer(choice, path: path)
        }
        return try PluginSummarizer(plugin: plugin, factory: factory, options: choice.options)
    }

    public func makeMemoryKernel(_ choice: BackendChoice, path: String) throws(StrataError) -> any MemoryKernel {
        guard let (plugin, factory) = try resolve(choice, STRATA_SEAM_MEMORY_KERNEL, path: path) else {
            return try builtin.makeMemoryKernel(choice, path: path)
        }
        return try PluginMemoryKernel(plugin: plugin, factory: factory, options: choice.options)
    }
}
