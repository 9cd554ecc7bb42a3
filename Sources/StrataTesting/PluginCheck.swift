import CStrata
import StrataCore
import StrataPlugins

/// Runs the checks of each backend a plugin file offers (`strata plugin check`): for a vector
/// store, the contract of include/strata/vector_store.h called directly on the vtable
/// (`VectorStoreContract`), then the conformance suite through the host's adapter; the same
/// for the other seams (`EmbedderContract`, `SummarizerContract`, `MemoryKernelContract`).
public enum PluginCheck {
    /// - Parameters:
    ///   - path: the plugin file, or a plugin name to search for.
    ///   - options: options passed to every backend's create (a vector store also gets
    ///     "dimension", and "metric" unless the options name one: then only that metric is
    ///     used beyond the metric cases). Each case needs a new, empty backend: `{n}` in a
    ///     string option becomes a fresh number for each one, so a file-backed store gets a
    ///     file per case (`{"path": "/tmp/check/{n}.db"}`).
    ///   - session: where results go and which cases to skip (a resumed check).
    /// - Throws: when the file cannot be loaded (the reason names the file and versions).
    public static func run(_ path: String, options: JSONValue = .object([:]), loader: PluginLoader = PluginLoader(),
                           session: CheckSession = CheckSession()) throws(StrataError)
        -> (plugin: LoadedPlugin, results: [ConformanceResult])
    {
        let plugin = try loader.load(path)
        // "{n}" is numbered by the case that asks (its index times 1000, plus a count within the
        // case), not by a counter from the start: a check resumed after a crash in a new process
        // must not hand a case the files an earlier case filled.
        var lastCase = -1, withinCase = 0
        func fresh() -> JSONValue {
            if session.next != lastCase { lastCase = session.next; withinCase = 0 }
            withinCase += 1
            return numbered(options, lastCase * 1000 + withinCase)
        }
        for factory in plugin.factories {
            switch factory.kind {
            case STRATA_SEAM_VECTOR_STORE:
                let maker = VectorStoreContract.Maker(factory: factory, pluginName: plugin.name, abiVersion: plugin.abiVersion, freshOptions: fresh)
                guard let metric = VectorStoreContract.run(maker, session: session) else { continue }
                VectorStoreConformance.run(metric: metric, suite: "vector_store via host", session: session) {
                    try PluginVectorStore(plugin: plugin, factory: factory, dimension: VectorStoreConformance.dimension,
                                          options: fresh().setting("metric", .string(metric.rawValue)))
                }
            case STRATA_SEAM_EMBEDDER:
                let make = { () throws -> any Embedder in try PluginEmbedder(plugin: plugin, factory: factory, options: fresh()) }
                guard created(factory, make, session) else { continue }
                EmbedderContract.run(RawMaker(factory: factory, freshOptions: fresh), session: session)
                EmbedderConformance.run(suite: "embedder via host", session: session, make: make)
            case STRATA_SEAM_SUMMARIZER:
                let make = { () throws -> any Summarizer in try PluginSummarizer(plugin: plugin, factory: factory, options: fresh()) }
                guard created(factory, make, session) else { continue }
                SummarizerContract.run(RawMaker(factory: factory, freshOptions: fresh), session: session)
                SummarizerConformance.run(suite: "summarizer via host", session: session, make: make)
            case STRATA_SEAM_MEMORY_KERNEL:
                let make = { () throws -> any MemoryKernel in try PluginMemoryKernel(plugin: plugin, factory: factory, options: fresh()) }
                guard created(factory, make, session) else { continue }
                MemoryKernelContract.run(RawMaker(factory: factory, freshOptions: fresh), session: session)
                MemoryKernelConformance.run(suite: "memory_kernel via host", session: session, make: make)
            default:
                CaseRunner(suite: factory.kindName, session: session)
                    .record("factory \"\(factory.name)\" has a known kind", rule: "plugin.factories", failure: "unknown seam kind \(factory.kind.rawValue)")
            }
        }
        if plugin.factories.isEmpty {
            CaseRunner(suite: "plugin", session: session)
                .record("offers at least one backend", rule: "plugin.factories", failure: "the descriptor lists no factories")
        }
        return (plugin, session.results)
    }

    /// Makes one backend to see that the options work; a failure is reported once, as a case,
    /// instead of failing every case of the suite with the same message.
    private static func created<T>(_ factory: PluginFactory, _ make: () throws -> T, _ session: CheckSession) -> Bool {
        var failure: String?
        do { _ = try make() } catch { failure = "create failed: \(error)" }
        CaseRunner(suite: factory.kindName, session: session)
            .record("creates \(article(factory.kindName)) \(factory.kindName.replacingUnderscores) with the given options", rule: "create.options", failure: failure)
        return failure == nil
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

/// "an" before a vowel, "a" otherwise.
private func article(_ word: String) -> String { "aeiou".contains(word.first ?? "x") ? "an" : "a" }

extension String {
    fileprivate var replacingUnderscores: String { String(map { $0 == "_" ? " " : $0 }) }
}
